"""Soak benchmark (prints numbers; not a timed test): the real server under bounded concurrent load with
a share of bad inputs, then a count of the feedback rows it acknowledged against those it stored.

Starts ``coalition serve`` on a free loopback port over the built index (``coalition ingest`` first) with
a fresh data directory. ``--clients`` asyncio clients (default 32) loop for ``--seconds`` (default 30):
each turn is, with probability ``--bad-share`` (default 0.05), a question holding a lone surrogate
(``"partners \\ud800 commit"``, which must get 400 and must not fail anyone else's request), otherwise a
gold-set question (200) followed by a rating of its answer (201). Prints requests, errors (any other
status, or a failed connection), p50/p95/p99 latency, req/s, and feedback rows lost (acknowledged with
201 but not in SQLite after the server stops; the bar is 0).
Run: ``python -m evals.bench_soak [--seconds 30] [--clients 32] [--bad-share 0.05]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from evals.bench_web import _rss_mb, served

BAD = rb'{"question": "partners \ud800 commit"}'


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    bad_refused: int = 0
    rated: set[str] = field(default_factory=set)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def _timed(tally: Tally, call: object) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response: httpx.Response = await call  # type: ignore[misc]
    except httpx.HTTPError as exc:
        tally.error(type(exc).__name__)
        return None
    finally:
        tally.latencies.append((time.perf_counter() - started) * 1000)
    return response


async def _client(client: httpx.AsyncClient, questions: list[str], bad_share: float, deadline: float,
                  tally: Tally, rng: random.Random) -> None:
    while time.perf_counter() < deadline:
        if rng.random() < bad_share:
            r = await _timed(tally, client.post("/ask", content=BAD, headers={"content-type": "application/json"}))
            if r is not None:
                tally.bad_refused += r.status_code == 400
                if r.status_code != 400:
                    tally.error(f"bad input got {r.status_code}")
            continue
        r = await _timed(tally, client.post("/ask", json={"question": rng.choice(questions)}))
        if r is None or r.status_code != 200:
            if r is not None:
                tally.error(f"/ask {r.status_code}")
            continue
        answer_id = r.json()["answer_id"]
        rating = rng.choice(["up", "down"])
        f = await _timed(tally, client.post("/feedback", json={"answer_id": answer_id, "rating": rating}))
        if f is not None and f.status_code == 201:
            tally.rated.add(answer_id)
        elif f is not None:
            tally.error(f"/feedback {f.status_code}")


async def _soak(url: str, questions: list[str], clients: int, seconds: float, bad_share: float) -> tuple[Tally, float]:
    tally = Tally()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(_client(client, questions, bad_share, deadline, tally, random.Random(i))
                               for i in range(clients)))
        wall = time.perf_counter() - started
    return tally, wall


def _stored(feedback_db: Path) -> set[str]:
    with sqlite3.connect(feedback_db) as db:
        return {row[0] for row in db.execute("SELECT answer_id FROM feedback")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30, help="how long the load runs (default 30)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--bad-share", type=float, default=0.05, help="share of requests with a lone surrogate")
    args = parser.parse_args()
    from evals.gold import load_gold

    questions = [q.question for q in load_gold()]
    with tempfile.TemporaryDirectory() as data:
        with served(data) as (url, server, _started):
            tally, wall = asyncio.run(_soak(url, questions, args.clients, args.seconds, args.bad_share))
            rss = _rss_mb(server.pid)
        lost = tally.rated - _stored(Path(data) / "feedback.sqlite3")
    arr = np.asarray(tally.latencies or [0.0])
    print(f"soak: {args.clients} clients, {wall:.1f} s, bad-input share {args.bad_share:.0%}; server RSS {rss:.0f} MB")
    print(f"requests {len(tally.latencies)}  ({len(tally.latencies) / wall:.1f} req/s)  "
          f"errors {sum(tally.errors.values())} {tally.errors or ''}")
    print(f"latency p50 {np.percentile(arr, 50):.1f} ms  p95 {np.percentile(arr, 95):.1f} ms  "
          f"p99 {np.percentile(arr, 99):.1f} ms")
    print(f"bad inputs refused with 400: {tally.bad_refused}")
    print(f"feedback rows acknowledged {len(tally.rated)}, lost {len(lost)} (bar: 0)")


if __name__ == "__main__":
    main()
