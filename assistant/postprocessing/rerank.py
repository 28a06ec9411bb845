"""Rerank stage: LlamaIndex node postprocessors, pluggable. The default, ``LearnedReranker``, needs no
cross-encoder (none ships its weights on PyPI): it scores each candidate by a linear model over the retrieval views' normalised
scores, the raw cosines and the IDF-weighted coverage of the question's terms, with weights fitted on
the blind dev split (``python -m evals.fit``; ``assistant/fitted/ranker.json`` holds them and their
cross-validated scores). ``HybridReranker`` is the hand-weighted blend it replaced, kept as the baseline
the fit is compared with. A sentence-transformers cross-encoder is one setting away
(``COALITION_RERANKER=cross-encoder:<model>``: LlamaIndex's own ``SentenceTransformerRerank``), and so is any
other LlamaIndex postprocessor that reorders nodes.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle

from assistant.candidates import Candidate, Query
from assistant.candidates import candidates as as_candidates
from assistant.fitted import LinearModel
from assistant.retrieval.retrieve import VIEWS
from assistant.text import GLOSSARY, question_terms, text_terms
from ingest.storage.lexicon import Lexicon, passage_words
from ingest.storage.store import StoredChunk

# Chosen on the gold set and held-out set a (evals/): sentence 0.3 → 0.6 and terms 0.5 → 0.45 raised MRR on both.
LEXICAL_WEIGHT, SENTENCE_WEIGHT = 0.45, 0.6


class TermWeights:
    """Inverse document frequency of stemmed terms over the indexed chunks, and each chunk's terms: both
    read from the lexicon ingest stored (``ingest/storage/lexicon.py``), not analysed again at start-up."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        n = max(len(lexicon.ids), 1)
        self.idf = {t: math.log(1 + n / (1 + f)) for t, f in lexicon.frequencies("terms").items()}
        self.unknown = math.log(1 + n)

    @classmethod
    def of(cls, chunks: list[StoredChunk]) -> TermWeights:
        """Over ``chunks`` analysed here (a few passages; an index stores its lexicon)."""
        return cls(Lexicon.fit(chunks))

    def terms(self, chunk: StoredChunk) -> set[str]:
        """The passage's terms (its locator and heading with its text), with the answer-type pseudo-terms."""
        stored = self.lexicon.row("terms", chunk.id)
        return stored if stored is not None else text_terms(passage_words(chunk))

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.unknown)

    def coverage(self, query_terms: list[str], text_terms: set[str]) -> float:
        """Share of the question's (IDF-weighted) terms that the text contains."""
        unique = set(query_terms)
        total = sum(self.weight(t) for t in unique)
        if not total:
            return 0.0
        covered = (t for t in unique if t in text_terms or any(s in text_terms for s in GLOSSARY.get(t, ())))
        return sum(self.weight(t) for t in covered) / total


class HybridReranker(BaseNodePostprocessor):
    """The hand-set baseline: ``score = dense + sentence_weight × max(0, best sentence − dense)
    + lexical_weight × coverage`` (a passage whose one sentence answers better than the whole is lifted)."""

    weights: Any  # TermWeights (pydantic sees an arbitrary type)
    lexical_weight: float = LEXICAL_WEIGHT
    sentence_weight: float = SENTENCE_WEIGHT

    def __init__(self, weights: TermWeights, lexical_weight: float = LEXICAL_WEIGHT,
                 sentence_weight: float = SENTENCE_WEIGHT, **data: Any) -> None:
        super().__init__(weights=weights, lexical_weight=lexical_weight, sentence_weight=sentence_weight, **data)

    @classmethod
    def class_name(cls) -> str:
        return cls.__name__

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        query = Query.of(query_bundle or "")
        return self.rerank(query.query_str, as_candidates(nodes), query.language)  # type: ignore[return-value]

    def chunk_terms(self, chunk: StoredChunk) -> set[str]:
        return self.weights.terms(chunk)

    def rerank(self, question: str, candidates: list[Candidate], language: str = "en") -> list[Candidate]:
        qterms = question_terms(question)
        for cand in candidates:
            cand.lexical = self.weights.coverage(qterms, self.chunk_terms(cand.chunk))
            cand.score = self.blend(cand, self.lexical_weight, self.sentence_weight)
        return sorted(candidates, key=lambda c: -c.score)

    @staticmethod
    def blend(cand: Candidate, lexical_weight: float = LEXICAL_WEIGHT, sentence_weight: float = SENTENCE_WEIGHT) -> float:
        """The hand-set score, from a candidate whose ``lexical`` coverage is set."""
        penalty = 0.9 if cand.chunk.metadata.get("kind") in ("footnote", "front_matter") else 1.0
        lift = sentence_weight * max(cand.sentence - cand.dense, 0.0)
        return penalty * (cand.dense + lift + lexical_weight * cand.lexical)


