"""Memory and time per MB of input (prints numbers; not a timed test).

Each size gets a fresh process ingesting one Markdown file of that many MB into a fresh index: prose
made of the corpus's own sentences in a seeded random order, a heading every eight paragraphs. The
peak resident memory of that process (``wait4``'s ``ru_maxrss``) less that of ingesting a 1 KB file
(model, torch and Chroma loaded) is what the input costs. Run: ``python -m evals.bench_memory
[MB ...]`` (default 0.1 0.2 0.4).
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.settings import PROJECT_ROOT


def corpus_sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "corpus").glob("*.txt")))
    return [s for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if len(s.split()) >= 6]


def markdown(size: int, seed: int = 0) -> str:
    rng, pool, parts, total, n = random.Random(seed), corpus_sentences(), ["# Large document\n"], 0, 0
    while total < size:
        if n % 8 == 0:
            parts.append(f"\n## Section {n // 8 + 1}\n")
        paragraph = " ".join(rng.choice(pool) for _ in range(rng.randint(2, 6)))
        parts.append(f"\n{paragraph}\n")
        total += len(paragraph.encode()) + 2
        n += 1
    return "".join(parts)


def ingest(text: str) -> tuple[float, float, dict[str, object]]:
    """(seconds, peak RSS in MB, the ingest's JSON report) of a fresh `coalition ingest` of one file."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp, "corpus")
        corpus.mkdir()
        (corpus / "large.md").write_text(text, encoding="utf-8")
        env = os.environ | {"COALITION_CORPUS_DIR": str(corpus), "COALITION_INDEX_DIR": str(Path(tmp, "index")),
                            "HF_HUB_OFFLINE": "1"}
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "coalition.cli", "ingest", "--json"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
    return seconds, usage.ru_maxrss / 1024, json.loads(out)


def main() -> None:
    sizes = [float(a) for a in sys.argv[1:]] or [0.1, 0.2, 0.4]
    base_s, base_rss, _ = ingest(markdown(1000))
    print(f"baseline (1 KB file): {base_rss:.0f} MB peak RSS, {base_s:.1f} s")
    print("| input MB | chunks | sentences | seconds | peak RSS MB | RSS above baseline per MB of input | s per MB |")
    print("|---|---|---|---|---|---|---|")
    for mb in sizes:
        text = markdown(int(mb * 1_000_000))
        seconds, rss, report = ingest(text)
        real = len(text.encode()) / 1_000_000
        print(f"| {real:.2f} | {report['chunks']} | {report['sentences_embedded']} | {seconds:.1f} | {rss:.0f} | "
              f"{(rss - base_rss) / real:.0f} MB | {(seconds - base_s) / real:.0f} |", flush=True)


if __name__ == "__main__":
    main()
