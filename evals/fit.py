"""``python -m evals.fit``: fits the ranker and the answerability model on the blind **dev** split and
writes them to ``assistant/fitted/`` with their cross-validated scores. The test split is never read.

1. Ranker: a logistic regression over each candidate passage's features (``LearnedReranker.features``),
   labelled by whether the passage holds an evidence quote; 5-fold cross-validation grouped by question
   chooses the regularisation and, with ``--extra-training``, whether the tuned-on sets join the training
   folds (they are never scored). Reported: top-1 and MRR over the candidates, out of fold, next to the
   hand-weighted blend it replaces and each view alone.
2. Answerability: a logistic regression over ``Answerability.features`` computed on the out-of-fold
   rankings, labelled answerable / should-abstain; its operating point is the highest threshold at which
   at most 5 % of answerable dev questions are declined, out of fold. The near-miss point (quote the
   nearest passage when declining) is chosen the same way between near-miss and off-topic questions.
   Three of its features are themselves fitted here and cross-fitted (each dev question's value comes from
   a scorer fitted on the other folds): the pair scorer (e5 question ⊙ passage), the question scorer (the
   e5 question vector alone) and the word scorer (the question's hashed words and word pairs).

Example::

    python -m evals.fit                 # fit on dev, print CV scores, write assistant/fitted/*.json
    python -m evals.fit --dry-run       # print only
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.fitted import LinearModel, PairScorer, QueryAdapter, QuestionScorer, WordScorer, word_rows
from assistant.pipeline import Assistant
from assistant.postprocessing.answerable import ANSWERABLE_FEATURES, JUDGED_FEATURES, PAIR_FEATURES
from assistant.postprocessing.judge import AnswerJudge, judge_llm
from assistant.postprocessing.rerank import CANDIDATE_FEATURES, HybridReranker, LearnedReranker
from assistant.retrieval.retrieve import Candidate
from assistant.retrieval.views import View
from core.settings import Settings
from evals.gold import GoldQuestion, dev_questions, load_gold, tuned_on_sets
from evals.scorer import contains_evidence

FOLDS = 5
SEED = 7
MAX_ANSWERABLE_DECLINED = 0.04


@dataclass
class Sample:
    question: GoldQuestion
    query: str
    language: str
    candidates: list[Candidate]
    x: np.ndarray  # candidates × CANDIDATE_FEATURES
    y: np.ndarray  # does the candidate hold evidence
    ranked: list[Candidate] = field(default_factory=list)  # by the out-of-fold ranker (answerability_rows)
    q: Any = None  # the prepared question (Query), which the composer reads (runners_up)


def collect(assistant: Assistant, questions: Sequence[GoldQuestion]) -> list[Sample]:
    reranker = assistant.reranker
    assert isinstance(reranker, LearnedReranker)
    out = []
    for q in questions:
        prepared = assistant.prepare(q.question, q.history or None)
        rows = reranker.features(prepared.query, prepared.ranked, prepared.language)
        x = np.array([[r.get(f, np.nan) for f in CANDIDATE_FEATURES] for r in rows]).reshape(len(rows), len(CANDIDATE_FEATURES))
        y = np.array([contains_evidence(c.chunk.text, q) for c in prepared.ranked], dtype=bool)
        out.append(Sample(q, prepared.query, prepared.language, prepared.ranked, x, y, q=prepared.q))
    return out


def impute(x: np.ndarray) -> np.ndarray:
    """A feature a row lacks (NaN: a view that did not run for that question) set to the column's mean, as
    ``LinearModel.score`` counts it at answer time, so a model is fitted on what it will see."""
    x = np.array(x, dtype=float)
    means = np.nanmean(np.where(np.isnan(x).all(axis=0), 0.0, x), axis=0) if len(x) else np.zeros(x.shape[1])
    rows, cols = np.nonzero(np.isnan(x))
    x[rows, cols] = means[cols]
    return x


def impute_samples(samples: list[Sample]) -> None:
    """``impute`` over the candidate rows of all ``samples`` together."""
    filled = impute(np.vstack([s.x for s in samples])) if samples else None
    start = 0
    for s in samples:
        s.x, start = filled[start:start + len(s.x)], start + len(s.x)  # type: ignore[index]


def _fit_lr(x: np.ndarray, y: np.ndarray, c: float, name: str, features: Sequence[str]) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit((x - mean) / scale, y)
    return LinearModel(name=name, features=list(features), coef=[float(v) for v in lr.coef_[0]],
                       intercept=float(lr.intercept_[0]), mean=[float(v) for v in mean], scale=[float(v) for v in scale])


def _scores(model: LinearModel, x: np.ndarray) -> np.ndarray:
    return np.asarray(((x - np.array(model.mean)) / np.array(model.scale)) @ np.array(model.coef) + model.intercept)


def _rank_metrics(samples: list[Sample], scores: list[np.ndarray]) -> dict[str, float]:
    """Top-1 and MRR over the candidates, for the answerable samples with evidence among them."""
    top1, rr = [], []
    for s, sc in zip(samples, scores, strict=True):
        if s.question.should_abstain:
            continue
        order = np.argsort(-sc)
        hits = [i for i, j in enumerate(order) if s.y[j]]
        top1.append(1.0 if hits and hits[0] == 0 else 0.0)
        rr.append(1.0 / (hits[0] + 1) if hits else 0.0)
    return {"top1": statistics.fmean(top1) if top1 else 0.0, "mrr": statistics.fmean(rr) if rr else 0.0, "n": len(top1)}


def _folds(samples: list[Sample]) -> list[int]:
    """Fold of each sample, by a hash of its id: stable, and spread over languages and kinds alike."""
    return [int(hashlib.sha256(f"{SEED}:{s.question.id}".encode()).hexdigest(), 16) % FOLDS for s in samples]


ADAPTER_EPOCHS = 60  # full-batch steps; leave-one-set-out on the three dev splits: 60 and 150 alike
ADAPTER_DECAY = 1e-2


@dataclass
class AdapterItem:
    query: np.ndarray  # the view's raw query vector
    passages: np.ndarray  # the candidates' passage vectors (candidates × d)
    y: np.ndarray  # does the candidate hold evidence


def adapter_items(view: View, samples: list[Sample]) -> list[AdapterItem | None]:
    """Per sample, what a view's query adapter learns from: None for a question with no evidence among its
    candidates (or none to find)."""
    rows = {c.id: i for i, c in enumerate(view.passages.chunks)}
    out: list[AdapterItem | None] = []
    for s in samples:
        if s.question.should_abstain or not len(s.y) or not s.y.any():
            out.append(None)
            continue
        out.append(AdapterItem(view.query_vector(s.query),
                               view.passage_matrix()[[rows[c.chunk.id] for c in s.candidates]], s.y.astype(np.float32)))
    return out


def fit_adapter(items: Sequence[AdapterItem]) -> np.ndarray:
    """``W`` of ``q + W q`` (zero to start), by full-batch AdamW on the mean over questions of the cross-entropy
    between the softmax of the candidates' cosines (× 30) and the evidence passages (uniform over them)."""
    import torch

    torch.manual_seed(SEED)
    d = items[0].query.shape[0]
    w = torch.zeros(d, d, requires_grad=True)
    opt = torch.optim.AdamW([w], lr=1e-3, weight_decay=ADAPTER_DECAY)
    data = [(torch.tensor(i.query), torch.tensor(i.passages), torch.tensor(i.y / i.y.sum())) for i in items]
    for _ in range(ADAPTER_EPOCHS):
        opt.zero_grad()
        loss = torch.zeros(())
        for q, p, target in data:
            v = q + w @ q
            loss = loss - (torch.log_softmax(p @ (v / v.norm()) * 30.0, 0) * target).sum()
        (loss / len(data)).backward()
        opt.step()
    return np.asarray(w.detach().numpy(), dtype=np.float32)


