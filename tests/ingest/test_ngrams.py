"""The n-gram TF-IDF is fitted by ingest and stored with the keyword index: a server maps it instead of
fitting it (the start-up cost that grew with the corpus), with the same scores; an audience's view fits its
own, so its statistics count only what it may see."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.audience import Audience
from assistant.pipeline import Assistant
from ingest.storage import keyword
from ingest.storage.keyword import KeywordIndex
from ingest.storage.ngrams import NgramIndex
from ingest.storage.store import StoredChunk


def _chunks() -> list[StoredChunk]:
    texts = ["Partners join the Coalition by sending a letter. The letter names a focal point.",
             "La coopération tripartite réunit gouvernements, employeurs et travailleurs.",
             "Membership entails no fees; travel costs are borne by each partner."]
    return [StoredChunk(f"c{i}", t, {"doc_id": "d", "locator": f"¶{i}", "kind": "paragraph"}) for i, t in enumerate(texts)]


def _mapped(array: np.ndarray) -> bool:
    """A view of a file mapped read-only (workers on one machine share its pages)."""
    while not isinstance(array, np.memmap) and isinstance(getattr(array, "base", None), np.ndarray):
        array = array.base
    return isinstance(array, np.memmap)


def test_the_stored_index_scores_as_a_fresh_fit_does(tmp_path: Path) -> None:
    chunks = _chunks()
    keyword.build(tmp_path / "keyword", chunks)
    stored = KeywordIndex.load(tmp_path / "keyword").ngrams
    fresh = NgramIndex.fit(chunks)
    assert stored is not None and fresh is not None
    assert all(_mapped(a) for a in (stored.passages.data, stored.sentences.indices, stored.owner))  # not read in
    for question in ("cooperation tripartita", "membership fee", "focal point letter"):
        for matrix in ("passages", "sentences"):
            got = stored.score(getattr(stored, matrix), stored.query(question))
            want = fresh.score(getattr(fresh, matrix), fresh.query(question))
            dense = (getattr(fresh, matrix) @ fresh.query(question).T).toarray().ravel()  # every row, as before
            assert np.allclose(got, want) and np.allclose(got, dense)
    assert list(stored.owner) == [0, 0, 1, 2]


def test_an_index_of_no_passages_has_no_ngrams(tmp_path: Path) -> None:
    keyword.build(tmp_path / "keyword", [])
    assert KeywordIndex.load(tmp_path / "keyword").ngrams is None


@pytest.mark.slow
def test_the_server_reads_the_stored_ngrams_and_an_audience_fits_its_own(restricted_assistant: Assistant) -> None:
    full = restricted_assistant.retriever
    stored = full.passages.index.ngrams
    assert stored is not None and full.view("ngram").grams is stored and full.view("ngram_sentence").grams is stored
    public = restricted_assistant.for_audience(Audience.PUBLIC).retriever
    own = public.view("ngram").grams
    assert own is not stored and own.passages.shape[0] == len(public.passages.chunks) < stored.passages.shape[0]
