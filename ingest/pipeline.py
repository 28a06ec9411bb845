"""The ingestion pipeline: load → chunk → enrich → embed → store, incremental and crash-safe.

Each chunk in Chroma carries its document's fingerprint (content + manifest entry + chunking
settings) and the document's chunk count. A document whose chunks are all there with the current
fingerprint is skipped without being read further; anything else (new, changed, half-written by a
killed run) is re-chunked, and only chunk ids not already stored are embedded. The BM25 side and the
sentence vectors are rebuilt whenever their id fingerprint differs from Chroma's (the latter embedding
only new passages' sentences).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coalition.settings import Settings
from ingest import builds, keyword, multilingual, practices, sentences
from ingest.chunk import Chunker
from ingest.embed import Embedder, SentenceTransformerEmbedder
from ingest.enrich import Metadata, chunk_metadata
from ingest.errors import SkippedFile
from ingest.load import load_text
from ingest.manifest import corpus_files, infer_meta, read_manifest
from ingest.models import Document, content_hash
from ingest.paths import corpus_name, inside_corpus
from ingest.store import ChunkStore
from ingest.themes import THEMES, THEMES_VERSION, ThemeTagger, theme_metadata

CHUNKER_VERSION = "7"  # 5: theme tags in chunk metadata; 6: a paragraph ending in a comma runs on;
# 7: instruction-like passages flagged

Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class IngestReport:
    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    sentences_embedded: int = 0
    multilingual_embedded: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.skipped and not self.documents:
            return 1
        return 2 if self.skipped else 0

    def as_json(self) -> dict[str, object]:
        return {
            "documents": self.documents,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "sentences_embedded": self.sentences_embedded,
            "multilingual_embedded": self.multilingual_embedded,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "seconds": round(self.seconds, 3),
        }


def load_documents(settings: Settings, paths: list[Path] | None, report: IngestReport) -> list[Document]:
    manifest = read_manifest(settings.manifest_path)
    files = paths if paths else corpus_files(settings.corpus_dir)
    taken = {meta.id for meta in manifest.values()}
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
            report.skipped.append(Skipped(rel, str(exc)))
            continue
        except OSError as exc:  # gone or unreadable between the listing and the read
            report.skipped.append(Skipped(rel, f"cannot be read: {exc.strerror or exc}"))
            continue
        meta = manifest.get(rel) or manifest.get(path.name)
        if meta is None:
            meta = infer_meta(path, text, taken)
            taken.add(meta.id)
        fp = content_hash(data + meta.model_dump_json().encode())
        docs.append(Document(meta=meta, path=rel, source_text=text, content_hash=fp))
    return docs


class Ingestor:
    """Runs ingestion against one store. Example: ``Ingestor(settings).run()``."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or SentenceTransformerEmbedder(
            settings.embedding_model, settings.device, settings.embed_batch_size
        )

    def fingerprint(self, doc: Document) -> str:
        s = self.settings
        recipe = json.dumps([CHUNKER_VERSION, THEMES_VERSION, s.chunk_max_tokens, s.chunk_target_tokens,
                             self.embedder.name])
        return hashlib.sha256((doc.content_hash + recipe).encode()).hexdigest()[:32]

    def run(self, paths: list[Path] | None = None, rebuild: bool = False, progress: Progress | None = None) -> IngestReport:
        if rebuild and not self.settings.chroma_url:
            return self._rebuild(paths, progress)
        started = time.perf_counter()
        report = IngestReport()
        docs = load_documents(self.settings, paths, report)
        store = ChunkStore(self.settings)
        if rebuild:  # a Chroma server's collection is rebuilt in place
            store.reset()
            self.settings.sentence_path.unlink(missing_ok=True)
            self.settings.multilingual_path.unlink(missing_ok=True)
        states = store.doc_states()
        chunker = Chunker(self.embedder.count_tokens, self.settings.chunk_max_tokens, self.settings.chunk_target_tokens)

        todo: list[tuple[list[str], list[str], list[Metadata]]] = []
        stale: list[str] = []
        for doc in docs:
            fp = self.fingerprint(doc)
            state = states.get(doc.meta.id)
            report.documents += 1
            if state is not None and state.fingerprint == fp and state.complete:
                report.chunks += len(state.ids)
                continue
            chunks = chunker.chunk(doc.meta, doc.source_text)
            metas = [chunk_metadata(c, doc.meta, doc.path, fp, len(chunks)) for c in chunks]
            todo.append(([c.id for c in chunks], [c.text for c in chunks], metas))  # type: ignore[arg-type]
            report.chunks += len(chunks)
            report.changed.append(doc.meta.id)
            if state is not None:
                stale += sorted(state.ids - {c.id for c in chunks})

        if not paths:  # a full run also forgets documents whose file left the corpus
            present = {d.meta.id for d in docs} | {s.path for s in report.skipped}
            for doc_id, state in states.items():
                if doc_id not in present and state.path not in present:
                    stale += sorted(state.ids)
                    report.deleted.append(doc_id)

        known: dict[str, np.ndarray] = {}
        for ids, _, _ in todo:
            known.update(store.embeddings(ids))
        pending = sorted({cid: text for ids, texts, _ in todo for cid, text in zip(ids, texts, strict=True)
                          if cid not in known}.items(), key=lambda kv: len(kv[1]))
        fresh = self._embed([text for _, text in pending], progress, "chunks")
        known.update({cid: fresh[i] for i, (cid, _) in enumerate(pending)})
        report.embedded = len(pending)
        if todo:
            self._tag_themes(todo, known)
        for ids, texts, metas in todo:  # one document at a time: a killed run leaves whole upserts
            if ids:
                store.upsert(ids, texts, np.vstack([known[cid] for cid in ids]), metas)  # type: ignore[arg-type]
        if stale:
            store.delete(stale)

        # derived files follow the index's fingerprint, whatever a killed run left behind
        stored = store.fingerprint()
        stale_keyword = keyword.fingerprint(self.settings.keyword_path) != stored
        stale_sentences = sentences.fingerprint(self.settings.sentence_path) != (stored, sentences.recipe(self.embedder.name))
        stale_practices = practices.fingerprint(self.settings.practices_path) != stored
        views_recipe = multilingual.recipe(multilingual.E5Encoder.name)
        stale_views = self.settings.multilingual and \
            multilingual.fingerprint(self.settings.multilingual_path) != (stored, views_recipe)
        if stale_keyword or stale_sentences or stale_practices or stale_views:
            stored_chunks = store.all_chunks()
            if stale_views:
                encoder = multilingual.E5Encoder()
                report.multilingual_embedded = multilingual.build(
                    self.settings.multilingual_path, stored_chunks,
                    lambda texts: self._embed_with(encoder.passages, texts, progress, "passages (multilingual)"), encoder.name)
            if stale_keyword:
                keyword.build(self.settings.keyword_path, stored_chunks)
            if stale_sentences:
                report.sentences_embedded = sentences.build(
                    self.settings.sentence_path, stored_chunks, lambda texts: self._embed(texts, progress, "sentences"),
                    self.embedder.name)
            if stale_practices:
                practices.write(self.settings.practices_path, stored_chunks, store, read_manifest(self.settings.manifest_path))
        report.seconds = time.perf_counter() - started
        return report

    def _rebuild(self, paths: list[Path] | None, progress: Progress | None) -> IngestReport:
        """A complete index built beside the one in use, then swapped in (``ingest/builds.py``); when
        nothing could be ingested the old index stays."""
        started = time.perf_counter()
        build = builds.new_build(self.settings.index_dir)
        report = Ingestor(self.settings.model_copy(update={"index_dir": build}), self.embedder).run(paths, False, progress)
        if report.exit_code == 1:
            builds.discard(build)
        else:
            builds.swap_in(self.settings.index_dir, build)
        report.seconds = time.perf_counter() - started
        return report

    def _tag_themes(self, todo: list[tuple[list[str], list[str], list[Metadata]]], vectors: dict[str, np.ndarray]) -> None:
        tagger = ThemeTagger(self.embedder.embed([t.description for t in THEMES]))
        for ids, texts, metas in todo:
            for cid, text, meta in zip(ids, texts, metas, strict=True):
                column = json.loads(str(meta["extra"])).get("column", "") if meta["kind"] == "table_row" else ""
                meta.update(theme_metadata(tagger.scores(text, vectors[cid], column)))

    def _embed(self, texts: list[str], progress: Progress | None, what: str) -> np.ndarray:
        """Vectors for ``texts`` (sorted by length by the caller, so batches pad little)."""
        return self._embed_with(self.embedder.embed, texts, progress, what)

    def _embed_with(self, embed: Callable[[list[str]], np.ndarray], texts: list[str], progress: Progress | None,
                    what: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        step = self.settings.embed_batch_size * 8
        parts = []
        for i in range(0, len(texts), step):
            parts.append(embed(texts[i : i + step]))
            if progress:
                progress(what, min(i + step, len(texts)), len(texts))
        return np.vstack(parts)
