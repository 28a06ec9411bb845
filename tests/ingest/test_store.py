"""The Chroma store with more records than one SQL statement may name (real Chroma in a temp dir)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.store import ChunkStore
from tests.conftest import make_settings

MANY = 40_001  # past SQLite's 32,766 variables in one statement


def test_every_store_call_is_batched(tmp_path: Path) -> None:
    store = ChunkStore(make_settings(tmp_path))
    ids = [f"big:{i:06d}" for i in range(MANY)]
    vectors = np.random.default_rng(0).standard_normal((MANY, 4)).astype(np.float32)
    metas = [{"doc_id": "big", "doc_fingerprint": "fp", "doc_chunks": MANY, "path": "big.md", "order": i}
             for i in range(MANY)]
    store.upsert(ids, [f"passage {i}" for i in range(MANY)], vectors, metas)  # type: ignore[arg-type]
    assert store.count() == MANY
    got = store.embeddings(ids)
    assert len(got) == MANY and np.allclose(got[ids[-1]], vectors[-1])
    states = store.doc_states()
    assert states["big"].complete and len(states["big"].ids) == MANY
    assert sorted(store.all_ids()) == ids
    assert len(store.all_chunks()) == MANY
    store.delete(ids)
    assert store.count() == 0