def _adapter_top1(items: Sequence[AdapterItem], adapter: QueryAdapter | None) -> float:
    hits = [float(np.argmax(i.passages @ (adapter.apply(i.query) if adapter else i.query)) in np.flatnonzero(i.y))
            for i in items]
    return statistics.fmean(hits) if hits else 0.0


def adapted_views(assistant: Assistant) -> list[View]:
    """The views that take a fitted query adapter (the dense MiniLM view, the e5 view)."""
    return [v for v in assistant.retriever.views if v.adapter_name is not None]


PAIR_C = 10.0  # the pair scorer's inverse L2 strength: nested CV on the three dev splits, 1 / 10 / 100 (10 kept)
PAIR_SCALE = 20.0  # q ⊙ p × 20: cosines' products are ~1/384 each


PAIR_RANKS = len(PAIR_FEATURES)  # the pair score of the first and the second passage


QUESTION_C = 1.0  # the question scorer's, on q × QUESTION_SCALE. Leaving one writer's set out (five dev splits):
QUESTION_SCALE = 10.0  # declined 0.462 → 0.509 (answerable declined 0.051 → 0.048) with it; C = 0.1: 0.486 (0.041)


WORD_C = 10.0  # the word scorer's. Leaving one writer's set out (five dev splits), with the question scorer: declined
# 0.509 → 0.572 (answerable declined 0.048 → 0.044; 2^18 buckets: 0.037); C = 3: 0.550, 30: 0.577; char 3–5-grams: 0.558


