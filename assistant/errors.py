"""Domain errors of answering; the edges (CLI, web, Slack) translate them."""

from ingest.errors import IndexNotReady


class AssistantError(Exception):
    pass


class BadQuestion(AssistantError):
    """The question is empty, too long, or the filters are not understood."""


class UnencodableText(BadQuestion):
    """Text holds a lone surrogate (JSON's ``"\\ud800"`` escape can carry one), which UTF-8 cannot encode:
    neither the tokenizer nor SQLite can take it."""


class Unauthorized(AssistantError):
    """No key where one is needed, or a key that is not configured (the message never repeats the key)."""


__all__ = ["AssistantError", "BadQuestion", "IndexNotReady", "Unauthorized", "UnencodableText"]
