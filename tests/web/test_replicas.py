"""Two replicas for real: two ``coalition serve`` processes (as on two machines) that share a real Chroma
server, a real PostgreSQL server for answers and feedback, and the folder of derived indexes. An answer
given by one is rated through the other; an ingest into the shared server while both serve moves both to
the new index, every answer meanwhile whole and cited."""

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

from assistant.feedback import FeedbackStore
from ingest.pipeline import Ingestor
from ingest.transforms.embed import SentenceTransformerEmbedder
from tests.conftest import CORPUS, make_settings
from tests.postgres import fresh_database
from tests.servers import chroma_server, free_port
from tests.servers import stop as stop_process

pytestmark = [pytest.mark.slow, pytest.mark.server]


def _index(url: str) -> str | None:
    try:
        response = httpx.get(url + "/readyz", timeout=5)
    except httpx.HTTPError:
        return None
    return str(response.json()["index"]) if response.status_code == 200 else None


def _wait(urls: list[str], deadline: float, differs_from: str | None = None) -> dict[str, str | None]:
    """Each replica's served index once all are ready (and, with ``differs_from``, all moved off it)."""
    seen: dict[str, str | None] = {}
    while time.monotonic() < deadline:
        seen = {url: _index(url) for url in urls}
        if all(seen.values()) and (differs_from is None or differs_from not in seen.values()):
            break
        time.sleep(0.2)
    return seen


def test_two_replicas_share_chroma_and_postgres(tmp_path: Path, embedder: SentenceTransformerEmbedder,
                                                postgres_url: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("industriall-joins.txt", "manifest.toml"):
        shutil.copy(CORPUS / name, corpus / name)
    database = fresh_database(postgres_url, "replicas")
    with chroma_server(tmp_path / "chroma") as chroma:
        settings = make_settings(tmp_path, corpus, chroma_url=chroma)
        assert Ingestor(settings, embedder).run().exit_code == 0
        env = os.environ | {"COALITION_CORPUS_DIR": str(corpus), "COALITION_INDEX_DIR": str(settings.index_dir),
                            "COALITION_CHROMA_URL": chroma, "COALITION_DATABASE_URL": database,
                            "COALITION_RELOAD_SECONDS": "0.5", "COALITION_MULTILINGUAL": "false",
                            "HF_HUB_OFFLINE": "1"}
        ports = [free_port(), free_port()]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        # each replica's log goes to a file: a pipe nobody reads would stop a replica once it filled
        logs = [(tmp_path / f"serve-{port}.log").open("w") for port in ports]
        servers = [subprocess.Popen([sys.executable, "-m", "coalition.cli", "serve", "--port", str(port)],
                                    env=env | {"COALITION_DATA_DIR": str(tmp_path / f"data-{port}")},
                                    stdout=subprocess.DEVNULL, stderr=log)
                   for port, log in zip(ports, logs, strict=True)]
        try:
            seen = _wait(urls, time.monotonic() + 240)
            assert all(seen.values()), f"replicas ready: {seen}; {[s.poll() for s in servers]}"
            old = seen[urls[0]]
            assert set(seen.values()) == {old}, seen

            # an answer given by one replica is rated through the other: one store
            asked = httpx.post(urls[0] + "/ask", json={"question": "Why did IndustriALL join the coalition?"},
                               timeout=60)
            assert asked.status_code == 200 and not asked.json()["abstained"], asked.text
            answer_id = asked.json()["answer_id"]
            rated = httpx.post(urls[1] + "/feedback", json={"answer_id": answer_id, "rating": "up"}, timeout=30)
            assert rated.status_code == 201, rated.text
            unknown = httpx.post(urls[1] + "/feedback", json={"answer_id": "a" * 32, "rating": "up"}, timeout=30)
            assert unknown.status_code == 404, unknown.text
            store = FeedbackStore(database)
            try:
                assert store.backend == "postgresql"
                assert store.answer(answer_id) is not None
                assert [row["answer_id"] for row in store.feedback()] == [answer_id]
            finally:
                store.close()
            assert not any(list((tmp_path / f"data-{port}").glob("*.sqlite*")) for port in ports)

            # an ingest into the shared server while both serve: every answer meanwhile is whole
            shutil.copy(CORPUS / "coalition-overview.txt", corpus / "coalition-overview.txt")
            failures: list[str] = []
            stop = threading.Event()

            def keep_asking(url: str) -> None:
                while not stop.is_set():
                    r = httpx.post(url + "/ask", json={"question": "What is the coalition's mission?"}, timeout=60)
                    if r.status_code != 200 or not r.json()["citations"]:
                        failures.append(f"{url} {r.status_code} {r.text[:200]}")

            askers = [threading.Thread(target=keep_asking, args=(url,)) for url in urls]
            for asker in askers:
                asker.start()
            try:
                ingest = subprocess.run([sys.executable, "-m", "coalition.cli", "ingest"], env=env,
                                        capture_output=True, text=True, timeout=600)
                assert ingest.returncode == 0, ingest.stderr[-2000:]
                moved = _wait(urls, time.monotonic() + 180, differs_from=old)
                assert old not in moved.values() and len(set(moved.values())) == 1, moved
            finally:
                stop.set()
                for asker in askers:
                    asker.join(timeout=120)
            assert not failures, failures[:3]
            for url in urls:
                mission = httpx.post(url + "/ask", json={"question": "What is the coalition's mission?"},
                                     timeout=60).json()
                assert "coalition-overview" in {c["doc_id"] for c in mission["citations"]}, (url, mission)
        finally:
            for server, log in zip(servers, logs, strict=True):
                stop_process(server)
                log.close()
