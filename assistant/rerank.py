"""Rerank stage, pluggable. The default needs no cross-encoder (none ships its weights on PyPI): it
blends the bi-encoder's cosine for the passage and for its best sentence with IDF-weighted coverage
of the question's terms. A
sentence-transformers ``CrossEncoder`` is one setting away (``COALITION_RERANKER=cross-encoder:<model>``).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Protocol

from assistant.retrieve import Candidate
from assistant.text import GLOSSARY, LIGHT_FACTOR, LIGHT_TERMS, question_terms, text_terms
from ingest.keyword import passage_context
from ingest.store import StoredChunk

# Chosen on the gold set and held-out set a (evals/): sentence 0.3 → 0.6 and terms 0.5 → 0.45 raised MRR on both.
LEXICAL_WEIGHT, SENTENCE_WEIGHT = 0.45, 0.6


class Reranker(Protocol):
    def rerank(self, question: str, candidates: list[Candidate]) -> list[Candidate]: ...


class TermWeights:
    """Inverse document frequency of stemmed terms over the indexed chunks."""

    def __init__(self, chunks: list[StoredChunk]) -> None:
        df: Counter[str] = Counter()
        for chunk in chunks:
            df.update(text_terms(passage_words(chunk)))
        n = max(len(chunks), 1)
        self.idf = {t: math.log(1 + n / (1 + f)) for t, f in df.items()}
        self.unknown = math.log(1 + n)

    def weight(self, term: str) -> float:
        weight = self.idf.get(term, self.unknown)
        return weight * LIGHT_FACTOR if term in LIGHT_TERMS else weight

    def coverage(self, query_terms: list[str], text_terms: set[str]) -> float:
        """Share of the question's (IDF-weighted) terms that the text contains."""
        unique = set(query_terms)
        total = sum(self.weight(t) for t in unique)
        if not total:
            return 0.0
        covered = (t for t in unique if t in text_terms or any(s in text_terms for s in GLOSSARY.get(t, ())))
        return sum(self.weight(t) for t in covered) / total


def passage_words(chunk: StoredChunk) -> str:
    return f"{passage_context(chunk)} {chunk.text}"


class HybridReranker:
    """Default reranker: ``score = dense + sentence_weight × max(0, best sentence − dense)
    + lexical_weight × coverage`` (a passage whose one sentence answers better than the whole is lifted)."""

    def __init__(self, weights: TermWeights, lexical_weight: float = LEXICAL_WEIGHT,
                 sentence_weight: float = SENTENCE_WEIGHT) -> None:
        self.weights = weights
        self.lexical_weight = lexical_weight
        self.sentence_weight = sentence_weight
        self._terms: dict[str, set[str]] = {}

    def chunk_terms(self, chunk: StoredChunk) -> set[str]:
        if chunk.id not in self._terms:
            self._terms[chunk.id] = text_terms(passage_words(chunk))
        return self._terms[chunk.id]

    def rerank(self, question: str, candidates: list[Candidate]) -> list[Candidate]:
        qterms = question_terms(question)
        for cand in candidates:
            cand.lexical = self.weights.coverage(qterms, self.chunk_terms(cand.chunk))
            penalty = 0.9 if cand.chunk.metadata.get("kind") in ("footnote", "front_matter") else 1.0
            lift = self.sentence_weight * max(cand.sentence - cand.dense, 0.0)
            cand.score = penalty * (cand.dense + lift + self.lexical_weight * cand.lexical)
        return sorted(candidates, key=lambda c: -c.score)


class CrossEncoderReranker:
    """Optional: a sentence-transformers ``CrossEncoder`` scores (question, passage) pairs."""

    def __init__(self, model: str, device: str = "cpu") -> None:
        from sentence_transformers import CrossEncoder

        self.model = CrossEncoder(model, device=device)

    def rerank(self, question: str, candidates: list[Candidate]) -> list[Candidate]:
        if not candidates:
            return candidates
        scores = self.model.predict([(question, c.chunk.text) for c in candidates])
        for cand, score in zip(candidates, scores, strict=True):
            cand.score = float(score)
        return sorted(candidates, key=lambda c: -c.score)
