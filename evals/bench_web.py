"""Web load benchmark (prints numbers; not a timed test).

Starts the real server (``coalition serve``) on a free loopback port over the built index, then sends
``POST /ask`` with gold-set questions at concurrency 1, 8, 32 and 64 and prints p50/p95/p99 latency,
requests per second, errors and each worker's resident memory, for three set-ups (``--config``):
``embedded`` (one process, embedded Chroma, SQLite), ``workers2`` (``--workers 2``) and ``chroma-pg``
(two workers on a real Chroma server and a real PostgreSQL, the built index copied into them). The load
comes from ``wrk`` when it is installed (``make bench`` installs Debian's), a C client that leaves the 2 cores to the server;
otherwise from an asyncio client in this process, which takes a share of them (``--client asyncio``).
Run: ``python -m evals.bench_web [--requests 400] [--seconds 15]`` (``coalition ingest`` first).
Targets (2 cores): c=1 p50 ≤ 30 ms and p95 ≤ 80 ms; c=8 ≥ 150 req/s with p95 ≤ 150 ms; 0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _load(url: str, questions: list[str], concurrency: int, total: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(questions[i % len(questions)])

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            question = queue.get_nowait()
            t = time.perf_counter()
            try:
                response = await client.post("/ask", json={"question": question})
                if response.status_code != 200:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append((time.perf_counter() - t) * 1000)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    arr = np.asarray(latencies)
    return {"p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95)),
            "p99": float(np.percentile(arr, 99)), "rps": len(latencies) / wall, "errors": errors, "n": len(latencies)}


_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %.3f\\n", summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, summary.duration / 1e6))
end
"""


def _wrk_script(questions: list[str], path: Path) -> None:
    bodies = ",\n".join(json.dumps(json.dumps({"question": q})) for q in questions)
    path.write_text(
        f"local bodies = {{\n{bodies}\n}}\nlocal n = 0\n"
        "request = function()\n  n = n + 1\n"
        '  return wrk.format("POST", "/ask", {["Content-Type"] = "application/json"}, bodies[(n % #bodies) + 1])\n'
        "end\n" + _DONE
    )


