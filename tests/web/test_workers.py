"""``coalition serve --workers 2`` for real: two processes on one loopback port answer, share the
answers/feedback store, and both move to the index a ``coalition ingest --rebuild`` completes while they
serve, without a restart and without a failed or half-indexed answer in between."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from ingest.pipeline import Ingestor
from ingest.transforms.embed import SentenceTransformerEmbedder
from tests.conftest import CORPUS, make_settings
from tests.servers import free_port
from tests.servers import stop as stop_process

pytestmark = [pytest.mark.slow, pytest.mark.server]


def _ready(url: str) -> dict[str, object] | None:
    try:
        response = httpx.get(url + "/readyz", timeout=5)  # a new connection each time: either worker may take it
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None  # type: ignore[no-any-return]


def _workers_seen(url: str, want: int, deadline: float, index: str | None = None) -> dict[int, str]:
    seen: dict[int, str] = {}
    while time.monotonic() < deadline:
        body = _ready(url)
        if body is not None and (index is None or body["index"] == index):
            seen[int(body["worker"])] = str(body["index"])  # type: ignore[call-overload]
            if len(seen) >= want:
                return seen
        time.sleep(0.05)
    return seen


def test_two_workers_answer_and_follow_a_rebuild(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("industriall-joins.txt", "manifest.toml"):
        shutil.copy(CORPUS / name, corpus / name)
    settings = make_settings(tmp_path, corpus)
    assert Ingestor(settings, embedder).run().exit_code == 0
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {"COALITION_CORPUS_DIR": str(corpus), "COALITION_INDEX_DIR": str(settings.index_dir),
                        "COALITION_DATA_DIR": str(tmp_path / "data"), "COALITION_RELOAD_SECONDS": "0.5",
                        "COALITION_MULTILINGUAL": "false", "HF_HUB_OFFLINE": "1"}
    # the server's log goes to a file: a pipe nobody reads would stop the workers once it filled
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "coalition.cli", "serve", "--workers", "2", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        seen = _workers_seen(url, 2, time.monotonic() + 240)
        assert len(seen) == 2, f"workers that answered: {seen}; {server.poll()=}"
        old = next(iter(seen.values()))
        assert set(seen.values()) == {old}

        # answers from either worker go to one store: rate, through new connections, what the other gave
        asked = httpx.post(url + "/ask", json={"question": "Why did IndustriALL join the coalition?"}, timeout=60)
        assert asked.status_code == 200 and not asked.json()["abstained"], asked.text
        for _ in range(6):
            rated = httpx.post(url + "/feedback", json={"answer_id": asked.json()["answer_id"], "rating": "up"}, timeout=30)
            assert rated.status_code == 201, rated.text
        assert "coalition-overview" not in {d["doc_id"] for d in httpx.get(url + "/documents", timeout=30).json()}

        # ingest while serving: every answer meanwhile is whole, from the old index or the new one
        shutil.copy(CORPUS / "coalition-overview.txt", corpus / "coalition-overview.txt")
        failures: list[str] = []
        stop = threading.Event()

        def keep_asking() -> None:
            while not stop.is_set():
                r = httpx.post(url + "/ask", json={"question": "What is the coalition's mission?"}, timeout=60)
                if r.status_code != 200 or not r.json()["citations"]:
                    failures.append(f"{r.status_code} {r.text[:200]}")

        asker = threading.Thread(target=keep_asking)
        asker.start()
        try:
            rebuild = subprocess.run([sys.executable, "-m", "coalition.cli", "ingest", "--rebuild"], env=env,
                                     capture_output=True, text=True, timeout=600)
            assert rebuild.returncode == 0, rebuild.stderr[-2000:]
            new = _workers_seen(url, 1, time.monotonic() + 120)
            fresh = next(iter(new.values()))
            deadline = time.monotonic() + 180
            while fresh == old and time.monotonic() < deadline:
                time.sleep(0.2)
                fresh = str((_ready(url) or {}).get("index", old))
            assert fresh != old, "no worker moved to the rebuilt index"
            moved = _workers_seen(url, 2, time.monotonic() + 180, index=fresh)
            assert len(moved) == 2, f"workers on the new index: {moved}"
        finally:
            stop.set()
            asker.join(timeout=120)
        assert not failures, failures[:3]
        docs = {d["doc_id"] for d in httpx.get(url + "/documents", timeout=30).json()}
        assert "coalition-overview" in docs
        mission = httpx.post(url + "/ask", json={"question": "What is the coalition's mission?"}, timeout=60).json()
        assert "coalition-overview" in {c["doc_id"] for c in mission["citations"]}, mission
    finally:
        stop_process(server)
        log.close()
    assert server.returncode is not None
