"""Ingestion end to end with the real model and a real Chroma: incremental, crash-safe, honest."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.pipeline import Assistant
from core.settings import Settings
from ingest.errors import IndexNotReady
from ingest.pipeline import Ingestor
from ingest.storage import keyword, sentences
from ingest.storage.store import ChunkStore
from ingest.transforms.embed import SentenceTransformerEmbedder
from tests.conftest import copy_corpus, make_settings
from tests.ingest.test_load import make_docx, make_pdf
from tests.servers import chroma_server

pytestmark = pytest.mark.slow


def index_state(settings) -> tuple[list[str], str | None]:  # type: ignore[no-untyped-def]
    ids = sorted(ChunkStore(settings).all_ids())
    return ids, keyword.fingerprint(settings.keyword_path)


def test_incremental_reingest_replace_and_delete(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    corpus = copy_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path, corpus)
    first = Ingestor(settings, embedder).run()
    assert first.exit_code == 0 and first.documents == 5 and first.embedded == first.chunks > 250
    assert first.sentences_embedded > first.chunks  # every sentence of the multi-sentence passages

    again = Ingestor(settings, embedder).run()
    assert again.embedded == 0 and again.chunks == first.chunks and again.changed == []
    assert again.sentences_embedded == 0

    news = corpus / "industriall-joins.txt"
    news.write_text(news.read_text().replace("Høie added.", "Høie added, pledging a training programme."))
    changed = Ingestor(settings, embedder).run()
    assert changed.changed == ["industriall-joins"]
    assert 0 < changed.embedded < 5  # only the edited passage is embedded again
    assert changed.sentences_embedded < 20  # and only its sentences
    texts = [c.text for c in ChunkStore(settings).all_chunks() if c.metadata["doc_id"] == "industriall-joins"]
    assert any("pledging a training programme" in t for t in texts)
    assert not any(t.rstrip().endswith("Høie added.") for t in texts)

    (corpus / "ilo-partnering.txt").unlink()
    removed = Ingestor(settings, embedder).run()
    assert removed.deleted == ["ilo-partnering"]
    stored = ChunkStore(settings).all_chunks()
    assert "ilo-partnering" not in {c.metadata["doc_id"] for c in stored}
    bm25 = keyword.KeywordIndex.load(settings.keyword_path)
    assert "ilo-partnering" not in {c.metadata["doc_id"] for c in bm25.chunks}
    assert len(bm25.chunks) == len(stored)
    vectors = sentences.SentenceVectors.load(settings.sentence_path)
    assert vectors.fingerprint == bm25.fingerprint and set(vectors.rows) <= {c.id for c in stored}

    rebuilt = Ingestor(settings, embedder).run(rebuild=True)
    assert rebuilt.embedded == rebuilt.chunks == len(stored)
    assert rebuilt.sentences_embedded == len(vectors.vectors)


def test_sentence_vectors_are_each_sentences_own(built_settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    """A passage's sentence vectors are its sentences' embeddings, in order, less a section's heading line;
    one-sentence passages have none."""
    vectors = sentences.SentenceVectors.load(built_settings.sentence_path)
    chunks = keyword.KeywordIndex.load(built_settings.keyword_path).chunks
    multi = [c for c in chunks if len(sentences.sentences(c.text)) > 1]
    assert set(vectors.rows) == {c.id for c in multi} and len(multi) < len(chunks)
    sections = [c for c in multi if c.text.startswith(tuple(f"{h}\n" for h in json.loads(str(c.metadata["heading_path"]))[-1:]))]
    chunk = max(sections, key=lambda c: len(c.text))  # a section passage: its first line is its heading
    spans = sentences.body_sentences(chunk)
    assert spans[0][0] > 0 and spans == sentences.sentences(chunk.text)[1:]  # the heading line is left out
    expected = embedder.embed([chunk.text[a:b] for a, b in spans])
    rows = vectors.rows[chunk.id]
    plain = slice(rows.start, rows.start + len(spans))  # a list's items follow, embedded with their lead-in
    assert [tuple(s) for s in vectors.spans[plain]] == spans
    assert np.allclose(vectors.vectors[plain], expected, atol=1e-4)
    scores = vectors.scores(chunk.id, expected[-1])
    assert max(scores, key=lambda span: scores[span]) == spans[-1]
    assert max(scores.values()) == pytest.approx(1.0, abs=1e-4)


def test_sentence_vectors_are_mapped_not_read_in(built_settings: Settings) -> None:
    """A server maps the sentence vectors read-only (at 100k passages, 474k sentences, ~700 MB): it reads the
    pages of the passages it scores, and workers on one machine share them; the values are the file's."""
    vectors = sentences.SentenceVectors.load(built_settings.sentence_path)
    base = vectors.vectors
    while not isinstance(base, np.memmap) and isinstance(getattr(base, "base", None), np.ndarray):
        base = base.base
    assert isinstance(base, np.memmap) and not vectors.vectors.flags.writeable
    with np.load(built_settings.sentence_path) as data:
        assert np.array_equal(data["vectors"], vectors.vectors) and len(vectors.vectors) > 100


