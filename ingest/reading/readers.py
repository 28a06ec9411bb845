"""Readers: where documents come from, as LlamaIndex ``BaseReader``s.

``CorpusReader`` reads the corpus folder with our loaders (``ingest/reading/load.py``: PDF, DOCX, HTML, text)
and the manifest's metadata; a file that cannot be read is skipped with its reason. Any other
LlamaIndex reader (a LlamaHub one: web pages, SharePoint, Google Drive, Confluence…) is a source by
configuration: ``COALITION_READERS='[{"class": "pkg.module:ReaderClass", "kwargs": {...}}]'``. Its
documents are indexed under ids made from their ``id_`` (so a reader must give stable ids, as LlamaHub
readers do from the page or file they read), titled by their ``title`` metadata or first line.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document

from core.settings import ReaderSpec, Settings
from ingest.errors import IngestError, SkippedFile
from ingest.models import DocumentMeta, content_hash
from ingest.reading.load import load_text
from ingest.reading.manifest import corpus_files, infer_meta, read_manifest
from ingest.reading.paths import corpus_name, inside_corpus

EXCLUDED = ["doc_meta", "path", "content_hash", "doc_fingerprint"]  # bookkeeping, never embedded or shown


@dataclass
class Skipped:
    path: str
    reason: str


class ReaderError(IngestError):
    """A configured reader cannot be imported or built."""


def as_document(meta: DocumentMeta, path: str, text: str, fingerprint: str) -> Document:
    """The ``Document`` the pipeline ingests: its id is the document's (stable: the docstore keys on it)."""
    return Document(id_=meta.id, text=text, metadata={"doc_meta": meta.model_dump_json(), "path": path,
                                                      "content_hash": fingerprint},
                    excluded_embed_metadata_keys=EXCLUDED, excluded_llm_metadata_keys=EXCLUDED)


class CorpusReader(BaseReader):
    """The corpus folder (or ``paths`` in it). Example: ``CorpusReader(settings).load_data()``; what could
    not be read is in ``reader.skipped``."""

    def __init__(self, settings: Settings, paths: list[Path] | None = None) -> None:
        self.settings = settings
        self.paths = paths
        self.skipped: list[Skipped] = []
        self.taken: set[str] = set()

    def load_data(self, *args: Any, **load_kwargs: Any) -> list[Document]:
        settings = self.settings
        manifest = read_manifest(settings.manifest_path)
        files = self.paths if self.paths else corpus_files(settings.corpus_dir)
        self.taken |= {meta.id for meta in manifest.values()}
        docs: list[Document] = []
        for path in files:
            rel = corpus_name(path, settings.corpus_dir)
            try:
                real = inside_corpus(path, settings.corpus_dir)
                if not real.is_file():
                    raise SkippedFile("no such file")
                text = load_text(real, settings.max_file_bytes, settings.max_unzipped_bytes)
                data = real.read_bytes()
            except SkippedFile as exc:
                self.skipped.append(Skipped(rel, str(exc)))
                continue
            except OSError as exc:  # gone or unreadable between the listing and the read
                self.skipped.append(Skipped(rel, f"cannot be read: {exc.strerror or exc}"))
                continue
            meta = manifest.get(rel) or manifest.get(path.name)
            if meta is None:
                meta = infer_meta(path, text, self.taken)
                self.taken.add(meta.id)
            docs.append(as_document(meta, rel, text, content_hash(data + meta.model_dump_json().encode())))
        return docs


def build_reader(spec: ReaderSpec) -> BaseReader:
    module, _, name = spec.class_path.partition(":")
    try:
        cls = getattr(importlib.import_module(module), name)
        reader = cls(**spec.kwargs)
    except Exception as exc:  # noqa: BLE001 - whatever a third-party reader raises, named in one line
        raise ReaderError(f"reader {spec.class_path!r} (COALITION_READERS): {type(exc).__name__}: {exc}") from None
    if not isinstance(reader, BaseReader):
        raise ReaderError(f"reader {spec.class_path!r} (COALITION_READERS) is not a LlamaIndex BaseReader")
    return reader


def configured_documents(settings: Settings, taken: set[str], skipped: list[Skipped]) -> list[Document]:
    """Documents of every reader in ``COALITION_READERS``, as the pipeline ingests them."""
    docs: list[Document] = []
    for spec in settings.readers:
        reader = build_reader(spec)
        try:
            found = reader.load_data()
        except Exception as exc:  # noqa: BLE001 - one failing source must not stop the others
            skipped.append(Skipped(spec.class_path, f"reader failed: {type(exc).__name__}: {exc}"[:300]))
            continue
        for doc in found:
            text = doc.text
            if not text.strip():
                skipped.append(Skipped(f"{spec.class_path}/{doc.id_}", "empty document"))
                continue
            base = re.sub(r"[^a-z0-9]+", "-", doc.id_.lower()).strip("-")[:80] or "document"
            doc_id, n = base, 2
            while doc_id in taken:
                doc_id, n = f"{base}-{n}", n + 1
            taken.add(doc_id)
            first = next((line.strip("# ").strip() for line in text.splitlines() if line.strip()), doc_id)
            meta = DocumentMeta(id=doc_id, title=str(doc.metadata.get("title") or first)[:200],
                                url=str(doc.metadata.get("url", doc.metadata.get("source", ""))), inferred=True)
            identity = json.dumps([text, doc.metadata], sort_keys=True, default=str, ensure_ascii=False)
            docs.append(as_document(meta, f"{spec.class_path}/{doc.id_}", text, content_hash(identity.encode())))
    return docs
