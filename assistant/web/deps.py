"""Shared services reach handlers through these dependencies; handlers never build them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from assistant.audience import Audience, key_audience
from assistant.errors import Unauthorized
from assistant.feedback import FeedbackStore
from assistant.pipeline import Assistant
from core.settings import Settings

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


# The dependencies are ``async def`` though they never await: FastAPI runs a plain ``def`` dependency in
# the thread pool, and four thread hops a request cost more (under the GIL) than the answer's ranking.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def caller_audience(request: Request, key: Annotated[str | None, Security(_api_key_header)] = None) -> Audience:
    """Who is asking: the audience of the ``X-API-Key`` sent (``COALITION_API_KEYS``, ``COALITION_API_KEY``
    = staff), else ``COALITION_ANONYMOUS_AUDIENCE``; 401 for a wrong key or a missing one where needed."""
    try:
        audience = key_audience(await get_settings(request), key)
    except Unauthorized as exc:
        raise HTTPException(401, f"{exc}: send X-API-Key", headers={"WWW-Authenticate": "API-Key"}) from None
    request.state.audience = audience
    return audience


async def get_assistant(request: Request, audience: Annotated[Audience, Depends(caller_audience)]) -> Assistant:
    """The assistant over what the caller's audience may see: every route reads the corpus through it."""
    assistant: Assistant | None = request.app.state.assistant
    if assistant is None:
        raise HTTPException(503, f"the index is not ready: {request.app.state.not_ready}")
    return assistant.for_audience(audience)


async def get_store(request: Request) -> FeedbackStore:
    store: FeedbackStore = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
AssistantDep = Annotated[Assistant, Depends(get_assistant)]
StoreDep = Annotated[FeedbackStore, Depends(get_store)]
AudienceDep = Annotated[Audience, Depends(caller_audience)]
ApiKey = Depends(caller_audience)
