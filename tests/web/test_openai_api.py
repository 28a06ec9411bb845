"""The OpenAI-compatible API through the official ``openai`` client, pointed at the real server."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.assistant.test_audience import QUESTION, leaks
from tests.conftest import KEYS

pytestmark = [pytest.mark.slow, pytest.mark.server]
KEY = {audience: key for key, audience in KEYS.items()}


def client(url: str, audience: str = "staff", key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key or KEY[audience], max_retries=0, timeout=60)


def test_models(restricted_server: tuple[str, Any]) -> None:
    url, _ = restricted_server
    assert [m.id for m in client(url).models.list()] == ["coalition-assistant"]


def test_plain_completion_keeps_citations(restricted_server: tuple[str, Any]) -> None:
    url, _ = restricted_server
    reply = client(url).chat.completions.create(
        model="coalition-assistant", temperature=0.2, max_tokens=300,  # accepted, ignored
        messages=[{"role": "system", "content": "Be brief."},
                  {"role": "user", "content": "Are there membership fees?"}])
    message = reply.choices[0].message
    assert reply.object == "chat.completion" and reply.choices[0].finish_reason == "stop"
    content = message.content or ""
    assert "[1]" in content and "\n\nSources:\n[1] GB.349/INS/4 ¶20" in content
    citations = message.model_extra["citations"]  # type: ignore[index]
    assert citations[0]["locator"] == "GB.349/INS/4 ¶20" and citations[0]["quote"] in content
    assert citations[0]["link"].startswith("https://assistant.example.org/?doc=gb349-ins4#gb349-ins4:")
    assert reply.usage is not None and reply.usage.completion_tokens > 0


def test_streaming_gives_the_same_answer(restricted_server: tuple[str, Any]) -> None:
    url, _ = restricted_server
    messages = [{"role": "user", "content": "Are there membership fees?"}]
    plain = client(url).chat.completions.create(model="coalition-assistant", messages=messages)  # type: ignore[arg-type]
    chunks = list(client(url).chat.completions.create(model="coalition-assistant", messages=messages,  # type: ignore[arg-type]
                                                      stream=True, stream_options={"include_usage": True}))
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content and len([c for c in chunks if c.choices]) > 3
    last = [c for c in chunks if c.choices][-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.choices[0].delta.model_extra["citations"][0]["locator"] == "GB.349/INS/4 ¶20"  # type: ignore[index]
    assert chunks[-1].usage is not None and not chunks[-1].choices
    raw = httpx.post(url + "/v1/chat/completions", headers={"Authorization": f"Bearer {KEY['staff']}"},
                     json={"model": "coalition-assistant", "messages": messages, "stream": True}, timeout=60)
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert raw.text.rstrip().endswith("data: [DONE]")


def test_history_makes_a_follow_up(restricted_server: tuple[str, Any]) -> None:
    url, _ = restricted_server
    first = client(url).chat.completions.create(model="coalition-assistant", messages=[
        {"role": "user", "content": "Who can join the Coalition?"}])
    follow = client(url).chat.completions.create(model="coalition-assistant", messages=[
        {"role": "user", "content": "Who can join the Coalition?"},
        {"role": "assistant", "content": first.choices[0].message.content or ""},
        {"role": "user", "content": "And how do they join?"}])
    content = follow.choices[0].message.content or ""
    assert "[1]" in content and not follow.model_extra["coalition"]["abstained"]  # type: ignore[index]


def test_a_wrong_key_gets_openai_s_401(restricted_server: tuple[str, Any]) -> None:
    url, _ = restricted_server
    with pytest.raises(openai.AuthenticationError) as refused:
        client(url, key="sk-wrong").chat.completions.create(
            model="coalition-assistant", messages=[{"role": "user", "content": "Who can join?"}])
    assert refused.value.status_code == 401
    body = refused.value.body
    assert isinstance(body, dict) and body["code"] == "invalid_api_key" and body["type"] == "invalid_request_error"
    assert "sk-wrong" not in refused.value.message


def test_unsupported_parameters_are_refused_in_openai_s_shape(restricted_server: tuple[str, Any]) -> None:
    url, _ = restricted_server
    c = client(url)
    with pytest.raises(openai.BadRequestError, match="tools"):
        c.chat.completions.create(model="coalition-assistant", messages=[{"role": "user", "content": "Who can join?"}],
                                  tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}])
    with pytest.raises(openai.BadRequestError, match="n=2"):
        c.chat.completions.create(model="coalition-assistant", n=2, messages=[{"role": "user", "content": "Who?"}])
    with pytest.raises(openai.NotFoundError):
        c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Who can join?"}])
    with pytest.raises(openai.BadRequestError, match="last message"):
        c.chat.completions.create(model="coalition-assistant", messages=[{"role": "assistant", "content": "Hi"}])
    response = httpx.post(url + "/v1/chat/completions", headers={"Authorization": f"Bearer {KEY['staff']}"},
                          json={"model": "coalition-assistant", "messages": []})
    assert response.status_code == 400 and set(response.json()["error"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("audience", ["public", "partner"])
def test_an_audience_that_may_not_see_the_document(restricted_server: tuple[str, Any], audience: str) -> None:
    url, _ = restricted_server
    messages = [{"role": "user", "content": QUESTION}]
    reply = client(url, audience).chat.completions.create(model="coalition-assistant", messages=messages)  # type: ignore[arg-type]
    assert not leaks(reply.model_dump_json())
    chunks = client(url, audience).chat.completions.create(model="coalition-assistant", messages=messages,  # type: ignore[arg-type]
                                                           stream=True)
    assert not leaks("".join(c.model_dump_json() for c in chunks))
    staff = client(url, "staff").chat.completions.create(model="coalition-assistant", messages=messages)  # type: ignore[arg-type]
    assert "Montreux" in (staff.choices[0].message.content or "")
    assert "retreat-briefing" in {c["doc_id"] for c in staff.choices[0].message.model_extra["citations"]}  # type: ignore[index]


def test_rate_limit_counts_each_bearer_key_apart(restricted_settings: Any, restricted_assistant: Any) -> None:
    import json

    from pydantic import SecretStr

    from assistant.web import create_app
    from tests.servers import serving

    settings = restricted_settings.model_copy(update={"api_keys": SecretStr(json.dumps(KEYS)), "rate_limit_per_minute": 2})
    with serving(create_app(settings, restricted_assistant)) as url:
        first, second = client(url, "public"), client(url, "staff")
        first.models.list()
        first.models.list()
        with pytest.raises(openai.RateLimitError) as limited:
            first.models.list()
        assert isinstance(limited.value.body, dict) and limited.value.body["code"] == "rate_limit_exceeded"
        assert [m.id for m in second.models.list()] == ["coalition-assistant"]  # another key, its own budget
