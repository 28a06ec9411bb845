"""Answerability: whether the best passages answer the question, as a calibrated probability.

A logistic model (fitted on the blind dev split by ``python -m evals.fit``, ``fitted/answerable.json``)
over general features of the question and the ranked passages: the best passage's fused score and its
margin to the next, each view's score for it and whether the views agree on it, how much of the
question's terms it covers and how many of them the corpus knows at all, whether the named things of
the question (capitalised words, numbers, years) are in it and in the corpus, whether the question
asks about a year after the documents' dates, whether it names a country the documents never mention
('the minimum wage in Germany?'), whether the kind of thing asked for (a date, a
number, a procedure, a frequency) is in it, the pair scorer's logit (``PairScorer``: does this
passage answer this question, from their e5 vectors) for the first passage and for the second, and the
question scorer's (``QuestionScorer``: is this a question the documents answer, from its e5 vector alone)
and the word scorer's (``WordScorer``: the same, from its words and word pairs). No
named-entity or translation model ships offline: these are read from the text. The operating point was
chosen on cross-validated dev predictions so that at most 4 % of answerable questions are declined.

With an LLM judge (``COALITION_LLM_JUDGE``, ``assistant/postprocessing/judge.py``) its yes-probability is one more
feature, ``llm_yes``, and a model fitted with it (``fitted/answerable_llm.json``) decides whenever the
judge answered; the plain model decides when it did not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle

from assistant.candidates import Candidate, Query, candidates
from assistant.fitted import LinearModel, WordScorer
from assistant.postprocessing.judge import AnswerJudge
from assistant.postprocessing.rerank import TermWeights
from assistant.retrieval.retrieve import VIEWS
from assistant.retrieval.translate import Translator
from assistant.text import answer_type_terms, question_terms, text_terms, words
from ingest.storage.keyword import passage_context
from ingest.storage.lexicon import last_year
from ingest.transforms import geo

ANSWERABLE_FEATURES = ("top", "margin", *(f"z_{v}" for v in VIEWS), "dense", "e5", "coverage", "agree",
                       "known_terms", "uncovered_idf", "uncovered_top3", "named_in_passage", "named_in_corpus", "has_named",
                       "after_dates", "asked_type_missing", "other_language", "unknown_country", "e5_pair", "e5_pair_next",
                       "e5_question", "question_words")
PAIR_FEATURES = ("e5_pair", "e5_pair_next")  # the pair scorer's logit for the first passage, then the second
_TOKEN = re.compile(r"[^\W\d_][\w\-']*|\d[\d,.]*\d|\d")


def named_things(question: str) -> list[str]:
    """Capitalised words that do not open a sentence, acronyms, numbers and years: what a question names."""
    found = []
    for m in _TOKEN.finditer(question):
        token = m.group(0)
        before = question[: m.start()].rstrip()
        opens = not before or before[-1] in ".?!¿¡:"
        if token[0].isdigit() or (token[0].isupper() and (not opens or token.isupper() and len(token) > 1)):
            found.append(token.lower().strip(".,'"))
    return [f for f in found if f]


JUDGED_FEATURES = (*ANSWERABLE_FEATURES, "llm_yes")


@dataclass
class Verdict:
    """The decision on one question: the probability, whether it clears the operating point of the model
    that decided, that model's near-miss point, and the LLM judge's yes-probability when it was used."""

    probability: float
    answerable: bool
    near_miss: float
    llm_yes: float | None = None


class Answerability(BaseNodePostprocessor):
    """A LlamaIndex postprocessor that judges the ranked passages and writes the probability on the
    question (``Query.answerable``); the synthesizer answers or declines by it. The passages pass unchanged.

    The corpus's words and its latest year come from the lexicon ingest stored (``weights.lexicon``).

    Example: ``Answerability(model, weights).probability(question, ranked)`` → 0.93."""

    model: Any  # LinearModel
    weights: Any  # TermWeights
    judge: Any = None  # AnswerJudge: an LLM's yes-probability, one more feature when it answers
    judged_model: Any = None  # LinearModel fitted with that feature (fitted/answerable_llm.json)
    translator: Any = None  # Translator: a French or Spanish question's known-terms share
    words: Any = None  # WordScorer (fitted/question_words): the question_words feature; None counts as average
    _vocabulary: set[str] = PrivateAttr(default_factory=set)
    _countries: set[str] = PrivateAttr(default_factory=set)
    _last_year: int = PrivateAttr(0)

    def __init__(self, model: LinearModel, weights: TermWeights,
                 judge: AnswerJudge | None = None, judged_model: LinearModel | None = None,
                 translator: Translator | None = None, words: WordScorer | None = None) -> None:
        if (judge is None) != (judged_model is None):
            raise ValueError("an LLM judge needs the model fitted with its feature (fitted/answerable_llm.json)")
        super().__init__(model=model, weights=weights, judge=judge, judged_model=judged_model, translator=translator,
                         words=words)
        self._vocabulary = weights.lexicon.union("words")
        self._countries = weights.lexicon.union("countries")  # the documents' (an audience's: those it may see)
        self._last_year = weights.lexicon.last_year

    @classmethod
    def class_name(cls) -> str:
        return "Answerability"

    @property
    def vocabulary(self) -> set[str]:
        return self._vocabulary

    @property
    def last_year(self) -> int:
        return self._last_year

    @property
    def countries(self) -> set[str]:
        return self._countries

    def unknown_countries(self, question: str) -> list[str]:
        """The countries a question names when the documents mention none of them ('the minimum wage in
        Germany?'): a feature of the model, and the decline's wording."""
        named = geo.mentioned(question)
        return [] if not named or set(named) & self._countries else named

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        query = Query.of(query_bundle or "")
        query.verdict = self.decide(query.query_str, candidates(nodes), query.language, query.e5_question)
        query.answerable = query.verdict.probability
        return nodes

    def features(self, question: str, ranked: list[Candidate], language: str = "en",
                 question_score: float | None = None) -> dict[str, float]:
        """``question_score``: the question scorer's logit (``Query.e5_question``); None counts as average."""
        x = dict.fromkeys(ANSWERABLE_FEATURES, 0.0)
        if question_score is None:
            x.pop("e5_question")
        else:
            x["e5_question"] = question_score
        if self.words is None:
            x.pop("question_words")
        else:
            x["question_words"] = self.words.logit(question)
        x["other_language"] = 0.0 if language == "en" else 1.0
        qterms = set(question_terms(question)) - set(answer_type_terms(question))
        total = sum(self.weights.weight(t) for t in qterms)
        known = sum(self.weights.weight(t) for t in qterms if t in self.weights.idf)
        if language == "en":
            x["known_terms"] = known / total if total else 1.0
        else:  # the share of its words that have a near equivalent among the documents' words
            x["known_terms"] = self.translator.translate(question).known_share if self.translator else 1.0
        x["after_dates"] = 1.0 if last_year(question) > self.last_year else 0.0
        x["unknown_country"] = 1.0 if self.unknown_countries(question) else 0.0
        if not ranked:
            return x
        best = ranked[0]
        if language == "en" and qterms:
            # the most specific question term the best passages lack: a near-miss question matches the topic
            # ('the Summit') but not the fact asked ('heads of state'), which is often its rarest word
            top_idf = max(self.weights.weight(t) for t in qterms)
            near = [self.weights.terms(c.chunk) for c in ranked[:3]]
            x["uncovered_idf"] = max((self.weights.weight(t) for t in qterms if t not in near[0]), default=0.0) / top_idf
            x["uncovered_top3"] = max((self.weights.weight(t) for t in qterms if not any(t in n for n in near)),
                                      default=0.0) / top_idf
        x["top"] = best.score
        x["margin"] = best.score - ranked[1].score if len(ranked) > 1 else 1.0
        for v in VIEWS:  # a view switched off is left out: the model counts it as average
            if v in best.z:
                x[f"z_{v}"] = best.z[v]
            else:
                x.pop(f"z_{v}", None)
        x.update(dense=best.dense, coverage=best.lexical)
        if "e5" in best.z:
            x["e5"] = best.e5
        else:
            x.pop("e5", None)
        if best.e5_plain is not None and best.z_e5_plain is not None:  # the raw cosine, where an adapter ranked
            x["e5"], x["z_e5"] = best.e5_plain, best.z_e5_plain
        # the pair score of the first passage and of the second (the fact asked is often in the runner-up:
        # leaving one writer's set out, declined 0.471 → 0.552 with it; a third passage added nothing)
        for rank, key in enumerate(PAIR_FEATURES):
            cand = ranked[rank] if len(ranked) > rank else None
            if cand is not None and cand.e5_pair is not None:
                x[key] = cand.e5_pair
            else:
                x.pop(key, None)
        views = [v for v in VIEWS if any(v in c.z for c in ranked)]
        if views:
            x["agree"] = sum(max(ranked, key=lambda c, v=v: c.z.get(v, -9.0)) is best for v in views) / len(views)  # type: ignore[misc]
        named = named_things(question)
        if named:
            passage = set(words(f"{passage_context(best.chunk)} {best.chunk.text}"))
            x["has_named"] = 1.0
            x["named_in_passage"] = sum(n in passage for n in named) / len(named)
            x["named_in_corpus"] = sum(n in self.vocabulary for n in named) / len(named)
        asked = answer_type_terms(question)
        if asked:
            x["asked_type_missing"] = 0.0 if set(asked) <= text_terms(best.chunk.text) else 1.0
        return x

    def probability(self, question: str, ranked: list[Candidate], language: str = "en",
                    question_score: float | None = None) -> float:
        """The plain model's probability (no LLM judge)."""
        return self.model.probability(self.features(question, ranked, language, question_score))

    def decide(self, question: str, ranked: list[Candidate], language: str = "en",
               question_score: float | None = None) -> Verdict:
        x = self.features(question, ranked, language, question_score)
        model, judged = self.model, None
        if self.judge is not None and self.judged_model is not None:
            judged = self.judge.probability(question, ranked)
            if judged is not None:  # the feature is used only when present
                x["llm_yes"], model = judged, self.judged_model
        p = model.probability(x)
        return Verdict(p, p >= model.threshold, model.extra.get("near_miss", 1.0), judged)
