"""The n-gram TF-IDF is fitted by ingest and stored with the keyword index: a server maps it (or, large, reads it
from the files per question) instead of fitting it (the start-up cost that grew with the corpus), with the same
scores; an audience's view fits its own, so its statistics count only what it may see."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.audience import Audience
from assistant.pipeline import Assistant
from ingest.storage import keyword
from ingest.storage.keyword import KeywordIndex
from ingest.storage.ngrams import NgramIndex, StoredSparse
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


@pytest.mark.parametrize("large", [False, True])
def test_the_stored_index_scores_as_a_fresh_fit_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, large: bool) -> None:
    """Small matrices are mapped read-only; large ones (here: every one, ``MAP_BELOW`` = 0) are neither read in
    nor mapped, a question's columns (its candidates' sentence rows) read from the files. The same scores."""
    from scipy import sparse

    from ingest.storage import ngrams

    chunks = _chunks()
    keyword.build(tmp_path / "keyword", chunks)
    if large:
        monkeypatch.setattr(ngrams, "MAP_BELOW", 0)
    stored = KeywordIndex.load(tmp_path / "keyword").ngrams
    fresh = NgramIndex.fit(chunks)
    assert stored is not None and fresh is not None
    held = (stored.passages, stored.sentences, stored.sentence_rows)
    if large:
        assert all(isinstance(m, StoredSparse) for m in held)
    else:
        assert all(isinstance(m, sparse.spmatrix) and _mapped(m.data) for m in held)
    for question in ("cooperation tripartita", "membership fee", "focal point letter"):
        for matrix in ("passages", "sentences"):
            got = stored.score(getattr(stored, matrix), stored.query(question))
            want = fresh.score(getattr(fresh, matrix), fresh.query(question))
            dense = (getattr(fresh, matrix) @ fresh.query(question).T).toarray().ravel()  # every row, as before
            assert np.allclose(got, want) and np.allclose(got, dense)
        some = np.array([3, 1])  # the sentence rows a large corpus's candidates have, read by row
        by_row = stored.score_rows(some, stored.query(question))
        assert np.allclose(by_row, stored.score(stored.sentences, stored.query(question))[some])
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


def test_rows_read_from_a_file_are_the_arrays_rows(tmp_path: Path) -> None:
    """What the large-corpus path reads per question (no mapping): rows by runs, from a ``.npy`` and from a
    stored ``.npz`` member, with the bytes the file holds."""
    from ingest.storage.rows import RowFile

    matrix = np.arange(40, dtype=np.float32).reshape(10, 4)
    np.save(tmp_path / "m.npy", matrix)
    np.savez(tmp_path / "m.npz", other=np.arange(3), vectors=matrix)
    for rows in (RowFile.npy(tmp_path / "m.npy"), RowFile.npz(tmp_path / "m.npz", "vectors")):
        assert rows is not None and len(rows) == 10
        at = np.array([0, 1, 2, 5, 8, 9])
        assert np.array_equal(rows.read(at), matrix[at]) and rows.read(np.array([], dtype=np.int64)).shape == (0, 4)
        assert np.array_equal(rows.segments(np.array([7, 1]), np.array([9, 2])), matrix[[7, 8, 1]])
        assert np.array_equal(rows.mapped(), matrix)
    np.savez_compressed(tmp_path / "c.npz", vectors=matrix)
    assert RowFile.npz(tmp_path / "c.npz", "vectors") is None  # a compressed member cannot be read by offset
