"""Store stage, keyword side: what the answering stages read of every passage's words, analysed once by
``coalition ingest`` and kept in the keyword index's folder (so it follows that index's fingerprint and
is swapped with it).

Per passage: its stemmed terms with the answer-type pseudo-terms it satisfies (the reranker's coverage
and term weights, the composer, the answerability model), its words (the answerability model's
vocabulary), its spelling words (the speller's vocabulary), the countries it names, and the latest year
it names. Analysing these at every server start-up grew with the corpus: 115 s of 186 s at 100k
passages (``evals/bench_scale.py``). Stored, a server maps the arrays read-only, and an audience's view
takes the rows it may see, so what it counts is what it may see.

Each field is a sparse 0/1 matrix, passages × that field's vocabulary. ``FINGERPRINT`` of the analysis
(``ingest/analysis.py``) is kept with it: a lexicon analysed by other code is stale, and ingest rebuilds it.

Example::

    lexicon = Lexicon.fit(chunks)                  # or Lexicon.load(settings.keyword_path / "lexicon", ids)
    lexicon.row("terms", chunk.id)                  # {'partner', 'fee', '<number>', …}
    lexicon.frequencies("terms")                    # {'partner': 41, …}: in how many passages
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from scipy import sparse

from ingest import analysis
from ingest.storage.store import StoredChunk
from ingest.transforms import geo

_YEAR = re.compile(r"\b(19|20)\d{2}\b")


def passage_context(chunk: StoredChunk) -> str:
    """The document label, locator and headings of a passage ('GB.349/INS/4 ¶28 Secretariat')."""
    headings = " ".join(json.loads(str(chunk.metadata.get("heading_path", "[]")))[-1:])
    return f"{chunk.metadata.get('label', '')} {chunk.metadata.get('locator', '')} {headings}"


def passage_words(chunk: StoredChunk) -> str:
    """What the passage's terms are read from: its label, locator and heading, then its text."""
    return f"{passage_context(chunk)} {chunk.text}"


def titled(chunk: StoredChunk) -> str:
    return f"{chunk.metadata.get('title', '')} {chunk.text}"


FIELDS: dict[str, Callable[[StoredChunk], Iterable[str]]] = {
    "terms": lambda c: analysis.text_terms(passage_words(c)),
    "words": lambda c: analysis.words(titled(c)),
    "spelling": lambda c: analysis.spelling_words(c.text),
    "countries": lambda c: geo.mentioned(c.text),
}


def last_year(text: str) -> int:
    """The latest year ``text`` names (0: none)."""
    return max((int(y.group(0)) for y in _YEAR.finditer(text)), default=0)


class Lexicon:
    """Each field's vocabulary and passages × vocabulary matrix, the passages' latest years, and their ids."""

    def __init__(self, ids: list[str], vocabularies: dict[str, list[str]], rows: dict[str, sparse.csr_matrix],
                 years: np.ndarray) -> None:
        self.ids = ids
        self.position = {cid: i for i, cid in enumerate(ids)}
        self.vocabularies = vocabularies
        self.rows = rows
        self.years = years

    @classmethod
    def fit(cls, chunks: list[StoredChunk]) -> Lexicon:
        vocabularies: dict[str, list[str]] = {}
        rows: dict[str, sparse.csr_matrix] = {}
        for field, read in FIELDS.items():
            index: dict[str, int] = {}
            indptr, indices = [0], []
            for chunk in chunks:
                found = sorted({index.setdefault(w, len(index)) for w in read(chunk)})
                indices += found
                indptr.append(len(indices))
            vocabularies[field] = list(index)
            rows[field] = _matrix(np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int32), len(index))
        years = np.asarray([last_year(titled(c)) for c in chunks], dtype=np.int16)
        return cls([c.id for c in chunks], vocabularies, rows, years)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"analysis": analysis.FINGERPRINT, "count": len(self.ids), "vocabularies": self.vocabularies}
        (folder / "lexicon.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "years.npy", self.years)
        for field, matrix in self.rows.items():
            np.save(folder / f"{field}.indptr.npy", matrix.indptr)
            np.save(folder / f"{field}.indices.npy", matrix.indices)

    @classmethod
    def load(cls, folder: Path, ids: list[str]) -> Lexicon | None:
        """The stored lexicon of the passages ``ids`` (in index order), its arrays mapped read-only; None
        where there is none, or where it was analysed by other code or for other passages."""
        try:
            meta = json.loads((folder / "lexicon.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.get("analysis") != analysis.FINGERPRINT or meta.get("count") != len(ids):
            return None
        vocabularies = meta["vocabularies"]
        rows = {field: _matrix(np.load(folder / f"{field}.indptr.npy", mmap_mode="r"),
                               np.load(folder / f"{field}.indices.npy", mmap_mode="r"), len(vocabularies[field]))
                for field in FIELDS}
        return cls(ids, vocabularies, rows, np.load(folder / "years.npy", mmap_mode="r"))

    @staticmethod
    def fresh(folder: Path) -> bool:
        """Whether the lexicon in ``folder`` was analysed by this code (ingest rebuilds it when not)."""
        try:
            return bool(json.loads((folder / "lexicon.json").read_text(encoding="utf-8")).get("analysis") == analysis.FINGERPRINT)
        except (OSError, ValueError):
            return False

    def restricted(self, mask: np.ndarray) -> Lexicon:
        """The rows of the passages of ``mask`` (an audience's view): the vocabularies stay, the counts follow."""
        keep = np.flatnonzero(mask)
        return Lexicon([self.ids[i] for i in keep], self.vocabularies,
                       {f: m[keep] for f, m in self.rows.items()}, np.asarray(self.years)[keep])

    def row(self, field: str, chunk_id: str) -> set[str] | None:
        """The field's words of one passage; None for a passage this lexicon does not hold."""
        i = self.position.get(chunk_id)
        if i is None:
            return None
        matrix, vocabulary = self.rows[field], self.vocabularies[field]
        return {vocabulary[j] for j in matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]]}

    def frequencies(self, field: str) -> dict[str, int]:
        """Each word of the field and in how many passages it occurs (only those that occur)."""
        counts = np.bincount(np.asarray(self.rows[field].indices), minlength=len(self.vocabularies[field]))
        vocabulary = self.vocabularies[field]
        return {vocabulary[j]: int(counts[j]) for j in np.flatnonzero(counts)}

    def union(self, field: str) -> set[str]:
        return set(self.frequencies(field))

    @property
    def last_year(self) -> int:
        return int(np.max(self.years)) if len(self.years) else 0


def _matrix(indptr: np.ndarray, indices: np.ndarray, width: int) -> sparse.csr_matrix:
    data = np.ones(len(indices), dtype=np.int8)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, width), copy=False)
