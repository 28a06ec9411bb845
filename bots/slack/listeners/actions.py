"""Buttons: 👍 / 👎 store feedback (the same store as ``POST /feedback``) and acknowledge in place;
"Share in channel" posts an ephemeral answer for everyone."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from assistant.feedback import Rating, UnknownAnswer
from bots.slack.blocks import escape, fallback_text, thanks_blocks
from bots.slack.responder import Responder


def register(app: App, responder: Responder) -> None:
    def on_feedback(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        rating: Rating = "up" if action["action_id"] == "feedback_up" else "down"
        user = body.get("user", {}).get("id", "")
        answer_id = action.get("value", "")
        try:
            responder.store.add_feedback(answer_id, rating, channel="slack", user=user)
        except UnknownAnswer:
            respond(response_type="ephemeral", replace_original=False, text="That answer is no longer on record.")
            return
        answer = responder.stored(answer_id)
        if answer is None:
            return
        ephemeral = bool(body.get("container", {}).get("is_ephemeral"))
        blocks = body.get("message", {}).get("blocks") or responder.blocks(answer, answer_id, share=ephemeral)
        respond(replace_original=True, text=fallback_text(answer), blocks=thanks_blocks(blocks, rating, user))

    def on_share(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        answer = responder.stored(action.get("value", ""))
        channel = body.get("channel", {}).get("id")
        if answer is None or not channel:
            respond(response_type="ephemeral", replace_original=False, text="That answer is no longer on record.")
            return
        row = responder.store.answer(action["value"]) or {}
        shared = {"type": "context", "elements": [{"type": "mrkdwn", "text":
                  f"<@{body.get('user', {}).get('id', '')}> asked: {escape(row.get('question', ''))}"}]}
        client.chat_postMessage(channel=channel, text=fallback_text(answer),
                                blocks=[shared, *responder.blocks(answer, action["value"])], unfurl_links=False)
        respond(delete_original=True)

    app.action("feedback_up")(on_feedback)
    app.action("feedback_down")(on_feedback)
    app.action("share_answer")(on_share)
