"""Concurrent queries through BatchingEmbedder each get their own vector, equal to encoding alone; the fast
question path equals SentenceTransformer.encode."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ingest.transforms.embed import BatchingEmbedder, SentenceTransformerEmbedder

pytestmark = pytest.mark.slow


def test_concurrent_calls_get_their_own_rows(embedder: SentenceTransformerEmbedder) -> None:
    texts = [f"question number {i} about {topic}" for i, topic in
             enumerate(["membership fees", "the Forum", "Brazil cotton", "China funding"] * 6)]
    alone = embedder.embed(texts)
    batching = BatchingEmbedder(embedder)
    with ThreadPoolExecutor(max_workers=12) as pool:
        together = list(pool.map(lambda t: batching.embed([t])[0], texts))
    assert np.allclose(np.vstack(together), alone, atol=1e-4)
    assert batching._worker is not None  # some calls did queue and were served in a shared pass


def test_errors_reach_every_waiting_caller(embedder: SentenceTransformerEmbedder) -> None:
    class Broken:
        name = "broken"

        def embed(self, texts: list[str]) -> np.ndarray:
            raise RuntimeError("model fell over")

        def count_tokens(self, text: str) -> int:
            return 0

    batching = BatchingEmbedder(Broken())
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(batching.embed, ["x"]) for _ in range(6)]
    for future in futures:
        with pytest.raises(RuntimeError, match="fell over"):
            future.result()


def test_fast_question_path_equals_encode(embedder: SentenceTransformerEmbedder) -> None:
    texts = ["Are there membership fees?", "who can be a parnter of the coalition", "Brazil cotton " * 40]
    expected = embedder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert embedder._mean_pooled
    assert np.allclose(embedder.embed(texts), expected, atol=1e-5)
    assert np.allclose(embedder.embed(texts[:1]), expected[:1], atol=1e-5)


class Gated:
    """The real model behind a gate: the first call waits until released, so later callers queue up and
    are served together in one batch (what happens under load)."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner, self.name = inner, inner.name
        self.entered, self.release = threading.Event(), threading.Event()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not self.entered.is_set():
            self.entered.set()
            self.release.wait(10)
        return self.inner.embed(texts)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


def test_a_bad_input_fails_only_its_own_request(embedder: SentenceTransformerEmbedder) -> None:
    embedder.warm_up()
    gated = Gated(embedder)
    batching = BatchingEmbedder(gated)
    texts = ["who can join?", "partners \ud800 commit", "are there membership fees?", "how often does it meet?"]
    with ThreadPoolExecutor(max_workers=5) as pool:
        first = pool.submit(batching.embed, ["warm"])
        assert gated.entered.wait(10)
        queued = [pool.submit(batching.embed, [t]) for t in texts]
        time.sleep(0.3)  # all four are queued behind the first call
        gated.release.set()
        first.result(timeout=60)
        with pytest.raises(Exception):  # noqa: B017 (whatever the tokenizer raises for it)
            queued[1].result(timeout=60)
        good = [queued[i].result(timeout=60)[0] for i in (0, 2, 3)]
    assert np.allclose(np.vstack(good), embedder.embed([texts[0], texts[2], texts[3]]), atol=1e-4)