def _question_logistic(dev: list[Sample], rows: Any, c: float, folds: list[int]) -> tuple[np.ndarray, Any]:
    """A logistic model of answerable / should-abstain over one row per dev question: every question's logit
    out of fold, and the model fitted on all of them (what the question-side scorers store)."""
    from sklearn.linear_model import LogisticRegression

    y = np.array([not s.question.should_abstain for s in dev])
    oof = np.zeros(len(dev))
    for fold in range(FOLDS):
        train = np.array([g != fold for g in folds])
        oof[~train] = LogisticRegression(C=c, max_iter=5000).fit(rows[train], y[train]).decision_function(rows[~train])
    return oof, LogisticRegression(C=c, max_iter=5000).fit(rows, y)


def fit_words(dev: list[Sample], folds: list[int]) -> tuple[np.ndarray, WordScorer]:
    """The word scorer's logit for every dev sample out of fold, and the scorer fitted on all of them."""
    oof, model = _question_logistic(dev, word_rows([s.query for s in dev]), WORD_C, folds)
    scorer = WordScorer(name="question_words", matrix=model.coef_[0].astype(np.float32), offset=float(model.intercept_[0]),
                        fitted_on=f"blind dev ({len(dev)} questions)")
    return oof, scorer


def e5_rows(assistant: Assistant, dev: list[Sample]) -> tuple[np.ndarray, np.ndarray] | None:
    """Per sample, its raw e5 query vector, and per rank (the first ``PAIR_RANKS`` passages) the elementwise
    product of that vector and the passage's e5 vector (× ``PAIR_SCALE``; zeros where there is none); None
    without the e5 view."""
    view = assistant.retriever.view("e5")
    if view is None:
        return None
    rows = {c.id: i for i, c in enumerate(view.passages.chunks)}
    matrix = view.passage_matrix()
    questions = np.zeros((len(dev), matrix.shape[1]), dtype=np.float32)
    out = np.zeros((len(dev), PAIR_RANKS, matrix.shape[1]), dtype=np.float32)
    for k, s in enumerate(dev):
        q = questions[k] = view.query_vector(s.query)
        for r, cand in enumerate(s.ranked[:PAIR_RANKS]):
            out[k, r] = q * matrix[rows[cand.chunk.id]] * PAIR_SCALE
    return questions, out


def fit_question(dev: list[Sample], q: np.ndarray, folds: list[int]) -> tuple[np.ndarray, QuestionScorer]:
    """The question scorer's logit for every dev sample out of fold, and the scorer fitted on all of them."""
    oof, model = _question_logistic(dev, q * QUESTION_SCALE, QUESTION_C, folds)
    scorer = QuestionScorer(name="e5_question", matrix=(model.coef_[0] * QUESTION_SCALE).astype(np.float32),
                            offset=float(model.intercept_[0]), fitted_on=f"blind dev ({len(dev)} questions)")
    return oof, scorer


