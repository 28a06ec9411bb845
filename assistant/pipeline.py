"""The answering pipeline: retrieve → rerank → compose → cite, with abstention and follow-ups.

Example::

    assistant = Assistant.from_settings(Settings())
    answer = assistant.answer("What do partners have to commit to?")
    print(answer.answer, [c.locator for c in answer.citations])
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant import language as lang
from assistant.answerable import ANSWERABLE_FEATURES, Answerability
from assistant.cite import citation_for, cite, display_locator
from assistant.compose import ExtractiveComposer, split_parts
from assistant.errors import BadQuestion
from assistant.fitted import FITTED_DIR, LinearModel
from assistant.generate import OpenAIGenerator
from assistant.judge import AnswerJudge, judge_llm
from assistant.models import Answer, Citation, Turn
from assistant.practices import PracticeFinder, practice_request
from assistant.rerank import CANDIDATE_FEATURES, CrossEncoderReranker, LearnedReranker, Reranker, TermWeights
from assistant.retrieve import Candidate, HybridRetriever
from assistant.spelling import Speller, english
from assistant.text import inert_markers, is_follow_up, require_utf8, sentences, strip_injection, terms
from coalition.settings import Settings
from ingest import geo, multilingual
from ingest.embed import BatchingEmbedder, Embedder, SentenceTransformerEmbedder
from ingest.errors import IndexNotReady
from ingest.keyword import KeywordIndex
from ingest.practices import PracticeRecord
from ingest.practices import fingerprint as practice_fingerprint
from ingest.sentences import SentenceVectors
from ingest.sentences import recipe as sentence_recipe
from ingest.store import ChunkStore, StoredChunk

ABSTAIN = lang.phrase("abstain", "en")


@dataclass
class Prepared:
    """A question made ready to answer: its language, the text retrieved with, and the ranked passages."""

    language: str
    cleaned: str  # the question less instruction-like phrases, spelling fixed (English)
    query: str  # what was retrieved with: a follow-up carries the question before it
    injected: bool
    previous: list[str]
    ranked: list[Candidate] = field(default_factory=list)
    qvec: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)


class Assistant:
    """Answers questions from the index; heavy parts (model, indexes) load once, in ``from_settings``."""

    def __init__(self, settings: Settings, retriever: HybridRetriever, reranker: Reranker,
                 composer: ExtractiveComposer, answerability: Answerability, generator: OpenAIGenerator | None = None,
                 practices: PracticeFinder | None = None) -> None:
        self.settings = settings
        self.answerability = answerability
        self.practices = practices or PracticeFinder([], retriever.embedder)
        self.retriever = retriever
        self.reranker = reranker
        self.composer = composer
        self.generator = generator
        self.countries = {name for c in retriever.index.chunks for name in geo.mentioned(c.text)}  # the documents'

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
        weights = TermWeights(index.chunks)
        load = LinearModel.load_or_neutral if fitting else lambda name, _features: LinearModel.load(name)
        reranker: Reranker = LearnedReranker(weights, load("ranker", CANDIDATE_FEATURES))
        if settings.reranker.startswith("cross-encoder:"):
            reranker = CrossEncoderReranker(settings.reranker.split(":", 1)[1], settings.device)
        generator = None
        if settings.llm_url:
            generator = OpenAIGenerator(settings)
        speller = Speller([c.text for c in index.chunks], english())
        views, encoder = None, None
        if settings.multilingual:
            encoder = multilingual.E5Encoder()
            views = multilingual.PassageVectors.load(settings.multilingual_path)
            if (views.fingerprint, views.recipe) != (index.fingerprint, multilingual.recipe(encoder.name)):
                raise IndexNotReady("the multilingual vectors are not those of this index; run `coalition ingest`")
        retriever = HybridRetriever(store, index, BatchingEmbedder(embedder), sentence_vectors, speller,  # questions share a pass
                                    views, encoder)
        embedder.embed(["warm up"])  # the first question is as fast as the hundredth
        lang.warm_up()
        if practice_fingerprint(settings.practices_path) != index.fingerprint:
            raise IndexNotReady("the practice records are not those of this index; run `coalition ingest`")
        practices = PracticeFinder.load(settings, retriever.embedder)
        close = reranker.model.extra.get("close", 1.0) if isinstance(reranker, LearnedReranker) else 1.0
        composer = ExtractiveComposer(weights, settings.max_answer_words, parts=split_parts(index.chunks), close=close)
        judge, judged = None, None
        if settings.llm_judge:  # Settings guarantees llm_url
            if not (FITTED_DIR / "answerable_llm.json").exists():
                raise ValueError("COALITION_LLM_JUDGE needs assistant/fitted/answerable_llm.json: fit it with "
                                 "`python -m evals.fit --llm-judge` against that LLM")
            judge, judged = AnswerJudge(judge_llm(settings)), LinearModel.load("answerable_llm")
        answerability = Answerability(load("answerable", ANSWERABLE_FEATURES), weights,
                                      [f"{c.metadata.get('title', '')} {c.text}" for c in index.chunks], judge, judged)
        return cls(settings, retriever, reranker, composer, answerability, generator, practices)

    @property
    def chunks(self) -> list[Any]:
        return self.retriever.index.chunks

    def answer(self, question: str, history: list[Turn] | None = None, filters: dict[str, str] | None = None,
               k: int | None = None) -> Answer:
        return self.run(question, history, filters, k)[0]

    def prepare(self, question: str, history: list[Turn] | None = None, filters: dict[str, str] | None = None,
                k: int | None = None) -> Prepared:
        """Language, cleaning and spelling, then retrieve and rerank (``evals/fit.py`` fits on this)."""
        question = self._check(question, history, filters)
        language = lang.detect(question)
        cleaned, injected = strip_injection(question)
        if language == "en":
            cleaned = self.retriever.speller.fix(cleaned)  # 'partnrs' → 'partners'; 'Germany' stays
        previous = [t.content for t in history or [] if t.role == "user"]
        query = f"{previous[-1]} {cleaned}" if previous and is_follow_up(cleaned) else cleaned
        prepared = Prepared(language, cleaned, query, injected, previous)
        t = time.perf_counter()
        if terms(query) or language != "en":
            prepared.ranked, prepared.qvec = self.retriever.retrieve(query, k or self.settings.retrieve_k, filters, language)
        else:
            self.retriever.check_filters(filters)
        prepared.timings["retrieve"] = _ms(t)
        t = time.perf_counter()
        prepared.ranked = self.reranker.rerank(query, prepared.ranked, language)
        prepared.timings["rerank"] = _ms(t)
        return prepared

    def run(self, question: str, history: list[Turn] | None = None, filters: dict[str, str] | None = None,
            k: int | None = None) -> tuple[Answer, list[Candidate]]:
        """The answer and the ranked passages it was composed from (evals score both)."""
        started = time.perf_counter()
        q = self.prepare(question, history, filters, k)
        ranked, timings = q.ranked, q.timings
        if q.language == "en" and not q.injected:
            listed = self._practices_answer(q.cleaned, ranked, q.qvec if q.query == q.cleaned else None)
            if listed is not None:
                listed[0].timings_ms = timings | {"total": _ms(started)}
                return listed

        unknown = self._unknown_countries(q.cleaned)
        verdict = self.answerability.decide(q.query, ranked, q.language)
        probability = verdict.probability
        if unknown or not verdict.answerable or (q.injected and not terms(q.cleaned)):
            result = self._decline(q, unknown, probability, verdict.near_miss)
            timings["total"] = _ms(started)
            result.timings_ms = timings
            return result, ranked

        t = time.perf_counter()
        focus = q.cleaned if terms(q.cleaned) and q.query != q.cleaned else q.query
        snippets = self.composer.select(focus, ranked)
        timings["compose"] = _ms(t)
        t = time.perf_counter()
        text, citations = cite(snippets)
        timings["cite"] = _ms(t)
        if lead := lang.phrase("sources_in_english", q.language):
            text = f"{lead}\n\n{text}"
        result = Answer(answer=text, abstained=False, citations=citations, timings_ms=timings, language=q.language,
                        answerable=round(probability, 4))
        if self.generator is not None:
            t = time.perf_counter()
            asked = q.cleaned if q.query == q.cleaned else f"{q.cleaned} (a follow-up to: {q.previous[-1]})"
            result = self.generator.improve(asked, ranked[:5], result)
            timings["generate"] = _ms(t)
        timings["total"] = _ms(started)
        result.timings_ms = timings
        return result, ranked

    def _decline(self, q: Prepared, unknown: list[str], probability: float, near: float) -> Answer:
        """'The documents don't say'. When the best passage is close to the question (the topic is covered,
        the fact asked is not), the reply also quotes what they do say and cites it: a near-miss reply."""
        if q.ranked and not unknown and not q.injected and probability >= near:
            best = self.composer.select(q.query, q.ranked[:1])[:1]
            text, citations = cite(best)
            return Answer(answer=f"{lang.phrase('near', q.language)}\n\n{text}", abstained=True, citations=citations,
                          language=q.language, answerable=round(probability, 4))
        return Answer(answer=self._abstain_text(q.ranked, unknown, q.language), abstained=True, language=q.language,
                      answerable=round(probability, 4))

    def _practices_answer(self, question: str, ranked: list[Candidate],
                          qvec: np.ndarray | None) -> tuple[Answer, list[Candidate]] | None:
        """'Any examples of … in …?' gets a short list of practice records, each cited, when records match."""
        request = practice_request(question)
        if request is None:
            return None
        query, filters = request
        if not any(vars(filters).values()) and not ranked:
            return None
        result = self.practices.search(query, filters, limit=50, vector=qvec)
        projects = [h for h in result.hits if h.record.kind == "project"]
        hits = projects or result.hits
        if not hits:
            return None
        lines: list[str] = []
        citations: list[Citation] = []
        listed: list[Candidate] = []
        for hit in hits[:5]:
            record = hit.record
            chunk = self._closest_chunk(record, question, qvec)
            if chunk is None:
                continue
            n = len(citations) + 1
            spans = sentences(chunk.text)
            quote = chunk.text[spans[0][0] : spans[min(1, len(spans) - 1)][1]].strip() if spans else chunk.text
            lines.append(f"{n}. {_practice_line(record, chunk)} [{n}]")
            citations.append(citation_for(n, Candidate(chunk, score=hit.score), quote))
            listed.append(Candidate(chunk, score=hit.score))
        if not citations:
            return None
        total = len(hits)
        more = f" ({total} in all; the Practices view, GET /practices or `coalition practices` filter them)" if total > 5 else ""
        text = f"Good practices in the documents{more}:\n" + "\n".join(lines)
        seen = {c.chunk.id for c in listed}
        return Answer(answer=text, abstained=False, citations=citations), listed + [c for c in ranked if c.chunk.id not in seen]

    def _closest_chunk(self, record: PracticeRecord, question: str, qvec: np.ndarray | None) -> StoredChunk | None:
        """The record's passage closest to the question: a country's row has one per thematic column, and
        'what has Turkey done for gender equality?' is answered by its column 4, not its column 1."""
        chunks = [c for c in (self.retriever.index.by_id.get(cid) for cid in record.chunk_ids) if c is not None]
        if qvec is None or len(chunks) < 2 or record.kind == "project":  # a project is cited from its opening
            return chunks[0] if chunks else None
        vectors, position = self.retriever.vectors, self.retriever.position
        cells = [Candidate(c, dense=float(vectors[position[c.id]] @ qvec)) for c in chunks]
        return self.reranker.rerank(question, cells)[0].chunk  # cosine plus term coverage, column names too

    def search(self, query: str, filters: dict[str, str] | None = None, limit: int = 10) -> list[Candidate]:
        """Ranked passages for ``query`` (retrieve + rerank, no answer)."""
        query = self._check(query, filters=filters)
        language = lang.detect(query)
        cleaned, _ = strip_injection(query)
        if not terms(cleaned) and language == "en":
            self.retriever.check_filters(filters)
            return []
        candidates, _ = self.retriever.retrieve(cleaned, max(limit, self.settings.retrieve_k), filters, language)
        return self.reranker.rerank(cleaned, candidates, language)[:limit]

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

    def _unknown_countries(self, question: str) -> list[str]:
        """The countries a question names when the documents mention none of them ('the minimum wage in
        Germany?'): passages about other countries must not answer it."""
        named = geo.mentioned(question)
        return [] if not named or set(named) & self.countries else named

    def _abstain_text(self, ranked: list[Candidate], unknown: list[str] | None = None, language: str = "en") -> str:
        lead = lang.phrase("abstain", language)
        if unknown and language == "en":
            lead = f"The coalition documents don't say anything about {' or '.join(unknown)}."
        topics: list[str] = []
        for cand in ranked[:6]:
            name = display_locator(cand.chunk)
            if name not in topics:
                topics.append(name)
        if not topics:
            return lead
        return f"{lead} {lang.phrase('nearest', language)} " + "; ".join(topics[:3]) + "."


def _practice_line(record: PracticeRecord, chunk: StoredChunk) -> str:
    """'Title (2014–2024; Brazil-funded; USD 8,000,000)' for projects; for a country's row, the cell cited
    ('Turkey — thematic area 4: …: Advancing gender equality…')."""
    if record.kind != "project":
        text = " ".join(inert_markers(chunk.text).split()) if len(record.chunk_ids) > 1 else f"{record.title}: {record.summary}"
        return f"{text[:200].rstrip()}{'…' if len(text) > 200 else ''}"
    facts = []
    if record.year_from and str(record.year_from) not in record.title:
        facts.append(f"{record.year_from}–{record.year_to}" if record.year_to != record.year_from else str(record.year_from))
    if record.funder:
        facts.append(f"{record.funder}-funded")
    if record.amount:
        facts.append(f"{record.currency} {record.amount:,.0f}")
    return record.title + (f" ({'; '.join(facts)})" if facts else "")


def _section(chunk: StoredChunk) -> str:
    path = json.loads(str(chunk.metadata.get("heading_path", "[]")))
    return f"{chunk.metadata.get('doc_id')}::{path[-1] if path else ''}"


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
