"""``GET /documents`` and ``GET /documents/{doc_id}``: metadata and the full text as addressable passages,
so a citation can link straight to its paragraph (``/?doc=<doc_id>#<chunk_id>`` on the chat page)."""

from __future__ import annotations

import json
import urllib.parse

from fastapi import APIRouter, HTTPException

from assistant.audience import catalog
from assistant.models import Citation
from assistant.synthesis.cite import display_locator
from assistant.web.deps import ApiKey, AssistantDep
from assistant.web.limits import RateLimit
from assistant.web.schemas import DocumentDetail, DocumentSummary, Passage, Problem

router = APIRouter(dependencies=[ApiKey, RateLimit], tags=["documents"], responses={
    401: {"model": Problem}, 422: {"model": Problem}, 429: {"model": Problem}, 503: {"model": Problem}})


@router.get("/documents", response_model=list[DocumentSummary])
def list_documents(assistant: AssistantDep) -> list[DocumentSummary]:
    """Every indexed document the caller may see, with its metadata, visibility and passage count."""
    return [DocumentSummary.model_validate(d) for d in catalog(assistant.chunks, assistant.settings)]


@router.get("/documents/{doc_id}", response_model=DocumentDetail, responses={404: {"model": Problem}})
def get_document(doc_id: str, assistant: AssistantDep) -> DocumentDetail:
    """One document: metadata and its passages in reading order, each with its locator and id (anchor). A
    document the caller may not see is a 404, as one that does not exist."""
    summary = next((d for d in catalog(assistant.chunks, assistant.settings) if d["doc_id"] == doc_id), None)
    if summary is None:
        raise HTTPException(404, f"no document {doc_id!r}; GET /documents lists them")
    chunks = sorted((c for c in assistant.chunks if c.metadata.get("doc_id") == doc_id),
                    key=lambda c: int(c.metadata.get("order", 0)))
    passages = [
        Passage(id=c.id, locator=display_locator(c), kind=str(c.metadata.get("kind", "")),
                heading_path=json.loads(str(c.metadata.get("heading_path", "[]"))), text=c.text)
        for c in chunks
    ]
    return DocumentDetail(**DocumentSummary.model_validate(summary).model_dump(), passages=passages)


def source_link(public_url: str, citation: Citation) -> str:
    """The chat page's source viewer at the cited passage (Slack messages link here)."""
    query = urllib.parse.urlencode({"doc": citation.doc_id})
    return f"{public_url.rstrip('/')}/?{query}#{citation.chunk_id}"
