"""The answering parts over a subset of the corpus: what one audience may see (``assistant/audience.py``).

Every derived, corpus-wide structure is rebuilt from the visible chunks — BM25 and its term statistics,
the n-gram TF-IDF, the spelling vocabulary, the known filter values, the term weights the reranker,
composer and answerability model use, the answerability vocabulary and years, the practice records —
while the heavy, per-passage parts (the models, the stored vectors) are shared and only sliced.

Example::

    parts = restrict(assistant, visible_mask(assistant.chunks, Audience.PUBLIC, Audience.STAFF))
    public = Assistant(assistant.settings, *parts)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llama_index.core.postprocessor.types import BaseNodePostprocessor

from assistant.audience import restricted_index
from assistant.postprocessing.answerable import Answerability
from assistant.postprocessing.rerank import LearnedReranker, TermWeights
from assistant.practices import PracticeFinder
from assistant.retrieval.retrieve import FusionRetriever
from assistant.retrieval.spelling import Speller
from assistant.retrieval.views import MultilingualView, SentenceView
from assistant.synthesis.compose import ExtractiveComposer, split_parts
from ingest.storage.terms import vocabulary


class _Rows:
    """The full view's e5 matrix read by chunk id (what ``MultilingualView`` asks ``PassageVectors`` for)."""

    def __init__(self, view: MultilingualView) -> None:
        self.full = view.matrix
        self.position = view.passages.position

    def matrix(self, ids: list[str]) -> np.ndarray:
        return self.full[[self.position[i] for i in ids]]


def restrict(assistant: Any, mask: np.ndarray) -> tuple[FusionRetriever, BaseNodePostprocessor, ExtractiveComposer,
                                                         Answerability, Any, PracticeFinder]:
    """(retriever, reranker, composer, answerability, generator, practices) over the chunks of ``mask``;
    ``assistant``: the full view's ``Assistant``."""
    full: FusionRetriever = assistant.retriever
    index = restricted_index(full.index, mask)
    chunks = index.chunks
    speller = Speller([], full.speller.english, index.lexicon.union("spelling"))
    sentence, e5 = full.view("sentence"), full.view("e5")
    full_translator = full.passages.translator
    translator = full_translator.restricted(set(vocabulary(chunks))) if full_translator is not None else None
    retriever = FusionRetriever.build(
        full.passages.store, index, full.embedder, sentence.sentences if isinstance(sentence, SentenceView) else None,
        speller, _Rows(e5) if isinstance(e5, MultilingualView) else None,  # type: ignore[arg-type]
        e5.encoder if isinstance(e5, MultilingualView) else None, e5.english if isinstance(e5, MultilingualView) else True,
        translator, full.adapters, e5.pair if isinstance(e5, MultilingualView) else None,
        e5.question if isinstance(e5, MultilingualView) else None)
    weights = TermWeights(index.lexicon)
    reranker: BaseNodePostprocessor = assistant.reranker  # a cross-encoder reads no corpus statistics: shared
    if isinstance(reranker, LearnedReranker):
        reranker = LearnedReranker(weights, reranker.model)
    composer = ExtractiveComposer(weights, assistant.composer.max_words, parts=split_parts(chunks),
                                  margin=assistant.composer.margin, runners=assistant.composer.runners)
    answerability = Answerability(assistant.answerability.model, weights, translator=translator,
                                  words=assistant.answerability.words)
    records = [r for r in assistant.practices.records
               if r.chunk_ids and all(cid in index.by_id for cid in r.chunk_ids)]
    practices = PracticeFinder(records, full.embedder)
    return retriever, reranker, composer, answerability, assistant.generator, practices
