"""Store stage, sentence side: a vector per sentence of every passage that has more than one.

A long passage's vector blurs what each of its sentences says; the reranker scores a passage by its
best sentence as well (a one-sentence passage's own vector already is its sentence's). A section
passage's first line, its heading, is left out: every part of the section repeats it, so it tells
them apart from nothing and would lift them all alike. The vectors are
written beside the BM25 index with the index fingerprint of the chunks they cover, and rebuilt whenever
that differs from Chroma's; chunk ids change with their text, so a rebuild embeds only new passages'
sentences. The swap into place is a rename, so a killed ingest leaves the old file or none.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from ingest.errors import IndexNotReady
from ingest.storage.rows import RowFile
from ingest.storage.store import StoredChunk, index_fingerprint

VERSION = "3"  # 2: headings left out; 3: list items also embedded with heading and lead-in
_SENT = re.compile(r"(?<=[.!?;])\s+(?=[A-Z(“\"'])|\n+")


def sentences(text: str) -> list[tuple[int, int]]:
    """Spans of sentences and list items in a passage."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SENT.finditer(text):
        if text[pos : m.start()].strip():
            spans.append((pos, m.start()))
        pos = m.end()
    if text[pos:].strip():
        spans.append((pos, len(text)))
    return spans


class SentenceVectors:
    """Sentence spans and unit vectors per chunk id.

    Example::

        vectors = SentenceVectors.load(settings.sentence_path)
        cosines = vectors.scores(chunk_id, question_vector)   # {(start, end): cosine}, empty if one sentence
    """

    def __init__(self, owners: list[str], spans: np.ndarray, vectors: np.ndarray, fp: str, recipe: str,
                 file: RowFile | None = None) -> None:
        """``file``: where ``read`` reads rows from (None: from ``vectors``)."""
        self.fingerprint = fp
        self.recipe = recipe
        self.spans = spans
        self.vectors = vectors
        self.file = file
        self.owners = owners
        self.rows: dict[str, slice] = {}
        start = 0
        for i in range(1, len(owners) + 1):
            if i == len(owners) or owners[i] != owners[start]:
                self.rows[owners[start]] = slice(start, i)
                start = i

    @classmethod
    def load(cls, path: Path) -> SentenceVectors:
        """The vectors mapped read-only, not read in (474k sentences at 100k passages: ~700 MB): a full scan
        reads them where it needs them all, and ``read`` takes a few rows from the file without mapping them."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                file = RowFile.npz(path, "vectors")
                vectors = data["vectors"] if file is None else file.mapped()
                return cls(meta["owners"], data["spans"], vectors, meta["fingerprint"], meta["recipe"], file)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexNotReady(f"no sentence vectors at {path}; run `coalition ingest`") from exc

    def read(self, at: np.ndarray) -> np.ndarray:
        """The vectors of the sentence rows ``at`` (ascending)."""
        return self.vectors[at] if self.file is None else self.file.read(at)

    def scores(self, chunk_id: str, query: np.ndarray) -> dict[tuple[int, int], float]:
        """Cosine of each of the chunk's sentences (by span) with the query; empty for one-sentence chunks."""
        rows = self.rows.get(chunk_id)
        return {} if rows is None else self._by_span(rows, self.vectors[rows] @ query)

    def scores_among(self, chunk_id: str, sims: np.ndarray) -> dict[tuple[int, int], float]:
        """``scores`` read from ``sims``, every stored sentence's cosine with the query (one product for all)."""
        rows = self.rows.get(chunk_id)
        return {} if rows is None else self._by_span(rows, sims[rows])

    def _by_span(self, rows: slice, sims: np.ndarray) -> dict[tuple[int, int], float]:
        out: dict[tuple[int, int], float] = {}
        for (a, b), sim in zip(self.spans[rows], sims, strict=True):  # a list item has two vectors: alone, in context
            key = (int(a), int(b))
            out[key] = max(out.get(key, -1.0), float(sim))
        return out


