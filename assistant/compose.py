"""Compose stage: the default, extractive answerer. No LLM: it selects the sentences or lettered
items that answer the question from the top passages, keeps lists whole (¶16 (a)(b)(c)), keeps the
answer short, and puts ``[n]`` after each claim. It can only state what a cited passage says.
A passage's best sentence is the one that covers most of the question's terms plus its cosine with the
question (from the sentence vectors ingest stores).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.rerank import TermWeights
from assistant.retrieve import Candidate
from assistant.text import question_terms, sentences, text_terms, words

CONTEXT_WORDS = 90
_LIST = re.compile(r"\n(?:\([a-z]{1,4}\)|•|\d{1,2}\.)\s")


@dataclass
class Snippet:
    """A span of one passage used in the answer: ``quote`` is ``candidate.chunk.text[start:end]``."""

    candidate: Candidate
    start: int
    end: int

    @property
    def quote(self) -> str:
        return self.candidate.chunk.text[self.start : self.end].strip()


class ExtractiveComposer:
    """Example: ``ExtractiveComposer(weights).select(question, reranked)`` → snippets in answer order."""

    def __init__(self, weights: TermWeights, max_words: int = 110, max_passages: int = 3,
                 sentence_weight: float = 1.0) -> None:
        self.weights = weights
        self.sentence_weight = sentence_weight
        self.max_words = max_words
        self.max_passages = max_passages

    def select(self, question: str, candidates: list[Candidate]) -> list[Snippet]:
        if not candidates:
            return []
        qterms = question_terms(question)
        best = candidates[0]
        chosen: list[Snippet] = [self._snippet(best, qterms, self.max_words)]
        covered = text_terms(chosen[0].quote)
        budget = self.max_words - len(words(chosen[0].quote))
        for cand in candidates[1 : self.max_passages + 2]:
            if len(chosen) >= self.max_passages or budget < 12:
                break
            if cand.score < 0.85 * best.score:
                break
            snip = self._snippet(cand, qterms, budget)
            new_terms = text_terms(snip.quote)
            gain = self.weights.coverage(qterms, new_terms - covered)
            if gain < 0.15 or len(words(snip.quote)) > budget:
                continue
            chosen.append(snip)
            covered |= new_terms
            budget -= len(words(snip.quote))
        return chosen

    def _snippet(self, cand: Candidate, qterms: list[str], budget: int) -> Snippet:
        text = cand.chunk.text
        if len(words(text)) <= min(budget, 60) or cand.chunk.metadata.get("kind") == "table_row":
            return Snippet(cand, 0, len(text))
        spans = sentences(text)
        scored = [(self.weights.coverage(qterms, text_terms(text[a:b])), -i, a, b) for i, (a, b) in enumerate(spans)]
        _fit, neg_i, start, end = max((cov + self.sentence_weight * cand.sentences.get((a, b), 0.0), neg_i, a, b)
                                     for cov, neg_i, a, b in scored)
        cov = scored[-neg_i][0]
        i = -neg_i
        if _LIST.search(text):
            list_end = _list_end(text)
            if (i == 0 or start < list_end) and len(words(text[:list_end])) <= max(budget, 90):
                return Snippet(cand, 0, list_end)
        if cov == 0:
            i, (start, end) = 0, spans[0]
        # a short best sentence reads better with what follows it: add sentences up to ~CONTEXT_WORDS
        while len(words(text[start:end])) < CONTEXT_WORDS and i + 1 < len(spans):
            nxt_end = spans[i + 1][1]
            if len(words(text[start:nxt_end])) > min(budget, CONTEXT_WORDS + 30):
                break
            i, end = i + 1, nxt_end
        return Snippet(cand, start, end)


def _list_end(text: str) -> int:
    """End of the lead-in plus its list items (the lines that start with a label or bullet)."""
    end = text.find("\n")
    for m in re.finditer(r"\n[^\n]*", text):
        if _LIST.match(m.group(0) + " "):
            end = m.end()
        else:
            break
    return end if end > 0 else len(text)
