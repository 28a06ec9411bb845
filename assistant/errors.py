"""Domain errors of answering; the edges (CLI, web, Slack) translate them."""

from ingest.errors import IndexNotReady


class AssistantError(Exception):
    pass


class BadQuestion(AssistantError):
    """The question is empty, too long, or the filters are not understood."""


__all__ = ["AssistantError", "BadQuestion", "IndexNotReady"]
