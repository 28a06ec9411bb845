"""What is indexed: documents with their metadata and chunk counts, read back from the store."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ingest.store import StoredChunk

DOC_FIELDS = ("doc_id", "title", "label", "doc_type", "symbol", "publisher", "date", "url", "language",
              "visibility", "path")


def documents(chunks: list[StoredChunk]) -> list[dict[str, Any]]:
    docs: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for chunk in sorted(chunks, key=lambda c: (str(c.metadata.get("doc_id")), int(c.metadata.get("order", 0)))):
        meta = chunk.metadata
        doc = docs.setdefault(str(meta["doc_id"]), {f: meta.get(f, "") for f in DOC_FIELDS} | {"chunks": 0})
        doc["chunks"] += 1
    return list(docs.values())
