"""The chunker as a LlamaIndex ``NodeParser``: documents in, ``TextNode``s with locators out.

Each node is one ``Chunk`` (``ingest/parsing/chunk.py``): its id, text and flat metadata (locator, heading
path, source offsets, kind: ``ingest.transforms.enrich.chunk_metadata``), ``start_char_idx``/``end_char_idx``
into the source text, and relationships: ``SOURCE`` its document, ``PREVIOUS``/``NEXT`` the passages
before and after it, ``PARENT`` the first part of a passage split in parts (a long list's later
items) and, for a footnote, the paragraph that cites it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.node_parser import NodeParser
from llama_index.core.schema import BaseNode, Document, NodeRelationship, ObjectType, RelatedNodeInfo, TextNode

from ingest.models import Chunk, DocumentMeta
from ingest.parsing.chunk import Chunker, TokenCounter
from ingest.transforms.enrich import chunk_metadata


class StructureNodeParser(NodeParser):
    """Example::

        parser = StructureNodeParser(embedder.count_tokens, max_tokens=240, target_tokens=160)
        nodes = parser.get_nodes_from_documents([document])   # document.metadata["doc_meta"]: DocumentMeta JSON
    """

    max_tokens: int = 240
    target_tokens: int = 160
    embedder: str = ""
    _chunker: Chunker = PrivateAttr()

    def __init__(self, count_tokens: TokenCounter, max_tokens: int = 240, target_tokens: int = 160,
                 embedder: str = "", **kwargs: Any) -> None:
        super().__init__(max_tokens=max_tokens, target_tokens=target_tokens, embedder=embedder, **kwargs)
        self._chunker = Chunker(count_tokens, max_tokens, target_tokens)

    def _parse_nodes(self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any) -> list[BaseNode]:
        out: list[BaseNode] = []
        for doc in nodes:
            if not isinstance(doc, Document):
                raise TypeError(f"StructureNodeParser reads Documents, got {type(doc).__name__}")
            meta = DocumentMeta.model_validate_json(doc.metadata["doc_meta"])
            chunks = self._chunker.chunk(meta, doc.text)
            out += self._nodes(doc, meta, chunks)
        return out

    def _nodes(self, doc: Document, meta: DocumentMeta, chunks: list[Chunk]) -> list[BaseNode]:
        source = RelatedNodeInfo(node_id=doc.id_, node_type=ObjectType.DOCUMENT, hash=doc.hash)
        path, fp = str(doc.metadata["path"]), str(doc.metadata["doc_fingerprint"])
        nodes = []
        for c in chunks:
            metadata = chunk_metadata(c, meta, path, fp, len(chunks)) | {"embedder": self.embedder}
            nodes.append(TextNode(id_=c.id, text=c.text, metadata=metadata, start_char_idx=c.source_start,
                                  end_char_idx=c.source_end, relationships={NodeRelationship.SOURCE: source}))
        first_part: dict[str, str] = {}
        cites: dict[str, str] = {}
        for i, (c, node) in enumerate(zip(chunks, nodes, strict=True)):
            if i:
                node.relationships[NodeRelationship.PREVIOUS] = RelatedNodeInfo(node_id=chunks[i - 1].id)
                nodes[i - 1].relationships[NodeRelationship.NEXT] = RelatedNodeInfo(node_id=c.id)
            if c.part == 1:
                first_part[c.locator] = c.id
            elif c.locator in first_part:
                node.relationships[NodeRelationship.PARENT] = RelatedNodeInfo(node_id=first_part[c.locator])
            if c.kind != "footnote":
                for ref in c.footnotes:
                    cites.setdefault(ref, c.id)
        for c, node in zip(chunks, nodes, strict=True):
            parent = cites.get(c.locator.removeprefix("footnote ")) if c.kind == "footnote" else None
            if parent:
                node.relationships[NodeRelationship.PARENT] = RelatedNodeInfo(node_id=parent)
        return list(nodes)

    def _postprocess_parsed_nodes(self, nodes: list[BaseNode], parent_doc_map: dict[str, Document]) -> list[BaseNode]:
        """Why not the base class's: it finds each node's text in its document (``str.find``) to set offsets,
        which misses our normalised text, and copies the document's metadata into every node. Our nodes
        carry their own source offsets, relationships and metadata already."""
        return nodes
