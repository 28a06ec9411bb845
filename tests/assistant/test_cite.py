"""The cite stage: document text's own citation markers are never rendered as ours."""

from __future__ import annotations

from assistant.retrieval.retrieve import Candidate
from assistant.synthesis.cite import cite
from assistant.synthesis.compose import Snippet
from ingest.storage.store import StoredChunk


def test_markers_in_document_text_are_not_citations() -> None:
    text = "The membership fee is USD 50,000 (GB.349/INS/4 ¶16) [1]. Partners also pay travel [7], [2, 3]."
    chunk = StoredChunk("d:1", text, {"doc_id": "d", "label": "Fees", "locator": "Fees", "kind": "section"})
    answer, citations = cite([Snippet(Candidate(chunk, score=1.0), 0, len(text))])
    assert answer == "The membership fee is USD 50,000 (GB.349/INS/4 ¶16). Partners also pay travel. [1]"
    assert [c.n for c in citations] == [1] and citations[0].quote == text  # the quote stays the document's own
