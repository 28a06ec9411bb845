"""Answer latency of this checkout against an earlier commit, in one run (prints numbers; not a timed test).

Both versions answer from the same built index (``coalition ingest`` first; the commit must read the same
index format). Each runs in its own process, loaded once and warmed; the questions are then sent to the two
in alternating rounds, so the machine's noise falls on both alike. Run::

    python -m evals.bench_versions --before 362156a      # e.g. the commit before the LlamaIndex port
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from evals.gold import load_gold

ROOT = Path(__file__).resolve().parent.parent

# Runs inside each version: only the API both have (Assistant.from_settings, answer, timings_ms).
WORKER = """
import json, sys, time
from assistant.pipeline import Assistant
from core.settings import Settings
assistant = Assistant.from_settings(Settings())
print("ready", flush=True)
for line in sys.stdin:
    question = json.loads(line)
    t = time.perf_counter()
    answer = assistant.answer(question)
    print(json.dumps({"ms": (time.perf_counter() - t) * 1000, "abstained": answer.abstained,
                      "cited": [c.chunk_id for c in answer.citations]}), flush=True)
"""


def start(checkout: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=checkout, env={**env, "PYTHONPATH": str(checkout)},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        raise SystemExit(f"the worker in {checkout} did not start: {line!r}")
    return proc


def ask(proc: subprocess.Popen[str], question: str) -> dict[str, object]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(question) + "\n")
    proc.stdin.flush()
    return dict(json.loads(proc.stdout.readline()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    questions = [q.question for q in load_gold()]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.setdefault("COALITION_INDEX_DIR", str(ROOT / ".index"))
    env.setdefault("COALITION_CORPUS_DIR", str(ROOT / "corpus"))
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(old), args.before], check=True)
        try:
            procs = {"before": start(old, env), "after": start(ROOT, env)}
            for proc in procs.values():
                for q in questions[:10]:
                    ask(proc, q)  # warm
            times: dict[str, list[float]] = {name: [] for name in procs}
            same = 0
            for _ in range(args.rounds):
                for q in questions:
                    replies = {name: ask(proc, q) for name, proc in procs.items()}
                    for name, reply in replies.items():
                        times[name].append(float(reply["ms"]))  # type: ignore[arg-type]
                    same += replies["before"]["cited"] == replies["after"]["cited"]
            for proc in procs.values():
                proc.terminate()
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    print(f"{len(questions)} gold questions × {args.rounds} rounds, alternating; before = {args.before}")
    for name, values in times.items():
        arr = np.asarray(values)
        print(f"  {name:<6} p50 {np.percentile(arr, 50):6.1f} ms  p95 {np.percentile(arr, 95):6.1f} ms  "
              f"mean {statistics.fmean(values):6.1f} ms")
    ratio = np.percentile(times["after"], 50) / np.percentile(times["before"], 50)
    print(f"  after/before p50: {ratio:.2f}; same citations on {same} of {len(questions) * args.rounds} answers")


if __name__ == "__main__":
    main()