CROSS_LINGUAL = ("z_dense", "z_bm25", "z_e5", "z_ngram", "coverage")  # weighed apart for French and Spanish questions
CANDIDATE_FEATURES = (*(f"z_{v}" for v in VIEWS), "dense", "sentence", "e5", "coverage", "minor", "number_in_heading",
                      "number_in_text",
                      *(f"xl_{f}" for f in CROSS_LINGUAL))


_NUMBER = re.compile(r"(?<![\w.])\d{1,4}(?![\w.]\d)")


def heading_path(chunk: StoredChunk) -> str:
    """The passage's locator and every heading above it ('Table 2: Countries › India › thematic area 4')."""
    return " ".join([str(chunk.metadata.get("locator", "")), *json.loads(str(chunk.metadata.get("heading_path", "[]")))])


class LearnedReranker(HybridReranker):
    """The default: ``score`` = the fitted model's probability that the passage holds the answer (``evals/fit.py``)."""

    model: Any  # LinearModel

    def __init__(self, weights: TermWeights, model: LinearModel) -> None:
        super().__init__(weights, model=model)

    def features(self, question: str, candidates: list[Candidate], language: str = "en") -> list[dict[str, float]]:
        qterms = question_terms(question)
        numbers = set(_NUMBER.findall(question))  # 'step 4', 'paragraph 16', 'étape 2', 'table 2': any language
        rows = []
        for cand in candidates:
            cand.lexical = self.weights.coverage(qterms, self.chunk_terms(cand.chunk))
            x = {f"z_{v}": cand.z[v] for v in VIEWS if v in cand.z}  # a view switched off is left out
            x.update(dense=cand.dense, sentence=cand.sentence, coverage=cand.lexical,
                     minor=1.0 if cand.chunk.metadata.get("kind") in ("footnote", "front_matter") else 0.0)
            if "e5" in cand.z:
                x["e5"] = cand.e5
            if numbers:  # the share of the question's numbers in the passage's locator and headings, and in its text
                x["number_in_heading"] = len(numbers & set(_NUMBER.findall(heading_path(cand.chunk)))) / len(numbers)
                x["number_in_text"] = len(numbers & set(_NUMBER.findall(cand.chunk.text))) / len(numbers)
            other = 0.0 if language == "en" else 1.0
            x.update({f"xl_{f}": other * x[f] for f in CROSS_LINGUAL if f in x})
            rows.append(x)
        return rows

    def rerank(self, question: str, candidates: list[Candidate], language: str = "en") -> list[Candidate]:
        for cand, x in zip(candidates, self.features(question, candidates, language), strict=True):
            cand.score = self.model.probability(x)
        return sorted(candidates, key=lambda c: -c.score)


def cross_encoder(model: str, device: str = "cpu") -> BaseNodePostprocessor:
    """LlamaIndex's sentence-transformers cross-encoder postprocessor over every candidate (no model ships
    its weights on PyPI, so this needs a model hub or a local path)."""
    from llama_index.core.postprocessor import SentenceTransformerRerank

    return SentenceTransformerRerank(model=model, top_n=10_000, device=device, keep_retrieval_score=False)


def rerank(postprocessor: BaseNodePostprocessor, query: Query, ranked: list[Candidate]) -> list[Candidate]:
    """``ranked`` reordered by ``postprocessor`` (``LearnedReranker`` by default)."""
    return as_candidates(postprocessor.postprocess_nodes(list(ranked), query))