def write(path: Path, meta: Mapping[str, object], **arrays: np.ndarray) -> None:
    """A vectors file (``meta`` as JSON beside the arrays) swapped into place by a rename: a killed ingest
    leaves the old file or none. The multilingual passage and word vectors use it too."""
    tmp = path.with_name(path.name + ".tmp.npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(tmp, meta=np.array(json.dumps(meta)), **arrays)  # type: ignore[arg-type]
    os.replace(tmp, path)


def fingerprint(path: Path) -> tuple[str, str] | None:
    """(chunk ids fingerprint, recipe) of the vectors in ``path``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return str(meta["fingerprint"]), str(meta["recipe"])
    except (OSError, ValueError, KeyError):
        return None


def recipe(model: str) -> str:
    """What the vectors depend on besides the chunks: the model and how sentences are chosen."""
    return f"{model} sentences-v{VERSION}"


def body_sentences(chunk: StoredChunk) -> list[tuple[int, int]]:
    """The spans that get a vector: a multi-line or multi-sentence passage's sentences, less its heading line."""
    found = sentences(chunk.text)
    if len(found) < 2:
        return []
    a, b = found[0]
    if (heading := _heading(chunk)) and chunk.text[a:b].strip() == heading:
        found = found[1:]
    return found


def _heading(chunk: StoredChunk) -> str:
    """The passage's own (innermost) heading, or ''."""
    headings = json.loads(str(chunk.metadata.get("heading_path", "[]")))
    return str(headings[-1]).strip() if headings else ""


_LABEL = re.compile(r"^\s*(?:[-•●▪]\s*|\(?[a-z]\)\s*|\(?[ivx]+\)\s*|\d+\.\s+)")
_CONTINUED = re.compile(r"^(.*?:)\s*…")  # 'The Group will be composed of: … (h) …' (a list's later part)


def embedding_texts(chunk: StoredChunk, spans: list[tuple[int, int]]) -> list[str]:
    """What each sentence is embedded as, in context: in a list passage an item comes after the section's
    heading and the list's lead-in ('Partnership in the Coalition. Partners will include: enterprises and
    company foundations, …'), since an item alone ('(e) enterprises and company foundations…') says nothing
    of what it is an item of. Other sentences are embedded as they are."""
    if not spans:
        return []
    first = chunk.text[spans[0][0] : spans[0][1]].strip()
    continued = _CONTINUED.match(first)
    lead = first if first.endswith(":") else (continued.group(1) if continued else "")
    if not lead:
        return [chunk.text[a:b] for a, b in spans]
    heading = f"{_heading(chunk)}." if _heading(chunk) else ""
    items = [first[continued.end() :] if continued else ""] + [chunk.text[a:b] for a, b in spans[1:]]
    return [f"{heading} {lead} {_LABEL.sub('', item.strip())}".strip() for item in items]


def build(path: Path, chunks: list[StoredChunk], embed: Callable[[list[str]], np.ndarray], model: str) -> int:
    """Write the sentence vectors of ``chunks`` by ``model``, reusing those already in ``path`` with the
    same recipe; returns how many sentences were embedded."""
    try:
        previous: SentenceVectors | None = SentenceVectors.load(path)
    except IndexNotReady:
        previous = None
    if previous is not None and previous.recipe != recipe(model):
        previous = None
    owners: list[str] = []
    spans: list[tuple[int, int]] = []
    vectors: dict[int, np.ndarray] = {}
    pending: list[tuple[int, str]] = []
    for chunk in chunks:
        found = body_sentences(chunk)
        plain = [chunk.text[a:b] for a, b in found]
        texts = list(zip(found, plain, strict=True)) + [  # then, for list items, the same in context
            (span, text) for span, text, alone in zip(found, embedding_texts(chunk, found), plain, strict=True) if text != alone]
        old = previous.rows.get(chunk.id) if previous else None
        for j, ((a, b), text) in enumerate(texts):
            row = len(owners)
            owners.append(chunk.id)
            spans.append((a, b))
            if previous is not None and old is not None and old.stop - old.start == len(texts):  # same text
                vectors[row] = previous.vectors[old.start + j]
            else:
                pending.append((row, text))
    pending.sort(key=lambda rt: len(rt[1]))  # batches of like lengths pad little
    if pending:
        fresh = embed([text for _, text in pending])
        vectors.update({row: fresh[i] for i, (row, _) in enumerate(pending)})
    dim = next(iter(vectors.values())).shape[0] if vectors else 0
    matrix = np.vstack([vectors[i] for i in range(len(owners))]) if owners else np.zeros((0, dim), np.float32)
    meta = {"fingerprint": index_fingerprint(chunks), "recipe": recipe(model), "owners": owners}
    write(path, meta, spans=np.array(spans, dtype=np.int32).reshape(-1, 2), vectors=matrix.astype(np.float32))
    return len(pending)
