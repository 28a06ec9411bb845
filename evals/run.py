"""``coalition eval``: every question through ``Assistant.run`` (the code path of ``POST /ask``, history
included), scored on what the user sees, per set, persona, kind and language; a Markdown report; the
CI quality gate on the blind set's **test** split.

The sets: ``blind:dev`` (tune on it; its worst questions are shown), ``blind:test`` (aggregates only:
never read question by question), and the older sets the rules were written against, reported as
tuned-on regressions that no longer gate.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.candidates import Candidate, Query, candidates
from assistant.models import Answer
from assistant.pipeline import Assistant
from assistant.postprocessing.rerank import rerank
from assistant.retrieval import language as lang
from evals.gold import BLIND_SETS, GoldQuestion, load_gold, tuned_on_sets
from evals.scorer import (
    RETRIEVAL_METRICS,
    USER_METRICS,
    Scored,
    Summary,
    as_row,
    breakdown,
    contains_evidence,
    score_one,
    summarise,
    worst,
)

THRESHOLDS = Path(__file__).resolve().parent / "thresholds.toml"
# the gate reads their questions pooled: the first GATED_COUNT blind sets' test splits (a new set joins after its refit)
GATED_COUNT = 24
GATED_SETS = tuple(f"{name}:test" for name in list(BLIND_SETS)[:GATED_COUNT])
GATED_SET = f"test (blind + blind2 + … + blind{GATED_COUNT})"


@dataclass
class SetResult:
    name: str
    k: int
    rows: list[Scored]
    groups: dict[str, Summary]
    ablations: dict[str, Summary]

    @property
    def questions_visible(self) -> bool:
        """The test split is read as aggregates only."""
        return not self.name.endswith(":test") and self.name != GATED_SET

    @property
    def all(self) -> Summary:
        return self.groups["all"]


def named_sets(path: Path | None = None, split: str | None = None, tuned: bool = True) -> dict[str, list[GoldQuestion]]:
    """``path`` (a set; a split set gives ``name:dev`` and ``name:test``), or the blind sets and the tuned-on sets."""
    sets: dict[str, list[GoldQuestion]] = {}
    sources = {path.stem if path.is_file() else path.name: path} if path else BLIND_SETS
    for name, source in sources.items():
        questions = load_gold(source) if source.exists() else []
        if any(q.split for q in questions):
            for part in ("dev", "test"):
                if split in (None, part):
                    sets[f"{name}:{part}"] = [q for q in questions if q.split == part]
        elif questions:
            sets[name] = questions
    if path is None and tuned and split is None:
        sets.update({name: load_gold(p) for name, p in tuned_on_sets().items()})
    return sets


def relevant_counts(assistant: Assistant, gold: list[GoldQuestion]) -> dict[str, int]:
    return {g.id: sum(contains_evidence(c.text, g) for c in assistant.chunks) for g in gold if g.evidence}


def run_eval(assistant: Assistant, gold: list[GoldQuestion], k: int = 5, ablate: bool = False,
             name: str = "set") -> SetResult:
    counts = relevant_counts(assistant, gold)
    rows: list[Scored] = []
    for g in gold:
        start = time.perf_counter()
        answer, ranked = assistant.run(g.question, history=g.history or None)
        rows.append(score_one(g, answer, ranked, k, (time.perf_counter() - start) * 1000))
    ablations = _ablations(assistant, gold, k, counts) if ablate else {}
    return SetResult(name, k, rows, breakdown(rows, k, counts), ablations)


def _ablations(assistant: Assistant, gold: list[GoldQuestion], k: int, counts: dict[str, int]) -> dict[str, Summary]:
    """Retrieval diagnostics: each view alone (a LlamaIndex retriever of its own), the fused list, and the
    fused list reranked."""
    retriever = assistant.retriever
    answerable = [g for g in gold if not g.should_abstain]
    modes: dict[str, Callable[[Query], list[Candidate]]] = {
        view.name: (lambda q, view=view: candidates(view.retrieve(q))) for view in retriever.views  # type: ignore[misc]
    }
    modes["fused"] = lambda q: candidates(retriever.retrieve(q))
    modes["fused+rerank"] = lambda q: rerank(assistant.reranker, q, candidates(retriever.retrieve(q)))
    out: dict[str, Summary] = {}
    for mode, run in modes.items():
        rows = []
        for g in answerable:
            start = time.perf_counter()
            ranked = run(retriever.question(g.question, assistant.settings.retrieve_k, language=lang.detect(g.question)))
            rows.append(score_one(g, Answer(answer="", abstained=False), ranked, k,
                                  (time.perf_counter() - start) * 1000))
        out[mode] = summarise(rows, k, counts)
    return out


def thresholds(path: Path = THRESHOLDS) -> dict[str, float]:
    return {key: float(v) for key, v in tomllib.loads(path.read_text()).items()}


def pooled(assistant: Assistant, results: list[SetResult], names: tuple[str, ...] = GATED_SETS,
           name: str = GATED_SET) -> SetResult:
    """One result over the questions of ``names`` together (already answered: nothing is asked again)."""
    parts = [r for r in results if r.name in names]
    rows = [row for r in parts for row in r.rows]
    k = parts[0].k if parts else 5
    return SetResult(name, k, rows, breakdown(rows, k, relevant_counts(assistant, [row.gold for row in rows])), {})


def gate(result: SetResult, limits: dict[str, float]) -> list[str]:
    """The failed checks on ``result`` (the test split), as readable lines; empty when the gate passes."""
    m = result.all.metrics
    failures = []
    for key, limit in limits.items():
        if key.startswith("max_"):
            name = key[4:]
            if m.get(name, 0.0) > limit:
                failures.append(f"{name} {m.get(name, 0.0):.3f} > {limit:.3f}")
        elif m.get(key, 0.0) < limit:
            failures.append(f"{key} {m.get(key, 0.0):.3f} < {limit:.3f}")
    return failures


def table(summaries: dict[str, Summary], k: int, keys: tuple[str, ...] = USER_METRICS, label: str = "group") -> str:
    heads = [label, "n"] + [s.replace("_at_k", f"@{k}") for s in keys]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for name, s in summaries.items():
        cells = [name, str(s.n)] + [_fmt(s.metrics.get(key)) for key in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def overview(results: list[SetResult]) -> str:
    """One row per set: the user-visible metrics, then the retrieval diagnostics."""
    summaries = {r.name: r.all for r in results}
    k = results[0].k if results else 5
    return (table(summaries, k, USER_METRICS, "set") + "\n\nretrieval diagnostics (ranked list, not what the user sees):\n"
            + table(summaries, k, RETRIEVAL_METRICS, "set"))


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.3f}"


def as_json(results: list[SetResult]) -> dict[str, Any]:
    return {
        r.name: {
            "k": r.k,
            "groups": {g: {"n": s.n, **s.metrics} for g, s in r.groups.items()},
            "ablations": {m: {"n": s.n, **s.metrics} for m, s in r.ablations.items()},
            "questions": [as_row(q) for q in r.rows] if r.questions_visible else "test split: aggregates only",
        }
        for r in results
    }


def write_report(results: list[SetResult], path: Path) -> None:
    lines = ["# Eval report", "", "User-visible metrics first; hit@k / MRR / nDCG of the ranked list are retrieval "
             "diagnostics. The gate reads the test splits of both blind sets, pooled; sets marked tuned-on were "
             "looked at while the rules were "
             "written and are regression reports only.", "", overview(results), ""]
    for r in results:
        lines += [f"## {r.name} ({len(r.rows)} questions, k={r.k})", "", table(r.groups, r.k), ""]
        if r.ablations:
            lines += ["Retrieval ablations (answerable questions):", "",
                      table(r.ablations, r.k, RETRIEVAL_METRICS, "mode"), ""]
        if r.name.endswith(":dev"):
            lines += ["Worst 15 (dev only):", ""]
            for q in worst(r.rows, 15):
                lines.append(f"- **{q.gold.id}** ({q.gold.persona}, {q.gold.question_kind}, {q.gold.language}) "
                             f"{q.gold.question!r} — abstained={q.answer.abstained}, evidence cited={q.cited_hit:.0f}, "
                             f"facts {len(q.key_facts_found)}/{len(q.gold.key_facts)}; "
                             f"cited: {', '.join(c.locator for c in q.answer.citations) or 'nothing'}")
            lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


__all__ = ["BLIND_SETS", "GATED_SET", "GATED_SETS", "pooled",
           "RETRIEVAL_METRICS", "SetResult", "as_json", "gate", "load_gold", "named_sets", "overview",
           "run_eval", "table", "thresholds", "write_report"]
