"""Retrieve stage: several views of every passage, each scored against the question, candidates taken
from the top of each view, every candidate carrying each view's normalised score for the reranker.

The views: dense passages (all-MiniLM-L6-v2, Chroma), dense best sentence, BM25 (bm25s, over the
passage with its locator and heading) and, when ingest built it, dense passages by a multilingual
model (multilingual-e5-small: French and Spanish questions meet the English passages there). Each
view's scores are normalised per question to how many standard deviations a passage stands above the
corpus's mean for that question (``z``), so views on different scales add up: the reranker fuses them
with weights fitted on the blind dev split (``evals/fit.py``), not by reciprocal ranks.

Query words the corpus lacks are mapped to the nearest corpus word before BM25 and the encoder see
them (``assistant/spelling.py``). Metadata filters apply to both sides. Each candidate also gets the
cosine of its best sentence (ingest stores a vector per sentence of multi-sentence passages), which
the reranker uses: a long passage's own vector blurs the one sentence that answers.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.errors import BadQuestion
from assistant.spelling import Speller
from assistant.text import expansions
from ingest import geo, themes
from ingest.embed import Embedder
from ingest.keyword import KeywordIndex, keyword_text
from ingest.models import DOC_TYPES
from ingest.multilingual import E5Encoder, PassageVectors
from ingest.sentences import SentenceVectors
from ingest.sentences import sentences as split_sentences
from ingest.store import ChunkStore, StoredChunk

FILTER_KEYS = ("doc_type", "country", "doc_id", "kind", "theme")
EXACT_BELOW = 50_000
VIEWS = ("dense", "sentence", "bm25", "e5", "ngram", "ngram_sentence")


class NgramView:
    """Character 3–5-grams of words, accents stripped, TF-IDF weighted: French and Spanish questions meet
    the English passages through shared roots ('coopération', 'universidad' ~ 'university', 'tripartita'),
    and misspellings still share most of their n-grams. Built from the passages at start-up (0.3 s here)."""

    def __init__(self, texts: list[str], pieces: list[list[str]] | None = None) -> None:
        """``pieces``: per text, its sentences; ``sentence_scores`` then gives each text's best sentence."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), strip_accents="unicode",
                                          sublinear_tf=True, dtype=np.float32)
        self.matrix = self.vectorizer.fit_transform(texts) if texts else None
        flat = [(i, piece) for i, group in enumerate(pieces or []) for piece in group]
        self.owners = np.array([i for i, _ in flat], dtype=np.int64)
        self.sentences = self.vectorizer.transform([p for _, p in flat]) if flat and self.matrix is not None else None

    def scores(self, query: str) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(each text's score, each text's best sentence's score) for ``query``."""
        if self.matrix is None:
            return None, None
        q = self.vectorizer.transform([query]).T
        whole = np.asarray((self.matrix @ q).toarray()).ravel()
        if self.sentences is None:
            return whole, None
        best = np.zeros(self.matrix.shape[0], dtype=np.float32)
        np.maximum.at(best, self.owners, np.asarray((self.sentences @ q).toarray()).ravel())
        return whole, best


@dataclass
class Candidate:
    chunk: StoredChunk
    dense: float = 0.0
    bm25: float = 0.0
    e5: float = 0.0
    lexical: float = 0.0
    score: float = 0.0
    sentences: dict[tuple[int, int], float] = field(default_factory=dict)  # cosine per sentence span, if several
    z: dict[str, float] = field(default_factory=dict)  # per view: standard deviations above the corpus mean

    @property
    def sentence(self) -> float:
        """Cosine of the passage's best sentence (its own cosine when it has one sentence)."""
        return max(self.sentences.values(), default=self.dense)


class HybridRetriever:
    """Example: ``HybridRetriever(store, index, embedder).retrieve("membership fees", k=20)``."""

    def __init__(self, store: ChunkStore, index: KeywordIndex, embedder: Embedder,
                 sentences: SentenceVectors | None = None, speller: Speller | None = None,
                 multilingual: PassageVectors | None = None, encoder: E5Encoder | None = None) -> None:
        self.store = store
        self.sentences = sentences
        self.index = index
        self.embedder = embedder
        self.position = {c.id: i for i, c in enumerate(index.chunks)}
        vectors = store.embeddings([c.id for c in index.chunks])
        self.vectors = np.vstack([vectors[c.id] for c in index.chunks]) if index.chunks else np.zeros((0, 384))
        self.speller = speller or Speller([c.text for c in index.chunks])
        # which chunk (by position) each stored sentence belongs to: sentence-level dense retrieval
        self._sentence_owner = np.array([self.position.get(o, -1) for o in sentences.owners] if sentences else [], dtype=np.int64)
        self.encoder = encoder if multilingual is not None else None
        self.multilingual = multilingual
        self.e5_vectors = multilingual.matrix([c.id for c in index.chunks]) if multilingual is not None else None
        self.ngrams = NgramView([keyword_text(c) for c in index.chunks],
                                [[c.text[a:b] for a, b in split_sentences(c.text)] for c in index.chunks])
        # instruction-like passages (flagged at ingest) are data, never answers: no view offers them
        trusted = np.array([not c.metadata.get("instruction_like", False) for c in index.chunks], dtype=bool)
        self.trusted = None if trusted.all() else trusted  # None: nothing to leave out (the fast path)
        self.values = {key: {str(c.metadata.get(key, "")) for c in index.chunks} - {""} for key in FILTER_KEYS if key != "theme"}
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="retrieve")

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

    def _dense(self, qvec: np.ndarray, k: int, where: dict[str, Any] | None) -> np.ndarray:
        """Every chunk's cosine with the question. Up to EXACT_BELOW chunks, an exact scan of the vectors read
        from Chroma at start-up (0.02 ms here, against 2.5 ms for a Chroma query); above it, Chroma's HNSW
        index gives the top ``k`` and the rest count as unseen (NaN)."""
        if len(self.index.chunks) <= EXACT_BELOW:
            return self.vectors @ qvec
        sims = np.full(len(self.index.chunks), np.nan, dtype=np.float32)
        for cid, sim in self.store.query(qvec, min(k, len(self.index.chunks)), where):
            if cid in self.position:
                sims[self.position[cid]] = sim
        return sims

    def _best_sentences(self, sims: np.ndarray | None) -> np.ndarray | None:
        """Each chunk's best sentence cosine (``sims``: every stored sentence's); NaN for a chunk without
        sentence vectors (a one-sentence passage: its own vector is its sentence's). A list item or one
        sentence of a long passage can match a question that the passage as a whole does not
        ('Can enterprises join?' → ¶19 (e))."""
        if sims is None or not len(self._sentence_owner):
            return None
        best = np.full(len(self.index.chunks), -np.inf, dtype=np.float32)
        known = self._sentence_owner >= 0
        np.maximum.at(best, self._sentence_owner[known], sims[known])
        return np.where(np.isfinite(best), best, np.nan)

    def retrieve(self, query: str, k: int = 20, filters: dict[str, str] | None = None,
                 language: str = "en") -> tuple[list[Candidate], np.ndarray]:
        """Candidates: the top ``k`` of each view, each with every view's score. ``language`` is the
        question's ('fr', 'es'): only English questions are spelling-corrected and expanded."""
        clean = self.check_filters(filters)
        english = language == "en"
        corrected = self.speller.fix(query) if english else query
        where: dict[str, Any] | None = None
        if len(clean) == 1:
            where = dict(clean)
        elif clean:
            where = {"$and": [{key: value} for key, value in clean.items()]}
        mask = self.trusted
        if clean:
            mask = np.array([all(c.metadata.get(f) == v for f, v in clean.items()) for c in self.index.chunks])
            mask = mask if self.trusted is None else mask & self.trusted
        lexical = " ".join([corrected, *expansions(corrected)]) if english else corrected
        keyword_scores = self._pool.submit(self.index.scores, lexical)
        e5 = self._pool.submit(self.encoder.query, corrected) if self.encoder is not None else None
        ngram, ngram_sentence = self.ngrams.scores(corrected)
        qvec = self.embedder.embed([corrected])[0]
        sentence_sims = self.sentences.vectors @ qvec if self.sentences is not None else None
        views: dict[str, np.ndarray | None] = {
            "dense": self._dense(qvec, k, where),
            "sentence": self._best_sentences(sentence_sims),
            "bm25": keyword_scores.result(),
            "e5": self.e5_vectors @ e5.result() if e5 is not None and self.e5_vectors is not None else None,
            "ngram": ngram,
            "ngram_sentence": ngram_sentence,
        }
        normalised = {name: _z(scores, mask) for name, scores in views.items() if scores is not None}
        chosen: set[int] = set()
        for name, z in normalised.items():
            if name in ("bm25", "ngram", "ngram_sentence"):
                z = np.where(views[name] > 0, z, np.nan)  # type: ignore[operator]
            chosen.update(int(i) for i in _top(z, k))
        if not chosen:
            return [], qvec
        rows = np.array(sorted(chosen))
        dense = self.vectors[rows] @ qvec
        out = []
        for row, sim in zip(rows, dense, strict=True):
            cand = Candidate(self.index.chunks[row], dense=float(sim))
            cand.bm25 = float(views["bm25"][row]) if views["bm25"] is not None else 0.0
            cand.e5 = float(views["e5"][row]) if views["e5"] is not None else 0.0
            cand.z = {name: float(np.nan_to_num(z[row], nan=0.0)) for name, z in normalised.items()}
            if self.sentences is not None and sentence_sims is not None:
                cand.sentences = self.sentences.scores_among(cand.chunk.id, sentence_sims)
            out.append(cand)
        return sorted(out, key=lambda c: -sum(c.z.values())), qvec


def _z(scores: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Standard deviations above the mean, over the chunks the filters allow (NaN elsewhere)."""
    values = np.asarray(scores, dtype=np.float64)
    if mask is not None:
        values = np.where(mask, values, np.nan)
    seen = values[np.isfinite(values)]
    if not len(seen):
        return np.full(len(values), np.nan)
    spread = float(seen.std()) or 1.0
    return (values - float(seen.mean())) / spread


def _top(z: np.ndarray, k: int) -> np.ndarray:
    finite = np.where(np.isfinite(z), z, -np.inf)
    top = np.argsort(-finite)[:k]
    return top[np.isfinite(finite[top])]
