"""Misspellings are mended; real English words the corpus lacks are left alone (so they still mark a
question as out of scope)."""

from __future__ import annotations

import pytest

from assistant.retrieval.spelling import Speller, english

CORPUS_TEXT = [
    "Participation in the Coalition will not entail any membership fees.",
    "Any partner willing to join the Coalition will be expected to commit to developing actions.",
    "Partners have to share what they have done.",
    "The Coordinating Group will meet twice a year; the Director-General is its Co-Chairperson.",
]


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller(CORPUS_TEXT, english())


@pytest.mark.parametrize(("asked", "meant"), [
    ("how do i jion the coalitoin?", "how do i join the coalition?"),
    ("wat do partnrs hav to comit to", "what do partners have to commit to"),  # 'wat' is a rare English word
    ("are there memebrship fess", "are there membership fees"),
    ("coordinatng grop", "coordinating group"),
])
def test_misspellings_become_corpus_words(speller: Speller, asked: str, meant: str) -> None:
    assert speller.fix(asked) == meant


@pytest.mark.parametrize("question", [
    "What is the minimum wage in Germany?",
    "How do I bake sourdough bread at home?",
    "Can a university become a partner?",  # not 'diversity'
    "Who co-chairs the group?",  # not 'chains'
])
def test_english_words_the_corpus_lacks_stay(speller: Speller, question: str) -> None:
    assert speller.fix(question) == question


def test_without_a_word_list_every_unknown_word_is_a_candidate() -> None:
    bare = Speller(CORPUS_TEXT)
    assert bare.fix("jion") == "join"
    assert bare.fix("xyzzyq") == "xyzzyq"  # nothing close: left as asked
