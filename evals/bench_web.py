"""Web load benchmark (prints numbers; not a timed test).

Starts the real server (``coalition serve``) on a free loopback port over the built index, then sends
``POST /ask`` with gold-set questions at concurrency 1, 8 and 32 and prints p50/p95/p99 latency,
requests per second, errors and the server's resident memory. The load comes from ``wrk`` when it is
installed (``make bench`` installs Debian's), a C client that leaves the 2 cores to the server;
otherwise from an asyncio client in this process, which takes a share of them (``--client asyncio``).
Run: ``python -m evals.bench_web [--requests 400] [--seconds 15]`` (``coalition ingest`` first).
Targets (2 cores): c=1 p50 ≤ 30 ms and p95 ≤ 80 ms; c=8 ≥ 100 req/s with p95 ≤ 150 ms; 0 errors.
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


@contextlib.contextmanager
def served(data: str) -> Iterator[tuple[str, subprocess.Popen[bytes], float]]:
    """``coalition serve`` on a free loopback port with its answers in ``data``: (url, process, start time),
    once ``/readyz`` says ready; terminated on exit."""
    port = _free_port()
    env = os.environ | {"HF_HUB_OFFLINE": "1", "COALITION_DATA_DIR": data}
    server = subprocess.Popen([sys.executable, "-m", "coalition.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    try:
        while True:
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.perf_counter() - started > 120:
                raise SystemExit("the server did not become ready (run `coalition ingest` first)")
            time.sleep(0.2)
        yield url, server, started
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400, help="asyncio client: requests per concurrency level")
    parser.add_argument("--seconds", type=int, default=15, help="wrk: seconds per concurrency level")
    parser.add_argument("--client", choices=["wrk", "asyncio"], default="wrk" if shutil.which("wrk") else "asyncio")
    args = parser.parse_args()
    from evals.gold import load_gold

    questions = [q.question for q in load_gold()]
    with tempfile.TemporaryDirectory() as data, served(data) as (url, server, started):
        print(f"server ready in {time.perf_counter() - started:.1f} s; RSS {_rss_mb(server.pid):.0f} MB")
        asyncio.run(_load(url, questions, 4, 40))  # warm-up
        script = Path(data) / "ask.lua"
        _wrk_script(questions, script)
        print(f"client: {args.client}")
        for concurrency in (1, 8, 32):
            if args.client == "wrk":
                r = _wrk(url, script, concurrency, args.seconds)
            else:
                r = asyncio.run(_load(url, questions, concurrency, args.requests))
            print(f"c={concurrency:<3} n={r['n']:.0f}  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
                  f"p99 {r['p99']:6.1f} ms  {r['rps']:6.1f} req/s  errors {r['errors']:.0f}  "
                  f"server RSS {_rss_mb(server.pid):.0f} MB")
    print("targets (2 cores): c=1 p50 ≤ 30 ms, p95 ≤ 80 ms; c=8 ≥ 100 req/s, p95 ≤ 150 ms; 0 errors")


if __name__ == "__main__":
    main()
