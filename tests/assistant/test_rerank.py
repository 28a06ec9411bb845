"""The default reranker's blend, on hand-made candidates (no model needed)."""

import pytest

from assistant.rerank import HybridReranker, TermWeights
from assistant.retrieve import Candidate
from ingest.store import StoredChunk


def _candidate(cid: str, text: str, dense: float, sentence: float) -> Candidate:
    return Candidate(StoredChunk(cid, text, {"kind": "section"}), dense=dense, sentences={(0, 1): sentence, (2, 3): 0.0})


def test_a_passage_whose_one_sentence_answers_is_lifted_over_an_even_one() -> None:
    even = _candidate("even", "Partners meet. They talk.", dense=0.50, sentence=0.50)
    sharp = _candidate("sharp", "Partners meet. They pay no fee.", dense=0.48, sentence=0.70)
    reranker = HybridReranker(TermWeights([]), lexical_weight=0.0)
    ranked = reranker.rerank("fees?", [even, sharp])
    assert [c.chunk.id for c in ranked] == ["sharp", "even"]
    assert ranked[0].score == pytest.approx(0.48 + reranker.sentence_weight * (0.70 - 0.48))


def test_a_sentence_weaker_than_its_passage_costs_nothing() -> None:
    cand = _candidate("c", "One. Two.", dense=0.6, sentence=0.4)
    HybridReranker(TermWeights([]), lexical_weight=0.0).rerank("anything", [cand])
    assert cand.score == pytest.approx(0.6)


def test_term_coverage_weighs_terms_by_idf() -> None:
    """Light words lost their quarter weight in the rule ablation: every term counts at its IDF."""
    chunks = [StoredChunk(str(i), text, {"kind": "section"}) for i, text in enumerate([
        "Partners make commitments.", "Partners meet twice a year.", "The forum meets once a year."])]
    weights = TermWeights(chunks)
    assert weights.weight("make") == pytest.approx(weights.idf["make"])
    assert weights.weight("partner") < weights.weight("commit")  # in two passages of three, against one
    assert weights.coverage(["commit", "partner"], {"commit"}) > 0.5
