"""The data that flows between the retrieve, rerank, answerability and synthesis stages, in LlamaIndex's
types: a question is a ``QueryBundle`` (``Query`` adds its language, filters and what the stages learn of
it), a passage found for it is a ``NodeWithScore`` (``Candidate`` adds each view's score, so the reranker
can fuse them). LlamaIndex postprocessors and retrievers accept and return them as their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.bridge.pydantic import ConfigDict, Field
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from ingest.storage.store import StoredChunk

_NUMBER = re.compile(r"\d[\d.,/–-]*\d|\d")


def text_node(chunk: StoredChunk) -> TextNode:
    """The passage as a LlamaIndex node. Built without validation (``model_construct``): a node per
    candidate per question, and the chunk's fields are already checked at ingest. Its metadata is the
    chunk's; none of it is embedded or shown to an LLM (the quote is the passage text alone)."""
    keys = list(chunk.metadata)
    return TextNode.model_construct(id_=chunk.id, text=chunk.text, metadata=chunk.metadata,
                                    excluded_embed_metadata_keys=keys, excluded_llm_metadata_keys=keys)


class Candidate(NodeWithScore):
    """A passage found for a question. ``score`` is the current stage's (fused z, then the reranker's
    probability); ``z`` holds each retrieval view's score in standard deviations above the corpus mean."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    chunk: StoredChunk
    score: float = 0.0  # type: ignore[assignment]  # always set here (LlamaIndex allows None)
    dense: float = 0.0
    bm25: float = 0.0
    e5: float = 0.0
    e5_plain: float | None = None  # the e5 cosine by the raw query vector, where a fitted adapter moved it
    z_e5_plain: float | None = None  # and its z
    e5_pair: float | None = None  # the fitted pair score (``PairScorer``), where one was fitted
    lexical: float = 0.0
    sentences: dict[tuple[int, int], float] = Field(default_factory=dict)  # cosine per sentence span, if the passage has several
    z: dict[str, float] = Field(default_factory=dict)

    def __init__(self, chunk: StoredChunk, /, **data: Any) -> None:
        super().__init__(node=data.pop("node", None) or text_node(chunk), chunk=chunk, **data)

    @classmethod
    def fast(cls, chunk: StoredChunk, node: TextNode | None = None, **data: Any) -> Candidate:
        """Unvalidated construction for the hot path (the fields come from our own arrays). The dict fields
        are given: a default left to ``model_construct`` has pydantic inspect its factory's signature, each
        time (~3 ms over an answer's ~60 candidates)."""
        data.setdefault("sentences", {})
        data.setdefault("z", {})
        return cls.model_construct(node=node or text_node(chunk), chunk=chunk, **data)

    @property
    def sentence(self) -> float:
        """Cosine of the passage's best sentence (its own cosine when it has one sentence)."""
        return max(self.sentences.values(), default=self.dense)


@dataclass
class Query(QueryBundle):
    """A question as the stages see it. ``query_str`` is what is retrieved with (spelling fixed; a
    follow-up carries the question before it); the stages write what they learn of it here."""

    language: str = "en"
    cleaned: str = ""  # the question itself: less instruction-like phrases, spelling fixed (English)
    k: int = 20
    lexical: str = ""  # what BM25 sees: the question and the corpus's own words for its terms
    filters: dict[str, str | bool] = field(default_factory=dict)
    mask: np.ndarray | None = None  # the passages it may draw on; None: all
    history: list[ChatMessage] = field(default_factory=list)
    vector: np.ndarray | None = None  # its MiniLM embedding, once computed
    sentence_sims: np.ndarray | None = None  # every stored sentence's cosine with it
    spread: dict[str, tuple[float, float]] = field(default_factory=dict)  # view → corpus score mean, std (top-k views)
    e5_plain: np.ndarray | None = None  # the e5 view's scores by the raw query vector, where an adapter moved it
    e5_pair: np.ndarray | None = None  # every passage's pair score with it, where a PairScorer was fitted
    e5_question: float | None = None  # the question scorer's logit, where a QuestionScorer was fitted
    translation: Any = None  # a French or Spanish question's words in the documents' vocabulary (Translation)
    ngrams: Any = None  # (NgramIndex, its TF-IDF n-gram row): the n-gram views sharing a vectorizer reuse it
    answerable: float | None = None  # the answerability model's probability, once judged
    verdict: Any = None  # the answerability postprocessor's Verdict (probability, decision, near-miss point)
    unknown_countries: list[str] = field(default_factory=list)
    injected: bool = False  # it held instruction-like phrases (removed)

    @property
    def term_text(self) -> str:
        """What the term features (coverage, the composer's sentence choice) read: the question itself in
        English; a French or Spanish question's words carried into the documents' vocabulary, its numbers kept."""
        if self.translation is None:
            return self.query_str
        return " ".join([*self.translation.terms, *_NUMBER.findall(self.query_str)])

    @classmethod
    def of(cls, bundle: QueryBundle | str) -> Query:
        if isinstance(bundle, Query):
            return bundle
        text = bundle if isinstance(bundle, str) else bundle.query_str
        return cls(query_str=text, lexical=text)


def candidates(nodes: list[NodeWithScore]) -> list[Candidate]:
    """``nodes`` as ours; a node from another retriever has no view scores, so it cannot be fused."""
    for node in nodes:
        if not isinstance(node, Candidate):
            raise TypeError(f"expected passages from the coalition retriever, got {type(node).__name__}")
    return nodes  # type: ignore[return-value]
