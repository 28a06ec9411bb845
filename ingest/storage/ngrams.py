"""Store stage, keyword side: the TF-IDF of character 3–5-grams that the n-gram retrieval views score
(``assistant/retrieval/views.py``), fitted once by ``coalition ingest`` and kept in the keyword index's folder, so it
follows that index's fingerprint and is swapped with it.

Fitting it is what grew a server's start-up with the corpus: 384 s of 532 s at 100k passages (474k
sentences), and 27 s of 46 s at 10k (``evals/bench_scale.py``). Stored, nothing is fitted: a server maps a small
matrix read-only, and reads a large one's columns a question needs from the files (``rows.py``), so that
workers on one machine share the kernel's page cache and no process keeps the pages (mapped, the pages the
questions touched stayed in each process: 1.2 GB after 85 questions at 100k passages).

The matrices are held by column (n-gram), an inverted index: a question's few n-grams pick their columns.
The sentences are also held by row: over a large corpus the sentence view scores only the sentences of the
other views' candidates (``assistant/retrieval/views.py``), and reads just their rows.

Example::

    grams = NgramIndex.fit(chunks)            # or NgramIndex.load(settings.keyword_path / "ngrams")
    sims = grams.score(grams.sentences, grams.query("coopération tripartite"))   # one value a sentence
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from ingest.storage.rows import RowFile, runs
from ingest.storage.sentences import sentences as split_sentences
from ingest.storage.store import StoredChunk

VECTORIZER: dict[str, Any] = {"analyzer": "char_wb", "ngram_range": (3, 5), "strip_accents": "unicode",
                              "sublinear_tf": True, "dtype": np.float32}
_PARTS = ("data", "indices", "indptr")
_MATRICES = ("passages", "sentences", "sentence_rows")
MAP_BELOW = 64 * 2**20  # bytes of a matrix's values under which it is mapped, not read per question (~15k passages)


def _vectorizer(vocabulary: dict[str, int] | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(vocabulary=vocabulary, **VECTORIZER)


class NgramIndex:
    """The fitted vectorizer, every passage's and every sentence's n-gram vector (by column; the sentences by
    row too) and, per sentence row, the index of its passage (in passage order)."""

    def __init__(self, vectorizer: Any, passages: sparse.csc_matrix | StoredSparse, sentences: sparse.csc_matrix | StoredSparse,
                 owner: np.ndarray, sentence_rows: sparse.csr_matrix | StoredSparse) -> None:
        self.vectorizer = vectorizer
        self.passages = passages
        self.sentences = sentences
        self.sentence_rows = sentence_rows
        self.owner = owner

    @classmethod
    def fit(cls, chunks: list[StoredChunk]) -> NgramIndex | None:
        """Over ``chunks`` (passage texts with their locator and headings, as BM25 sees them); None for none."""
        from ingest.storage.keyword import keyword_text

        if not chunks:
            return None
        vectorizer = _vectorizer()
        passages = vectorizer.fit_transform([keyword_text(c) for c in chunks]).tocsc()
        flat = [(i, c.text[a:b]) for i, c in enumerate(chunks) for a, b in split_sentences(c.text)]
        rows = vectorizer.transform([piece for _, piece in flat]).tocsr()
        return cls(vectorizer, passages, rows.tocsc(), np.array([i for i, _ in flat], dtype=np.int64), rows)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        names = self.vectorizer.get_feature_names_out().tolist()
        (folder / "vocabulary.json").write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "idf.npy", self.vectorizer.idf_.astype(np.float32))
        np.save(folder / "owner.npy", self.owner)
        for name in _MATRICES:
            for part in _PARTS:
                np.save(folder / f"{name}.{part}.npy", getattr(getattr(self, name), part))
        (folder / "shapes.json").write_text(json.dumps({name: getattr(self, name).shape for name in _MATRICES}))

    @classmethod
    def load(cls, folder: Path) -> NgramIndex | None:
        """The stored index, its arrays mapped read-only; None where there is none (no passages)."""
        if not (folder / "shapes.json").exists():
            return None
        shapes = json.loads((folder / "shapes.json").read_text())
        names = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
        vectorizer = _vectorizer({name: i for i, name in enumerate(names)})
        vectorizer.idf_ = np.load(folder / "idf.npy")
        passages, sentences, rows = (_open(folder, name, tuple(shapes[name])) for name in _MATRICES)
        return cls(vectorizer, passages, sentences, np.load(folder / "owner.npy"), rows)

    def query(self, text: str) -> Any:
        """The question's n-gram row (sparse)."""
        return self.vectorizer.transform([text])

    @staticmethod
    def score(matrix: sparse.csc_matrix | StoredSparse, row: Any) -> np.ndarray:
        """Each row of ``matrix`` against the question's ``row``: only the question's n-gram columns are read.
        The sparse product over every row cost 602 ms at 474k sentences, this 21 ms, the same scores."""
        columns = matrix.take(row.indices) if isinstance(matrix, StoredSparse) else matrix[:, row.indices]
        return np.asarray(columns @ row.data, dtype=np.float32).ravel()

    def score_rows(self, rows: np.ndarray, row: Any) -> np.ndarray:
        """The sentences ``rows`` only against the question's ``row``: their rows read from the row-wise copy."""
        if not len(rows):
            return np.zeros(0, dtype=np.float32)
        return np.asarray((self.rows(rows) @ row.T).toarray(), dtype=np.float32).ravel()

    def rows(self, rows: np.ndarray) -> sparse.csr_matrix:
        """The n-gram rows of the sentences ``rows``."""
        held = self.sentence_rows
        return held.take(rows) if isinstance(held, StoredSparse) else held[rows]


