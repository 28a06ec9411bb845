"""What audiences cost: building an audience's view of the corpus, its memory, and answer latency per audience
(prints numbers; not a timed test).

It copies an index (default: ``.index``, as ``make run`` builds it) to a temp dir, loads the assistant,
marks one document staff-only in memory (as its manifest's ``visibility = "staff"`` would after an ingest)
and then measures: the first ``for_audience(public)`` (the view is built: BM25, n-grams, spelling, term
weights, answerability, practices over the visible passages), the resident memory it adds, and the answer
latency of the gold questions as staff (the full view) and as public, alternating. Run:
``python -m evals.bench_audience [--index DIR] [--doc DOC_ID] [--n N]``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from assistant.audience import Audience, AudienceViews, default_visibility
from assistant.pipeline import Assistant
from core.settings import PROJECT_ROOT, Settings
from evals.gold import load_gold


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=PROJECT_ROOT / ".index")
    parser.add_argument("--doc", default="industriall-joins", help="the document made staff-only")
    parser.add_argument("--n", type=int, default=60, help="gold questions per audience")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        shutil.copytree(args.index, index, symlinks=True)
        settings = Settings(index_dir=index)
        assistant = Assistant.from_settings(settings)
        for chunk in assistant.chunks:
            if chunk.metadata.get("doc_id") == args.doc:
                chunk.metadata["visibility"] = "staff"
        assistant.views = AudienceViews(assistant.chunks, assistant, assistant._restricted, default_visibility(settings))
        questions = [q.question for q in load_gold()][: args.n]
        assistant.answer(questions[0])
        before, t = rss_mb(), time.perf_counter()
        public = assistant.for_audience(Audience.PUBLIC)
        built = (time.perf_counter() - t) * 1000
        grown = rss_mb() - before
        print(f"{len(assistant.chunks)} passages, {len(public.chunks)} public; building the public view: "
              f"{built:.0f} ms, +{grown:.1f} MB resident")
        assistant.answer(questions[0], audience=Audience.PUBLIC)
        times: dict[Audience, list[float]] = {Audience.STAFF: [], Audience.PUBLIC: []}
        for q in questions:  # alternating, so load on the machine falls on both alike
            for audience, seen in times.items():
                t = time.perf_counter()
                assistant.answer(q, audience=audience)
                seen.append((time.perf_counter() - t) * 1000)
        for audience, seen in times.items():
            seen.sort()
            print(f"{audience}: answer p50 {statistics.median(seen):.1f} ms, p95 {seen[int(0.95 * len(seen)) - 1]:.1f} ms "
                  f"over {len(seen)} gold questions")


if __name__ == "__main__":
    main()
