"""Typed data at the answering seams. ``Answer.model_dump()`` is the JSON contract that the CLI
(``coalition ask --json``), the web endpoint and the Slack bot all share."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class Citation(BaseModel):
    """One cited passage: ``locator`` names it (``GB.349/INS/4 ¶16``), ``quote`` is the exact span used."""

    n: int
    doc_id: str
    title: str
    locator: str
    symbol: str = ""
    quote: str
    text: str
    url: str = ""
    score: float = 0.0
    chunk_id: str = ""  # the passage id: /documents/{doc_id} lists passages by it


class Answer(BaseModel):
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    mode: str = "extractive"
    language: str = Field("en", description="The question's language: en, fr or es (the quotes stay English)")
    answerable: float | None = Field(None, description="The answerability model's probability for the best passages")
