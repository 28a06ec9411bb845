"""Splits the blind set once into dev and test, 50/50, stratified by persona, kind and language.

Run once, before the set's first run, and commit the result (the ``split`` field of every line)::

    python -m evals.split evals/blind/questions.jsonl

A follow-up keeps the split of nothing else: each question is assigned on its own. Re-running on a set
that already has splits refuses, so the split cannot drift once questions have been looked at.
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

SEED = 20261201


def assign(rows: list[dict[str, object]], seed: int = SEED) -> None:
    """Set ``split`` on each row: within each (persona, kind, language) stratum, shuffled, alternately dev
    and test; a stratum's odd one out goes to whichever split is smaller overall."""
    strata: dict[tuple[str, str, str], list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        strata[(str(row["persona"]), str(row["kind"]), str(row["language"]))].append(row)
    rng = random.Random(seed)
    sizes = {"dev": 0, "test": 0}
    for key in sorted(strata):
        group = strata[key]
        rng.shuffle(group)
        for i, row in enumerate(group[: len(group) // 2 * 2]):
            row["split"] = "dev" if i % 2 == 0 else "test"
            sizes[str(row["split"])] += 1
        if len(group) % 2:
            side = min(sizes, key=lambda s: (sizes[s], s))
            group[-1]["split"] = side
            sizes[side] += 1


def main(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if any(row.get("split") for row in rows):
        sys.exit(f"{path} is split already; the split is made once")
    assign(rows)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    counts = {s: sum(r["split"] == s for r in rows) for s in ("dev", "test")}
    print(f"{path}: {counts}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
