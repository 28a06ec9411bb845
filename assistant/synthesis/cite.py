"""Cite stage: snippets → numbered ``Citation``s and the answer text with ``[n]`` markers.

Markers are parsed back from the answer and checked against the citations: a marker naming no
passage is an error, and only cited passages are returned. A document's own markers ('[1]' in its
text) are taken out of the quoted text first, so they never pass for ours.
"""

from __future__ import annotations

import re

from assistant.models import Citation
from assistant.retrieval.retrieve import Candidate
from assistant.synthesis.compose import Snippet
from assistant.text import inert_markers
from ingest.storage.store import StoredChunk

MARKER = re.compile(r"\[(\d{1,2})\]")


class CitationError(ValueError):
    pass


def display_locator(chunk: StoredChunk) -> str:
    """``GB.349/INS/4 ¶16``, ``GB.349/INS/4 footnote 8``, ``Emerging partners guide › Step #5: …``."""
    label = str(chunk.metadata.get("label", ""))
    locator = str(chunk.metadata.get("locator", ""))
    if locator.startswith(("¶", "footnote")):
        return f"{label} {locator}"
    return f"{label} › {locator}"


def citation_for(n: int, candidate: Candidate, quote: str) -> Citation:
    chunk = candidate.chunk
    return Citation(
        n=n,
        doc_id=str(chunk.metadata.get("doc_id", "")),
        title=str(chunk.metadata.get("title", "")),
        locator=display_locator(chunk),
        symbol=str(chunk.metadata.get("symbol", "")),
        quote=quote,
        text=chunk.text,
        url=str(chunk.metadata.get("url", "")),
        score=round(candidate.score, 4),
        chunk_id=chunk.id,
    )


def cite(snippets: list[Snippet]) -> tuple[str, list[Citation]]:
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    lines: list[str] = []
    for snip in snippets:
        chunk = snip.candidate.chunk
        if chunk.id not in numbers:
            numbers[chunk.id] = len(numbers) + 1
            citations.append(citation_for(numbers[chunk.id], snip.candidate, snip.quote))
        lines.append(f"{inert_markers(snip.quote)}{' …' if snip.cut else ''} [{numbers[chunk.id]}]")
    answer = "\n\n".join(lines)
    check_markers(answer, citations)
    return answer, citations


def check_markers(answer: str, citations: list[Citation]) -> None:
    given = {c.n for c in citations}
    used = {int(n) for n in MARKER.findall(answer)}
    if used - given:
        raise CitationError(f"answer cites passages {sorted(used - given)} that were not given")
    if given - used:
        raise CitationError(f"citations {sorted(given - used)} are not cited in the answer")
