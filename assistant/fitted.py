"""Fitted models: linear scores whose weights were fitted on the blind dev split by ``python -m evals.fit``
and are stored beside this module as JSON (``fitted/ranker.json``, ``fitted/answerable.json``), with
what they were fitted on and their cross-validated scores.

Example::

    model = LinearModel.load("ranker")
    score = model.score({"z_dense": 1.2, "z_bm25": 0.4, ...})      # the logit
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

FITTED_DIR = Path(__file__).resolve().parent / "fitted"


class LinearModel(BaseModel):
    """``logit = intercept + Σ coef[f] × (x[f] − mean[f]) / scale[f]``; ``threshold`` is the operating point
    on the probability, where one was chosen. A feature ``x`` lacks (a view switched off) adds nothing."""

    name: str
    features: list[str]
    coef: list[float]
    intercept: float
    mean: list[float]
    scale: list[float]
    threshold: float = 0.5
    extra: dict[str, float] = Field(default_factory=dict)  # other fitted numbers (e.g. the near-miss point)
    fitted_on: str = ""
    cv: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def load(cls, name: str, folder: Path = FITTED_DIR) -> LinearModel:
        return cls.model_validate_json((folder / f"{name}.json").read_text(encoding="utf-8"))

    @classmethod
    def neutral(cls, name: str, features: tuple[str, ...] | list[str]) -> LinearModel:
        """All weights zero: what ``evals/fit.py`` starts from when nothing was fitted yet."""
        n = len(features)
        return cls(name=name, features=list(features), coef=[0.0] * n, intercept=0.0, mean=[0.0] * n, scale=[1.0] * n)

    @classmethod
    def load_or_neutral(cls, name: str, features: tuple[str, ...]) -> LinearModel:
        path = FITTED_DIR / f"{name}.json"
        return cls.load(name) if path.exists() else cls.neutral(name, features)

    def save(self, folder: Path = FITTED_DIR) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}.json"
        path.write_text(json.dumps(self.model_dump(), indent=1) + "\n", encoding="utf-8")
        return path

    def score(self, x: dict[str, float]) -> float:
        total = self.intercept
        for name, coef, mean, scale in zip(self.features, self.coef, self.mean, self.scale, strict=True):
            total += coef * (x.get(name, mean) - mean) / (scale or 1.0)  # a missing feature counts as average
        return total

    def probability(self, x: dict[str, float]) -> float:
        return 1.0 / (1.0 + math.exp(-max(min(self.score(x), 50.0), -50.0)))


class FittedArray(BaseModel):
    """A fitted numpy array, stored as ``{name}.npy`` beside its ``{name}.json`` (what it was fitted on, its CV)."""

    name: str
    fitted_on: str = ""
    cv: dict[str, Any] = Field(default_factory=dict)
    matrix: Any = Field(default=None, exclude=True)  # numpy, float32

    @classmethod
    def load(cls, name: str, folder: Path = FITTED_DIR) -> Any:
        """The fitted array's model, or None where none was fitted."""
        import numpy as np

        meta, weights = folder / f"{name}.json", folder / f"{name}.npy"
        if not (meta.exists() and weights.exists()):
            return None
        fitted = cls.model_validate_json(meta.read_text(encoding="utf-8"))
        fitted.matrix = np.load(weights).astype(np.float32)
        return fitted

    def save(self, folder: Path = FITTED_DIR) -> Path:
        import numpy as np

        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / f"{self.name}.npy", np.asarray(self.matrix, dtype=np.float32))
        path = folder / f"{self.name}.json"
        path.write_text(json.dumps(self.model_dump(), indent=1) + "\n", encoding="utf-8")
        return path


class QueryAdapter(FittedArray):
    """A residual linear map on a view's query vector, ``q' = (q + W q) / ‖q + W q‖``, fitted by
    ``python -m evals.fit`` on the blind dev questions so that the passages holding their evidence score
    above the other candidates (softmax over each question's candidates). The passage vectors are not
    touched, so nothing is re-embedded. ``W`` is stored beside the JSON as ``{name}.npy`` (384 × 384).

    Example: ``QueryAdapter.load("e5_adapter").apply(encoder.query("¿Cómo unirse?"))``."""

    @classmethod
    def load_all(cls, folder: Path = FITTED_DIR) -> dict[str, QueryAdapter]:
        """Every fitted adapter in ``folder``, by name."""
        found = (cls.load(path.stem, folder) for path in sorted(folder.glob("*_adapter.json")))
        return {a.name: a for a in found if a is not None}

    def apply(self, q: Any) -> Any:
        v = q + self.matrix @ q
        return v / (float((v @ v) ** 0.5) or 1.0)


class PairScorer(FittedArray):
    """Does this passage answer this question: a logistic model over the elementwise product of the raw e5
    query vector and the e5 vector of the passage ranked first, the logit ``offset + Σ w[d] q[d] p[d]``,
    fitted by ``python -m evals.fit`` on the blind dev questions (answerable or not).
    One feature of the answerability model (``e5_pair``). For every passage at once it is one more column
    of the e5 view's product: ``P @ (w ⊙ q) + offset``. ``matrix`` holds ``w`` (384). The logit, not the
    bare product: e5 vectors share a large common part, so ``w``'s share of the intercept differs from fit to
    fit, and only their sum is the same across the folds the answerability model learns from."""

    offset: float = 0.0

    def column(self, q: Any) -> Any:
        return self.matrix * q


class QuestionScorer(FittedArray):
    """Is a question like this one the documents answer at all: a logistic model over the raw e5 query
    vector alone, the logit ``offset + Σ u[d] q[d]``, fitted by ``python -m evals.fit`` on the blind dev
    questions (answerable or not) and cross-fitted like the pair scorer. One feature of the answerability
    model (``e5_question``): what a question asks for (a figure they never give, a person they never name,
    what happened after their dates) shows in its wording as well as in its passages. ``matrix`` holds ``u`` (384)."""

    offset: float = 0.0

    def logit(self, q: Any) -> float:
        return float(q @ self.matrix) + self.offset


WORD_BUCKETS = 2**16


class WordScorer(FittedArray):
    """The same question, read by its words: a logistic model over the question's words and word pairs
    (lower-cased, hashed into ``WORD_BUCKETS`` buckets, the row L2-normalised: nothing to store but the
    weights), fitted by ``python -m evals.fit`` on the blind dev questions in all three languages. One
    feature of the answerability model (``question_words``). What it learnt is which kinds of question
    these documents answer ('step', 'guide', 'join' …) and which they never do ('budget', 'current',
    'combien', a year after their dates …); the passage features still decide with it. ``matrix`` holds
    the weight of each bucket."""

    offset: float = 0.0

    def logit(self, text: str) -> float:
        row = word_rows([text])
        return float(row.data @ self.matrix[row.indices]) + self.offset


@functools.cache
def _word_hasher() -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=WORD_BUCKETS, alternate_sign=False, norm="l2")


def word_rows(texts: list[str]) -> Any:
    """The hashed word rows ``WordScorer`` reads (a sparse matrix, one row per text): what ``evals/fit.py`` fits on."""
    return _word_hasher().transform(texts)