def _open(folder: Path, name: str, shape: tuple[int, ...]) -> sparse.csc_matrix | sparse.csr_matrix | StoredSparse:
    """A stored matrix: mapped read-only when small (a question's columns are a few pages, and a read per column
    would be a system call releasing the GIL, ~800 an answer: under 8 concurrent requests each one a handoff);
    read per question from the files when large (``StoredSparse``), so that no process keeps its pages."""
    by = "row" if name == "sentence_rows" else "column"
    if (folder / f"{name}.data.npy").stat().st_size >= MAP_BELOW:
        return StoredSparse(folder, name, shape, by)
    kind = sparse.csr_matrix if by == "row" else sparse.csc_matrix
    return kind(tuple(np.load(folder / f"{name}.{part}.npy", mmap_mode="r") for part in _PARTS), shape=shape, copy=False)


class StoredSparse:
    """A CSR (``by="row"``) or CSC (``by="column"``) matrix whose arrays stay on disk (``rows.py``): ``take`` reads
    the rows or columns asked for, and nothing is mapped (only the small ``indptr`` is in memory)."""

    def __init__(self, folder: Path, name: str, shape: tuple[int, ...], by: str) -> None:
        self.indptr = np.load(folder / f"{name}.indptr.npy").astype(np.int64)
        self.data, self.indices = (RowFile.npy(folder / f"{name}.{part}.npy") for part in ("data", "indices"))
        self.shape, self.by = shape, by

    def take(self, keys: np.ndarray) -> sparse.csr_matrix | sparse.csc_matrix:
        """The rows (or columns) ``keys``, in that order, one read per run of consecutive keys."""
        keys = np.asarray(keys, dtype=np.int64)
        kind, shape = ((sparse.csr_matrix, (len(keys), self.shape[1])) if self.by == "row"
                       else (sparse.csc_matrix, (self.shape[0], len(keys))))
        if not len(keys):
            return kind(shape, dtype=np.float32)
        starts, ends = runs(keys)
        lo, hi = self.indptr[starts], self.indptr[ends]
        indptr = np.concatenate([[0], np.cumsum(self.indptr[keys + 1] - self.indptr[keys])])
        return kind((self.data.segments(lo, hi), self.indices.segments(lo, hi), indptr), shape=shape)
