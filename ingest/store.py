"""Store stage, vector side: chunks with their vectors and metadata in Chroma.

Embedded ``PersistentClient`` by default; ``COALITION_CHROMA_URL`` switches to a Chroma server
(``HttpClient``). Collections are created with ``embedding_function=None``: we always pass our own
vectors (Chroma's default function would try to download a model). We talk to Chroma directly rather
than through LlamaIndex's ``ChromaVectorStore``: that wrapper stores a serialised node blob per
record and offers no way to read back per-document fingerprints, which incremental ingest is built on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import numpy as np

from coalition.settings import Settings
from ingest.enrich import Metadata
from ingest.errors import IndexNotReady


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
        try:
            self.client.delete_collection(self.name)
        except Exception:  # noqa: BLE001 - absent already
            pass
        self.collection = self.client.get_or_create_collection(
            self.name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

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

    def fingerprint(self) -> str:
        """``index_fingerprint`` of the stored chunks, read from their metadata alone."""
        return index_fingerprint(StoredChunk(cid, "", dict(meta or {})) for got in self._pages(["metadatas"])
                                 for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True))

    def embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(ids), BATCH):
            got = self.collection.get(ids=ids[i : i + BATCH], include=["embeddings"])
            out.update((cid, np.asarray(vec, dtype=np.float32)) for cid, vec in zip(got["ids"], got["embeddings"], strict=True))
        return out

    def upsert(self, ids: list[str], texts: list[str], vectors: np.ndarray, metadatas: list[Metadata],
               batch: int = 256) -> None:
        for i in range(0, len(ids), batch):
            self.collection.upsert(
                ids=ids[i : i + batch],
                documents=texts[i : i + batch],
                embeddings=vectors[i : i + batch],
                metadatas=metadatas[i : i + batch],  # type: ignore[arg-type]
            )

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), BATCH):
            self.collection.delete(ids=ids[i : i + BATCH])

    def all_chunks(self) -> list[StoredChunk]:
        return [
            StoredChunk(cid, text or "", dict(meta or {}))
            for got in self._pages(["documents", "metadatas"])
            for cid, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        ]

    def all_ids(self) -> list[str]:
        return [cid for got in self._pages([]) for cid in got["ids"]]

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """Nearest ``k`` chunks by cosine; ``k`` must not exceed the collection's size (callers know it)."""
        if k <= 0:
            return []
        res = self.collection.query(query_embeddings=[vector], n_results=k, where=where or None, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]
