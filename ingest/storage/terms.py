"""Store stage, cross-lingual terms: a multilingual-e5-small vector for every word of the corpus.

No translation model ships offline, but e5 puts a French or Spanish word near its English equivalent
('financement' → 'financing', 'empleadores' → 'employers', 'éxito' → 'success'). With a vector for each
word the documents use, a question's words can be carried into the documents' own vocabulary at answer
time (``assistant/retrieval/translate.py``), for BM25 and for the answerability model's known-terms share.

Words are embedded once and reused by word, so an ingest embeds only the words new to the corpus. The file
sits beside the multilingual passage vectors with the fingerprint of the chunk ids it was made for and the
recipe; a rename swaps it into place, so a killed ingest leaves the old file or none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from ingest.storage.keyed import KeyedVectors
from ingest.storage.sentences import fingerprint as fingerprint  # the same file layout: (index fingerprint, recipe)
from ingest.storage.store import StoredChunk

VERSION = "1"
_WORD = re.compile(r"[a-z][a-z\-]{2,}")


def vocabulary(chunks: list[StoredChunk]) -> list[str]:
    """The corpus's lower-cased words of three letters or more, less English stopwords, in first-seen order."""
    seen: dict[str, None] = {}
    for chunk in chunks:
        for word in _WORD.findall(chunk.text.lower()):
            if word not in ENGLISH_STOP_WORDS:
                seen.setdefault(word.strip("-"), None)
    return [w for w in seen if len(w) >= 3]


def recipe(model: str) -> str:
    return f"{model} terms-v{VERSION}"


class TermVectors(KeyedVectors):
    """Unit vectors per corpus word. Example: ``TermVectors.load(path).vectors @ e5.query("empleo")``."""

    key_field = "words"
    what = "term vectors"

    @property
    def words(self) -> list[str]:
        return self.keys

    def subset(self, words: set[str]) -> TermVectors:
        """Only ``words`` (an audience's view keeps the words of the passages it may see)."""
        keep = [i for i, w in enumerate(self.words) if w in words]
        return TermVectors([self.words[i] for i in keep], self.vectors[keep], self.fingerprint, self.recipe)


def build(path: Path, chunks: list[StoredChunk], embed: Callable[[list[str]], np.ndarray], model: str) -> int:
    """Write the vectors of the words of ``chunks``, reusing those in ``path`` made by the same recipe;
    returns how many words were embedded."""
    return TermVectors.build(path, chunks, vocabulary(chunks), lambda words: words, embed, recipe(model))
