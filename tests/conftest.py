"""Shared fixtures: the real embedding model (loaded once) and a real index built once per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# multilingual-e5-small takes 0.3–0.5 s a passage on 2 cores: only the shared session index (which every
# answering test reads) builds that view; the ingest tests' many small indexes, and CLI subprocesses, skip it
os.environ.setdefault("COALITION_MULTILINGUAL", "false")

from assistant.pipeline import Assistant  # noqa: E402
from coalition.settings import PROJECT_ROOT, Settings  # noqa: E402
from ingest.embed import SentenceTransformerEmbedder  # noqa: E402

CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("", "cpu", 16)


def make_settings(root: Path, corpus: Path | None = None, **kw: object) -> Settings:
    return Settings(corpus_dir=corpus or CORPUS, index_dir=root / "index", **kw)  # type: ignore[arg-type]


def copy_corpus(dest: Path) -> Path:
    shutil.copytree(CORPUS, dest)
    return dest


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Settings:
    """The real corpus, ingested once into a temp index (read-only for the tests that use it)."""
    from ingest.pipeline import Ingestor

    root = tmp_path_factory.mktemp("built")
    settings = make_settings(root, multilingual=True)
    report = Ingestor(settings, embedder).run()
    assert report.exit_code == 0, report.skipped
    return settings


@pytest.fixture(scope="session")
def assistant(built_settings: Settings, embedder: SentenceTransformerEmbedder) -> Assistant:
    """The real answering pipeline over the session index, loaded once."""
    return Assistant.from_settings(built_settings, embedder)


@pytest.fixture(scope="session")
def web_settings(built_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The session index plus a temp data dir for answers and feedback."""
    return built_settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("data")})


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server on a free loopback port for the session (skipped, saying why, only when
    the binaries are not installed)."""
    from tests.postgres import missing, postgres_server

    reason = missing()
    if reason:
        pytest.skip(reason)
    with postgres_server() as url:
        yield url
