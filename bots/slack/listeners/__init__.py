"""One module per listener kind; each gets the Bolt app and the shared Responder."""

from __future__ import annotations

from slack_bolt import App

from bots.slack.listeners import actions, commands, events
from bots.slack.responder import Responder


def register(app: App, responder: Responder) -> None:
    events.register(app, responder)
    commands.register(app, responder)
    actions.register(app, responder)
