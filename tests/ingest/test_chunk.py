"""Chunking the real corpus: locators a person can check, and chunks that fit the model."""

from __future__ import annotations

import re

import pytest

from core.settings import Settings
from ingest.models import Chunk
from ingest.parsing.chunk import Chunker
from ingest.reading.manifest import read_manifest
from ingest.reading.normalize import normalise
from ingest.transforms.embed import SentenceTransformerEmbedder
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def chunks_by_doc(embedder: SentenceTransformerEmbedder) -> dict[str, list[Chunk]]:
    manifest = read_manifest(CORPUS / "manifest.toml")
    chunker = Chunker(embedder.count_tokens, 240, 160)
    return {meta.id: chunker.chunk(meta, (CORPUS / f).read_text(encoding="utf-8")) for f, meta in manifest.items()}


def by_locator(chunks: list[Chunk], locator: str) -> list[Chunk]:
    return [c for c in chunks if c.locator == locator]


def test_paragraph_16_is_one_chunk_with_all_three_commitments(chunks_by_doc: dict[str, list[Chunk]]) -> None:
    (p16,) = by_locator(chunks_by_doc["gb349-ins4"], "¶16")
    assert p16.kind == "paragraph"
    assert p16.text.startswith("Any partner willing to join the Coalition will be expected to:")
    for item in ("(a) advocate for social justice", "(b) contribute to advancing", "(c) commit to developing"):
        assert item in p16.text
    # the footnote that sits between (b) and (c) in the source is not part of the paragraph
    assert "High-Level Political Forum" not in p16.text


def test_paragraph_20_no_membership_fees_has_its_own_locator(chunks_by_doc: dict[str, list[Chunk]]) -> None:
    (p20,) = by_locator(chunks_by_doc["gb349-ins4"], "¶20")
    assert "will not entail any membership fees" in p20.text
    assert not any("membership fees" in c.text for c in by_locator(chunks_by_doc["gb349-ins4"], "¶19"))


def test_every_gb_paragraph_and_footnote_is_addressable(chunks_by_doc: dict[str, list[Chunk]]) -> None:
    locators = {c.locator for c in chunks_by_doc["gb349-ins4"]}
    assert {f"¶{n}" for n in range(1, 53)} <= locators
    assert {f"footnote {n}" for n in range(1, 12)} <= locators
    (p4,) = [c for c in by_locator(chunks_by_doc["gb349-ins4"], "¶4")]
    assert "people-centred policies" in p4.text  # the part after the page break's footnotes
    (p13,) = by_locator(chunks_by_doc["gb349-ins4"], "¶13")
    assert p13.footnotes == ["8"]


def test_success_story_and_table_row_are_their_own_chunks(chunks_by_doc: dict[str, list[Chunk]]) -> None:
    guide = chunks_by_doc["emerging-partners-guide"]
    cotton = [c for c in guide if c.locator.startswith("Success Stories › Brazil › Promoting decent work in cotton")]
    assert 1 <= len(cotton) <= 2 and "five cotton-producing countries" in cotton[0].text
    assert cotton[0].text.startswith("Promoting decent work in cotton producing countries")  # its title leads
    assert not any("Brazil-India" in c.text or "child labour, slave labour" in c.text for c in cotton)
    kuwait = by_locator(guide, "Table 2: Countries › Kuwait › thematic area 2: Providing protection and building resilience")
    assert len(kuwait) == 1
    assert kuwait[0].text.startswith("Kuwait — thematic area 2")
    assert "related to discrimination and stigma" in kuwait[0].text  # the row's continuation after a page break
    assert kuwait[0].kind == "table_row"
    china = [c for c in guide if c.locator.startswith("Success Stories › China › Achieving SDGs")]
    assert len(china) == 1 and "746,014" in china[0].text
    steps = [c for c in guide if re.match(r"Step #\d+:", c.locator)]
    assert {c.locator.split(":")[0] for c in steps} == {f"Step #{n}" for n in range(1, 12)}


def test_a_quote_stays_with_the_sentence_that_introduces_it(chunks_by_doc: dict[str, list[Chunk]]) -> None:
    (said,) = [c for c in chunks_by_doc["industriall-joins"] if "expressed enthusiasm" in c.text]
    assert "stating, \"Joining the Global Coalition for Social Justice is a natural extension" in said.text


def test_chunks_fit_the_model_and_long_ones_keep_their_locator(
    chunks_by_doc: dict[str, list[Chunk]], embedder: SentenceTransformerEmbedder
) -> None:
    every = [c for chunks in chunks_by_doc.values() for c in chunks]
    assert max(embedder.count_tokens(c.text) for c in every) <= 240
    p25 = by_locator(chunks_by_doc["gb349-ins4"], "¶25")
    assert len(p25) == 2 and [c.part for c in p25] == [1, 2]
    assert p25[1].text.startswith("The Coordinating Group will be composed of the following members: …")


def test_chunk_text_is_clean_and_maps_back_to_the_source(chunks_by_doc: dict[str, list[Chunk]]) -> None:
    manifest = read_manifest(CORPUS / "manifest.toml")
    files = {meta.id: f for f, meta in manifest.items()}
    for doc_id, chunks in chunks_by_doc.items():
        source = (CORPUS / files[doc_id]).read_text(encoding="utf-8")
        for c in chunks:
            assert "<sup>" not in c.text and "\\$" not in c.text and "**" not in c.text and "<p>" not in c.text
            span = normalise(source[c.source_start : c.source_end])
            body = c.text.split(" … ")[-1]
            if c.kind == "section" and c.heading_path and body.startswith(c.heading_path[-1] + "\n"):
                body = body[len(c.heading_path[-1]) + 1 :]  # the heading line, repeated from above
            if c.kind == "table_row":  # the key and column meaning are repeated in front of the cell
                body = body[len(f"{c.extra['row_key']} — {c.extra['column']}: ") :]
            # a table cell continued after a page break is two pieces of the source, so check fewer words
            first_words = " ".join(normalise(body).split()[: 2 if c.kind == "table_row" else 6])
            assert first_words in span, (doc_id, c.locator)


def test_chunk_ids_are_stable(chunks_by_doc: dict[str, list[Chunk]], embedder: SentenceTransformerEmbedder) -> None:
    manifest = read_manifest(CORPUS / "manifest.toml")
    chunker = Chunker(embedder.count_tokens, 240, 160)
    for f, meta in manifest.items():
        again = chunker.chunk(meta, (CORPUS / f).read_text(encoding="utf-8"))
        assert [c.id for c in again] == [c.id for c in chunks_by_doc[meta.id]]
    every = [c.id for chunks in chunks_by_doc.values() for c in chunks]
    assert len(every) == len(set(every))


def test_settings_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="COALITION_CHROMA_URL"):
        Settings(chroma_url="localhost:8000")
    with pytest.raises(ValueError, match="target_tokens"):
        Chunker(len, max_tokens=10, target_tokens=20)
