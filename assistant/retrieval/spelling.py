"""Spelling: misspelt question words mapped to the closest corpus word ('coalitoin' → 'coalition').

``fix`` replaces only words that are neither corpus words nor English words (the English list, with word
counts, ships with ``pyspellchecker``, offline): 'partnrs' becomes 'partners', while 'sourdough' or
'Germany' stay as they are, so a question about them still finds nothing and is declined. A rare English
word one edit away from a far commoner corpus word is taken for a slip of the keyboard ('fess' → 'fees').
Guessing at real English words ('chairs' → 'chains', 'university' → 'diversity') did more harm than good.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from assistant.text import STOPWORDS
from ingest.analysis import spelling_words

if TYPE_CHECKING:
    from spellchecker import SpellChecker

_TOKEN = re.compile(r"[A-Za-z]+")
MAX_CACHED = 50_000
RARE = 1000  # an English word seen fewer times than this in pyspellchecker's counts is rare
COMMONER = 5  # …and a corpus word one edit away, this many times as common, is what was meant


def english() -> SpellChecker:
    """pyspellchecker's English: about 160,000 words with their counts (loads in about 0.3 s)."""
    from spellchecker import SpellChecker

    return SpellChecker(distance=1)


class Speller:
    """Example: ``Speller(["The Coalition …"]).fix("how do i jion the coalitoin?")`` → 'how do i join the coalition?'."""

    def __init__(self, texts: list[str], english: SpellChecker | None = None, vocabulary: set[str] | None = None) -> None:
        """``vocabulary``: the corpus's spelling words, as ingest stored them (``Lexicon``); else read from ``texts``."""
        if vocabulary is None:
            vocabulary = {w for text in texts for w in spelling_words(text)}
        ordered = sorted(vocabulary)
        self.corpus = set(vocabulary) | STOPWORDS
        self.english = english
        self.counts: Mapping[str, int] = english.word_frequency.dictionary if english else {}
        self._by_length: dict[int, list[str]] = {}
        for w in ordered:
            self._by_length.setdefault(len(w), []).append(w)
        self._closest_cache: dict[str, str | None] = {}

    def fix(self, text: str) -> str:
        """The text with each word the corpus lacks and English does not know (or knows as a rare
        neighbour of a common corpus word) replaced by its closest corpus word."""

        def swap(match: re.Match[str]) -> str:
            word = match.group(0)
            bare = word.lower()
            if len(bare) < 3 or bare in self.corpus:
                return word
            count = self.counts.get(bare)
            if count is None:
                return self.closest(bare) or word
            if count < RARE and self.english is not None:
                near = [w for w in self.english.edit_distance_1(bare)
                        if w in self.corpus and self.counts.get(w, 0) >= COMMONER * count]
                if near:
                    return max(near, key=lambda w: self.counts[w])
            return word

        return _TOKEN.sub(swap, text)

    def closest(self, word: str) -> str | None:
        if word not in self._closest_cache:
            # a ratio ≥ 0.74 needs the shorter word to be ≥ 0.587 of the longer: only those lengths are tried
            lo, hi = math.ceil(0.587 * len(word)), math.floor(len(word) / 0.587)
            pool = [w for n in range(lo, hi + 1) for w in self._by_length.get(n, ())]
            match = difflib.get_close_matches(word, pool, n=1, cutoff=0.74)
            if len(self._closest_cache) > MAX_CACHED:
                self._closest_cache.clear()
            self._closest_cache[word] = match[0] if match else None
        return self._closest_cache[word]
