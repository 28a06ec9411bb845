"""The corpus's words get a multilingual-e5 vector at ingest, once each: a second build embeds only the
new words, and a new recipe embeds them all again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.errors import IndexNotReady
from ingest.storage import terms
from ingest.storage.store import StoredChunk
from ingest.transforms.multilingual import E5Encoder

pytestmark = pytest.mark.slow


def chunk(cid: str, text: str) -> StoredChunk:
    return StoredChunk(id=cid, text=text, metadata={})


def test_words_are_embedded_once_and_reused_by_word(tmp_path: Path) -> None:
    encoder = E5Encoder()
    calls: list[list[str]] = []

    def embed(words: list[str]) -> np.ndarray:
        calls.append(list(words))
        return encoder.queries(words)

    path = tmp_path / "terms.npz"
    first = [chunk("a", "Employers and governments commit to social dialogue.")]
    assert terms.build(path, first, embed, encoder.name) == len(terms.vocabulary(first))
    assert "and" not in terms.vocabulary(first) and "employers" in terms.vocabulary(first)
    vectors = terms.TermVectors.load(path)
    assert np.allclose(np.linalg.norm(vectors.vectors, axis=1), 1.0, atol=1e-3)
    assert terms.fingerprint(path) == (vectors.fingerprint, terms.recipe(encoder.name))

    second = [*first, chunk("b", "Trade unions commit too.")]
    assert terms.build(path, second, embed, encoder.name) == 2  # 'trade', 'unions'; 'commit' is known
    assert calls[-1] == ["trade", "unions"]
    assert terms.build(path, second, embed, "another model") == len(terms.vocabulary(second))


def test_a_missing_file_says_to_run_ingest(tmp_path: Path) -> None:
    with pytest.raises(IndexNotReady, match="coalition ingest"):
        terms.TermVectors.load(tmp_path / "terms.npz")
