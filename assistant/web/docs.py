"""``GET /docs``: Swagger UI from the files the ``fastapi-offline`` package ships (Swagger UI 5, which reads
OpenAPI 3.1; ``swagger-ui-bundle`` has only 4.15), not a CDN, so the page works offline. Its start-up
script is a file too (``static/docs.js``): the CSP allows no inline script, so fastapi-offline's own page
(FastAPI's ``get_swagger_ui_html``, an inline script) is not used.
The schema and its docs are open without the API key on purpose (README, *The web app*): they describe
the API and hold no document text, and Swagger UI's *Authorize* takes the key for trying calls."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title} – API</title>
  <link rel="stylesheet" href="/static/swagger/swagger-ui.css">
  <link rel="icon" href="/static/swagger/favicon.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/static/swagger/swagger-ui-bundle.js"></script>
  <script src="/static/docs.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    app.mount("/static/swagger", StaticFiles(directory=str(files("fastapi_offline") / "static")), name="swagger")
    page = PAGE.format(title=app.title)

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return HTMLResponse(page)
