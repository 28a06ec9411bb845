"""The chunker as a LlamaIndex NodeParser: one TextNode per chunk, with its metadata and relationships."""

from __future__ import annotations

import json

from llama_index.core.schema import NodeRelationship

from core.settings import PROJECT_ROOT
from ingest.parsing.nodes import StructureNodeParser
from ingest.reading.manifest import read_manifest
from ingest.reading.readers import as_document


def _nodes(max_tokens: int = 240, target: int = 160):  # type: ignore[no-untyped-def]
    manifest = read_manifest(PROJECT_ROOT / "corpus" / "manifest.toml")
    meta = manifest["gb349-ins4.txt"]
    text = (PROJECT_ROOT / "corpus" / "gb349-ins4.txt").read_text(encoding="utf-8")
    doc = as_document(meta, "gb349-ins4.txt", text, "hash")
    doc.metadata["doc_fingerprint"] = "fp"
    parser = StructureNodeParser(lambda s: len(s.split()), max_tokens, target, embedder="words")
    return doc, parser.get_nodes_from_documents([doc])


def test_nodes_carry_locators_offsets_and_their_document() -> None:
    doc, nodes = _nodes()
    assert len(nodes) > 20 and all(n.ref_doc_id == doc.id_ == "gb349-ins4" for n in nodes)
    para = next(n for n in nodes if n.metadata["locator"] == "¶16")
    assert para.metadata["kind"] == "paragraph" and para.metadata["doc_chunks"] == len(nodes)
    assert json.loads(para.metadata["heading_path"]) and para.metadata["doc_fingerprint"] == "fp"
    assert (para.start_char_idx, para.end_char_idx) == (para.metadata["source_start"], para.metadata["source_end"])
    assert "doc_meta" not in para.metadata  # the document's bookkeeping is not copied onto its nodes


def test_previous_next_and_parent_relationships() -> None:
    _, nodes = _nodes(max_tokens=60, target=40)
    by_id = {n.node_id: n for n in nodes}
    for before, after in zip(nodes, nodes[1:], strict=False):
        assert after.relationships[NodeRelationship.PREVIOUS].node_id == before.node_id
        assert before.relationships[NodeRelationship.NEXT].node_id == after.node_id
    notes = [n for n in nodes if n.metadata["kind"] == "footnote" and NodeRelationship.PARENT in n.relationships]
    assert notes
    for note in notes:  # a footnote's parent is the paragraph that cites it
        parent = by_id[note.relationships[NodeRelationship.PARENT].node_id]
        assert note.metadata["locator"].removeprefix("footnote ") in json.loads(parent.metadata["footnotes"])
    parts = [n for n in nodes if n.metadata["part"] > 1]
    assert parts
    for part in parts:  # a split passage's later parts point at its first
        first = by_id[part.relationships[NodeRelationship.PARENT].node_id]
        assert first.metadata["part"] == 1 and first.metadata["locator"] == part.metadata["locator"]
