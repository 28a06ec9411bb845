"""Store stage, vector side: chunks with their vectors and metadata in Chroma.

Embedded ``PersistentClient`` by default; ``COALITION_CHROMA_URL`` switches to a Chroma server
(``HttpClient``). Collections are created with ``embedding_function=None``: we always pass our own
vectors (Chroma's default function would try to download a model). Ingestion writes through
LlamaIndex's ``ChromaVectorStore`` (``ChunkVectorStore``, the pipeline's seam: another engine is its
LlamaIndex integration in its place, see the README); ``ChunkStore`` reads the same records back for
the answering side (every vector into memory) and for the pipeline's bookkeeping.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import numpy as np
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.schema import BaseNode, TransformComponent
from llama_index.core.storage.docstore.keyval_docstore import KVDocumentStore
from llama_index.core.vector_stores.utils import node_to_metadata_dict
from llama_index.vector_stores.chroma import ChromaVectorStore

from core.settings import Settings
from ingest.errors import IndexNotReady
from ingest.storage.docstore import ChromaKVStore
from ingest.transforms.enrich import Metadata

# what LlamaIndex's store adds to each record's metadata (the node as JSON, its type, its document):
# the answering side reads our own fields only
LLAMA_KEYS = frozenset({"_node_content", "_node_type", "document_id", "ref_doc_id"})


@dataclass
class StoredChunk:
    id: str
    text: str
    metadata: Metadata


@dataclass
class DocState:
    fingerprint: str
    expected: int
    path: str
    ids: set[str] = field(default_factory=set)
    fingerprints: set[str] = field(default_factory=set)

    @property
    def complete(self) -> bool:
        return len(self.ids) == self.expected and self.fingerprints == {self.fingerprint}


BATCH = 5000  # ids or records per Chroma call: under its max batch (5,461) and SQLite's 32,766 variables


SEAL = "coalition:fingerprint"  # collection metadata: the fingerprint of what ingest last finished writing


def ids_fingerprint(ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def index_fingerprint(chunks: Iterable[StoredChunk]) -> str:
    """What the derived files (BM25, sentence vectors, practice records) are built from: every chunk's id,
    which follows its text, with its document's fingerprint, which its metadata follows. A metadata-only
    change (a manifest title) changes it too."""
    return ids_fingerprint([f"{c.id}\t{c.metadata.get('doc_fingerprint', '')}" for c in chunks])


class ChunkStore:
    """Chroma collection of chunks. Example: ``ChunkStore(settings).count()``."""

    def __init__(self, settings: Settings, create: bool = True) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            self.client: Any = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            self.where = settings.chroma_url
        else:
            if not create and not settings.chroma_path.exists():
                raise IndexNotReady(f"no index at {settings.chroma_path}; run `coalition ingest` first")
            settings.chroma_path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
            self.where = str(settings.chroma_path)
        self.name = settings.collection
        if create:
            self.collection = self.client.get_or_create_collection(
                self.name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        else:
            try:
                self.collection = self.client.get_collection(self.name, embedding_function=None)
            except Exception as exc:  # chroma raises NotFoundError / ValueError by version
                raise IndexNotReady(f"no collection {self.name!r} in {self.where}; run `coalition ingest`") from exc

    def reset(self) -> None:
        for name in (self.name, self.docstore_name):
            try:
                self.client.delete_collection(name)
            except Exception:  # noqa: BLE001 - absent already
                pass
        self.collection = self.client.get_or_create_collection(
            self.name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    @property
    def docstore_name(self) -> str:
        return f"{self.name}_docstore"

    def vector_store(self) -> ChunkVectorStore:
        """The collection as a LlamaIndex vector store (what ``IngestionPipeline`` writes to)."""
        return ChunkVectorStore(chroma_collection=self.collection)  # type: ignore[call-arg]  # pydantic fields set by its __init__

    def docstore(self) -> KVDocumentStore:
        """The pipeline's docstore, in the same Chroma as the vectors (see ``ingest/storage/docstore.py``)."""
        return KVDocumentStore(ChromaKVStore(self.client, self.docstore_name), namespace="coalition")

    def count(self) -> int:
        return int(self.collection.count())

    def _pages(self, include: list[str]) -> Iterator[Any]:
        """The whole collection, ``BATCH`` records a call (one call for all fails past 32,766 records)."""
        offset = 0
        while True:
            got = self.collection.get(include=include, limit=BATCH, offset=offset)  # type: ignore[arg-type]
            if not got["ids"]:
                return
            yield got
            offset += len(got["ids"])

    def doc_states(self) -> dict[str, DocState]:
        states: dict[str, DocState] = {}
        pairs = ((cid, meta) for got in self._pages(["metadatas"])
                 for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True))
        for cid, meta in pairs:
            doc = str(meta["doc_id"])
            state = states.setdefault(
                doc, DocState(str(meta["doc_fingerprint"]), int(meta["doc_chunks"]), str(meta["path"]))
            )
            state.ids.add(cid)
            state.fingerprints.add(str(meta["doc_fingerprint"]))
        return states

    def fingerprint(self, read: bool = False) -> str:
        """``index_fingerprint`` of the stored chunks: the one ingest sealed the collection with when it last
        finished writing, or (none sealed, or ``read``) read from every chunk's metadata, 34 s at 100k passages."""
        sealed = str((self.collection.metadata or {}).get(SEAL, ""))
        if sealed and not read:
            return sealed
        return index_fingerprint(StoredChunk(cid, "", dict(meta or {})) for got in self._pages(["metadatas"])
                                 for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True))

    def seal(self, fingerprint: str) -> None:
        """Record ``fingerprint`` (just read) on the collection: until the next write, servers take it as read.
        ``unseal`` comes first, before any write, so a write killed half-way leaves no seal behind."""
        metadata = {k: v for k, v in (self.collection.metadata or {}).items() if not k.startswith("hnsw:")}
        self.collection.modify(metadata=metadata | {SEAL: fingerprint})  # the distance is the collection's configuration

    def unseal(self) -> None:
        if (self.collection.metadata or {}).get(SEAL):
            self.seal("")

    def embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(ids), BATCH):
            got = self.collection.get(ids=ids[i : i + BATCH], include=["embeddings"])
            out.update((cid, np.asarray(vec, dtype=np.float32)) for cid, vec in zip(got["ids"], got["embeddings"], strict=True))
        return out

    def delete(self, ids: list[str]) -> None:
        self.unseal()
        for i in range(0, len(ids), BATCH):
            self.collection.delete(ids=ids[i : i + BATCH])

    def all_chunks(self) -> list[StoredChunk]:
        return [
            StoredChunk(cid, text or "", {k: v for k, v in (meta or {}).items() if k not in LLAMA_KEYS})
            for got in self._pages(["documents", "metadatas"])
            for cid, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        ]

    def all_ids(self) -> list[str]:
        return [cid for got in self._pages([]) for cid in got["ids"]]

    def add_chunks(self, chunks: Sequence[StoredChunk], vectors: np.ndarray) -> None:
        self.unseal()
        """Write ``chunks`` with given ``vectors`` through the LlamaIndex store, as ingest would (the
        benchmarks inject vectors this way instead of embedding)."""
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        nodes = [TextNode(id_=c.id, text=c.text, embedding=np.asarray(v, dtype=np.float32).tolist(), metadata=c.metadata,
                          relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=str(c.metadata.get("doc_id", "")))})
                 for c, v in zip(chunks, vectors, strict=True)]
        self.vector_store().add(nodes)

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """Nearest ``k`` chunks by cosine; ``k`` must not exceed the collection's size (callers know it)."""
        if k <= 0:
            return []
        res = self.collection.query(query_embeddings=[vector], n_results=k, where=where or None, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]


