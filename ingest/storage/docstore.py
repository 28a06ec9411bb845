"""The ingestion pipeline's document store, kept in Chroma beside the vectors.

``IngestionPipeline`` (``DocstoreStrategy.UPSERTS_AND_DELETE``) keeps each document's hash in a
docstore to skip unchanged documents and remove deleted ones. LlamaIndex's default is a JSON file on
one machine; replicas sharing a Chroma server (``COALITION_CHROMA_URL``) would each see a different
one. So the docstore is a ``KVDocumentStore`` over this ``BaseKVStore``, whose records live in a
second collection of the same Chroma, embedded or server: the vectors and the hashes that describe
them are always in one place, swapped together by ``--rebuild`` and shared by every replica, with
no further service to run.

Example::

    docstore = KVDocumentStore(ChromaKVStore(client, "coalition_chunks_docstore"))
"""

from __future__ import annotations

import json
from typing import Any

from llama_index.core.storage.kvstore.types import DEFAULT_COLLECTION, BaseKVStore

BATCH = 5000  # under Chroma's max batch (5,461)
_VECTOR = [1.0]  # Chroma requires a vector per record; these records are looked up by id only


class ChromaKVStore(BaseKVStore):
    """Key → JSON dict records in a Chroma collection (id ``<collection>/<key>``)."""

    def __init__(self, client: Any, name: str) -> None:
        self.collection = client.get_or_create_collection(name, embedding_function=None)

    @staticmethod
    def _id(key: str, collection: str) -> str:
        return f"{collection}/{key}"

    def put(self, key: str, val: dict, collection: str = DEFAULT_COLLECTION) -> None:
        self.put_all([(key, val)], collection)

    def put_all(self, kv_pairs: list[tuple[str, dict]], collection: str = DEFAULT_COLLECTION,  # type: ignore[override]
                batch_size: int = BATCH) -> None:
        # the docstore passes batch_size=1 (one call a key); Chroma takes thousands a call
        for i in range(0, len(kv_pairs), BATCH):
            part = kv_pairs[i : i + BATCH]
            self.collection.upsert(
                ids=[self._id(k, collection) for k, _ in part],
                documents=[json.dumps(v, ensure_ascii=False) for _, v in part],
                metadatas=[{"kv_collection": collection, "kv_key": k} for k, _ in part],
                embeddings=[_VECTOR] * len(part),
            )

    def get(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict | None:
        got = self.collection.get(ids=[self._id(key, collection)], include=["documents"])
        return json.loads(got["documents"][0]) if got["ids"] else None

    def get_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict]:
        out: dict[str, dict] = {}
        offset = 0
        while True:
            got = self.collection.get(where={"kv_collection": collection}, include=["documents", "metadatas"],
                                      limit=BATCH, offset=offset)
            if not got["ids"]:
                return out
            for doc, meta in zip(got["documents"], got["metadatas"], strict=True):
                out[str(meta["kv_key"])] = json.loads(doc)
            offset += len(got["ids"])

    def delete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        rid = self._id(key, collection)
        if not self.collection.get(ids=[rid], include=[])["ids"]:
            return False
        self.collection.delete(ids=[rid])
        return True

    async def aput(self, key: str, val: dict, collection: str = DEFAULT_COLLECTION) -> None:
        self.put(key, val, collection)

    async def aget(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict | None:
        return self.get(key, collection)

    async def aget_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict]:
        return self.get_all(collection)

    async def adelete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        return self.delete(key, collection)
