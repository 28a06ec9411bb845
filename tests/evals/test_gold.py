"""The gold set is sound: enough questions, every persona, and every quote really in the corpus."""

from __future__ import annotations

from collections import Counter

import pytest

from evals.gold import GOLD_DIR, load_gold
from ingest.manifest import read_manifest
from ingest.normalize import normalise
from tests.conftest import CORPUS

HELDOUT_DIR = GOLD_DIR.parent / "heldout"
SETS = {"gold": (GOLD_DIR, 80), "heldout-a": (HELDOUT_DIR / "a.jsonl", 40), "heldout-b": (HELDOUT_DIR / "b.jsonl", 35),
        "heldout-c": (HELDOUT_DIR / "c.jsonl", 25), "heldout-d": (HELDOUT_DIR / "d.jsonl", 25)}


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
        assert g.should_abstain or 1 <= len(g.key_facts) <= 4, g.id
        assert all(f == f.lower() for f in g.key_facts), g.id


def test_no_question_is_in_two_sets() -> None:
    questions = [g.question.lower() for folder, _ in SETS.values() for g in load_gold(folder)]
    assert len(questions) == len(set(questions))


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_quote_is_an_exact_substring_of_its_source_file(name: str) -> None:
    files = {meta.id: CORPUS / name for name, meta in read_manifest(CORPUS / "manifest.toml").items()}
    sources = {doc_id: path.read_text(encoding="utf-8") for doc_id, path in files.items()}
    for g in load_gold(SETS[name][0]):
        for e in g.evidence:
            assert e.doc_id in sources, (g.id, e.doc_id)
            assert e.quote in sources[e.doc_id], (g.id, e.quote)
            assert 8 <= len(e.quote.split()) <= 30, (g.id, e.quote)
            assert normalise(e.quote) in normalise(sources[e.doc_id]), (g.id, "markup cut in half", e.quote)


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_key_fact_is_in_a_document_the_question_cites(name: str) -> None:
    files = {meta.id: CORPUS / fname for fname, meta in read_manifest(CORPUS / "manifest.toml").items()}
    for g in load_gold(SETS[name][0]):
        text = " ".join(normalise(files[d].read_text(encoding="utf-8")) for d in {e.doc_id for e in g.evidence})
        missing = [f for f in g.key_facts if f not in text]
        assert not missing, (g.id, missing)
