"""The Chroma store with more records than one SQL statement may name (real Chroma in a temp dir),
written through LlamaIndex's vector-store interface and read back by ``ChunkStore``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from ingest.storage.store import LLAMA_KEYS, ChunkStore
from tests.conftest import make_settings

MANY = 40_001  # past SQLite's 32,766 variables in one statement


def test_every_store_call_is_batched(tmp_path: Path) -> None:
    store = ChunkStore(make_settings(tmp_path))
    vector_store = store.vector_store()
    ids = [f"big:{i:06d}" for i in range(MANY)]
    vectors = np.random.default_rng(0).standard_normal((MANY, 4)).astype(np.float32)
    source = {NodeRelationship.SOURCE: RelatedNodeInfo(node_id="big")}
    nodes = [TextNode(id_=cid, text=f"passage {i}", embedding=vectors[i].tolist(), relationships=source,
                      metadata={"doc_fingerprint": "fp", "doc_chunks": MANY, "path": "big.md", "order": i})
             for i, cid in enumerate(ids)]
    vector_store.add(nodes)
    assert store.count() == MANY
    got = store.embeddings(ids)
    assert len(got) == MANY and np.allclose(got[ids[-1]], vectors[-1])
    states = store.doc_states()
    assert states["big"].complete and len(states["big"].ids) == MANY
    assert sorted(store.all_ids()) == ids
    chunks = store.all_chunks()
    assert len(chunks) == MANY and not LLAMA_KEYS & set(chunks[0].metadata)
    assert chunks[0].metadata["doc_id"] == "big"

    vector_store.add(nodes[: MANY // 2])  # the document again, with half its passages: the rest is removed
    assert store.count() == MANY // 2
    vector_store.delete("big")
    assert store.count() == MANY // 2  # a deletion waits for the flush (after the pipeline wrote what replaces it)
    assert vector_store.flush() == ["big"] and store.count() == 0


def test_the_docstore_lives_beside_the_vectors(tmp_path: Path) -> None:
    """The pipeline's docstore is a collection of the same Chroma: a new client on the folder reads it."""
    settings = make_settings(tmp_path)
    docstore = ChunkStore(settings).docstore()
    docstore.set_document_hashes({f"doc-{i}": f"hash-{i}" for i in range(MANY // 4)})
    again = ChunkStore(settings).docstore()
    hashes = again.get_all_document_hashes()
    assert len(hashes) == MANY // 4 and hashes["hash-7"] == "doc-7"
    assert again.get_document_hash("doc-9") == "hash-9" and again.get_document_hash("nope") is None
