"""Store stage: unit vectors by key (a chunk id, a word) in one file, reused by key from one ingest to the
next. The multilingual passage vectors (``ingest/transforms/multilingual.py``) and the word vectors (``ingest/storage/terms.py``)
share this shape; sentence vectors are keyed by span and keep their own (``ingest/storage/sentences.py``). The file
carries the fingerprint of the chunks it was made for and the recipe (model and what is embedded), and
is swapped into place by a rename (``sentences.write``), so a killed ingest leaves the old file or none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Self

import numpy as np

from ingest.errors import IndexNotReady
from ingest.storage.sentences import write
from ingest.storage.store import StoredChunk, index_fingerprint


class KeyedVectors:
    key_field: ClassVar[str] = "keys"  # the name the keys are stored under
    what: ClassVar[str] = "vectors"  # for the error when there are none

    def __init__(self, keys: list[str], vectors: np.ndarray, fp: str, recipe: str) -> None:
        self.keys = keys
        self.vectors = vectors
        self.fingerprint = fp
        self.recipe = recipe
        self.row = {k: i for i, k in enumerate(keys)}

    @classmethod
    def load(cls, path: Path) -> Self:
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                return cls(meta[cls.key_field], data["vectors"], meta["fingerprint"], meta["recipe"])
        except (OSError, ValueError, KeyError) as exc:
            raise IndexNotReady(f"no {cls.what} at {path}; run `coalition ingest`") from exc

    @classmethod
    def build(cls, path: Path, chunks: list[StoredChunk], keys: list[str], texts: Callable[[list[str]], list[str]],
              embed: Callable[[list[str]], np.ndarray], recipe: str) -> int:
        """Write the vectors of ``keys`` (embedded as ``texts(keys)``), reusing those in ``path`` made by the
        same ``recipe``; returns how many were embedded."""
        try:
            previous: KeyedVectors | None = cls.load(path)
        except IndexNotReady:
            previous = None
        if previous is not None and previous.recipe != recipe:
            previous = None
        pending = [k for k in keys if previous is None or k not in previous.row]
        fresh = embed(texts(pending)) if pending else np.zeros((0, 384), np.float32)
        new_rows = {k: i for i, k in enumerate(pending)}
        rows = [fresh[new_rows[k]] if k in new_rows else previous.vectors[previous.row[k]] for k in keys]  # type: ignore[union-attr]
        matrix = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, 384), np.float32)
        write(path, {"fingerprint": index_fingerprint(chunks), "recipe": recipe, cls.key_field: keys}, vectors=matrix)
        return len(pending)
