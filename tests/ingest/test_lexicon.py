"""Every passage's analysed words are stored by ingest with the keyword index, so a server reads them
instead of analysing the corpus at start-up (115 of 186 s at 100k passages), and the same as a fresh
analysis; a lexicon analysed by other code is stale; an audience's view counts only what it may see.
The vector store carries the fingerprint ingest last sealed it with, so a server need not read every
chunk's metadata, and any write unseals it first."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.pipeline import Assistant
from assistant.postprocessing.rerank import TermWeights
from core.settings import Settings
from ingest import analysis
from ingest.errors import IndexNotReady
from ingest.pipeline import Ingestor
from ingest.storage import keyword
from ingest.storage.keyword import KeywordIndex
from ingest.storage.lexicon import Lexicon, passage_words
from ingest.storage.store import SEAL, ChunkStore, StoredChunk
from ingest.transforms.embed import SentenceTransformerEmbedder
from tests.ingest.test_ngrams import _mapped


def _chunks() -> list[StoredChunk]:
    texts = ["Partners join the Coalition by sending a letter in June 2024. Brazil and Kenya joined first.",
             "The Forum meets once a year; its first meeting was held in 2023 in Geneva.",
             "Membership entails no fees; travel costs are borne by each partner from Viet Nam or India."]
    return [StoredChunk(f"c{i}", t, {"doc_id": "d", "locator": f"¶{i}", "kind": "paragraph", "title": "Guide"})
            for i, t in enumerate(texts)]


def test_the_stored_lexicon_reads_as_a_fresh_analysis(tmp_path: Path) -> None:
    chunks = _chunks()
    keyword.build(tmp_path / "keyword", chunks)
    stored = KeywordIndex.load(tmp_path / "keyword").lexicon
    assert all(_mapped(m.indices) for m in stored.rows.values())  # not read in: workers share the pages
    for chunk in chunks:
        assert stored.row("terms", chunk.id) == analysis.text_terms(passage_words(chunk))
    assert stored.row("terms", "not-indexed") is None
    assert stored.union("countries") == {"Brazil", "Kenya", "Viet Nam", "India"}
    assert stored.union("words") == {w for c in chunks for w in analysis.words(f"Guide {c.text}")}
    assert stored.last_year == 2024
    weights, fresh = TermWeights(stored), TermWeights.of(chunks)
    assert weights.idf == fresh.idf and weights.idf[analysis.stem("partner")] < weights.idf[analysis.stem("forum")]


def test_a_lexicon_analysed_by_other_code_is_stale(tmp_path: Path) -> None:
    keyword.build(tmp_path / "keyword", _chunks())
    assert keyword.fingerprint(tmp_path / "keyword") is not None
    meta = tmp_path / "keyword" / "lexicon" / "lexicon.json"
    meta.write_text(json.dumps(json.loads(meta.read_text()) | {"analysis": "another-stemmer"}))
    assert keyword.fingerprint(tmp_path / "keyword") is None  # so the next ingest rebuilds it (no embedding)
    with pytest.raises(IndexNotReady, match="coalition ingest"):
        KeywordIndex.load(tmp_path / "keyword")


def test_a_restricted_lexicon_counts_only_the_passages_it_keeps() -> None:
    lexicon = Lexicon.fit(_chunks())
    public = lexicon.restricted(np.array([True, True, False]))
    assert public.ids == ["c0", "c1"] and public.row("terms", "c2") is None
    assert public.union("countries") == {"Brazil", "Kenya"}
    assert "fees" not in public.union("words") and "fees" in lexicon.union("words")
    assert public.frequencies("terms").get(analysis.stem("partner")) == 1 < lexicon.frequencies("terms")[analysis.stem("partner")]


@pytest.mark.slow
def test_ingest_seals_the_store_and_any_write_unseals_it(tmp_path: Path, built_settings: Settings,
                                                         embedder: SentenceTransformerEmbedder) -> None:
    settings = built_settings.model_copy(update={"index_dir": tmp_path / "index"})
    shutil.copytree(built_settings.index_dir, settings.index_dir)
    store = ChunkStore(settings, create=False)
    assert store.collection.metadata[SEAL] == store.fingerprint(read=True) == keyword.fingerprint(settings.keyword_path)
    store.delete(store.all_ids()[:1])  # as a run killed half-way through its writes leaves it
    reopened = ChunkStore(settings, create=False)
    assert not reopened.collection.metadata.get(SEAL)
    assert reopened.fingerprint() == reopened.fingerprint(read=True) != keyword.fingerprint(settings.keyword_path)
    with pytest.raises(IndexNotReady, match="coalition ingest"):
        Assistant.from_settings(settings, embedder)
    assert Ingestor(settings, embedder).run().embedded == 1  # repaired, and sealed again
    assert ChunkStore(settings, create=False).collection.metadata[SEAL] == keyword.fingerprint(settings.keyword_path)