def _wrk(url: str, script: Path, concurrency: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    n, errors, p50, p95, p99, duration = (float(x) for x in line.split()[1:])
    return {"n": n, "errors": errors, "p50": p50, "p95": p95, "p99": p99, "rps": n / duration}


def _workers(pid: int) -> list[int]:
    """The server's worker processes (``--workers N``: the supervisor's children), else the server itself."""
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        children = []
    workers = [c for c in children if "resource_tracker" not in Path(f"/proc/{c}/cmdline").read_text(errors="replace")]
    return workers or [pid]


@contextlib.contextmanager
def served(data: str, workers: int = 1, env: dict[str, str] | None = None,
           ) -> Iterator[tuple[str, subprocess.Popen[bytes], float]]:
    """``coalition serve`` on a free loopback port with its answers in ``data``: (url, process, start time),
    once ``/readyz`` says ready (from every worker); terminated on exit."""
    port = _free_port()
    env = os.environ | {"HF_HUB_OFFLINE": "1", "COALITION_DATA_DIR": data} | (env or {})
    server = subprocess.Popen([sys.executable, "-m", "coalition.cli", "serve", "--port", str(port),
                               "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    ready: set[int] = set()
    try:
        while len(ready) < workers:
            try:
                response = httpx.get(url + "/readyz", timeout=1)  # a new connection: any worker may answer
                if response.status_code == 200:
                    ready.add(int(response.json().get("worker", 0)))
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.perf_counter() - started > 300:
                raise SystemExit("the server did not become ready (run `coalition ingest` first)")
            time.sleep(0.1)
        yield url, server, started
    finally:
        server.terminate()
        server.wait(timeout=60)


@contextlib.contextmanager
def chroma_and_postgres(root: Path) -> Iterator[dict[str, str]]:
    """The built index copied into a real Chroma server (``chroma run``) and a real PostgreSQL server
    for answers and feedback, both on loopback: the environment that points ``coalition serve`` at them."""
    from core.settings import Settings
    from ingest.storage.store import ChunkStore
    from tests.postgres import missing, postgres_server

    if missing():
        raise SystemExit(f"the Chroma + PostgreSQL run needs PostgreSQL: {missing()}")
    local = Settings()
    chunks = ChunkStore(local, create=False).all_chunks()
    vectors = ChunkStore(local, create=False).embeddings([c.id for c in chunks])
    port = _free_port()
    chroma = subprocess.Popen([str(Path(sys.executable).with_name("chroma")), "run", "--host", "127.0.0.1", "--port",
                               str(port), "--path", str(root / "chroma-server")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        remote = local.model_copy(update={"chroma_url": f"http://127.0.0.1:{port}", "index_dir": root / "index"})
        deadline = time.monotonic() + 60
        while True:
            try:
                store = ChunkStore(remote)
                break
            except Exception:  # noqa: BLE001 - not listening yet
                if time.monotonic() > deadline or chroma.poll() is not None:
                    raise SystemExit("the Chroma server did not start") from None
                time.sleep(0.5)
        store.add_chunks(chunks, np.vstack([vectors[c.id] for c in chunks]))  # the same index, its vectors as ingest wrote them
        (root / "index").mkdir()
        for name in ("keyword", "sentences.npz", "practices.json", "multilingual.npz", "terms.npz"):
            src = local.index_root / name
            if src.exists():  # the multilingual files only where that view is on
                (shutil.copytree if src.is_dir() else shutil.copy)(src, root / "index" / name)
        with postgres_server() as database:
            yield {"COALITION_CHROMA_URL": str(remote.chroma_url), "COALITION_INDEX_DIR": str(root / "index"),
                   "COALITION_DATABASE_URL": database}
    finally:
        chroma.terminate()
        chroma.wait(timeout=30)


CONFIGS = {
    "embedded": (1, False),       # the default: embedded Chroma, SQLite, one process
    "workers2": (2, False),       # --workers 2 on the same
    "chroma-pg": (2, True),       # --workers 2, a Chroma server and PostgreSQL: how replicas share state
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400, help="asyncio client: requests per concurrency level")
    parser.add_argument("--seconds", type=int, default=15, help="wrk: seconds per concurrency level")
    parser.add_argument("--client", choices=["wrk", "asyncio"], default="wrk" if shutil.which("wrk") else "asyncio")
    parser.add_argument("--config", action="append", choices=sorted(CONFIGS), help="default: all three")
    parser.add_argument("--concurrency", default="1,8,32,64")
    parser.add_argument("--questions", choices=["gold", "french-spanish"], default="gold",
                        help="the English gold set, or the blind dev splits' French and Spanish questions (each is asked "
                             "many times: after its first time its words' translations are cached)")
    args = parser.parse_args()
    from evals.gold import dev_questions, load_gold

    if args.questions == "gold":
        questions = [q.question for q in load_gold()]
    else:
        questions = [q.question for q in dev_questions() if q.language in ("fr", "es")]
    print(f"questions: {args.questions} ({len(questions)})")
    levels = [int(c) for c in args.concurrency.split(",")]
    print(f"client: {args.client}")
    for name in args.config or list(CONFIGS):
        workers, shared = CONFIGS[name]
        with tempfile.TemporaryDirectory() as data, contextlib.ExitStack() as stack:
            env = stack.enter_context(chroma_and_postgres(Path(data))) if shared else {}
            url, server, started = stack.enter_context(served(data, workers, env))
            pids = _workers(server.pid)
            print(f"[{name}] {workers} worker(s){', Chroma server + PostgreSQL' if shared else ''}: ready in "
                  f"{time.perf_counter() - started:.1f} s; RSS per worker "
                  + ", ".join(f"{_rss_mb(p):.0f}" for p in pids) + " MB")
            asyncio.run(_load(url, questions, 4, 40))  # warm-up
            script = Path(data) / "ask.lua"
            _wrk_script(questions, script)
            for concurrency in levels:
                if args.client == "wrk":
                    r = _wrk(url, script, concurrency, args.seconds)
                else:
                    r = asyncio.run(_load(url, questions, concurrency, args.requests))
                print(f"  c={concurrency:<3} n={r['n']:.0f}  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
                      f"p99 {r['p99']:6.1f} ms  {r['rps']:6.1f} req/s  errors {r['errors']:.0f}  RSS per worker "
                      + ", ".join(f"{_rss_mb(p):.0f}" for p in pids) + " MB")
    print("targets (2 cores): c=1 p50 ≤ 30 ms, p95 ≤ 80 ms; c=8 ≥ 150 req/s, p95 ≤ 150 ms; 0 errors")


if __name__ == "__main__":
    main()
