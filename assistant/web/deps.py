"""Shared services reach handlers through these dependencies; handlers never build them."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from assistant.feedback import FeedbackStore
from assistant.pipeline import Assistant
from coalition.settings import Settings

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


# The dependencies are ``async def`` though they never await: FastAPI runs a plain ``def`` dependency in
# the thread pool, and four thread hops a request cost more (under the GIL) than the answer's ranking.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_assistant(request: Request) -> Assistant:
    assistant: Assistant | None = request.app.state.assistant
    if assistant is None:
        raise HTTPException(503, f"the index is not ready: {request.app.state.not_ready}")
    return assistant


async def get_store(request: Request) -> FeedbackStore:
    store: FeedbackStore = request.app.state.store
    return store


async def require_api_key(request: Request, key: Annotated[str | None, Security(_api_key_header)] = None) -> None:
    """When COALITION_API_KEY is set, every API call must send it as ``X-API-Key``."""
    expected = (await get_settings(request)).api_key
    if expected is None:
        return
    if not key or not secrets.compare_digest(key.encode(), expected.get_secret_value().encode()):
        raise HTTPException(401, "missing or wrong X-API-Key header", headers={"WWW-Authenticate": "API-Key"})


SettingsDep = Annotated[Settings, Depends(get_settings)]
AssistantDep = Annotated[Assistant, Depends(get_assistant)]
StoreDep = Annotated[FeedbackStore, Depends(get_store)]
ApiKey = Depends(require_api_key)
