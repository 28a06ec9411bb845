"""The web app: ``create_app(settings)``. The model and indexes load once, in the lifespan, so the first
request is as fast as the hundredth; a missing index makes ``/readyz`` say why instead of crashing.

Example::

    app = create_app(Settings())
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.audience import Audience
from assistant.errors import BadQuestion, IndexNotReady
from assistant.feedback import FeedbackStore, UnknownAnswer
from assistant.pipeline import Assistant
from assistant.web import docs, documents, openai_api, openapi, practices, routes, threads
from assistant.web.limits import RateLimiter
from assistant.web.middleware import BodyLimit, SecurityHeaders, problem
from assistant.web.reload import IndexWatcher
from bots.slack.config import http_mode_configured
from core.settings import Settings

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    """``assistant`` may be passed in (tests share one); otherwise it is loaded at start-up."""

    store = FeedbackStore.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.assistant, app.state.not_ready = assistant, ""
        if assistant is None:
            threads.configure(settings)
            try:
                app.state.assistant = Assistant.from_settings(settings)
                for audience in Audience:  # each audience's view is built now, not on its first question
                    app.state.assistant.for_audience(audience)
            except IndexNotReady as exc:
                app.state.not_ready = str(exc)
                log.error("index not ready: %s", exc)
        watching = None
        if settings.reload_seconds > 0:  # follow `coalition ingest` (see assistant/web/reload.py)
            app.state.watcher = IndexWatcher(app, settings)
            watching = asyncio.create_task(app.state.watcher.run())
        yield
        if watching is not None:
            watching.cancel()
        store.close()

    app = FastAPI(
        title="Coalition Assistant",
        summary="Grounded, cited answers over Global Coalition for Social Justice documents",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by assistant.web.docs from local files (FastAPI's loads Swagger UI from a CDN)
        redoc_url=None,
        # FastAPI's native OpenTelemetry: off unless asked for (nothing here collects it, and it costs
        # the GIL time of a fifth of an answer on every request)
        telemetry={"tracing": settings.telemetry, "metrics": settings.telemetry, "logs": settings.telemetry,
                   "operation_spans": settings.telemetry},
    )
    app.state.settings = settings
    app.state.store = store
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute) if settings.rate_limit_per_minute else None
    app.state.assistant, app.state.not_ready = assistant, "starting"
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "X-API-Key", "Authorization"])
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    _handle_errors(app)
    app.include_router(routes.health)
    app.include_router(routes.router)
    app.include_router(documents.router)
    app.include_router(practices.router)
    app.include_router(openai_api.router)
    if http_mode_configured(settings):  # Slack's HTTP mode; a bad token stops start-up here, named
        from bots.slack.app import build_app
        from bots.slack.http import slack_router

        def current() -> Assistant:
            if app.state.assistant is None:
                raise IndexNotReady(app.state.not_ready)
            return app.state.assistant  # type: ignore[no-any-return]

        bolt = build_app(settings, current, store)
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        app.include_router(slack_router(bolt, secret))
    docs.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    openapi.install(app, settings)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    return app


_OPENAI_TYPES = {401: ("invalid_request_error", "invalid_api_key"), 404: ("invalid_request_error", "model_not_found"),
                 429: ("requests", "rate_limit_exceeded"), 500: ("server_error", None), 503: ("server_error", None)}


def _error(request: Request, status: int, detail: str, errors: list[dict[str, Any]] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    """``problem``'s body, or on the OpenAI-compatible routes OpenAI's ``{"error": {...}}``, which its
    clients read (a 422 is OpenAI's 400 there)."""
    if not request.url.path.startswith("/v1/"):
        return problem(status, detail, errors, headers)
    kind, code = _OPENAI_TYPES.get(status, ("invalid_request_error", None))
    param = ".".join(errors[0]["loc"][1:]) if errors and errors[0].get("loc") else None
    body = {"error": {"message": detail, "type": kind, "param": param or None, "code": code}}
    return JSONResponse(body, status_code=400 if status == 422 else status, headers=headers)


def _handle_errors(app: FastAPI) -> None:
    """Domain errors → 4xx with a readable reason; nothing reaches the client as a stack trace."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        if any(e["type"] == "json_invalid" for e in errors):
            return _error(request, 400, "the request body is not valid JSON", errors)
        unencodable = [".".join(e["loc"][1:]) for e in errors if e["type"] == "string_unicode"]
        if unencodable:  # pydantic's own check of constrained strings for lone surrogates: 400, as elsewhere
            return _error(request, 400, f"{', '.join(unencodable)} holds text that cannot be encoded as UTF-8", errors)
        reasons = "; ".join(f"{'.'.join(e['loc'][1:]) or e['loc'][0]}: {e['msg']}" for e in errors)
        return _error(request, 422, reasons or "invalid request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(request, exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(BadQuestion)
    async def bad_question(request: Request, exc: BadQuestion) -> JSONResponse:
        return _error(request, 400, str(exc))

    @app.exception_handler(UnknownAnswer)
    async def unknown_answer(request: Request, exc: UnknownAnswer) -> JSONResponse:
        return _error(request, 404, str(exc))

    @app.exception_handler(IndexNotReady)
    async def not_ready(request: Request, exc: IndexNotReady) -> JSONResponse:
        return _error(request, 503, f"the index is not ready: {exc}")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(request, 500, "internal error; it has been logged")
