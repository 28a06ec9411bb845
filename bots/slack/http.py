"""HTTP mode: Slack's Events API, slash commands and interactivity all arrive at ``POST /slack/events``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool


def slack_router(bolt: App) -> APIRouter:
    router = APIRouter(tags=["slack"])

    @router.post("/slack/events", summary="Slack Events API, slash commands and interactivity (signed by Slack)")
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        # Bolt checks the signature and timestamp (401 otherwise), acks, and runs listeners in threads
        response = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)

    return router
