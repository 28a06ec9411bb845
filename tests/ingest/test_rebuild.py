"""Derived files (BM25, sentence vectors, practice records) follow the index's fingerprint, and a
rebuild swaps in a complete index: a kill at any point leaves the old index or the new one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.pipeline import Assistant
from ingest.pipeline import Ingestor
from ingest.storage import keyword
from ingest.transforms import practices
from ingest.transforms.embed import SentenceTransformerEmbedder
from tests.conftest import CORPUS, copy_corpus, make_settings
from tests.ingest.test_pipeline import index_state

pytestmark = pytest.mark.slow


def _practice_titles(path: Path) -> set[tuple[str, str]]:
    return {(r.id, r.doc_title) for r in practices.load(path)}


def test_derived_files_follow_the_index_after_an_interrupted_ingest(tmp_path: Path,
                                                                    embedder: SentenceTransformerEmbedder) -> None:
    corpus = copy_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path / "index", corpus)
    Ingestor(settings, embedder).run()
    before = settings.practices_path.read_bytes()
    manifest = corpus / "manifest.toml"
    text = manifest.read_text(encoding="utf-8")
    old_title = next(line for line in text.splitlines() if line.startswith("title = ") and "partners" in line.lower())
    manifest.write_text(text.replace(old_title, 'title = "Guide for new partners"'), encoding="utf-8")

    changed = Ingestor(settings, embedder).run()  # same chunk ids, new metadata
    assert changed.embedded == 0 and changed.changed == ["emerging-partners-guide"]
    titles = {c.metadata["title"] for c in keyword.KeywordIndex.load(settings.keyword_path).chunks}
    assert "Guide for new partners" in titles  # BM25's chunk records follow the metadata, not only the ids

    settings.practices_path.write_bytes(before)  # as if that run had been killed before writing the records
    Ingestor(settings, embedder).run()
    clean = make_settings(tmp_path / "clean", corpus)
    Ingestor(clean, embedder).run()
    assert _practice_titles(settings.practices_path) == _practice_titles(clean.practices_path)
    assert "Guide for new partners" in {title for _, title in _practice_titles(settings.practices_path)}
    assert practices.fingerprint(settings.practices_path) == keyword.fingerprint(settings.keyword_path)


def _killed_rebuild(env: dict[str, str], wait_for: str) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "coalition.cli", "ingest", "--rebuild"], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    buf = ""
    while wait_for not in buf and proc.poll() is None:
        buf += proc.stderr.read(1)
    assert wait_for in buf, buf  # killed while it worked, not after
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_a_killed_rebuild_leaves_the_old_index_servable(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("gb349-ins4.txt", "industriall-joins.txt", "manifest.toml"):
        shutil.copy(CORPUS / name, corpus / name)
    settings = make_settings(tmp_path, corpus)
    Ingestor(settings, embedder).run()
    clean = index_state(settings)
    env = os.environ | {"COALITION_CORPUS_DIR": str(corpus), "COALITION_INDEX_DIR": str(settings.index_dir)}
    for stage in ("embedding chunks", "embedding sentences"):
        _killed_rebuild(env, stage)
        assert index_state(settings) == clean, stage
        answer = Assistant.from_settings(settings, embedder).answer("What must partners commit to?")
        assert not answer.abstained and answer.citations

    done = subprocess.run([sys.executable, "-m", "coalition.cli", "ingest", "--rebuild", "--json"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["embedded"] == len(clean[0])
    assert index_state(settings) == clean
    assert Assistant.from_settings(settings, embedder).answer("What must partners commit to?").citations
    builds = [p.name for p in (settings.index_dir / "builds").iterdir()]
    assert len(builds) <= 2  # the new index and the one before it; killed builds are cleared away


def test_a_rebuilt_index_serves_its_own_multilingual_vectors(tmp_path: Path,
                                                               embedder: SentenceTransformerEmbedder) -> None:
    """The e5 passage and word vectors live in the build they were made for, like the other derived files:
    after a rebuild of a changed corpus the server loads the new ones, not those left from before."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    page = corpus / "note.txt"
    page.write_text("# Partners\n\nEmployers and governments may join the Coalition.\n", encoding="utf-8")
    settings = make_settings(tmp_path, corpus, multilingual=True)
    Ingestor(settings, embedder).run()
    page.write_text("# Partners\n\nTrade unions and universities may join the Coalition too.\n", encoding="utf-8")
    assert Ingestor(settings, embedder).run(rebuild=True).exit_code == 0
    assert settings.index_root != settings.index_dir  # the rebuild is in use
    assistant = Assistant.from_settings(settings)  # raises IndexNotReady when the vectors are another index's
    translator = assistant.retriever.passages.translator
    assert translator is not None and "universities" in translator.terms.words
