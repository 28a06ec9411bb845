"""Document visibility in Slack: the real Bolt app in the real server over an index holding a staff-only
document, two channels (one configured staff, one not) and a staff user's direct messages."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.assistant.test_audience import QUESTION, leaks
from tests.bots.conftest import command_body, event, signed
from tests.conftest import PUBLIC_CHANNEL, STAFF_CHANNEL
from tests.fakes import FakeSlack

pytestmark = [pytest.mark.slow, pytest.mark.server]


def ask(url: str, slack: FakeSlack, inner: dict[str, Any]) -> str:
    slack.calls.clear()
    assert signed(url, event(inner)).status_code == 200
    [post] = slack.wait_for("chat.postMessage")
    return json.dumps(post.body, ensure_ascii=False)


def test_staff_channel_is_cited_the_document_and_the_public_one_is_not(
        restricted_server: tuple[str, FakeSlack], caplog: pytest.LogCaptureFixture) -> None:
    url, slack = restricted_server
    caplog.set_level(logging.DEBUG)
    public = ask(url, slack, {"type": "app_mention", "text": f"<@UBOT> {QUESTION}", "channel": PUBLIC_CHANNEL})
    assert not leaks(public), public
    dm = ask(url, slack, {"type": "message", "channel_type": "im", "text": QUESTION, "channel": "D0PUBLIC",
                          "user": "UPUBLIC"})
    assert not leaks(dm), dm
    assert not leaks(caplog.text)
    staff = ask(url, slack, {"type": "app_mention", "text": f"<@UBOT> {QUESTION}", "channel": STAFF_CHANNEL})
    assert "Montreux" in staff and "retreat-briefing" in staff
    staff_dm = ask(url, slack, {"type": "message", "channel_type": "im", "text": QUESTION, "channel": "D0STAFF",
                                "user": "USTAFF1"})
    assert "Montreux" in staff_dm


def test_slash_command_takes_the_channel_s_audience(restricted_server: tuple[str, FakeSlack]) -> None:
    url, slack = restricted_server
    for n, (channel, expect) in enumerate([(PUBLIC_CHANNEL, False), (STAFF_CHANNEL, True)]):
        slack.calls.clear()
        body = command_body(slack, QUESTION, 9000 + n).replace("channel_id=C7", f"channel_id={channel}")
        assert signed(url, body, content_type="application/x-www-form-urlencoded").status_code == 200
        [reply] = slack.wait_for(f"/response/cmd{9000 + n}")
        text = json.dumps(reply.body, ensure_ascii=False)
        assert ("Montreux" in text) is expect and (not leaks(text)) is not expect
