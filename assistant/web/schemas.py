"""Request and response bodies of the web API. Responses are the pipeline's own models, extended."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from assistant.models import Answer, Turn


def _not_in_disguise(value: object) -> object:
    """``"5"`` and ``true`` are wrong types (422), as the README says; ``5`` and ``5.0`` are JSON integers."""
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


Candidates = Annotated[int, Field(ge=1, le=200), BeforeValidator(_not_in_disguise)]


class AskRequest(BaseModel):
    """``POST /ask`` and ``POST /chat/stream``."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question; 1–2,000 characters (COALITION_MAX_QUESTION_CHARS), not only "
                                      "spaces: an empty or longer one is refused with 400")
    history: list[Turn] = Field(default_factory=list, description="Earlier turns, oldest first; at most "
                                "COALITION_MAX_HISTORY_TURNS (20) turns and _CHARS (16,000) characters, else 400")
    filters: dict[str, str] | None = Field(None, description="doc_type, country, doc_id or kind")
    k: Candidates | None = Field(None, description="Candidates per retriever")


class AskResponse(Answer):
    answer_id: str = Field(description="Pass to POST /feedback")


class AudienceResponse(BaseModel):
    audience: Literal["public", "partner", "staff"]


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
    visibility: str = Field("", description="public, partner or staff: who may read it")
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
    index: str = Field("", description="The fingerprint of the index being served (its first 12 characters)")
    worker: int = Field(0, description="The id of the server process that answered (one per `--workers`)")


class Problem(BaseModel):
    """Every 4xx/5xx body: a readable ``detail``; ``errors`` lists field problems for 422s."""

    detail: str
    errors: list[dict[str, Any]] = Field(default_factory=list)
