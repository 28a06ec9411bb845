"""Scores answers on what the user sees — the cited passages and the answer text — with the ranked list's
hit@k / MRR / nDCG kept as retrieval diagnostics, labelled as such.

User-visible, over answerable questions (``should_abstain`` false):
- ``evidence_cited``: a cited passage holds an evidence quote;
- ``cited_mrr``: 1 / the number of the first citation that holds one (0 when none does);
- ``citation_precision``: the share of citations that hold one;
- ``key_facts``: the share of key facts stated in the answer text;
- ``answerable_declined``: the answer abstained; ``median_words``: the answer's length.
Over should-abstain questions: ``declined`` (and per kind: off-topic, near-miss), and for near-miss
questions with ``near_evidence``, ``near_miss_cites_nearby``: the reply cites that passage.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.models import Answer
from assistant.retrieval.retrieve import Candidate
from evals.gold import Evidence, GoldQuestion
from ingest.reading.normalize import normalise

USER_METRICS = ("evidence_cited", "cited_mrr", "citation_precision", "key_facts", "median_words",
                "answerable_declined", "declined", "off_topic_declined", "near_miss_declined", "near_miss_cites_nearby",
                "latency_p50_ms", "latency_p95_ms")
RETRIEVAL_METRICS = ("hit_at_k", "mrr", "ndcg_at_k")


@dataclass
class Scored:
    gold: GoldQuestion
    answer: Answer
    ranked_ids: list[str]
    relevant_ranks: list[int]  # ranks (1-based) in the ranked list's top k that hold evidence: diagnostics
    cited_relevant: list[bool]  # per citation, in order: does the cited passage hold evidence?
    cited_nearby: bool
    key_facts_found: list[str]
    words: int
    latency_ms: float

    @property
    def hit(self) -> float:
        return 1.0 if self.relevant_ranks else 0.0

    @property
    def cited_hit(self) -> float:
        return 1.0 if any(self.cited_relevant) else 0.0

    @property
    def cited_rr(self) -> float:
        return next((1.0 / (i + 1) for i, ok in enumerate(self.cited_relevant) if ok), 0.0)

    @property
    def facts(self) -> float:
        return len(self.key_facts_found) / len(self.gold.key_facts) if self.gold.key_facts else 1.0


def holds(text: str, evidence: list[Evidence]) -> bool:
    body = normalise(text)
    return any(normalise(e.quote) in body for e in evidence)


def contains_evidence(text: str, gold: GoldQuestion) -> bool:
    return holds(text, gold.evidence)


def score_one(gold: GoldQuestion, answer: Answer, ranked: list[Candidate], k: int, latency_ms: float) -> Scored:
    top = ranked[:k]
    ranks = [i + 1 for i, c in enumerate(top) if contains_evidence(c.chunk.text, gold)]
    text = normalise(answer.answer)
    found = [f for f in gold.key_facts if normalise(f) in text]
    cited = [contains_evidence(c.text, gold) for c in answer.citations]
    nearby = bool(gold.near_evidence) and any(holds(c.text, gold.near_evidence) for c in answer.citations)
    return Scored(gold, answer, [c.chunk.id for c in top], ranks, cited, nearby, found, len(answer.answer.split()),
                  latency_ms)


@dataclass
class Summary:
    n: int = 0
    metrics: dict[str, float] = field(default_factory=dict)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)]


def _mean(rows: list[Scored], value: Callable[[Scored], float]) -> float:
    return statistics.fmean(value(r) for r in rows)


def summarise(rows: list[Scored], k: int, relevant_counts: dict[str, int]) -> Summary:
    answerable = [r for r in rows if not r.gold.should_abstain]
    must_abstain = [r for r in rows if r.gold.should_abstain]
    m: dict[str, float] = {}
    if answerable:
        m["evidence_cited"] = _mean(answerable, lambda r: r.cited_hit)
        m["cited_mrr"] = _mean(answerable, lambda r: r.cited_rr)
        cited = [c for r in answerable for c in r.cited_relevant]
        m["citation_precision"] = statistics.fmean(cited) if cited else 0.0
        m["key_facts"] = _mean(answerable, lambda r: r.facts)
        m["median_words"] = statistics.median(r.words for r in answerable)
        m["answerable_declined"] = _mean(answerable, lambda r: 1.0 if r.answer.abstained else 0.0)
        m["hit_at_k"] = _mean(answerable, lambda r: r.hit)
        m["mrr"] = _mean(answerable, lambda r: 1.0 / r.relevant_ranks[0] if r.relevant_ranks else 0.0)
        ndcgs = []
        for r in answerable:
            dcg = sum(1.0 / math.log2(rank + 1) for rank in r.relevant_ranks)
            ideal_n = min(k, max(relevant_counts.get(r.gold.id, 1), 1))
            idcg = sum(1.0 / math.log2(i + 2) for i in range(ideal_n))
            ndcgs.append(dcg / idcg if idcg else 0.0)
        m["ndcg_at_k"] = statistics.fmean(ndcgs)
    if must_abstain:
        m["declined"] = _mean(must_abstain, lambda r: 1.0 if r.answer.abstained else 0.0)
        for kind in ("off_topic", "near_miss"):
            group = [r for r in must_abstain if r.gold.question_kind == kind]
            if group:
                m[f"{kind}_declined"] = _mean(group, lambda r: 1.0 if r.answer.abstained else 0.0)
        nearby = [r for r in must_abstain if r.gold.near_evidence]
        if nearby:
            m["near_miss_cites_nearby"] = _mean(nearby, lambda r: 1.0 if r.answer.abstained and r.cited_nearby else 0.0)
    latencies = [r.latency_ms for r in rows]
    m["latency_p50_ms"] = _pct(latencies, 0.5)
    m["latency_p95_ms"] = _pct(latencies, 0.95)
    return Summary(len(rows), m)


def breakdown(rows: list[Scored], k: int, relevant_counts: dict[str, int]) -> dict[str, Summary]:
    """``all``, then per persona, per kind and per language (``persona:staff``, ``kind:near_miss``, ``lang:fr``)."""
    groups: dict[str, list[Scored]] = defaultdict(list)
    for r in rows:
        groups[f"persona:{r.gold.persona}"].append(r)
        groups[f"kind:{r.gold.question_kind}"].append(r)
        groups[f"lang:{r.gold.language}"].append(r)
    out = {"all": summarise(rows, k, relevant_counts)}
    out.update({name: summarise(g, k, relevant_counts) for name, g in sorted(groups.items())})
    return out


def badness(r: Scored) -> float:
    if r.gold.should_abstain:
        return 0.0 if r.answer.abstained else 3.0
    return (1 - r.cited_hit) * 2 + (1 - r.facts) + (1.0 if r.answer.abstained else 0.0)


def worst(rows: list[Scored], n: int = 10) -> list[Scored]:
    return sorted((r for r in rows if badness(r) > 0), key=badness, reverse=True)[:n]


def as_row(r: Scored) -> dict[str, Any]:
    return {
        "id": r.gold.id, "persona": r.gold.persona, "kind": r.gold.question_kind, "language": r.gold.language,
        "question": r.gold.question, "abstained": r.answer.abstained, "evidence_cited": r.cited_hit,
        "cited_rr": r.cited_rr, "key_facts_found": r.key_facts_found, "key_facts": r.gold.key_facts, "words": r.words,
        "cited": [c.locator for c in r.answer.citations], "retrieval_hit": r.hit,
        "first_relevant_rank": r.relevant_ranks[0] if r.relevant_ranks else None, "latency_ms": r.latency_ms,
    }
