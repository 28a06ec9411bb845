"""The gold set is sound: enough questions, every persona, and every quote really in the corpus."""

from __future__ import annotations

from collections import Counter

from evals.gold import load_gold
from ingest.manifest import read_manifest
from ingest.normalize import normalise
from tests.conftest import CORPUS


def test_gold_set_shape() -> None:
    gold = load_gold()
    assert len(gold) >= 80
    assert len({g.id for g in gold}) == len(gold)
    personas = Counter(g.persona for g in gold)
    assert set(personas) == {"partner", "staff", "meeting", "out_of_scope", "adversarial"}
    for g in gold:
        assert g.should_abstain == (not g.evidence), g.id
        assert g.should_abstain or 1 <= len(g.key_facts) <= 4, g.id
        assert all(f == f.lower() for f in g.key_facts), g.id


def test_every_quote_is_an_exact_substring_of_its_source_file() -> None:
    files = {meta.id: CORPUS / name for name, meta in read_manifest(CORPUS / "manifest.toml").items()}
    sources = {doc_id: path.read_text(encoding="utf-8") for doc_id, path in files.items()}
    for g in load_gold():
        for e in g.evidence:
            assert e.doc_id in sources, (g.id, e.doc_id)
            assert e.quote in sources[e.doc_id], (g.id, e.quote)
            assert 8 <= len(e.quote.split()) <= 30, (g.id, e.quote)
            assert normalise(e.quote), g.id