def fit_pair(dev: list[Sample], f: np.ndarray, folds: list[int]) -> tuple[np.ndarray, PairScorer]:
    """The pair score of every dev sample's first ``PAIR_RANKS`` passages out of fold (what the answerability
    model is fitted on: at answer time the scorer meets questions it never saw), and the scorer fitted on
    all of them. It learns from the first passage only (is the question answerable, given it)."""
    from sklearn.linear_model import LogisticRegression

    y = np.array([not s.question.should_abstain for s in dev])
    oof = np.zeros((len(dev), f.shape[1]))
    for fold in range(FOLDS):
        train = np.array([g != fold for g in folds])
        model = LogisticRegression(C=PAIR_C, max_iter=5000).fit(f[train, 0], y[train])
        for r in range(f.shape[1]):
            oof[~train, r] = model.decision_function(f[~train, r])
    model = LogisticRegression(C=PAIR_C, max_iter=5000).fit(f[:, 0], y)
    scorer = PairScorer(name="e5_pair", matrix=(model.coef_[0] * PAIR_SCALE).astype(np.float32),
                        offset=float(model.intercept_[0]), fitted_on=f"blind dev ({len(dev)} questions)")
    return oof, scorer


def cross_fitted(assistant: Assistant, questions: list[GoldQuestion]) -> tuple[list[Sample], list[QueryAdapter]]:
    """The dev samples, each collected with query adapters fitted on the other folds' questions (so the
    ranker and the answerability model learn from the adapted views as they score questions they never saw),
    and the adapters fitted on all of them, which the assistant keeps."""
    views = adapted_views(assistant)
    for view in views:
        view.adapter = None
    e5 = assistant.retriever.view("e5")
    if e5 is not None:
        e5.pair = None  # type: ignore[attr-defined]  # fitted after the ranker, on its out-of-fold order
        e5.question = None  # type: ignore[attr-defined]
    plain = collect(assistant, questions)
    if not views:
        return plain, []
    items = {view.name: adapter_items(view, plain) for view in views}
    folds = _folds(plain)
    samples: list[Sample | None] = [None] * len(plain)
    base: dict[str, list[float]] = {view.name: [] for view in views}
    adapted: dict[str, list[float]] = {view.name: [] for view in views}
    for fold in range(FOLDS):
        for view in views:
            train = [i for i, f in zip(items[view.name], folds, strict=True) if i is not None and f != fold]
            held = [i for i, f in zip(items[view.name], folds, strict=True) if i is not None and f == fold]
            view.adapter = QueryAdapter(name=str(view.adapter_name), matrix=fit_adapter(train))
            base[view.name].append(_adapter_top1(held, None) * len(held))
            adapted[view.name].append(_adapter_top1(held, view.adapter) * len(held))
        at = [k for k, f in enumerate(folds) if f == fold]
        for k, sample in zip(at, collect(assistant, [questions[k] for k in at]), strict=True):
            samples[k] = sample
    finals = []
    for view in views:
        kept = [i for i in items[view.name] if i is not None]
        n = len(kept)
        view.adapter = QueryAdapter(
            name=str(view.adapter_name), matrix=fit_adapter(kept),
            fitted_on=f"blind dev ({n} answerable questions with evidence among their candidates)",
            cv={f"{view.name}_top1_out_of_fold": {"raw": sum(base[view.name]) / n,
                                                  "adapted": sum(adapted[view.name]) / n, "n": n}})
        finals.append(view.adapter)
    return [s for s in samples if s is not None], finals


def fit_ranker(dev: list[Sample], extra: list[Sample], folds: list[int]) -> tuple[LinearModel, list[np.ndarray], dict]:
    """Chooses C (and the extra training data) by out-of-fold MRR; returns the final model, the out-of-fold
    scores of every dev sample under the chosen setting, and the CV report."""
    report: dict[str, object] = {}
    best: tuple[float, float, bool] | None = None
    best_oof: list[np.ndarray] = []
    for use_extra in ((False, True) if extra else (False,)):
        for c in (0.01, 0.1, 1.0, 10.0):
            oof: list[np.ndarray] = [np.zeros(0)] * len(dev)
            for fold in range(FOLDS):
                train = [s for s, f in zip(dev, folds, strict=True) if f != fold] + (extra if use_extra else [])
                train = [s for s in train if len(s.y)]
                model = _fit_lr(np.vstack([s.x for s in train]), np.concatenate([s.y for s in train]), c, "ranker",
                                CANDIDATE_FEATURES)
                for i, (s, f) in enumerate(zip(dev, folds, strict=True)):
                    if f == fold:
                        oof[i] = _scores(model, s.x) if len(s.y) else np.zeros(0)
            metrics = _rank_metrics(dev, oof)
            report[f"C={c}{' +tuned-on sets' if use_extra else ''}"] = metrics
            if best is None or metrics["mrr"] > best[0]:
                best, best_oof = (metrics["mrr"], c, use_extra), oof
    assert best is not None
    _, c, use_extra = best
    train = [s for s in dev + (extra if use_extra else []) if len(s.y)]
    model = _fit_lr(np.vstack([s.x for s in train]), np.concatenate([s.y for s in train]), c, "ranker", CANDIDATE_FEATURES)
    model.cv = {"chosen": f"C={c}{' +tuned-on sets' if use_extra else ''}", "out_of_fold": _rank_metrics(dev, best_oof),
                "baselines": _baselines(dev), "settings": report}
    model.fitted_on = f"blind dev ({len(dev)} questions){' + the tuned-on sets' if use_extra else ''}"
    return model, best_oof, model.cv


