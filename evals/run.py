"""``coalition eval``: every gold question through ``Assistant.run`` (the web endpoint's code path),
scored per persona, with an optional Markdown report, ablations and the CI quality gate."""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.models import Answer
from assistant.pipeline import Assistant
from evals.gold import GoldQuestion, load_gold
from evals.scorer import Scored, Summary, as_row, by_persona, contains_evidence, score_one, summarise, worst

THRESHOLDS = Path(__file__).resolve().parent / "thresholds.toml"
SHOWN = ("hit_at_k", "mrr", "ndcg_at_k", "citation_precision", "citation_recall", "key_fact_recall",
         "median_words", "abstention_accuracy", "false_abstention", "latency_p50_ms", "latency_p95_ms")


@dataclass
class EvalResult:
    k: int
    rows: list[Scored]
    personas: dict[str, Summary]
    ablations: dict[str, Summary]


def relevant_counts(assistant: Assistant, gold: list[GoldQuestion]) -> dict[str, int]:
    return {g.id: sum(contains_evidence(c.text, g) for c in assistant.chunks) for g in gold if g.evidence}


def run_eval(assistant: Assistant, gold: list[GoldQuestion], k: int = 5, ablate: bool = False) -> EvalResult:
    counts = relevant_counts(assistant, gold)
    rows: list[Scored] = []
    for g in gold:
        start = time.perf_counter()
        answer, ranked = assistant.run(g.question)
        rows.append(score_one(g, answer, ranked, k, (time.perf_counter() - start) * 1000))
    ablations = _ablations(assistant, gold, k, counts) if ablate else {}
    return EvalResult(k, rows, by_persona(rows, k, counts), ablations)


def _ablations(assistant: Assistant, gold: list[GoldQuestion], k: int, counts: dict[str, int]) -> dict[str, Summary]:
    """Retrieval metrics for dense only, BM25 only, hybrid (RRF) and hybrid + rerank."""
    retriever = assistant.retriever
    answerable = [g for g in gold if not g.should_abstain]
    out: dict[str, Summary] = {}
    for mode in ("dense", "bm25", "hybrid", "hybrid+rerank"):
        rows = []
        for g in answerable:
            start = time.perf_counter()
            fused, _ = retriever.retrieve(g.question, assistant.settings.retrieve_k)
            if mode == "dense":
                ranked = sorted(fused, key=lambda c: -c.dense)
            elif mode == "bm25":
                ranked = sorted((c for c in fused if c.bm25 > 0), key=lambda c: -c.bm25)
            elif mode == "hybrid":
                ranked = fused
            else:
                ranked = assistant.reranker.rerank(g.question, fused)


            rows.append(score_one(g, Answer(answer="", abstained=False), ranked, k,
                                  (time.perf_counter() - start) * 1000))
        out[mode] = summarise(rows, k, counts)
    return out


def thresholds(path: Path = THRESHOLDS) -> dict[str, float]:
    return {key: float(v) for key, v in tomllib.loads(path.read_text()).items()}


def gate(result: EvalResult, limits: dict[str, float]) -> list[str]:
    """The failed checks, as readable lines (empty when the gate passes)."""
    m = result.personas["all"].metrics
    failures = []
    for key in ("hit_at_k", "mrr", "key_fact_recall", "abstention_accuracy"):
        if key in limits and m.get(key, 0.0) < limits[key]:
            failures.append(f"{key} {m.get(key, 0.0):.3f} < {limits[key]:.3f}")
    if m.get("median_words", 0) > limits.get("max_median_words", 1e9):
        failures.append(f"median_words {m['median_words']:.0f} > {limits['max_median_words']:.0f}")
    if m.get("false_abstention", 0) > limits.get("max_false_abstention", 1.0):
        failures.append(f"false_abstention {m['false_abstention']:.3f} > {limits['max_false_abstention']:.3f}")
    return failures


def table(summaries: dict[str, Summary], k: int) -> str:
    heads = ["persona", "n"] + [s.replace("_at_k", f"@{k}") for s in SHOWN]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for name, s in summaries.items():
        cells = [name, str(s.n)] + [_fmt(s.metrics.get(key)) for key in SHOWN]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.3f}"


def as_json(result: EvalResult) -> dict[str, Any]:
    return {
        "k": result.k,
        "personas": {p: {"n": s.n, **s.metrics} for p, s in result.personas.items()},
        "ablations": {m: {"n": s.n, **s.metrics} for m, s in result.ablations.items()},
        "questions": [as_row(r) for r in result.rows],
    }


def write_report(result: EvalResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chart = path.with_suffix(".png")
    personas = [p for p in result.personas if p != "all"]
    keys = ["hit_at_k", "mrr", "key_fact_recall", "citation_precision", "abstention_accuracy"]
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(keys)
    for i, key in enumerate(keys):
        values = [result.personas[p].metrics.get(key, 0.0) for p in personas]
        ax.bar([x + i * width for x in range(len(personas))], values, width, label=key)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(personas))], personas)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7, ncol=3)
    ax.set_title("Coalition Assistant — gold set by persona")
    fig.tight_layout()
    fig.savefig(chart, dpi=110)
    plt.close(fig)
    lines = [f"# Eval report ({len(result.rows)} questions, k={result.k})", "", table(result.personas, result.k), "",
             f"![per persona]({chart.name})", ""]
    if result.ablations:
        lines += ["## Ablations (retrieval only)", "", table(result.ablations, result.k), ""]
    lines += ["## Worst 10", ""]
    for r in worst(result.rows):
        lines.append(f"- **{r.gold.id}** ({r.gold.persona}) {r.gold.question!r} — abstained={r.answer.abstained}, "
                     f"hit={r.hit:.0f}, facts {len(r.key_facts_found)}/{len(r.gold.key_facts)}; "
                     f"cited: {', '.join(c.locator for c in r.answer.citations) or 'nothing'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


__all__ = ["EvalResult", "as_json", "gate", "load_gold", "run_eval", "table", "thresholds", "write_report"]
