"""Enrich stage: the flat metadata each chunk carries into the indexes (and filters on).

Chroma metadata values must be scalars, so lists travel as JSON strings. A passage that reads as
instructions to an assistant is flagged here (``instruction_like``, see ``ingest/screen.py``).
"""

from __future__ import annotations

import json

from ingest.models import Chunk, DocumentMeta
from ingest.screen import instruction_signals

Metadata = dict[str, str | int | float | bool]


def chunk_metadata(chunk: Chunk, meta: DocumentMeta, path: str, fingerprint: str, total: int) -> Metadata:
    country = ""
    if chunk.kind == "table_row" and chunk.extra.get("table", "").startswith("Table 2"):
        country = chunk.extra.get("row_key", "")
    elif meta.practices and len(chunk.heading_path) >= 2 and any(
        chunk.heading_path[0].startswith(p.section) for p in meta.practices
    ):
        country = chunk.heading_path[1]
    signals = instruction_signals(chunk.text)
    return {
        "doc_id": meta.id,
        "title": meta.title,
        "label": meta.label,
        "doc_type": meta.doc_type,
        "symbol": meta.symbol,
        "publisher": meta.publisher,
        "date": meta.date,
        "url": meta.url,
        "language": meta.language,
        "visibility": meta.visibility,
        "locator": chunk.locator,
        "kind": chunk.kind,
        "order": chunk.order,
        "part": chunk.part,
        "parts": chunk.parts,
        "source_start": chunk.source_start,
        "source_end": chunk.source_end,
        "footnotes": json.dumps(chunk.footnotes),
        "heading_path": json.dumps(chunk.heading_path, ensure_ascii=False),
        "extra": json.dumps(chunk.extra, ensure_ascii=False),
        "country": country,
        "path": path,
        "doc_fingerprint": fingerprint,
        "doc_chunks": total,
        "instruction_like": bool(signals),
        "instruction_signals": ", ".join(signals),
    }
