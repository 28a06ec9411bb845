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

from assistant.answerable import Answerability
from assistant.audience import restricted_index
from assistant.compose import ExtractiveComposer, split_parts
from assistant.practices import PracticeFinder
from assistant.rerank import LearnedReranker, Reranker, TermWeights
from assistant.retrieve import HybridRetriever
from assistant.spelling import Speller


def restrict(assistant: Any, mask: np.ndarray) -> tuple[HybridRetriever, Reranker, ExtractiveComposer, Answerability,
                                                         Any, PracticeFinder]:
    """(retriever, reranker, composer, answerability, generator, practices) over the chunks of ``mask``;
    ``assistant``: the full view's ``Assistant``."""
    full: HybridRetriever = assistant.retriever
    index = restricted_index(full.index, mask)
    chunks = index.chunks
    speller = Speller([c.text for c in chunks], full.speller.english)
    retriever = HybridRetriever(full.store, index, full.embedder, full.sentences, speller,
                                full.multilingual, full.encoder)
    weights = TermWeights(chunks)
    reranker: Reranker = assistant.reranker  # a cross-encoder reads no corpus statistics: shared
    if isinstance(reranker, LearnedReranker):
        reranker = LearnedReranker(weights, reranker.model)
    composer = ExtractiveComposer(weights, assistant.composer.max_words, parts=split_parts(chunks),
                                  close=assistant.composer.close)
    answerability = Answerability(assistant.answerability.model, weights,
                                  [f"{c.metadata.get('title', '')} {c.text}" for c in chunks])
    records = [r for r in assistant.practices.records
               if r.chunk_ids and all(cid in index.by_id for cid in r.chunk_ids)]
    practices = PracticeFinder(records, full.embedder)
    return retriever, reranker, composer, answerability, assistant.generator, practices
