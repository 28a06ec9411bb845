"""The question sets are sound: enough questions, every persona, every quote really in the corpus; the
blind set is split once, stratified, and its key facts sit in its own evidence quotes."""

from __future__ import annotations

from collections import Counter

import pytest

from evals.gold import BLIND_SETS, GOLD_DIR, load_gold
from ingest.reading.manifest import read_manifest
from ingest.reading.normalize import normalise
from tests.conftest import CORPUS

HELDOUT_DIR = GOLD_DIR.parent / "heldout"
# the first blind set holds 240 questions, every later one at least 280 (320 written, less word-for-word repeats)
SETS = {**{name: (path, 240 if name == "blind" else 280) for name, path in BLIND_SETS.items()},
        "gold": (GOLD_DIR, 80), "heldout-a": (HELDOUT_DIR / "a.jsonl", 40),
        "heldout-b": (HELDOUT_DIR / "b.jsonl", 35), "heldout-c": (HELDOUT_DIR / "c.jsonl", 25),
        "heldout-d": (HELDOUT_DIR / "d.jsonl", 25)}


@pytest.mark.parametrize("name", sorted(SETS))
def test_gold_set_shape(name: str) -> None:
    folder, at_least = SETS[name]
    gold = load_gold(folder)
    assert len(gold) >= at_least
    assert len({g.id for g in gold}) == len(gold)
    personas = Counter(g.persona for g in gold)
    assert set(personas) == {"partner", "staff", "meeting", "out_of_scope", "adversarial"}
    for g in gold:
        assert g.should_abstain == (not g.evidence), g.id
        assert not g.near_evidence or g.should_abstain, g.id
        most = {"blind": 4, "blind2": 8}.get(name, 12 if name.startswith("blind") else 4)  # key facts a question
        assert g.should_abstain or 1 <= len(g.key_facts) <= most, g.id
        assert name.startswith("blind") or all(f == f.lower() for f in g.key_facts), g.id  # the scorer lowercases


def test_no_question_is_in_two_sets() -> None:
    """Among the team's sets, and between the two blind sets (the second dropped the questions its writers
    happened to write as the first did): no question is both tuned on and tested, or tested twice."""
    team = [g.question.lower() for name, (folder, _) in SETS.items() if not name.startswith("blind")
            for g in load_gold(folder) if not g.history]
    assert len(team) == len(set(team))
    blind = [g.question.lower() for path in BLIND_SETS.values() for g in load_gold(path)]
    assert len(blind) == len(set(blind))


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_quote_is_an_exact_substring_of_its_source_file(name: str) -> None:
    files = {meta.id: CORPUS / name for name, meta in read_manifest(CORPUS / "manifest.toml").items()}
    sources = {doc_id: path.read_text(encoding="utf-8") for doc_id, path in files.items()}
    for g in load_gold(SETS[name][0]):
        for e in g.evidence + g.near_evidence:
            assert e.doc_id in sources, (g.id, e.doc_id)
            assert e.quote in sources[e.doc_id], (g.id, e.quote)
            low, high = (3, 70) if name.startswith("blind") and name != "blind" else (8, 30)  # the later blind sets
            assert low <= len(e.quote.split()) <= high, (g.id, e.quote)
            assert normalise(e.quote) in normalise(sources[e.doc_id]), (g.id, "markup cut in half", e.quote)


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_key_fact_is_in_a_document_the_question_cites(name: str) -> None:
    files = {meta.id: CORPUS / fname for fname, meta in read_manifest(CORPUS / "manifest.toml").items()}
    for g in load_gold(SETS[name][0]):
        text = " ".join(normalise(files[d].read_text(encoding="utf-8")) for d in {e.doc_id for e in g.evidence})
        missing = [f for f in g.key_facts if normalise(f) not in text]
        assert not missing, (g.id, missing)


@pytest.mark.parametrize("blind", sorted(BLIND_SETS))
def test_blind_key_facts_are_in_the_questions_own_evidence_quotes(blind: str) -> None:
    for g in load_gold(BLIND_SETS[blind]):
        quotes = " ".join(e.quote.lower() for e in g.evidence)
        assert all(f.lower() in quotes for f in g.key_facts), g.id


@pytest.mark.parametrize("blind", sorted(BLIND_SETS))
def test_blind_set_is_split_once_half_and_half_in_every_stratum(blind: str) -> None:
    questions = load_gold(BLIND_SETS[blind])
    assert all(q.split in ("dev", "test") for q in questions)
    strata: dict[tuple[str, str, str], Counter[str]] = {}
    for q in questions:
        strata.setdefault((q.persona, q.question_kind, q.language), Counter())[str(q.split)] += 1
    for key, counts in strata.items():
        assert abs(counts["dev"] - counts["test"]) <= 1, key
    sizes = Counter(q.split for q in questions)
    assert abs(sizes["dev"] - sizes["test"]) <= 1


@pytest.mark.parametrize("blind", sorted(BLIND_SETS))
def test_blind_set_has_what_the_evaluation_asks_for(blind: str) -> None:
    questions = load_gold(BLIND_SETS[blind])
    abstain = [q for q in questions if q.should_abstain]
    assert sum(q.language in ("fr", "es") for q in questions) >= 60
    assert len(abstain) >= 0.25 * len(questions)
    assert sum(q.question_kind == "near_miss" for q in abstain) > len(abstain) / 2
    assert sum(bool(q.history) for q in questions) >= 10
