"""HTTP mode: Slack's Events API, slash commands and interactivity all arrive at ``POST /slack/events``.

The request is checked here before Bolt sees it, so what Bolt would turn into a 500 gets a 4xx: a
timestamp that is not whole seconds or a bad signature is a 401, a signed body that is not UTF-8, not
JSON, or not a JSON object (``{not json``, ``[]``, ``payload=[]``) is a 400.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from fastapi import APIRouter, HTTPException, Request, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.request.internals import parse_body
from starlette.concurrency import run_in_threadpool

from assistant.web.schemas import Problem

_SECONDS = re.compile(r"[0-9]{1,12}")


def slack_router(bolt: App, signing_secret: str) -> APIRouter:
    router = APIRouter(tags=["slack"])
    secret = signing_secret.encode()

    @router.post("/slack/events", summary="Slack Events API, slash commands and interactivity (signed by Slack)",
                 responses={400: {"model": Problem}, 401: {"model": Problem}, 413: {"model": Problem}})
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        if not _SECONDS.fullmatch(timestamp):
            raise HTTPException(401, "X-Slack-Request-Timestamp must be whole seconds since the epoch")
        if not _signed(secret, body, timestamp, request.headers.get("x-slack-signature", "")):
            raise HTTPException(401, "the request is not signed by Slack, or is older than five minutes")
        _check_body(body, request.headers.get("content-type"))
        # Bolt checks the signature again, acks, and runs listeners in threads
        response = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)

    return router


def _signed(secret: bytes, body: bytes, timestamp: str, signature: str) -> bool:
    """Slack's v0 signature over the raw bytes (slack_sdk's verifier decodes them first and raises on
    non-UTF-8), within five minutes of now."""
    if abs(time.time() - int(timestamp)) > 5 * 60:
        return False
    expected = "v0=" + hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def _check_body(body: bytes, content_type: str | None) -> None:
    """What Bolt parses must parse, and be an object: its listeners read fields from it."""
    try:
        parsed = parse_body(body.decode("utf-8"), content_type)
    except UnicodeDecodeError:
        raise HTTPException(400, "the request body is not UTF-8") from None
    except (ValueError, RecursionError):
        raise HTTPException(400, "the request body (or its payload field) is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise HTTPException(400, "the request body (or its payload field) is not a JSON object")
