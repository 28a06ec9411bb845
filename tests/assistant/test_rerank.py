"""The default reranker's blend, on hand-made candidates (no model needed)."""

import pytest

from assistant.postprocessing.rerank import HybridReranker, TermWeights
from assistant.retrieval.retrieve import Candidate
from ingest.storage.store import StoredChunk


def _candidate(cid: str, text: str, dense: float, sentence: float) -> Candidate:
    return Candidate(StoredChunk(cid, text, {"kind": "section"}), dense=dense, sentences={(0, 1): sentence, (2, 3): 0.0})


def test_a_passage_whose_one_sentence_answers_is_lifted_over_an_even_one() -> None:
    even = _candidate("even", "Partners meet. They talk.", dense=0.50, sentence=0.50)
    sharp = _candidate("sharp", "Partners meet. They pay no fee.", dense=0.48, sentence=0.70)
    reranker = HybridReranker(TermWeights.of([]), lexical_weight=0.0)
    ranked = reranker.rerank("fees?", [even, sharp])
    assert [c.chunk.id for c in ranked] == ["sharp", "even"]
    assert ranked[0].score == pytest.approx(0.48 + reranker.sentence_weight * (0.70 - 0.48))


def test_a_sentence_weaker_than_its_passage_costs_nothing() -> None:
    cand = _candidate("c", "One. Two.", dense=0.6, sentence=0.4)
    HybridReranker(TermWeights.of([]), lexical_weight=0.0).rerank("anything", [cand])
    assert cand.score == pytest.approx(0.6)


def test_term_coverage_weighs_terms_by_idf() -> None:
    """Light words lost their quarter weight in the rule ablation: every term counts at its IDF."""
    chunks = [StoredChunk(str(i), text, {"kind": "section"}) for i, text in enumerate([
        "Partners make commitments.", "Partners meet twice a year.", "The forum meets once a year."])]
    weights = TermWeights.of(chunks)
    assert weights.weight("make") == pytest.approx(weights.idf["make"])
    assert weights.weight("partner") < weights.weight("commit")  # in two passages of three, against one
    assert weights.coverage(["commit", "partner"], {"commit"}) > 0.5


def test_the_questions_numbers_are_matched_against_the_passages_headings_in_any_language() -> None:
    """'étape 2' meets 'Step #2: …' by its number; the document label's numbers (GB.349/INS/4) are not a heading's."""
    from assistant.fitted import LinearModel
    from assistant.postprocessing.rerank import CANDIDATE_FEATURES, LearnedReranker

    def cand(cid: str, heading: str, text: str) -> Candidate:
        return Candidate(StoredChunk(cid, text, {"kind": "section", "heading_path": f'["{heading}"]',
                                                 "label": "GB.349/INS/4"}))

    step2 = cand("s2", "Step #2: Assess Partners Convergence", "Alignment with values.")
    title = cand("t", "A step-by-step guide", "Step by step, partners engage in 4 ways.")
    reranker = LearnedReranker(TermWeights.of([]), LinearModel.neutral("ranker", CANDIDATE_FEATURES))
    rows = reranker.features("étape 2 du guide ?", [step2, title], "fr")
    assert rows[0]["number_in_heading"] == 1.0 and rows[1]["number_in_heading"] == 0.0
    assert rows[1]["number_in_text"] == 0.0
    four = reranker.features("What are the 4 ways?", [step2, title])
    assert four[1]["number_in_text"] == 1.0 and four[0]["number_in_heading"] == 0.0  # not the label's /4
    assert "number_in_heading" not in reranker.features("How do partners engage?", [title])[0]  # counts as average