class ChunkVectorStore(ChromaVectorStore):
    """LlamaIndex's Chroma store, writing a document's replacement before it removes what it replaces.

    The stock pipeline deletes a changed document's records before it re-embeds it, and the stock ``add``
    inserts with ``collection.add`` (which keeps an existing id's old record). Here ``delete(ref_doc_id)``
    only notes the document; ``add`` upserts each document's nodes and then removes that document's ids it
    did not write; ``flush`` removes the noted documents that got no replacement (those in ``keep``, whose
    files could not be read this time, stay). So a replica reading a shared server never finds a document
    half gone, the vectors of a changed document's unchanged passages are still there to reuse
    (``StoredVectors``), and a kill leaves old or new records, which the next run reconciles.

    Example: ``IngestionPipeline(..., vector_store=ChunkStore(settings).vector_store())``.
    """

    _pending: set[str] = PrivateAttr(default_factory=set)
    keep: set[str] = set()

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        self._pending.add(ref_doc_id)

    def _doc_ids(self, ref_doc_id: str) -> set[str]:
        """The stored ids of a document, ``BATCH`` a call (one call fails past SQLite's 32,766 variables)."""
        ids: set[str] = set()
        while got := self._collection.get(where={"document_id": ref_doc_id}, include=[], limit=BATCH,
                                          offset=len(ids))["ids"]:
            ids.update(got)
        return ids

    def _remove(self, ids: Iterable[str]) -> None:
        ordered = sorted(ids)
        for i in range(0, len(ordered), BATCH):
            self._collection.delete(ids=ordered[i : i + BATCH])

    def add(self, nodes: Sequence[BaseNode], **add_kwargs: Any) -> list[str]:
        by_doc: dict[str, list[BaseNode]] = {}
        for node in nodes:
            by_doc.setdefault(node.ref_doc_id or "None", []).append(node)
        for doc, group in by_doc.items():  # one document at a time: a kill leaves whole documents
            for i in range(0, len(group), 256):
                part = group[i : i + 256]
                metas = [node_to_metadata_dict(n, remove_text=True, flat_metadata=True) for n in part]
                self._collection.upsert(
                    ids=[n.node_id for n in part], documents=[n.get_content() for n in part],
                    embeddings=np.asarray([n.get_embedding() for n in part], dtype=np.float32),
                    metadatas=[{k: "" if v is None else v for k, v in m.items()} for m in metas])
            self._remove(self._doc_ids(doc) - {n.node_id for n in group})
            self._pending.discard(doc)
        return [n.node_id for n in nodes]

    def flush(self) -> list[str]:
        """Remove the documents deleted without replacement; returns their ids."""
        gone = sorted(self._pending - self.keep)
        for doc in gone:
            self._remove(self._doc_ids(doc))
        self._pending.clear()
        return gone


class StoredVectors(TransformComponent):
    """Gives each node the vector already stored under its id, so that only new passages are embedded.

    Chunk ids follow the passage text (``ingest.models.chunk_id``): a changed document's unchanged
    passages, or a document a killed run half wrote, keep theirs. A vector is reused only when it was
    made by the same model (``embedder`` in its metadata).
    """

    _store: ChunkStore = PrivateAttr()

    def __init__(self, store: ChunkStore) -> None:
        super().__init__()
        self._store = store

    def __call__(self, nodes: list[BaseNode], **kwargs: Any) -> list[BaseNode]:  # type: ignore[override]
        todo = [n for n in nodes if n.embedding is None]
        for i in range(0, len(todo), BATCH):
            part = {n.node_id: n for n in todo[i : i + BATCH]}
            got = self._store.collection.get(ids=list(part), include=["embeddings", "metadatas"])
            for cid, vec, meta in zip(got["ids"], got["embeddings"], got["metadatas"], strict=True):
                if meta.get("embedder") == part[cid].metadata.get("embedder"):
                    part[cid].embedding = [float(x) for x in vec]
        return nodes
