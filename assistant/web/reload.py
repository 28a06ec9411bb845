"""A running server follows the index that ``coalition ingest`` builds, without a restart.

The derived indexes (BM25, sentence vectors, practice records) and the vectors are versioned by one
fingerprint, written last by an ingest. Every ``COALITION_RELOAD_SECONDS`` each worker (and each replica
on a shared index folder) reads the version on disk: the folder ``index_dir/current`` points to and the
BM25 index's fingerprint, a few hundred bytes. When it differs from the one being served, a new
``Assistant`` is loaded beside the old one (the embedding model is reused), and swapped in only once it
has loaded whole: ``Assistant.from_settings`` refuses parts whose fingerprints disagree, as they do
mid-ingest, and then the old one keeps answering and the load is tried again at the next look.
Requests already running finish on the index they started with.

Example::

    watcher = IndexWatcher(app, settings)      # the app's lifespan starts it: ``await watcher.run()``
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.audience import Audience
from assistant.pipeline import Assistant
from core.settings import Settings
from ingest.errors import IndexNotReady
from ingest.storage import keyword

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Version:
    root: Path
    fingerprint: str | None

    def __str__(self) -> str:
        return f"{(self.fingerprint or 'none')[:12]} in {self.root}"


def on_disk(settings: Settings) -> Version:
    """The index version ``coalition ingest`` last completed (cheap: a link and a small JSON file)."""
    return Version(settings.index_root, keyword.fingerprint(settings.keyword_path))


class IndexWatcher:
    """Reloads ``app.state.assistant`` when the index on disk changes; ``check()`` is one look."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.serving = on_disk(settings) if app.state.assistant is not None else None
        self.reloads = 0

    def check(self) -> bool:
        """One look (blocking; the lifespan runs it in a thread); True when a new index was swapped in."""
        found = on_disk(self.settings)
        if found == self.serving or found.fingerprint is None:
            return False
        current: Assistant | None = self.app.state.assistant
        shared = current.retriever.embedder if current is not None else None
        embedder = getattr(shared, "inner", shared)  # the model under the old assistant's batcher: loaded once
        try:
            fresh = Assistant.from_settings(self.settings, embedder)
            for audience in Audience:  # each audience's view before the swap, as at start-up
                fresh.for_audience(audience)
        except IndexNotReady as exc:  # an ingest still writing: keep answering from the old one
            log.info("index %s is not complete yet (%s); still serving %s", found, exc, self.serving)
            return False
        if on_disk(self.settings) != found:  # it changed again while loading: load that one next time
            return False
        self.app.state.assistant, self.app.state.not_ready = fresh, ""
        log.info("now serving index %s (was %s)", found, self.serving)
        self.serving = found
        self.reloads += 1
        return True

    async def run(self) -> None:
        interval = self.settings.reload_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.check)
            except Exception:  # noqa: BLE001 - a failed reload must not stop the server or the watcher
                log.exception("reloading the index failed; still serving %s", self.serving)
