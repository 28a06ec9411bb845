"""Bad requests at ``POST /slack/events`` get 400/401, never a 500; a replayed slash command is answered
once; text UTF-8 cannot encode gets a polite reply, not an internal error."""

from __future__ import annotations

import json
import time
import urllib.parse

import httpx
import pytest

from tests.bots.conftest import FORM, command_body, event, signed
from tests.fakes import FakeSlack

pytestmark = [pytest.mark.slow, pytest.mark.server]


@pytest.mark.parametrize("timestamp", ["abc", "1.5", f"{int(time.time())}.0", "-1", "1e9", "0x10", "9" * 40, ""])
def test_a_malformed_timestamp_is_refused_not_a_500(bot_url: str, timestamp: str) -> None:
    response = signed(bot_url, event({"type": "app_mention", "text": "<@UBOT> fees?"}), timestamp=timestamp)
    assert response.status_code == 401, response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[]", "application/json"),
        ('"just a string"', "application/json"),
        ('{"deep": ' * 5000 + "1" + "}" * 5000, "application/json"),
        ("payload=%7Bnot+json", FORM),
        ("payload=%5B%5D", FORM),
        ("payload=7", FORM),
        (b"\xff\xfe not utf-8", FORM),
    ],
)
def test_a_signed_malformed_body_is_a_400(bot_url: str, slack: FakeSlack, body: str | bytes, content_type: str) -> None:
    response = signed(bot_url, body, content_type)
    assert response.status_code == 400, response.text
    assert response.json()["detail"] and "Traceback" not in response.text


def test_an_unsigned_malformed_body_is_still_a_401(bot_url: str) -> None:
    response = httpx.post(bot_url + "/slack/events", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 401


def test_a_replayed_slash_command_is_answered_once(bot_url: str, slack: FakeSlack) -> None:
    body = command_body(slack, "are there membership fees?", 21)
    assert signed(bot_url, body, FORM).status_code == 200
    assert signed(bot_url, body, FORM).status_code == 200  # the same signed request, within the 5 minutes
    slack.wait_for("/response/cmd21")
    time.sleep(1.5)
    assert len(slack.named("/response/cmd21")) == 1
    other = urllib.parse.urlencode({**dict(urllib.parse.parse_qsl(body)), "trigger_id": "another.trigger"})
    assert signed(bot_url, other, FORM).status_code == 200  # a new command (new trigger_id) is answered
    slack.wait_for("/response/cmd21", count=2)


def test_unencodable_text_gets_a_polite_reply(bot_url: str, slack: FakeSlack) -> None:
    body = event({"type": "app_mention", "text": "<@UBOT> partners PLACEHOLDER commit"}).replace("PLACEHOLDER", "\\ud800")
    assert signed(bot_url, body).status_code == 200
    [post] = slack.wait_for("chat.postMessage")
    assert "Sorry" in post.body["text"] and "UTF-8" in post.body["text"]
    assert json.loads(body)["event"]["ts"] == post.body["thread_ts"]