def test_list_items_also_get_a_vector_with_their_lead_in(built_settings: Settings,
                                                        embedder: SentenceTransformerEmbedder) -> None:
    """'(e) enterprises and company foundations…' alone does not say what it is an item of: it gets a
    second vector as 'Partnership in the Coalition. Partners will include: enterprises and …', and a
    span scores the better of its two."""
    vectors = sentences.SentenceVectors.load(built_settings.sentence_path)
    chunk = next(c for c in keyword.KeywordIndex.load(built_settings.keyword_path).chunks
                 if c.text.startswith("Partners will include:"))
    spans = sentences.body_sentences(chunk)
    texts = sentences.embedding_texts(chunk, spans)
    item = next(i for i, (a, b) in enumerate(spans) if chunk.text[a:b].startswith("(e) enterprises"))
    assert texts[item].startswith("Partnership in the Coalition. Partners will include: enterprises and company")
    rows = vectors.rows[chunk.id]
    assert rows.stop - rows.start == 2 * len(spans)  # the lead-in itself, too, with its heading
    in_context = embedder.embed([texts[item]])[0]
    assert np.allclose(vectors.vectors[rows.start + len(spans) + item], in_context, atol=1e-4)
    question = embedder.embed(["Can enterprises join the coalition?"])[0]
    alone = float(embedder.embed([chunk.text[slice(*spans[item])]])[0] @ question)
    assert vectors.scores(chunk.id, question)[spans[item]] == pytest.approx(max(alone, float(in_context @ question)), abs=1e-4)
    assert float(in_context @ question) > alone


def test_answering_refuses_sentence_vectors_of_another_index(tmp_path: Path, built_settings: Settings,
                                                             embedder: SentenceTransformerEmbedder) -> None:
    settings = built_settings.model_copy(update={"index_dir": tmp_path / "index"})
    shutil.copytree(built_settings.index_dir, settings.index_dir)
    settings.sentence_path.unlink()
    with pytest.raises(IndexNotReady, match="coalition ingest"):
        Assistant.from_settings(settings, embedder)


def test_bad_files_are_skipped_and_the_rest_ingested(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    corpus = copy_corpus(tmp_path / "corpus")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.md").write_bytes(b"\x00\x01" * 100)
    (corpus / "latin1.txt").write_bytes("Coopération".encode("latin-1"))
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (corpus / "notes.xyz").write_text("hello")
    make_pdf(corpus / "pledge.pdf", ["Pledge of the Federation", "We will train 300 labour inspectors in 2025."])
    make_docx(corpus / "pledge.docx")
    report = Ingestor(make_settings(tmp_path, corpus), embedder).run()
    assert report.exit_code == 2
    assert sorted(s.path for s in report.skipped) == ["binary.md", "broken.pdf", "empty.txt", "latin1.txt", "notes.xyz"]
    assert all(s.reason for s in report.skipped)
    docs = {c.metadata["doc_id"]: c.metadata for c in ChunkStore(make_settings(tmp_path, corpus)).all_chunks()}
    assert {"gb349-ins4", "pledge", "pledge-2"} <= set(docs)
    titles = {docs["pledge"]["title"], docs["pledge-2"]["title"]}
    assert titles == {"Pledge of the Federation", "Decent work pledge"}  # inferred from the first heading
    assert docs["pledge"]["doc_type"] == "web_page"


def test_nothing_ingestible_exits_1(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "empty.txt").write_bytes(b"")
    assert Ingestor(make_settings(tmp_path, corpus), embedder).run().exit_code == 1


def test_partial_write_is_repaired_to_a_clean_build(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    corpus = copy_corpus(tmp_path / "corpus")
    clean = make_settings(tmp_path / "clean", corpus)
    Ingestor(clean, embedder).run()
    settings = make_settings(tmp_path / "broken", corpus)
    Ingestor(settings, embedder).run()
    store = ChunkStore(settings)
    guide = sorted(c.id for c in store.all_chunks() if c.metadata["doc_id"] == "emerging-partners-guide")
    store.delete(guide[: len(guide) // 2])  # as if the run died half-way through this document's upserts
    (settings.keyword_path / "meta.json").unlink()
    repaired = Ingestor(settings, embedder).run()
    assert repaired.embedded == len(guide) // 2
    assert index_state(settings)[0] == index_state(clean)[0]
    assert index_state(settings)[1] == index_state(clean)[1]


def test_kill_9_mid_ingest_then_rerun_equals_clean_build(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    corpus = copy_corpus(tmp_path / "corpus")
    clean = make_settings(tmp_path / "clean", corpus)
    Ingestor(clean, embedder).run()
    target = make_settings(tmp_path / "killed", corpus)
    env = os.environ | {"COALITION_CORPUS_DIR": str(corpus), "COALITION_INDEX_DIR": str(target.index_dir)}
    cmd = [sys.executable, "-m", "coalition.cli", "ingest"]
    for wait_for in ("embedding chunks", None):  # once while embedding, once at a random later moment
        proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        assert proc.stderr is not None
        if wait_for:
            buf = ""
            while wait_for not in buf and proc.poll() is None:
                buf += proc.stderr.read(1)
        else:
            time.sleep(1.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finish = subprocess.run(cmd + ["--json"], env=env, capture_output=True, text=True, timeout=300)
    assert finish.returncode == 0, finish.stderr
    assert json.loads(finish.stdout)["chunks"] == len(index_state(clean)[0])
    assert index_state(target) == index_state(clean)


@pytest.mark.server
def test_chroma_server_path(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    with chroma_server(tmp_path / "server") as url:
        settings = make_settings(tmp_path, chroma_url=url)
        report = Ingestor(settings, embedder).run()
        assert report.exit_code == 0
        assert ChunkStore(settings).count() == report.chunks
        assert Ingestor(settings, embedder).run().embedded == 0
        assert not settings.chroma_path.exists()  # nothing was written to the embedded store
        # another replica (its own index folder) shares the server's docstore: nothing to do there either
        replica = make_settings(tmp_path / "replica", chroma_url=url)
        again = Ingestor(replica, embedder).run()
        assert again.embedded == 0 and again.changed == [] and again.chunks == report.chunks
        assert not replica.chroma_path.exists()
