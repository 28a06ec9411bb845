"""Enrich stage: the flat metadata each chunk carries into the indexes (and filters on).

Chroma metadata values must be scalars, so lists travel as JSON strings. A passage that reads as
instructions to an assistant is flagged here (``instruction_like``, see ``ingest/transforms/screen.py``).
``chunk_metadata`` is what the node parser writes on each node; ``Enricher``, a LlamaIndex
``TransformComponent`` run after the embedding step, adds the country a passage is about and its
themes (which read the passage's vector).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.schema import BaseNode, MetadataMode, TransformComponent

from ingest.models import Chunk, DocumentMeta
from ingest.transforms.screen import instruction_signals
from ingest.transforms.themes import THEMES, ThemeTagger, theme_metadata

Metadata = dict[str, str | int | float | bool]


def chunk_metadata(chunk: Chunk, meta: DocumentMeta, path: str, fingerprint: str, total: int) -> Metadata:
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
        "path": path,
        "doc_fingerprint": fingerprint,
        "doc_chunks": total,
        "instruction_like": bool(signals),
        "instruction_signals": ", ".join(signals),
    }


def country(meta: Metadata, practice_sections: list[str]) -> str:
    """The country a passage is about: a Table 2 row's key, or the heading under a practices section."""
    extra = json.loads(str(meta["extra"]))
    path = json.loads(str(meta["heading_path"]))
    if meta["kind"] == "table_row" and extra.get("table", "").startswith("Table 2"):
        return str(extra.get("row_key", ""))
    if practice_sections and len(path) >= 2 and any(path[0].startswith(s) for s in practice_sections):
        return str(path[1])
    return ""


class Enricher(TransformComponent):
    """Country and theme metadata for passage nodes that have their vectors.

    Example: ``Enricher(embedder.embed, {"gb349-ins4": ["Success Stories"]})`` after the embedding step.
    """

    _embed: Callable[[list[str]], np.ndarray] = PrivateAttr()
    _sections: dict[str, list[str]] = PrivateAttr()

    def __init__(self, embed: Callable[[list[str]], np.ndarray], practice_sections: dict[str, list[str]]) -> None:
        super().__init__()
        self._embed = embed
        self._sections = practice_sections

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> Sequence[BaseNode]:
        if not nodes:
            return nodes
        tagger = ThemeTagger(self._embed([t.description for t in THEMES]))
        for node in nodes:
            meta = node.metadata
            meta["country"] = country(meta, self._sections.get(str(meta["doc_id"]), []))
            column = json.loads(str(meta["extra"])).get("column", "") if meta["kind"] == "table_row" else ""
            vector = np.asarray(node.get_embedding(), dtype=np.float32)
            meta.update(theme_metadata(tagger.scores(node.get_content(MetadataMode.NONE), vector, column)))
        return nodes