MARGINS = (0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0)
RUNNERS = (1, 2)  # how many of the next passages may be cited beside the best (a third: +0.003 evidence, −0.022 precision)
MARGIN_TOLERANCE = 0.002  # 0.2 % of answers: under what a refit moves


def runners_up(assistant: Assistant, dev: list[Sample]) -> tuple[int, float, dict[str, dict[str, float]]]:
    """How many runners-up (``ExtractiveComposer.runners``) within which log-odds margin of the best passage
    (``ExtractiveComposer.margin``) are quoted and cited beside it, chosen end to end on the out-of-fold
    rankings (``s.ranked``): every answerable dev question is answered at each setting and scored on what the
    user sees; of the settings whose mean of evidence cited and key facts is within ``MARGIN_TOLERANCE`` of
    the best, the one whose citations most often hold the evidence (citation precision: each runner-up cited
    without it costs the reader a quote). The report is keyed ``"runners:margin"``."""
    from assistant.postprocessing.answerable import Verdict
    from evals.scorer import score_one

    composer, synthesizer = assistant.composer, assistant.synthesizer
    before = composer.runners, composer.margin
    scored: dict[tuple[int, float], dict[str, float]] = {}
    answerable = [s for s in dev if not s.question.should_abstain and s.ranked and s.q is not None]
    for runners in RUNNERS:
        for margin in MARGINS[1:] if runners > 1 else MARGINS:  # at 0 (ties only) the count does not matter
            composer.runners, composer.margin = runners, margin
            rows = []
            for s in answerable:
                s.q.verdict = Verdict(1.0, True, 1.0)  # composed as if judged answerable: the setting alone differs
                answer = synthesizer.synthesize(s.q, list(s.ranked)).metadata["answer"]  # type: ignore[index]
                rows.append(score_one(s.question, answer, s.ranked, 5, 0.0))
            cited = [c for r in rows for c in r.cited_relevant]
            scored[runners, margin] = {"evidence_cited": statistics.fmean(r.cited_hit for r in rows),
                                       "key_facts": statistics.fmean(r.facts for r in rows),
                                       "citation_precision": statistics.fmean(cited) if cited else 0.0,
                                       "median_words": float(statistics.median(r.words for r in rows))}
    composer.runners, composer.margin = before
    value = {key: (r["evidence_cited"] + r["key_facts"]) / 2 for key, r in scored.items()}
    best = max(value.values())
    count, at = max((key for key, v in value.items() if v >= best - MARGIN_TOLERANCE),
                    key=lambda key: scored[key]["citation_precision"])
    return count, at, {f"{n}:{m:g}": row for (n, m), row in scored.items()}


def _baselines(dev: list[Sample]) -> dict[str, dict[str, float]]:
    out = {}
    for name in ("z_dense", "z_sentence", "z_bm25", "z_e5"):
        col = CANDIDATE_FEATURES.index(name)
        out[name] = _rank_metrics(dev, [s.x[:, col] if len(s.y) else np.zeros(0) for s in dev])
    hand = HybridReranker.blend
    out["hand-weighted blend (before)"] = _rank_metrics(dev, [np.array([hand(c) for c in s.candidates]) for s in dev])
    return out


