"""``/coalition <question>``: an ephemeral answer with a "Share in channel" button."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from assistant.audience import Audience
from bots.slack.blocks import apology_text, escape, fallback_text, practice_blocks
from bots.slack.responder import Responder, failure_reason

USAGE = ("Ask me about the Global Coalition for Social Justice: `/coalition how do we join?` · "
         "find good practices: `/coalition practices social protection in Asia`")
log = logging.getLogger("bots.slack")


def register(app: App, responder: Responder) -> None:
    def ack_command(ack: Ack, command: dict[str, Any]) -> None:
        text = (command.get("text") or "").strip()
        if not text:
            ack(response_type="ephemeral", text=USAGE)
        else:
            ack(response_type="ephemeral", text=f":hourglass: Looking up: _{escape(text[:200])}_")

    def answer_command(command: dict[str, Any], respond: Respond) -> None:
        question = (command.get("text") or "").strip()
        # a replay of the same signed command (within Slack's five minutes) is answered once, as event
        # retries are: the trigger_id is unique to each invocation
        trigger = command.get("trigger_id")
        if not question or not responder.seen.first_time(f"command:{trigger}" if trigger else None):
            return
        channel = command.get("channel_id", "")
        direct = command.get("channel_name") == "directmessage" or channel.startswith("D")
        audience = responder.audience(channel, command.get("user_id"), direct)
        if question.lower().split(" ", 1)[0] == "practices":
            _practices(question[len("practices") :].strip(), respond, audience)
            return
        try:
            answer, answer_id = responder.answer(question, [], audience)
        except Exception as exc:  # noqa: BLE001 (never silent)
            log.error("slash command failed: %s", failure_reason(exc), exc_info=exc)
            respond(response_type="ephemeral", replace_original=True, text=apology_text(failure_reason(exc)))
            return
        asked = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"*You asked:* {escape(question)}"}]}
        respond(response_type="ephemeral", replace_original=True, text=fallback_text(answer),
                blocks=[asked, *responder.blocks(answer, answer_id, share=True)])

    def _practices(query: str, respond: Respond, audience: Audience) -> None:
        try:
            blocks = practice_blocks(responder, query, audience=audience)
        except Exception as exc:  # noqa: BLE001 (never silent)
            log.error("practice search failed: %s", failure_reason(exc), exc_info=exc)
            respond(response_type="ephemeral", replace_original=True, text=apology_text(failure_reason(exc)))
            return
        respond(response_type="ephemeral", replace_original=True, text=f"Good practices: {escape(query)}", blocks=blocks)

    app.command("/coalition")(ack=ack_command, lazy=[answer_command])
