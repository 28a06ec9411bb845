"""ASGI entry for servers and ``--reload``: ``uvicorn coalition.asgi:app``. Nothing heavy happens at
import: the model and indexes load in the app's lifespan."""

from __future__ import annotations

from fastapi import FastAPI

from core.settings import Settings


def build(settings: Settings | None = None) -> FastAPI:
    from assistant.web import create_app

    return create_app(settings or Settings())


def __getattr__(name: str) -> FastAPI:
    if name == "app":  # built on first access, so importing this module reads no settings
        return build()
    raise AttributeError(name)
