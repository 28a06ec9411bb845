"""What is indexed: documents with their metadata and chunk counts, read back from the store, and the
passages ingest flagged as reading like instructions to an assistant (kept out of answers)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ingest.storage.store import StoredChunk

DOC_FIELDS = ("doc_id", "title", "label", "doc_type", "symbol", "publisher", "date", "url", "language",
              "visibility", "path")


def documents(chunks: list[StoredChunk]) -> list[dict[str, Any]]:
    docs: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for chunk in sorted(chunks, key=lambda c: (str(c.metadata.get("doc_id")), int(c.metadata.get("order", 0)))):
        meta = chunk.metadata
        doc = docs.setdefault(str(meta["doc_id"]), {f: meta.get(f, "") for f in DOC_FIELDS}
                              | {"chunks": 0, "instruction_like": []})
        doc["chunks"] += 1
        if meta.get("instruction_like"):
            signals = [s for s in str(meta.get("instruction_signals", "")).split(", ") if s]
            doc["instruction_like"].append({"locator": str(meta.get("locator", "")), "signals": signals})
    return list(docs.values())
