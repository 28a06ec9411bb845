"""A LlamaIndex reader configured by its class path is a source: its documents are indexed, found by
keyword search, skipped when unchanged and removed when the reader no longer returns them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document

from core.settings import Settings
from ingest.pipeline import Ingestor
from ingest.reading.readers import ReaderError
from ingest.storage.keyword import KeywordIndex
from ingest.storage.store import ChunkStore
from ingest.transforms.embed import SentenceTransformerEmbedder
from tests.conftest import make_settings
from tests.ingest.test_hostile_files import small_corpus

pytestmark = pytest.mark.slow

READER = "tests.ingest.test_readers:NotesReader"


class NotesReader(BaseReader):
    """Documents from a dict of id → text, as a LlamaHub reader returns them (stable ``id_``, metadata)."""

    def __init__(self, notes: dict[str, str]) -> None:
        self.notes = notes

    def load_data(self, *args: Any, **kwargs: Any) -> list[Document]:
        return [Document(id_=key, text=text, metadata={"title": f"Note {key}", "url": f"https://notes.example/{key}"})
                for key, text in self.notes.items()]


NOTES = {
    "wiki/harbour-pilot": "# Harbour pilot\n\nThe dockworkers' union in Valparaíso trained 40 safety wardens in 2024.",
    "wiki/tea-estates": "# Tea estates\n\nA living wage benchmark was agreed for tea estate workers in Assam.",
}


def test_a_configured_reader_is_indexed_and_searchable(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    spec = [{"class": READER, "kwargs": {"notes": NOTES}}]
    settings = make_settings(tmp_path, small_corpus(tmp_path), readers=spec)
    first = Ingestor(settings, embedder).run()
    assert first.exit_code == 0, first.skipped
    assert first.documents == 3 and set(first.changed) >= {"wiki-harbour-pilot", "wiki-tea-estates"}
    stored = {c.metadata["doc_id"]: c.metadata for c in ChunkStore(settings).all_chunks()}
    assert stored["wiki-tea-estates"]["title"] == "Note wiki/tea-estates"
    assert stored["wiki-tea-estates"]["url"] == "https://notes.example/wiki/tea-estates"
    bm25 = KeywordIndex.load(settings.keyword_path)
    best, _ = bm25.search("safety wardens Valparaíso", 1)[0]
    assert next(c for c in bm25.chunks if c.id == best).metadata["doc_id"] == "wiki-harbour-pilot"

    again = Ingestor(settings, embedder).run()
    assert again.embedded == 0 and again.changed == []

    fewer = settings.model_copy(update={"readers": Settings(readers=[{"class": READER, "kwargs": {  # type: ignore[list-item]
        "notes": {"wiki/tea-estates": NOTES["wiki/tea-estates"]}}}]).readers})
    removed = Ingestor(fewer, embedder).run()
    assert removed.deleted == ["wiki-harbour-pilot"] and removed.embedded == 0
    assert "wiki-harbour-pilot" not in {c.metadata["doc_id"] for c in ChunkStore(fewer).all_chunks()}


def test_readers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COALITION_READERS", json.dumps([{"class": READER, "kwargs": {"notes": {}}}]))
    assert Settings().readers[0].class_path == READER


def test_a_reader_that_cannot_be_built_is_named(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    settings = make_settings(tmp_path, small_corpus(tmp_path), readers=[{"class": "tests.ingest.nowhere:Reader"}])
    with pytest.raises(ReaderError, match=r"tests.ingest.nowhere:Reader.*COALITION_READERS"):
        Ingestor(settings, embedder).run()
    with pytest.raises(ValueError, match="class"):
        Settings(readers=[{"class": "no colon here"}])  # type: ignore[list-item]
