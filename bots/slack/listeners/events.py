"""Mentions in channels (answered in a thread), replies in those threads (follow-ups), direct messages.

Each listener acknowledges at once and answers in a lazy listener, so Slack gets its 200 within 3 s.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from assistant.models import Turn
from bots.slack.responder import Responder, strip_mentions


def _ack(ack: Ack) -> None:
    ack()


def register(app: App, responder: Responder) -> None:
    def on_mention(body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("bot_id") or not responder.seen.first_time(body.get("event_id")):
            return
        question = strip_mentions(event.get("text", ""))
        channel, ts = event["channel"], event["ts"]
        history: list[Turn] = []
        if event.get("thread_ts"):
            history, _ = responder.thread_history(client, channel, event["thread_ts"], ts, context.bot_user_id)
        audience = responder.audience(channel, event.get("user"), direct=event.get("channel_type") == "im")
        responder.reply(client, channel, event.get("thread_ts") or ts, question, history, react_to=ts, audience=audience)

    def on_message(body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("bot_id") or event.get("subtype") or event.get("user") == context.bot_user_id:
            return  # other bots, the bot itself, edits, joins…
        text, channel, ts = event.get("text", ""), event["channel"], event["ts"]
        direct = event.get("channel_type") == "im"
        if not direct and (not event.get("thread_ts") or f"<@{context.bot_user_id}>" in text):
            return  # channel chatter, or a mention (answered by on_mention)
        if not responder.seen.first_time(body.get("event_id")):
            return
        history: list[Turn] = []
        bot_in_thread = False
        if event.get("thread_ts"):
            history, bot_in_thread = responder.thread_history(client, channel, event["thread_ts"], ts, context.bot_user_id)
        if not direct and not bot_in_thread:
            return  # a thread the bot is not part of
        audience = responder.audience(channel, event.get("user"), direct)
        responder.reply(client, channel, event.get("thread_ts"), strip_mentions(text), history, react_to=ts,
                        audience=audience)

    app.event("app_mention")(ack=_ack, lazy=[on_mention])
    app.event("message")(ack=_ack, lazy=[on_message])
