"""Shared fixtures: the real embedding model (loaded once) and a real index built once per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# multilingual-e5-small takes 0.3–0.5 s a passage on 2 cores: only the shared session index (which every
# answering test reads) builds that view; the ingest tests' many small indexes, and CLI subprocesses, skip it
os.environ.setdefault("COALITION_MULTILINGUAL", "false")

from assistant.pipeline import Assistant  # noqa: E402
from core.settings import PROJECT_ROOT, Settings  # noqa: E402
from ingest.transforms.embed import SentenceTransformerEmbedder  # noqa: E402

CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("", "cpu", 16)


def make_settings(root: Path, corpus: Path | None = None, **kw: object) -> Settings:
    return Settings(corpus_dir=corpus or CORPUS, index_dir=root / "index", **kw)  # type: ignore[arg-type]


def copy_corpus(dest: Path) -> Path:
    shutil.copytree(CORPUS, dest)
    return dest


def ingested(settings: Settings, embedder: SentenceTransformerEmbedder) -> Settings:
    """``settings`` with its corpus ingested for real (every file, or the fixture fails naming the skipped)."""
    from ingest.pipeline import Ingestor

    report = Ingestor(settings, embedder).run()
    assert report.exit_code == 0, report.skipped
    return settings


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Settings:
    """The real corpus, ingested once into a temp index (read-only for the tests that use it)."""

    return ingested(make_settings(tmp_path_factory.mktemp("built"), multilingual=True), embedder)


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
# A staff-only document whose text answers questions the public documents do not, and a dropped-in file
# without a manifest entry (visibility: COALITION_DEFAULT_VISIBILITY, staff by default).
RESTRICTED_TITLE = "Secretariat retreat briefing"
RESTRICTED_DOC = f"""# {RESTRICTED_TITLE}

## Venue and dates

The secretariat retreat of the Global Coalition will be held in Montreux from 12 to 14 May 2025, co-hosted
with the Government of Uruguay. Staff travel is booked through the Quillfeather travel desk.

## Budget

The retreat budget is 48,500 Swiss francs, approved by the Director of Partnerships.
"""
DROPPED_DOC = """# Zanzibar pilot draft

The Zanzibar pilot on cooperative apprenticeships is a draft that partners have not yet seen.
"""
RESTRICTED_ENTRY = """
[[documents]]
id = "retreat-briefing"
file = "retreat-briefing.md"
title = "Secretariat retreat briefing"
doc_type = "web_page"
visibility = "staff"
layout = "sections"
"""


@pytest.fixture(scope="session")
def restricted_settings(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Settings:
    """The real corpus plus the staff-only briefing and a dropped-in draft, ingested once (no e5 view)."""

    root = tmp_path_factory.mktemp("restricted")
    corpus = copy_corpus(root / "corpus")
    (corpus / "retreat-briefing.md").write_text(RESTRICTED_DOC, encoding="utf-8")
    (corpus / "zanzibar-draft.md").write_text(DROPPED_DOC, encoding="utf-8")
    with (corpus / "manifest.toml").open("a", encoding="utf-8") as fh:
        fh.write(RESTRICTED_ENTRY)
    return ingested(make_settings(root, corpus, multilingual=False, data_dir=root / "data"), embedder)


@pytest.fixture(scope="session")
def restricted_assistant(restricted_settings: Settings, embedder: SentenceTransformerEmbedder) -> Assistant:
    return Assistant.from_settings(restricted_settings, embedder)


KEYS = {"k-public-0001": "public", "k-partner-0001": "partner", "k-staff-0001": "staff"}
STAFF_CHANNEL, PUBLIC_CHANNEL = "CSTAFF01", "CPUBLIC1"


@pytest.fixture(scope="session")
def restricted_server(restricted_settings: Settings, restricted_assistant: Assistant) -> Iterator[tuple[str, Any]]:
    """The real app on uvicorn over the restricted index: keys per audience, anonymous callers public, and
    the Slack bot (HTTP mode, loopback Slack API) with one staff channel; (base URL, the fake Slack)."""
    import json

    from pydantic import SecretStr

    from assistant.web import create_app
    from tests.bots.conftest import slack_settings
    from tests.fakes import FakeSlack
    from tests.servers import serving

    with FakeSlack() as slack:
        settings = slack_settings(restricted_settings, slack, api_keys=SecretStr(json.dumps(KEYS)),
                                  anonymous_audience="public", slack_channel_audiences={STAFF_CHANNEL: "staff"},
                                  slack_user_audiences={"USTAFF1": "staff"})
        with serving(create_app(settings, restricted_assistant)) as url:
            yield url, slack
