"""The answering pipeline, LlamaIndex's shape: a fusion retriever over several views → node postprocessors
(the fitted reranker, then the answerability judge) → a response synthesizer that quotes and cites, or
declines. A ``RetrieverQueryEngine`` holds the three. (The practice records answer ``/practices`` and the
Slack command; a chat question is answered from the passages like any other: routing "any examples of …?"
to a list of records did no better on the blind dev split, so the route went.)

Example::

    assistant = Assistant.from_settings(Settings())
    answer = assistant.answer("What do partners have to commit to?")
    print(answer.answer, [c.locator for c in answer.citations])
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import NodeWithScore

from assistant.audience import Audience, AudienceViews, default_visibility
from assistant.candidates import Candidate, Query, candidates
from assistant.errors import BadQuestion
from assistant.fitted import FITTED_DIR, LinearModel, PairScorer, QueryAdapter, QuestionScorer, WordScorer
from assistant.models import Answer, Turn
from assistant.postprocessing.answerable import ANSWERABLE_FEATURES, Answerability
from assistant.postprocessing.judge import AnswerJudge, judge_llm
from assistant.postprocessing.rerank import CANDIDATE_FEATURES, LearnedReranker, TermWeights, cross_encoder, rerank
from assistant.practices import PracticeFinder
from assistant.retrieval import language as lang
from assistant.retrieval.retrieve import FusionRetriever
from assistant.retrieval.spelling import Speller, english
from assistant.retrieval.translate import Translator
from assistant.synthesis.compose import ExtractiveComposer, split_parts
from assistant.synthesis.generate import OpenAIGenerator
from assistant.synthesis.synthesize import CitedSynthesizer
from assistant.text import is_follow_up, require_utf8, strip_injection, terms
from core.settings import Settings
from ingest.errors import IndexNotReady
from ingest.storage.keyword import KeywordIndex
from ingest.storage.sentences import SentenceVectors
from ingest.storage.sentences import recipe as sentence_recipe
from ingest.storage.store import ChunkStore
from ingest.storage.terms import TermVectors
from ingest.storage.terms import recipe as terms_recipe
from ingest.transforms import multilingual
from ingest.transforms.embed import BatchingEmbedder, Embedder, SentenceTransformerEmbedder
from ingest.transforms.practices import fingerprint as practice_fingerprint

ABSTAIN = lang.phrase("abstain", "en")


@dataclass
class Prepared:
    """A question made ready to answer (``q``: language, cleaned text, what was retrieved with) and its
    ranked passages."""

    q: Query
    ranked: list[Candidate] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def query(self) -> str:
        return self.q.query_str

    @property
    def language(self) -> str:
        return self.q.language

    @property
    def cleaned(self) -> str:
        return self.q.cleaned

    @property
    def qvec(self) -> np.ndarray | None:
        return self.q.vector


class Assistant:
    """Answers questions from the index; heavy parts (model, indexes) load once, in ``from_settings``."""

    def __init__(self, settings: Settings, retriever: FusionRetriever, reranker: BaseNodePostprocessor,
                 composer: ExtractiveComposer, answerability: Answerability, generator: OpenAIGenerator | None = None,
                 practices: PracticeFinder | None = None) -> None:
        self.settings = settings
        self.answerability = answerability
        self.practices = practices or PracticeFinder([], retriever.embedder)
        self.retriever = retriever
        self.reranker = reranker
        self.composer = composer
        self.generator = generator
        self.synthesizer = CitedSynthesizer(composer, answerability, generator)
        self.engine = RetrieverQueryEngine(retriever, self.synthesizer, node_postprocessors=[reranker, answerability])
        # this is the full view (staff); for_audience gives the view of the passages an audience may see
        self.views: AudienceViews[Assistant] = AudienceViews(retriever.index.chunks, self, self._restricted,
                                                             default_visibility(settings))

    def for_audience(self, audience: Audience | None) -> Assistant:
        """The assistant over what ``audience`` may see (built on first use, then kept; None: this one)."""
        return self if audience is None else self.views.get(audience)

    def _restricted(self, mask: np.ndarray) -> Assistant:
        from assistant.restricted import restrict

        view = Assistant(self.settings, *restrict(self, mask))
        view.views = self.views  # asked for another audience, a view answers from the full one's views
        return view

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None, fitting: bool = False) -> Assistant:
        """``fitting``: start from zero weights where nothing is fitted yet (``evals/fit.py`` only)."""
        embedder = embedder or SentenceTransformerEmbedder(
            settings.embedding_model, settings.device, settings.embed_batch_size
        )
        store = ChunkStore(settings, create=False)
        index = KeywordIndex.load(settings.keyword_path)
        if store.fingerprint() != index.fingerprint:
            raise IndexNotReady("the vector and keyword indexes differ (an interrupted ingest?); run `coalition ingest`")
        sentence_vectors = SentenceVectors.load(settings.sentence_path)
        if (sentence_vectors.fingerprint, sentence_vectors.recipe) != (index.fingerprint, sentence_recipe(embedder.name)):
            raise IndexNotReady("the sentence vectors are not those of this index and model; run `coalition ingest`")
        weights = TermWeights(index.lexicon)
        load = LinearModel.load_or_neutral if fitting else lambda name, _features: LinearModel.load(name)
        learned = LearnedReranker(weights, load("ranker", CANDIDATE_FEATURES))
        reranker: BaseNodePostprocessor = learned
        if settings.reranker.startswith("cross-encoder:"):
            reranker = cross_encoder(settings.reranker.split(":", 1)[1], settings.device)
        generator = None
        if settings.llm_url:
            generator = OpenAIGenerator(settings)
        speller = Speller([], english(), index.lexicon.union("spelling"))
        views, encoder, translator = None, None, None
        if settings.multilingual:
            encoder = multilingual.E5Encoder()
            views = multilingual.PassageVectors.load(settings.multilingual_path)
            words = TermVectors.load(settings.terms_path)
            if (views.fingerprint, views.recipe) != (index.fingerprint, multilingual.recipe(encoder.name)) or \
                    (words.fingerprint, words.recipe) != (index.fingerprint, terms_recipe(encoder.name)):
                raise IndexNotReady("the multilingual vectors are not those of this index; run `coalition ingest`")
            translator = Translator(words, encoder)
        # questions share an encoder pass (BatchingEmbedder)
        retriever = FusionRetriever.build(store, index, BatchingEmbedder(embedder), sentence_vectors, speller, views, encoder,
                                          settings.multilingual_english, translator, QueryAdapter.load_all(),
                                          PairScorer.load("e5_pair"), QuestionScorer.load("e5_question"))
        embedder.embed(["warm up"])  # the first question is as fast as the hundredth
        lang.warm_up()
        if practice_fingerprint(settings.practices_path) != index.fingerprint:
            raise IndexNotReady("the practice records are not those of this index; run `coalition ingest`")
        practices = PracticeFinder.load(settings, retriever.embedder)
        extra = learned.model.extra  # the runners-up the composer cites beside the best passage (evals/fit.py)
        composer = ExtractiveComposer(weights, settings.max_answer_words, parts=split_parts(index.chunks),
                                      margin=extra.get("runner_up_margin", 0.0), runners=int(extra.get("runners_up", 1)))
        judge, judged = None, None
        if settings.llm_judge:  # Settings guarantees llm_url
            if not (FITTED_DIR / "answerable_llm.json").exists():
                raise ValueError("COALITION_LLM_JUDGE needs assistant/fitted/answerable_llm.json: fit it with "
                                 "`python -m evals.fit --llm-judge` against that LLM")
            judge, judged = AnswerJudge(judge_llm(settings)), LinearModel.load("answerable_llm")
        answerability = Answerability(load("answerable", ANSWERABLE_FEATURES), weights, judge, judged, translator,
                                      WordScorer.load("question_words"))
        return cls(settings, retriever, reranker, composer, answerability, generator, practices)

    @property
    def chunks(self) -> list[Any]:
        return self.retriever.index.chunks

    def answer(self, question: str, history: list[Turn] | None = None, filters: dict[str, str] | None = None,
               k: int | None = None, audience: Audience | None = None) -> Answer:
        return self.run(question, history, filters, k, audience)[0]

    def prepare(self, question: str, history: list[Turn] | None = None, filters: dict[str, str] | None = None,
                k: int | None = None) -> Prepared:
        """Language, cleaning and spelling, then retrieve, rerank and judge answerability (the engine's
        retriever and postprocessors; ``evals/fit.py`` fits on this)."""
        question = self._check(question, history, filters)
        language = lang.detect(question)
        cleaned, injected = strip_injection(question)
        if language == "en":
            cleaned = self.retriever.speller.fix(cleaned)  # 'partnrs' → 'partners'; 'Germany' stays
        messages = [ChatMessage(role=t.role, content=t.content) for t in history or []]
        previous = [t.content for t in history or [] if t.role == "user"]
        text = f"{previous[-1]} {cleaned}" if previous and is_follow_up(cleaned) else cleaned
        q = self.retriever.question(text, k or self.settings.retrieve_k, filters, language, translate=False)
        q.cleaned, q.injected, q.history = cleaned, injected, messages
        q.unknown_countries = self.answerability.unknown_countries(cleaned)
        prepared = Prepared(q)
        t = time.perf_counter()
        nodes = self.retriever.retrieve(q) if terms(text) or language != "en" else []
        prepared.timings["retrieve"] = _ms(t)
        t = time.perf_counter()
        for postprocessor in (self.reranker, self.answerability):  # the engine's, timed apart
            nodes = postprocessor.postprocess_nodes(nodes, q) if nodes else nodes
        prepared.ranked = candidates(nodes)
        prepared.timings["rerank"] = _ms(t)
        return prepared

    def run(self, question: str, history: list[Turn] | None = None, filters: dict[str, str] | None = None,
            k: int | None = None, audience: Audience | None = None) -> tuple[Answer, list[Candidate]]:
        """The answer and the ranked passages it was composed from (evals score both); ``audience``: answer
        from what it may see only (None: from this view)."""
        if (view := self.for_audience(audience)) is not self:
            return view.run(question, history, filters, k)
        started = time.perf_counter()
        prepared = self.prepare(question, history, filters, k)
        q, ranked, timings = prepared.q, prepared.ranked, prepared.timings
        response = self.engine.synthesize(q, list[NodeWithScore](ranked))
        result: Answer = response.metadata["answer"]  # type: ignore[index]
        result.timings_ms = timings | result.timings_ms | {"total": _ms(started)}
        return result, ranked

    def search(self, query: str, filters: dict[str, str] | None = None, limit: int = 10,
               audience: Audience | None = None) -> list[Candidate]:
        """Ranked passages for ``query`` (retrieve + rerank, no answer), of what ``audience`` may see."""
        if (view := self.for_audience(audience)) is not self:
            return view.search(query, filters, limit)
        query = self._check(query, filters=filters)
        language = lang.detect(query)
        cleaned, _ = strip_injection(query)
        if not terms(cleaned) and language == "en":
            self.retriever.check_filters(filters)
            return []
        q = self.retriever.question(cleaned, max(limit, self.settings.retrieve_k), filters, language)
        return rerank(self.reranker, q, candidates(self.retriever.retrieve(q)))[:limit]

    def _check(self, question: str, history: list[Turn] | None = None, filters: dict[str, str] | None = None) -> str:
        """The question stripped, or ``BadQuestion``; text UTF-8 cannot encode is refused before it reaches
        the tokenizer (the embedding batcher would otherwise fail its whole batch) or SQLite."""
        require_utf8(question or "", "the question")
        for i, turn in enumerate(history or []):
            require_utf8(turn.content, f"history turn {i + 1}")
        for key, value in (filters or {}).items():
            require_utf8(f"{key}={value}", f"filter {key.encode('utf-8', 'backslashreplace').decode()!r}")
        question = (question or "").strip()
        if not question:
            raise BadQuestion("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise BadQuestion(f"the question is longer than {self.settings.max_question_chars} characters")
        return question




def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
