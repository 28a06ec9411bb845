"""A French or Spanish question's words carried into the documents' English vocabulary.

Each word of the question (three letters or more) is embedded by multilingual-e5-small and replaced by the
corpus word nearest to it (``ingest/storage/terms.py`` embeds those at ingest), when the two are close enough:
'¿Cómo se financia la Coalición?' → 'financing coalition'. BM25 then scores the passages on those words,
and the answerability model reads the share of the question's words that found one (a recipe or a share
price finds none). The cut-off is fitted on the blind dev split (``evals/fit.py`` reports the ranker with
and without): below it a word is left out (function words, names the documents lack).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ingest.storage.terms import TermVectors
from ingest.transforms.multilingual import E5Encoder

CLOSE = 0.93  # cosine at which a corpus word stands for a question word (dev CV: 0.92–0.94 a plateau)
_WORD = re.compile(r"[^\W\d_]{3,}")
CACHE = 20_000  # words kept with their translation (a question's words are mostly ones asked before)


@dataclass(frozen=True)
class Translation:
    words: list[str]  # the question's words considered
    english: list[str | None]  # each one's corpus word, or None

    @property
    def terms(self) -> list[str]:
        return [w for w in self.english if w]

    @property
    def known_share(self) -> float:
        """The share of the question's words (four letters or more) that found a corpus word."""
        long = [e for w, e in zip(self.words, self.english, strict=True) if len(w) >= 4]
        return sum(e is not None for e in long) / len(long) if long else 1.0


class Translator:
    """Example: ``Translator(TermVectors.load(path), E5Encoder()).translate("¿Quién puede unirse?").terms``."""

    def __init__(self, terms: TermVectors, encoder: E5Encoder, close: float = CLOSE) -> None:
        self.terms = terms
        self.encoder = encoder
        self.close = close
        self._cache: OrderedDict[str, str | None] = OrderedDict()
        self._lock = threading.Lock()

    def restricted(self, words: set[str]) -> Translator:
        """The same, into only ``words`` (an audience's vocabulary); the encoder and cache are not shared
        (a cached translation could name a word of a passage the audience may not see)."""
        return Translator(self.terms.subset(words), self.encoder, self.close)

    def translate(self, text: str) -> Translation:
        words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))
        with self._lock:
            missing = [w for w in words if w not in self._cache]
        if missing and len(self.terms.words):
            sims = self.encoder.queries(missing) @ self.terms.vectors.T
            best = np.argmax(sims, axis=1)
            found = {w: (self.terms.words[int(j)] if sims[i, j] >= self.close else None)
                     for i, (w, j) in enumerate(zip(missing, best, strict=True))}
        else:
            found = dict.fromkeys(missing)
        with self._lock:
            self._cache.update(found)
            while len(self._cache) > CACHE:
                self._cache.popitem(last=False)
            english = [found[w] if w in found else self._cache.get(w) for w in words]
        return Translation(words, english)
