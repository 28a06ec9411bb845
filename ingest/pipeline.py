"""The ingestion pipeline: read → parse into nodes → reuse stored vectors → embed → enrich → store.

A LlamaIndex ``IngestionPipeline`` does the document management: its docstore (kept in Chroma beside
the vectors, ``ingest/storage/docstore.py``) holds each document's hash, with ``DocstoreStrategy.UPSERTS_AND_DELETE``
on a full run: an unchanged document is skipped without being parsed, a changed one is replaced, one
whose file left the corpus is removed. A document's hash covers its text, its manifest entry and the
recipe (chunker and theme versions, chunk sizes, embedding model), so a settings or model change
re-parses everything, and only chunk ids whose vector is not stored yet are embedded. Before the run,
the docstore is reconciled with what the store holds (a killed run, a hand-edited collection): a
document whose chunks are not all there is parsed again. The BM25 side, the sentence vectors, the
multilingual passage vectors and the practice records are rebuilt whenever their fingerprint differs
from the index's (the vector files embedding only new passages).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from llama_index.core.ingestion import DocstoreStrategy, IngestionPipeline
from llama_index.core.schema import Document

from core.settings import Settings
from ingest.models import DocumentMeta
from ingest.parsing.nodes import StructureNodeParser
from ingest.reading.manifest import read_manifest
from ingest.reading.readers import CorpusReader, Skipped, configured_documents
from ingest.storage import builds, keyword, sentences, terms
from ingest.storage.store import ChunkStore, ChunkVectorStore, DocState, StoredVectors
from ingest.transforms import multilingual, practices
from ingest.transforms.embed import Embedder, LlamaEmbedding, SentenceTransformerEmbedder
from ingest.transforms.enrich import Enricher
from ingest.transforms.themes import THEMES_VERSION

CHUNKER_VERSION = "7"  # 5: theme tags in chunk metadata; 6: a paragraph ending in a comma runs on;
# 7: instruction-like passages flagged

Progress = Callable[[str, int, int], None]  # (what, done, total)
__all__ = ["Ingestor", "IngestReport", "Skipped"]


@dataclass
class IngestReport:
    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    sentences_embedded: int = 0
    multilingual_embedded: int = 0
    terms_embedded: int = 0
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
            "terms_embedded": self.terms_embedded,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "seconds": round(self.seconds, 3),
        }


def reconcile(store: ChunkStore, docstore_hashes: dict[str, str], states: dict[str, DocState],
              vectors: ChunkVectorStore, full_run: bool, inputs: set[str]) -> list[str]:
    """Make the docstore tell the truth about the store before the pipeline trusts it: a document whose
    stored chunks are incomplete (a killed run, records removed by hand) or that has a hash but no chunks
    loses its hash (the pipeline then parses it again, reusing the vectors that are there); on a full run,
    chunks of a document that has no hash and no source are noted for removal. Returns the ids unhashed."""
    known = set(docstore_hashes.values())
    unhash = sorted({d for d, s in states.items() if d in known and not s.complete} | (known - set(states)))
    if full_run:
        for doc in set(states) - known - inputs:
            vectors.delete(doc)
    return unhash


class Ingestor:
    """Runs ingestion against one store. Example: ``Ingestor(settings).run()``."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or SentenceTransformerEmbedder(
            settings.embedding_model, settings.device, settings.embed_batch_size
        )

    def recipe(self) -> str:
        s = self.settings
        return json.dumps([CHUNKER_VERSION, THEMES_VERSION, s.chunk_max_tokens, s.chunk_target_tokens, self.embedder.name])

    def fingerprint(self, content_hash: str) -> str:
        return hashlib.sha256((content_hash + self.recipe()).encode()).hexdigest()[:32]

    def documents(self, paths: list[Path] | None, report: IngestReport) -> list[Document]:
        reader = CorpusReader(self.settings, paths)
        docs = reader.load_data()
        report.skipped += reader.skipped
        if not paths:
            docs += configured_documents(self.settings, reader.taken, report.skipped)
        for doc in docs:  # the hash the docstore keeps follows the recipe, as the fingerprint does
            doc.metadata["doc_fingerprint"] = self.fingerprint(str(doc.metadata["content_hash"]))
        return docs

    def run(self, paths: list[Path] | None = None, rebuild: bool = False, progress: Progress | None = None) -> IngestReport:
        if rebuild and not self.settings.chroma_url:
            return self._rebuild(paths, progress)
        started = time.perf_counter()
        report = IngestReport()
        docs = self.documents(paths, report)
        report.documents = len(docs)
        store = ChunkStore(self.settings)
        if rebuild:  # a Chroma server's collection is rebuilt in place
            store.reset()
            self.settings.sentence_path.unlink(missing_ok=True)
            self.settings.multilingual_path.unlink(missing_ok=True)
            self.settings.terms_path.unlink(missing_ok=True)
        store.unseal()  # before any write: a run killed from here on leaves the fingerprint to be read
        states = store.doc_states()
        vectors, docstore = store.vector_store(), store.docstore()
        skipped = {s.path for s in report.skipped}
        vectors.keep = {doc for doc, state in states.items() if state.path in skipped}  # unreadable now, kept
        for doc in reconcile(store, docstore.get_all_document_hashes(), states, vectors, not paths,
                             {d.id_ for d in docs}):
            docstore.delete_document(doc, raise_error=False)

        embedding = LlamaEmbedding(self.embedder, self.settings.embed_batch_size, progress)
        metas = {d.id_: DocumentMeta.model_validate_json(d.metadata["doc_meta"]) for d in docs}
        pipeline = IngestionPipeline(
            transformations=[
                StructureNodeParser(self.embedder.count_tokens, self.settings.chunk_max_tokens,
                                    self.settings.chunk_target_tokens, embedder=self.embedder.name),
                StoredVectors(store),
                embedding,
                Enricher(self.embedder.embed, {k: [p.section for p in m.practices] for k, m in metas.items()}),
            ],
            vector_store=vectors, docstore=docstore,
            docstore_strategy=DocstoreStrategy.UPSERTS if paths else DocstoreStrategy.UPSERTS_AND_DELETE,
            disable_cache=True,  # its cache is keyed on whole batches of nodes; vectors are reused by chunk id instead
        )
        # the documents are kept with their text: with store_doc_text=False the pipeline cannot remove a
        # deleted one (KVDocumentStore.delete_document raises for a document it holds only the hash of)
        nodes = pipeline.run(documents=docs)
        report.deleted = vectors.flush()
        counts: dict[str, int] = {}
        for node in nodes:
            counts[node.ref_doc_id or ""] = counts.get(node.ref_doc_id or "", 0) + 1
        report.changed = [d.id_ for d in docs if d.id_ in counts]
        report.chunks = sum(counts.get(d.id_, len(states[d.id_].ids) if d.id_ in states else 0) for d in docs)
        report.embedded = embedding.embedded

        # derived files follow the index's fingerprint, whatever a killed run left behind
        stored = store.fingerprint(read=True)
        store.seal(stored)
        stale_keyword = keyword.fingerprint(self.settings.keyword_path) != stored
        stale_sentences = sentences.fingerprint(self.settings.sentence_path) != (stored, sentences.recipe(self.embedder.name))
        stale_practices = practices.fingerprint(self.settings.practices_path) != stored
        views_recipe = multilingual.recipe(multilingual.E5Encoder.name)
        stale_views = self.settings.multilingual and \
            multilingual.fingerprint(self.settings.multilingual_path) != (stored, views_recipe)
        stale_terms = self.settings.multilingual and \
            terms.fingerprint(self.settings.terms_path) != (stored, terms.recipe(multilingual.E5Encoder.name))
        if stale_keyword or stale_sentences or stale_practices or stale_views or stale_terms:
            stored_chunks = store.all_chunks()
            if stale_views or stale_terms:
                encoder = multilingual.E5Encoder()
            if stale_views:
                report.multilingual_embedded = multilingual.build(
                    self.settings.multilingual_path, stored_chunks,
                    lambda texts: self._embed_with(encoder.passages, texts, progress, "passages (multilingual)"), encoder.name)
            if stale_terms:
                report.terms_embedded = terms.build(
                    self.settings.terms_path, stored_chunks,
                    lambda words: self._embed_with(encoder.queries, words, progress, "words (multilingual)"), encoder.name)
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
        """A complete index built beside the one in use, then swapped in (``ingest/storage/builds.py``); when
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
