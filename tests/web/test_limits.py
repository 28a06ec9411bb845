"""What bounds the answers table and a client's share: a history limit (turns and characters → 400), a
per-client rate limit (off by default; 429 with Retry-After; never on the signed Slack route)."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from assistant.pipeline import Assistant
from assistant.web import create_app
from core.settings import Settings
from tests.bots.conftest import event, signed
from tests.servers import serving

pytestmark = [pytest.mark.slow, pytest.mark.server]


def turns(n: int, size: int = 20) -> list[dict[str, str]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": "x" * size} for i in range(n)]


def test_history_over_the_turn_limit_is_a_400(client: httpx.Client, web_settings: Settings) -> None:
    limit = web_settings.max_history_turns
    assert client.post("/ask", json={"question": "fees?", "history": turns(limit)}).status_code == 200
    response = client.post("/ask", json={"question": "fees?", "history": turns(limit + 1)})
    assert response.status_code == 400 and f"more than {limit} turns" in response.json()["detail"]


def test_history_over_the_character_limit_is_a_400(client: httpx.Client, web_settings: Settings) -> None:
    size = web_settings.max_history_chars // 2 + 1
    response = client.post("/chat/stream", json={"question": "fees?", "history": turns(2, size)})
    assert response.status_code == 400
    assert f"longer than {web_settings.max_history_chars} characters" in response.json()["detail"]


def test_the_schema_states_the_history_limit(client: httpx.Client, web_settings: Settings) -> None:
    ask = client.get("/openapi.json").json()["components"]["schemas"]["AskRequest"]["properties"]
    assert ask["history"]["maxItems"] == web_settings.max_history_turns


def test_rate_limit_is_off_by_default(client: httpx.Client) -> None:
    assert all(client.get("/documents").status_code == 200 for _ in range(30))


def test_rate_limit_per_client(web_settings: Settings, assistant: Assistant) -> None:
    from tests.bots.conftest import slack_settings
    from tests.fakes import FakeSlack

    with FakeSlack() as slack:
        settings = slack_settings(web_settings, slack, rate_limit_per_minute=3)
        with serving(create_app(settings, assistant)) as url, httpx.Client(base_url=url) as c:
            assert [c.get("/documents").status_code for _ in range(3)] == [200, 200, 200]
            limited = c.get("/documents")
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
            assert "3 requests a minute" in limited.json()["detail"]
            assert c.post("/ask", json={"question": "fees?"}).status_code == 429  # one budget per client
            assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200
            made_up = {"X-API-Key": "another-client"}  # no key is configured: a made-up one does not reset the count
            assert c.get("/documents", headers=made_up).status_code == 429
            body = event({"type": "app_mention", "text": "<@UBOT> fees?", "bot_id": "BOTHER"})
            assert all(signed(url, body).status_code == 200 for _ in range(6))  # the Slack route is never limited


def test_rate_limit_keys_by_the_api_key(web_settings: Settings, assistant: Assistant) -> None:
    settings = web_settings.model_copy(update={"rate_limit_per_minute": 2, "api_key": SecretStr("k")})
    with serving(create_app(settings, assistant)) as url, httpx.Client(base_url=url, headers={"X-API-Key": "k"}) as c:
        assert [c.get("/documents").status_code for _ in range(3)] == [200, 200, 429]
        assert c.get("/documents", headers={"X-API-Key": "wrong"}).status_code == 401  # a bad key is not counted
        with httpx.Client(base_url=url) as anonymous:
            assert anonymous.get("/healthz").status_code == 200
