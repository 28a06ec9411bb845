"""Request and response bodies of the web API. Responses are the pipeline's own models, extended."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.models import Answer, Turn


class AskRequest(BaseModel):
    """``POST /ask`` and ``POST /chat/stream``."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question; 1–2,000 characters (COALITION_MAX_QUESTION_CHARS)")
    history: list[Turn] = Field(default_factory=list, max_length=50, description="Earlier turns, oldest first")
    filters: dict[str, str] | None = Field(None, description="doc_type, country, doc_id or kind")
    k: int | None = Field(None, ge=1, le=200, description="Candidates per retriever")


class AskResponse(Answer):
    answer_id: str = Field(description="Pass to POST /feedback")


class SearchHit(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    locator: str
    kind: str
    text: str
    url: str
    score: float


class SearchResponse(BaseModel):
    query: str
    hits: list[SearchHit]


class Passage(BaseModel):
    id: str = Field(description="The chunk id; also the HTML anchor on the chat page's source viewer")
    locator: str
    kind: str
    heading_path: list[str]
    text: str


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    label: str
    doc_type: str
    symbol: str
    publisher: str
    date: str
    url: str
    language: str
    chunks: int


class DocumentDetail(DocumentSummary):
    passages: list[Passage]


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer_id: str = Field(min_length=1, max_length=64)
    rating: Literal["up", "down"]
    comment: str = Field("", max_length=2000)


class FeedbackResponse(BaseModel):
    id: int
    answer_id: str
    rating: str


class Ready(BaseModel):
    ready: bool
    documents: int = 0
    chunks: int = 0
    model: str = ""
    mode: str = ""
    reason: str = ""


class Problem(BaseModel):
    """Every 4xx/5xx body: a readable ``detail``; ``errors`` lists field problems for 422s."""

    detail: str
    errors: list[dict[str, Any]] = Field(default_factory=list)