def answerability_rows(assistant: Assistant, dev: list[Sample], oof: list[np.ndarray]) -> np.ndarray:
    rows = []
    for s, scores in zip(dev, oof, strict=True):
        for cand, score in zip(s.candidates, scores, strict=True):
            cand.score = float(1 / (1 + np.exp(-score)))  # the reranker's probability
        ranked = s.ranked = sorted(s.candidates, key=lambda c: -c.score)
        x = assistant.answerability.features(s.query, ranked, s.language)
        rows.append([x.get(f, np.nan) for f in ANSWERABLE_FEATURES])
    return impute(np.array(rows))


def fit_answerable(dev: list[Sample], x: np.ndarray, folds: list[int], name: str = "answerable",
                   features: Sequence[str] = ANSWERABLE_FEATURES) -> LinearModel:
    y = np.array([not s.question.should_abstain for s in dev])
    best: tuple[float, float, np.ndarray] | None = None
    report: dict[str, object] = {}
    for c in (0.03, 0.1, 0.3, 1.0, 3.0):
        oof = np.zeros(len(dev))
        for fold in range(FOLDS):
            train = np.array([f != fold for f in folds])
            model = _fit_lr(x[train], y[train], c, name, features)
            oof[~train] = 1 / (1 + np.exp(-_scores(model, x[~train])))
        threshold = _threshold(oof, y)
        declined = float(np.mean(oof[~y] < threshold)) if (~y).any() else 0.0
        report[f"C={c}"] = {"declined": declined, "answerable_declined": float(np.mean(oof[y] < threshold))}
        if best is None or declined > best[0]:
            best = (declined, c, oof)
    assert best is not None
    _, c, oof = best
    model = _fit_lr(x, y, c, name, features)
    model.threshold = _threshold(oof, y)
    kinds = [s.question.question_kind for s in dev]
    model.extra = {"near_miss": _near_point(oof, kinds, model.threshold)}
    by_kind = {k: float(np.mean([p < model.threshold for p, kk in zip(oof, kinds, strict=True) if kk == k]))
               for k in sorted(set(kinds))}
    out_of_fold = {"declined": best[0], "answerable_declined": float(np.mean(oof[y] < model.threshold)),
                   "declined_by_kind": by_kind}
    model.cv = {"chosen": f"C={c}", "out_of_fold": out_of_fold, "settings": report}
    model.fitted_on = f"blind dev ({len(dev)} questions)"
    return model


