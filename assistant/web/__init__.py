"""The serve stage: the FastAPI app and the chat page."""

from assistant.web.app import create_app

__all__ = ["create_app"]
