"""Scores answers against the gold set: retrieval, citations, key facts, abstention, latency."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from assistant.models import Answer
from assistant.retrieve import Candidate
from evals.gold import GoldQuestion
from ingest.normalize import normalise


@dataclass
class Scored:
    gold: GoldQuestion
    answer: Answer
    ranked_ids: list[str]
    relevant_ranks: list[int]
    cited_relevant: list[bool]
    key_facts_found: list[str]
    words: int
    latency_ms: float

    @property
    def hit(self) -> float:
        return 1.0 if self.relevant_ranks else 0.0


def contains_evidence(text: str, gold: GoldQuestion) -> bool:
    body = normalise(text)
    return any(normalise(e.quote) in body for e in gold.evidence)


def score_one(gold: GoldQuestion, answer: Answer, ranked: list[Candidate], k: int, latency_ms: float) -> Scored:
    top = ranked[:k]
    ranks = [i + 1 for i, c in enumerate(top) if contains_evidence(c.chunk.text, gold)]
    text = normalise(answer.answer)
    found = [f for f in gold.key_facts if normalise(f) in text]
    cited = [contains_evidence(c.text, gold) for c in answer.citations]
    return Scored(gold, answer, [c.chunk.id for c in top], ranks, cited, found, len(answer.answer.split()), latency_ms)


@dataclass
class Summary:
    n: int = 0
    metrics: dict[str, float] = field(default_factory=dict)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)]


def summarise(rows: list[Scored], k: int, relevant_counts: dict[str, int]) -> Summary:
    answerable = [r for r in rows if not r.gold.should_abstain]
    must_abstain = [r for r in rows if r.gold.should_abstain]
    m: dict[str, float] = {}
    if answerable:
        m["hit_at_k"] = statistics.fmean(r.hit for r in answerable)
        m["mrr"] = statistics.fmean(1.0 / r.relevant_ranks[0] if r.relevant_ranks else 0.0 for r in answerable)
        ndcgs = []
        for r in answerable:
            dcg = sum(1.0 / math.log2(rank + 1) for rank in r.relevant_ranks)
            ideal_n = min(k, max(relevant_counts.get(r.gold.id, 1), 1))
            idcg = sum(1.0 / math.log2(i + 2) for i in range(ideal_n))
            ndcgs.append(dcg / idcg if idcg else 0.0)
        m["ndcg_at_k"] = statistics.fmean(ndcgs)
        cited = [c for r in answerable for c in r.cited_relevant]
        m["citation_precision"] = statistics.fmean(cited) if cited else 0.0
        m["citation_recall"] = statistics.fmean(1.0 if any(r.cited_relevant) else 0.0 for r in answerable)
        m["key_fact_recall"] = statistics.fmean(
            len(r.key_facts_found) / len(r.gold.key_facts) if r.gold.key_facts else 1.0 for r in answerable
        )
        m["median_words"] = statistics.median(r.words for r in answerable)
        m["false_abstention"] = statistics.fmean(1.0 if r.answer.abstained else 0.0 for r in answerable)
    if must_abstain:
        m["abstention_accuracy"] = statistics.fmean(1.0 if r.answer.abstained else 0.0 for r in must_abstain)
    latencies = [r.latency_ms for r in rows]
    m["latency_p50_ms"] = _pct(latencies, 0.5)
    m["latency_p95_ms"] = _pct(latencies, 0.95)
    return Summary(len(rows), m)


def by_persona(rows: list[Scored], k: int, relevant_counts: dict[str, int]) -> dict[str, Summary]:
    groups: dict[str, list[Scored]] = defaultdict(list)
    for r in rows:
        groups[r.gold.persona].append(r)
    out = {p: summarise(g, k, relevant_counts) for p, g in sorted(groups.items())}
    out["all"] = summarise(rows, k, relevant_counts)
    return out


def worst(rows: list[Scored], n: int = 10) -> list[Scored]:
    def badness(r: Scored) -> float:
        if r.gold.should_abstain:
            return 0.0 if r.answer.abstained else 3.0
        facts = len(r.key_facts_found) / len(r.gold.key_facts) if r.gold.key_facts else 1.0
        return (1 - r.hit) * 2 + (1 - facts) + (1.0 if r.answer.abstained else 0.0)

    return sorted((r for r in rows if badness(r) > 0), key=badness, reverse=True)[:n]


def as_row(r: Scored) -> dict[str, Any]:
    return {
        "id": r.gold.id, "persona": r.gold.persona, "question": r.gold.question, "abstained": r.answer.abstained,
        "hit": r.hit, "first_relevant_rank": r.relevant_ranks[0] if r.relevant_ranks else None,
        "key_facts_found": r.key_facts_found, "key_facts": r.gold.key_facts, "words": r.words,
        "cited": [c.locator for c in r.answer.citations], "latency_ms": r.latency_ms,
    }
