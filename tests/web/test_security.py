"""Browser-facing safety: security headers on every response (the page still works: tests/web/test_browser.py
drives it in Chromium under them), Swagger UI served from our own files (no CDN), and which routes the API
key guards (the API) and which it leaves open on purpose (health, readiness, the schema and its docs)."""

from __future__ import annotations

import re

import httpx
import pytest
from pydantic import SecretStr

from assistant.pipeline import Assistant
from assistant.web import create_app
from core.settings import Settings
from tests.servers import serving

pytestmark = [pytest.mark.slow, pytest.mark.server]


@pytest.mark.parametrize("path", ["/", "/docs", "/healthz", "/documents", "/static/app.js", "/nowhere"])
def test_every_response_has_security_headers(client: httpx.Client, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_docs_load_swagger_from_our_own_files(client: httpx.Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    assert "<script>" not in page.text  # no inline script: the CSP forbids it
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/redoc").status_code == 404  # ReDoc would come from a CDN: not served


def test_the_key_guards_the_api_and_leaves_health_and_docs_open(web_settings: Settings, assistant: Assistant) -> None:
    settings = web_settings.model_copy(update={"api_key": SecretStr("s3cret-key")})
    with serving(create_app(settings, assistant)) as url, httpx.Client(base_url=url) as c:
        for path in ("/healthz", "/readyz", "/openapi.json", "/docs", "/", "/static/app.js"):
            assert c.get(path).status_code == 200, path
        ready = c.get("/readyz").json()
        # counts, a hash of the index and a process id: no content
        assert set(ready) == {"ready", "documents", "chunks", "model", "mode", "reason", "index", "worker"}
        assert len(ready["index"]) == 12 and ready["worker"] > 0
        for path in ("/documents", "/documents/gb349-ins4", "/practices", "/search?q=fees"):
            assert c.get(path).status_code == 401, path
        assert c.post("/ask", json={"question": "fees?"}).status_code == 401
        assert c.post("/feedback", json={"answer_id": "x", "rating": "up"}).status_code == 401
