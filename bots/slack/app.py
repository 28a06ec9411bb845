"""Builds the Bolt app. Two ways in: HTTP mode (``POST /slack/events`` in the web app, needs
SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET) and Socket Mode (``coalition slack``, needs SLACK_BOT_TOKEN +
SLACK_APP_TOKEN). Tokens are read through Settings and never logged.

Example::

    app = build_app(settings, lambda: assistant, FeedbackStore.from_settings(settings))
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App
from slack_sdk import WebClient

from assistant.feedback import FeedbackStore
from assistant.pipeline import Assistant
from bots.slack.config import require
from bots.slack.listeners import register
from bots.slack.responder import Responder
from core.settings import Settings


def build_app(settings: Settings, assistant: Callable[[], Assistant], store: FeedbackStore,
              socket_mode: bool = False) -> App:
    names = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN") if socket_mode else ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    creds = require(settings, *names)
    client = WebClient(token=creds["SLACK_BOT_TOKEN"], base_url=settings.slack_api_url.rstrip("/") + "/")
    app = App(
        client=client,
        signing_secret=creds.get("SLACK_SIGNING_SECRET", ""),
        request_verification_enabled=not socket_mode,
        token_verification_enabled=False,  # auth.test runs on the first event instead of at import/start
        process_before_response=False,
        logger=logging.getLogger("bots.slack.bolt"),
    )
    register(app, Responder(settings, assistant, store))
    return app
