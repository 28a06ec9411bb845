"""Answer-latency benchmark (prints numbers; not a timed test).

Loads the assistant once over the built index (``coalition ingest`` first), warms it, then answers
every gold question ``--rounds`` times in process and prints p50/p95/p99 of the whole answer and of
each stage. Run: ``python -m evals.bench_answer``. Targets (warm, 2 cores): p50 ≤ 30 ms, p95 ≤ 80 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def percentiles(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values)
    return {f"p{q}": float(np.percentile(arr, q)) for q in (50, 95, 99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assistant.pipeline import Assistant
    from core.settings import Settings
    from evals.gold import load_gold

    started = time.perf_counter()
    assistant = Assistant.from_settings(Settings())
    load_s = time.perf_counter() - started
    gold = load_gold()
    for q in gold[:10]:
        assistant.answer(q.question)  # warm caches and code paths
    totals: list[float] = []
    stages: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for q in gold:
            t = time.perf_counter()
            answer = assistant.answer(q.question)
            totals.append((time.perf_counter() - t) * 1000)
            for stage, ms in answer.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
    p = percentiles(totals)
    print(f"assistant load (model + indexes): {load_s:.2f} s")
    print(f"answers: {len(totals)} ({len(gold)} gold questions × {args.rounds}), mean {statistics.mean(totals):.1f} ms")
    print(f"answer latency: p50 {p['p50']:.1f} ms, p95 {p['p95']:.1f} ms, p99 {p['p99']:.1f} ms")
    for stage, values in stages.items():
        sp = percentiles(values)
        print(f"  {stage:<9} p50 {sp['p50']:6.2f} ms  p95 {sp['p95']:6.2f} ms")
    print("targets (warm, 2 cores): p50 ≤ 30 ms, p95 ≤ 80 ms")


if __name__ == "__main__":
    main()
