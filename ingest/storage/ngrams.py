"""Store stage, keyword side: the TF-IDF of character 3–5-grams that the n-gram retrieval views score
(``assistant/retrieval/views.py``), fitted once by ``coalition ingest`` and kept in the keyword index's folder, so it
follows that index's fingerprint and is swapped with it.

Fitting it is what grew a server's start-up with the corpus: 384 s of 532 s at 100k passages (474k
sentences), and 27 s of 46 s at 10k (``evals/bench_scale.py``). Stored, a server maps the arrays read-only
(``mmap_mode="r"``): nothing is fitted, and workers on one machine share the pages.

The matrices are held by column (n-gram), an inverted index: a question's few n-grams pick their columns.

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

from ingest.storage.sentences import sentences as split_sentences
from ingest.storage.store import StoredChunk

VECTORIZER: dict[str, Any] = {"analyzer": "char_wb", "ngram_range": (3, 5), "strip_accents": "unicode",
                              "sublinear_tf": True, "dtype": np.float32}
_PARTS = ("data", "indices", "indptr")


def _vectorizer(vocabulary: dict[str, int] | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(vocabulary=vocabulary, **VECTORIZER)


class NgramIndex:
    """The fitted vectorizer, every passage's and every sentence's n-gram vector (by column) and, per
    sentence row, the index of its passage."""

    def __init__(self, vectorizer: Any, passages: sparse.csc_matrix, sentences: sparse.csc_matrix,
                 owner: np.ndarray) -> None:
        self.vectorizer = vectorizer
        self.passages = passages
        self.sentences = sentences
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
        sentences = vectorizer.transform([piece for _, piece in flat]).tocsc()
        return cls(vectorizer, passages, sentences, np.array([i for i, _ in flat], dtype=np.int64))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        names = self.vectorizer.get_feature_names_out().tolist()
        (folder / "vocabulary.json").write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "idf.npy", self.vectorizer.idf_.astype(np.float32))
        np.save(folder / "owner.npy", self.owner)
        for name, matrix in (("passages", self.passages), ("sentences", self.sentences)):
            for part in _PARTS:
                np.save(folder / f"{name}.{part}.npy", getattr(matrix, part))
        (folder / "shapes.json").write_text(json.dumps({"passages": self.passages.shape, "sentences": self.sentences.shape}))

    @classmethod
    def load(cls, folder: Path) -> NgramIndex | None:
        """The stored index, its arrays mapped read-only; None where there is none (no passages)."""
        if not (folder / "shapes.json").exists():
            return None
        shapes = json.loads((folder / "shapes.json").read_text())
        names = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
        vectorizer = _vectorizer({name: i for i, name in enumerate(names)})
        vectorizer.idf_ = np.load(folder / "idf.npy")
        passages, sentences = (
            sparse.csc_matrix(tuple(np.load(folder / f"{name}.{part}.npy", mmap_mode="r") for part in _PARTS),
                              shape=tuple(shapes[name]), copy=False) for name in ("passages", "sentences"))
        return cls(vectorizer, passages, sentences, np.load(folder / "owner.npy", mmap_mode="r"))

    def query(self, text: str) -> Any:
        """The question's n-gram row (sparse)."""
        return self.vectorizer.transform([text])

    @staticmethod
    def score(matrix: sparse.csc_matrix, row: Any) -> np.ndarray:
        """Each row of ``matrix`` against the question's ``row``: only the question's n-gram columns are read.
        The sparse product over every row cost 602 ms at 474k sentences, this 21 ms, the same scores."""
        return np.asarray(matrix[:, row.indices] @ row.data, dtype=np.float32).ravel()