def _threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The highest threshold that declines at most MAX_ANSWERABLE_DECLINED of the answerable questions."""
    answerable = np.sort(p[y])
    allowed = int(np.floor(MAX_ANSWERABLE_DECLINED * len(answerable)))
    return float(answerable[allowed]) if len(answerable) else 0.5


def _near_point(p: np.ndarray, kinds: list[str], threshold: float) -> float:
    """Below the threshold: quote the nearest passage above this point (near-miss), not below (off-topic)."""
    declined = [(pp, k) for pp, k in zip(p, kinds, strict=True) if pp < threshold and k in ("near_miss", "off_topic")]
    best, point = -1, threshold
    for cut in sorted({pp for pp, _ in declined} | {threshold}):
        right = sum((pp >= cut) == (k == "near_miss") for pp, k in declined)
        if right > best:
            best, point = right, cut
    return float(point)


def fit_judged(dev: list[Sample], x: np.ndarray, folds: list[int], plain: LinearModel,
               judge: AnswerJudge) -> LinearModel:
    """The answerability model with the LLM judge's yes-probability as one more feature, fitted and
    cross-validated like the plain one on the questions the judge answered; its report puts the two side
    by side and gives the judge alone (its ROC AUC, answerable against should-abstain)."""
    from sklearn.metrics import roc_auc_score

    judged = [judge.probability(s.query, s.ranked) for s in dev]
    keep = [i for i, p in enumerate(judged) if p is not None]
    if len(keep) < len(dev) // 2:
        raise SystemExit(f"the LLM judge answered only {len(keep)} of {len(dev)} dev questions")
    sub = [dev[i] for i in keep]
    p_yes = np.array([judged[i] for i in keep], dtype=float)
    xj: np.ndarray = np.column_stack((x[keep], p_yes))
    model = fit_answerable(sub, xj, [folds[i] for i in keep], "answerable_llm", JUDGED_FEATURES)
    same = fit_answerable(sub, x[keep], [folds[i] for i in keep])  # the plain model on the same questions
    y = np.array([not s.question.should_abstain for s in sub])
    model.cv["judge_alone_auc"] = float(roc_auc_score(y, p_yes)) if len(set(y)) == 2 else float("nan")
    model.cv["judge_mean_yes"] = {"answerable": float(p_yes[y].mean()), "should_abstain": float(p_yes[~y].mean())}
    model.cv["plain_model_same_questions"] = same.cv["out_of_fold"]
    model.cv["plain_model_shipped"] = plain.cv.get("out_of_fold", {})
    model.cv["judged_questions"] = len(keep)
    model.fitted_on = f"blind dev ({len(keep)} of {len(dev)} questions the judge answered), judge {judge.llm.metadata.model_name}"
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print the CV scores, write nothing")
    parser.add_argument("--extra-training", action="store_true",
                        help="let CV try the tuned-on sets as extra ranker training data")
    parser.add_argument("--llm-judge", action="store_true",
                        help="also fit fitted/answerable_llm.json with the LLM judge's feature (COALITION_LLM_URL); "
                             "writes only that file")
    args = parser.parse_args(argv)
    settings = Settings()
    assistant = Assistant.from_settings(settings.model_copy(update={"llm_judge": False}), fitting=True)
    dev, adapters = cross_fitted(assistant, dev_questions())
    for adapter in adapters:
        print(f"{adapter.name}, out of fold on dev (its view alone, top-1 over candidates):", *adapter.cv.values())
    extra = collect(assistant, [q for p in tuned_on_sets().values() for q in load_gold(p)]) if args.extra_training else []
    impute_samples(dev + extra)
    folds = _folds(dev)
    ranker, oof, cv = fit_ranker(dev, extra, folds)
    print("ranker, out of fold on dev:", cv["out_of_fold"], "chosen", cv["chosen"])
    for name, m in cv["baselines"].items():
        print(f"  baseline {name}: {m}")
    x = answerability_rows(assistant, dev, oof)
    runners, margin, by_setting = runners_up(assistant, dev)
    ranker.extra, ranker.cv["runners_up"] = {"runners_up": runners, "runner_up_margin": margin}, by_setting
    print("runners-up and their log-odds margin, end to end on the out-of-fold rankings:", runners, margin, by_setting)
    e5 = e5_rows(assistant, dev)
    pair, question = None, None
    if e5 is not None:
        scored, pair = fit_pair(dev, e5[1], folds)
        for r, name in enumerate(PAIR_FEATURES):
            has = np.array([len(s.ranked) > r for s in dev])
            x[:, ANSWERABLE_FEATURES.index(name)] = np.where(has, scored[:, r], scored[has, r].mean() if has.any() else 0.0)
        x[:, ANSWERABLE_FEATURES.index("e5_question")], question = fit_question(dev, e5[0], folds)
    x[:, ANSWERABLE_FEATURES.index("question_words")], words = fit_words(dev, folds)
    answerable = fit_answerable(dev, x, folds)
    print("answerability, out of fold on dev:", answerable.cv["out_of_fold"], "chosen", answerable.cv["chosen"],
          f"threshold {answerable.threshold:.3f}, near-miss point {answerable.extra['near_miss']:.3f}")
    if args.llm_judge:
        if not settings.llm_url:
            raise SystemExit("--llm-judge needs COALITION_LLM_URL")
        judged = fit_judged(dev, x, folds, answerable, AnswerJudge(judge_llm(settings)))
        for key in ("judged_questions", "judge_alone_auc", "judge_mean_yes", "plain_model_same_questions"):
            print(f"  {key}: {judged.cv[key]}")
        print("  with the judge, out of fold:", judged.cv["out_of_fold"], "chosen", judged.cv["chosen"])
        if not args.dry_run:
            print("wrote", judged.save())
        return
    if not args.dry_run:
        print("wrote", ranker.save(), answerable.save(), *(a.save() for a in adapters),
              *([pair.save()] if pair is not None else []), *([question.save()] if question is not None else []),
              words.save())


if __name__ == "__main__":
    main()
