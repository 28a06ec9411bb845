"""The real Bolt app in HTTP mode inside the real web app on uvicorn, with a loopback Slack Web API, and
requests signed exactly as Slack signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from assistant.pipeline import Assistant
from assistant.web import create_app
from core.settings import Settings
from tests.fakes import FakeSlack
from tests.servers import serving

FORM = "application/x-www-form-urlencoded"
BOT_TOKEN = "xoxb-1111-2222-testtokenvalue"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PUBLIC = "https://assistant.example.org"


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def slack_settings(base: Settings, slack: FakeSlack, **kw: Any) -> Settings:
    return base.model_copy(update={"slack_bot_token": SecretStr(BOT_TOKEN), "slack_signing_secret": SecretStr(SECRET),
                                   "slack_api_url": slack.url + "/api/", "public_url": PUBLIC, **kw})


@pytest.fixture(scope="module")
def bot_url(web_settings: Settings, assistant: Assistant, slack: FakeSlack) -> Iterator[str]:
    with serving(create_app(slack_settings(web_settings, slack), assistant)) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh(slack: FakeSlack) -> None:
    slack.calls.clear()
    slack.threads.clear()


def signed(url: str, body: str | bytes, content_type: str = "application/json", timestamp: int | str | None = None,
           secret: str = SECRET, retry: int | None = None) -> httpx.Response:
    """POST ``body`` to /slack/events signed with ``secret`` (a ``timestamp`` string is sent as it is)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    data = body.encode() if isinstance(body, str) else body
    mac = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + data, hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={mac}"}
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return httpx.post(url + "/slack/events", content=data, headers=headers, timeout=10)


_counter = iter(range(1, 1_000_000))


def event(inner: dict[str, Any], event_id: str | None = None) -> str:
    n = next(_counter)
    inner = {"ts": f"1700000000.{n:06d}", "user": "UHUMAN", "channel": "C1", **inner}
    return json.dumps({
        "token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": event_id or f"Ev{n:06d}", "event_time": int(time.time()), "event": inner,
        "authorizations": [{"team_id": "T1", "user_id": FakeSlack.BOT_USER, "is_bot": True}],
    })


def command_body(slack: FakeSlack, text: str, n: int) -> str:
    return urllib.parse.urlencode({
        "token": "legacy", "team_id": "T1", "channel_id": "C7", "channel_name": "general", "user_id": "U9",
        "user_name": "ana", "command": "/coalition", "text": text, "api_app_id": "A1",
        "response_url": f"{slack.url}/response/cmd{n}", "trigger_id": f"{n}.{time.time_ns()}",
    })


