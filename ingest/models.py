"""Typed data at the ingestion seams: a source ``Document`` and the ``Chunk``s cut from it."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, Field

DocType = Literal["declaration", "governing_body_paper", "partner_commitment", "good_practice_guide", "web_page"]
DOC_TYPES: tuple[str, ...] = DocType.__args__  # type: ignore[attr-defined]


class TableSpec(BaseModel):
    """How one table of a document reads: its title, the key column and what each column means."""

    title: str
    columns: list[str] = Field(default_factory=list, description="Meaning of each column after the key column")
    records: Literal["", "country", "regional_group"] = Field(
        "", description="Each row is a practice record of this kind (see ingest/transforms/practices.py)"
    )


class PracticeSpec(BaseModel):
    """A part of a document holding practices: heading levels below ``section`` until ``until``."""

    section: str
    until: str = ""
    levels: list[str] = Field(default_factory=lambda: ["country", "title"])


class DocumentMeta(BaseModel):
    """What the manifest says (or ingestion infers) about a source document."""

    id: str
    title: str
    doc_type: DocType = "web_page"
    symbol: str = ""
    short_title: str = ""
    publisher: str = ""
    date: str = ""
    url: str = ""
    language: str = "en"
    # who may read it: public < partner < staff; "" (no entry, or none given) takes
    # COALITION_DEFAULT_VISIBILITY when answering (assistant/audience.py), so changing it needs no re-ingest
    visibility: Literal["", "public", "partner", "staff"] = ""
    layout: Literal["numbered_paragraphs", "sections"] = "sections"
    tables: list[TableSpec] = Field(default_factory=list)
    practices: list[PracticeSpec] = Field(default_factory=list)
    inferred: bool = False

    @property
    def label(self) -> str:
        """How a citation names the document: its symbol, else its short title, else its title."""
        return self.symbol or self.short_title or self.title


class Document(BaseModel):
    """A loaded source: metadata, the extracted source text and its normalised reading."""

    meta: DocumentMeta
    path: str
    source_text: str
    content_hash: str


class Chunk(BaseModel):
    """A passage a person can check: ``locator`` names where it is (``¶16``, ``Step #5: …``)."""

    id: str
    doc_id: str
    locator: str
    text: str
    kind: Literal["paragraph", "section", "footnote", "table_row", "front_matter"] = "section"
    order: int = 0
    part: int = 1
    parts: int = 1
    source_start: int = 0
    source_end: int = 0
    footnotes: list[str] = Field(default_factory=list)
    heading_path: list[str] = Field(default_factory=list)
    extra: dict[str, str] = Field(default_factory=dict)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chunk_id(doc_id: str, locator: str, text: str) -> str:
    """Stable id: the same document, locator and text always give the same id (idempotent re-ingest)."""
    digest = hashlib.sha256(f"{doc_id}\x1f{locator}\x1f{text}".encode()).hexdigest()[:16]
    return f"{doc_id}:{digest}"
