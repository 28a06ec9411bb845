"""The real Bolt app in HTTP mode, inside the real web app on uvicorn. Requests are signed exactly as
Slack signs them; the bot's WebClient talks to a loopback server that answers like Slack's Web API."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from assistant.feedback import FeedbackStore
from assistant.models import Answer
from assistant.web import create_app
from bots.slack.blocks import SECTION_LIMIT, answer_blocks
from bots.slack.config import SlackConfigError
from coalition.cli import main
from core.settings import Settings
from tests.bots.conftest import BOT_TOKEN, FORM, PUBLIC, SECRET, command_body, event, signed, slack_settings
from tests.fakes import FakeSlack
from tests.servers import serving

pytestmark = [pytest.mark.slow, pytest.mark.server]


def blocks_text(call_body: dict[str, Any]) -> str:
    blocks = call_body.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return json.dumps(blocks, ensure_ascii=False)


def test_mention_is_answered_once_in_thread_with_sources(bot_url: str, slack: FakeSlack, web_settings: Settings,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = event({"type": "app_mention", "text": "<@UBOT> are there membership fees?"})
    started = time.monotonic()
    response = signed(bot_url, body)
    assert response.status_code == 200 and time.monotonic() - started < 3
    [post] = slack.wait_for("chat.postMessage")
    ts = json.loads(body)["event"]["ts"]
    assert post.body["channel"] == "C1" and post.body["thread_ts"] == ts
    text = blocks_text(post.body)
    assert "will not entail any membership fees" in text and "GB.349/INS/4 ¶20" in text
    assert f"<{PUBLIC}/?doc=gb349-ins4#gb349-ins4:" in text and "feedback_up" in text and "feedback_down" in text
    slack.wait_for("reactions.remove")
    assert [c.body["name"] for c in slack.named("reactions.add")] == ["hourglass"]
    assert post.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert BOT_TOKEN not in caplog.text and SECRET not in caplog.text
    rows = [r for r in _answers(web_settings) if r["question"] == "are there membership fees?"]
    assert rows and rows[-1]["channel"] == "slack"


def _answers(settings: Settings) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from assistant.db import answers

    store = FeedbackStore.from_settings(settings)
    try:
        with store._engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(answers).order_by(answers.c.created)).mappings()]
    finally:
        store.close()


def test_retry_of_the_same_event_is_answered_once(bot_url: str, slack: FakeSlack) -> None:
    body = event({"type": "app_mention", "text": "<@UBOT> who can join?"}, event_id="EvRETRY1")
    assert signed(bot_url, body).status_code == 200
    assert signed(bot_url, body, retry=1).status_code == 200
    assert signed(bot_url, body, retry=2).status_code == 200
    slack.wait_for("chat.postMessage")
    time.sleep(1.5)
    assert len(slack.named("chat.postMessage")) == 1


def test_thread_reply_is_a_follow_up_with_history(bot_url: str, slack: FakeSlack) -> None:
    root, current = "1700000100.000001", "1700000100.000009"
    slack.threads[root] = [
        {"ts": root, "user": "UHUMAN", "text": "<@UBOT> What is the Coordinating Group?"},
        {"ts": "1700000100.000002", "user": "UBOT", "bot_id": "BBOT", "text": "A Coordinating Group will be established…"},
        {"ts": current, "user": "UHUMAN", "text": "how often does it meet?"},
    ]
    signed(bot_url, event({"type": "message", "channel_type": "channel", "text": "how often does it meet?",
                           "ts": current, "thread_ts": root}))
    [post] = slack.wait_for("chat.postMessage")
    assert post.body["thread_ts"] == root and "twice a year" in blocks_text(post.body)
    assert slack.named("conversations.replies")[0].body["ts"] == root


def test_threads_without_the_bot_bots_and_chatter_get_no_reply(bot_url: str, slack: FakeSlack) -> None:
    root = "1700000200.000001"
    slack.threads[root] = [{"ts": root, "user": "UOTHER", "text": "lunch?"}]
    signed(bot_url, event({"type": "message", "channel_type": "channel", "text": "are there fees?", "thread_ts": root}))
    signed(bot_url, event({"type": "message", "channel_type": "channel", "text": "are there membership fees?"}))
    signed(bot_url, event({"type": "message", "channel_type": "im", "channel": "D1", "subtype": "bot_message",
                           "bot_id": "BOTHER", "text": "are there membership fees?"}))
    signed(bot_url, event({"type": "app_mention", "bot_id": "BOTHER", "text": "<@UBOT> are there membership fees?"}))
    time.sleep(2)
    assert slack.named("chat.postMessage") == []


def test_direct_message_is_answered_directly(bot_url: str, slack: FakeSlack) -> None:
    question = "how often does the coordinating group meet?"
    signed(bot_url, event({"type": "message", "channel_type": "im", "channel": "D42", "text": question}))
    [post] = slack.wait_for("chat.postMessage")
    assert post.body["channel"] == "D42" and "thread_ts" not in post.body
    assert "twice a year" in blocks_text(post.body)


def action_body(slack: FakeSlack, action_id: str, value: str, n: int, message: dict[str, Any] | None = None,
                ephemeral: bool = False) -> str:
    payload = {
        "type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U9", "name": "ana"}, "api_app_id": "A1",
        "token": "legacy", "trigger_id": "1.2.3", "channel": {"id": "C7", "name": "general"},
        "container": {"type": "message", "channel_id": "C7", "message_ts": "1800000000.000001", "is_ephemeral": ephemeral},
        "response_url": f"{slack.url}/response/act{n}",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "answer_actions", "value": value,
                     "action_ts": str(time.time())}],
    }
    if message is not None:
        payload["message"] = message
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def test_slash_command_answers_ephemerally_and_shares(bot_url: str, slack: FakeSlack) -> None:
    response = signed(bot_url, command_body(slack, "are there membership fees?", 1), FORM)
    assert response.status_code == 200 and response.json()["response_type"] == "ephemeral"
    [reply] = slack.wait_for("/response/cmd1")
    assert reply.body["response_type"] == "ephemeral" and reply.body["replace_original"] is True
    text = blocks_text(reply.body)
    assert "membership fees" in text and "share_answer" in text and "GB.349/INS/4 ¶20" in text
    answer_id = next(e["value"] for b in reply.body["blocks"] if b["type"] == "actions" for e in b["elements"]
                     if e["action_id"] == "share_answer")
    signed(bot_url, action_body(slack, "share_answer", answer_id, 1, ephemeral=True), FORM)
    [shared] = slack.wait_for("chat.postMessage")
    assert shared.body["channel"] == "C7" and "membership fees" in blocks_text(shared.body)
    assert "<@U9> asked: are there membership fees?" in blocks_text(shared.body)
    [gone] = slack.wait_for("/response/act1")
    assert gone.body.get("delete_original") is True


def test_slash_command_finds_practices(bot_url: str, slack: FakeSlack) -> None:
    signed(bot_url, command_body(slack, "practices social protection in Asia", 5), FORM)
    [reply] = slack.wait_for("/response/cmd5")
    text = blocks_text(reply.body)
    assert "Good practices" in text and "Cambodia and Pakistan" in text and "746,014" in text
    assert f"<{PUBLIC}/?doc=emerging-partners-guide#" in text
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in reply.body["blocks"] if b["type"] == "section")


def test_empty_slash_command_gets_usage(bot_url: str, slack: FakeSlack) -> None:
    response = signed(bot_url, command_body(slack, "  ", 2), FORM)
    assert "/coalition how do we join?" in response.json()["text"]


def test_feedback_button_stores_and_acknowledges(bot_url: str, slack: FakeSlack, web_settings: Settings) -> None:
    signed(bot_url, event({"type": "app_mention", "text": "<@UBOT> who sits on the coordinating group?"}))
    [post] = slack.wait_for("chat.postMessage")
    blocks = post.body["blocks"]
    answer_id = next(e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"])
    message = {"type": "message", "ts": "1800000000.000001", "text": post.body["text"], "blocks": blocks}
    signed(bot_url, action_body(slack, "feedback_down", answer_id, 3, message=message), FORM)
    [update] = slack.wait_for("/response/act3")
    assert update.body["replace_original"] is True
    text = blocks_text(update.body)
    assert "Thanks <@U9>, feedback recorded." in text and "feedback_up" not in text
    store = FeedbackStore(web_settings.feedback_path)
    rows = [r for r in store.feedback() if r["answer_id"] == answer_id]
    store.close()
    assert len(rows) == 1 and rows[0]["rating"] == "down" and rows[0]["user"] == "U9"
    assert rows[0]["feedback_channel"] == "slack" and rows[0]["question"] == "who sits on the coordinating group?"


def test_forged_and_stale_requests_are_refused(bot_url: str, slack: FakeSlack) -> None:
    body = event({"type": "app_mention", "text": "<@UBOT> are there membership fees?"})
    assert signed(bot_url, body, secret="0" * 32).status_code == 401
    assert signed(bot_url, body, timestamp=int(time.time()) - 6 * 60).status_code == 401
    unsigned = httpx.post(bot_url + "/slack/events", content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    time.sleep(1)
    assert slack.named("chat.postMessage") == []


def test_user_text_is_escaped(bot_url: str, slack: FakeSlack) -> None:
    signed(bot_url, command_body(slack, "fees <!channel> & <b>bold</b>?", 4), FORM)
    [reply] = slack.wait_for("/response/cmd4")
    text = blocks_text(reply.body)
    assert "&lt;!channel&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in text and "<!channel>" not in text


def test_failure_gets_an_apology_in_thread(web_settings: Settings, slack: FakeSlack, tmp_path: Path) -> None:
    broken = slack_settings(web_settings, slack, index_dir=tmp_path / "missing")
    with serving(create_app(broken)) as url:
        body = event({"type": "app_mention", "text": "<@UBOT> are there membership fees?"})
        assert signed(url, body).status_code == 200
        [post] = slack.wait_for("chat.postMessage")
    ts = json.loads(body)["event"]["ts"]
    assert post.body["thread_ts"] == ts and "Sorry" in post.body["text"] and "index is not ready" in post.body["text"]
    slack.wait_for("reactions.remove")


def test_long_answers_respect_block_limits() -> None:
    long = "\n".join(f"Sentence {i} " + "word " * 40 + f"[{1 + i % 2}]" for i in range(60))
    blocks = answer_blocks(Answer(answer=long, abstained=False), "abc")
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) >= 3 and all(len(s) <= SECTION_LIMIT for s in sections)
    assert "\n".join(sections) == long


def test_missing_or_malformed_tokens_are_named(web_settings: Settings, slack: FakeSlack,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET is not set"):
        create_app(web_settings.model_copy(update={"slack_bot_token": SecretStr(BOT_TOKEN)}))
    with pytest.raises(SlackConfigError, match="SLACK_BOT_TOKEN is malformed") as err:
        create_app(slack_settings(web_settings, slack, slack_bot_token=SecretStr("xoxp-user-token")))
    assert "xoxp-user-token" not in str(err.value)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["slack"])
    assert result.exit_code == 1 and "SLACK_APP_TOKEN is not set" in result.output


def test_manifest_declares_what_the_listeners_need() -> None:
    import yaml

    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "bots/slack/manifest.yml").read_text())
    settings = manifest["settings"]
    assert {"app_mention", "message.channels", "message.im"} <= set(settings["event_subscriptions"]["bot_events"])
    assert settings["interactivity"]["is_enabled"] is True
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/coalition"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "reactions:write", "channels:history", "im:history"} <= scopes
    urls = {settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]}
    assert all(u.endswith("/slack/events") for u in urls)
