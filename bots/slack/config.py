"""Slack credentials, checked at start-up so a missing or malformed one is named, never half-working."""

from __future__ import annotations

import re

from core.settings import Settings


class SlackConfigError(ValueError):
    """A Slack variable is missing or malformed; the message names it (never its value)."""


_SHAPES = {
    "SLACK_BOT_TOKEN": (re.compile(r"xoxb-[A-Za-z0-9-]+"), "a bot token starting with xoxb-"),
    "SLACK_APP_TOKEN": (re.compile(r"xapp-[A-Za-z0-9-]+"), "an app-level token starting with xapp-"),
    "SLACK_SIGNING_SECRET": (re.compile(r"[A-Za-z0-9]{16,}"), "the app's signing secret (letters and digits)"),
}


def require(settings: Settings, *names: str) -> dict[str, str]:
    """The values of ``names`` (SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET), or a clear error."""
    values = {
        "SLACK_BOT_TOKEN": settings.slack_bot_token,
        "SLACK_APP_TOKEN": settings.slack_app_token,
        "SLACK_SIGNING_SECRET": settings.slack_signing_secret,
    }
    out: dict[str, str] = {}
    for name in names:
        secret = values[name]
        value = secret.get_secret_value().strip() if secret is not None else ""
        pattern, what = _SHAPES[name]
        if not value:
            raise SlackConfigError(f"{name} is not set; it should be {what} (Slack app settings)")
        if not pattern.fullmatch(value):
            raise SlackConfigError(f"{name} is malformed; it should be {what}")
        out[name] = value
    return out


def http_mode_configured(settings: Settings) -> bool:
    """HTTP mode is on when either of its variables is set (and then both must be right)."""
    return settings.slack_bot_token is not None or settings.slack_signing_secret is not None
