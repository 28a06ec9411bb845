"""Compose stage: the default, extractive answerer. No LLM: it selects the sentences or lettered
items that answer the question from the top passages, keeps lists whole (¶16 (a)(b)(c)), keeps the
answer short, and puts ``[n]`` after each claim. It can only state what a cited passage says.
A long passage is quoted from the sentence whose quote (it and the sentences after it) covers most of the
question's terms, plus that sentence's cosine with the question (from the sentence vectors ingest stores).
A list too long for one passage was split at ingest
into parts that each repeat its lead-in (¶36 (a)…(d)); a question answered by that lead-in gets the
lead-in once and every part's items, cut to their first clause (marked "…") when all would not fit,
except the items that hold more of the question's terms than the others.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from assistant.postprocessing.rerank import TermWeights
from assistant.retrieval.retrieve import Candidate
from assistant.text import question_terms, sentences, text_terms, words
from ingest.storage.store import StoredChunk

CONTEXT_WORDS = 90
WHOLE_WORDS = 100  # a passage this short is quoted whole (60 → 100: key facts on dev 0.665 → 0.680, median words 75 → 80)
_LABEL = r"(?:\([a-z]{1,4}\)|•|\d{1,2}\.)\s"  # '(a) ', '• ', '3. '
_LIST = re.compile(rf"\n{_LABEL}")
_ITEM = re.compile(rf"(?:(?<=\n)|(?<= … )){_LABEL}")  # an item's label, at a line or after '… '
_CLAUSE_END = re.compile(r"[;.]|,\s")
_CLAUSE = re.compile(r"[:;]\s")


@dataclass
class Snippet:
    """A span of one passage used in the answer: ``quote`` is ``candidate.chunk.text[start:end]``."""

    candidate: Candidate
    start: int
    end: int
    cut: bool = False  # a list item cut to its first clause: the answer marks it with '…'

    @property
    def quote(self) -> str:
        return self.candidate.chunk.text[self.start : self.end].strip()


class ExtractiveComposer:
    """Example: ``ExtractiveComposer(weights).select(question, reranked)`` → snippets in answer order."""

    def __init__(self, weights: TermWeights, max_words: int = 140, max_passages: int = 3,
                 sentence_weight: float = 1.0, parts: Mapping[str, list[StoredChunk]] | None = None,
                 margin: float = 0.0, runners: int = 1) -> None:
        """``parts``: chunk id → all the parts of the passage it was split from, in order (see ``split_parts``).
        ``margin``, ``runners``: each of the next ``runners`` passages whose log-odds (the ranker's probability
        that it holds the answer) are within ``margin`` of the best passage's is quoted and cited too, the
        budget shared; both fitted on dev by ``evals/fit.py`` (margin 0: only a tie)."""
        self.margin = margin
        self.runners = runners
        self.weights = weights
        self.parts = parts or {}
        self.sentence_weight = sentence_weight
        self.max_words = max_words
        self.max_passages = max_passages

    def select(self, question: str, candidates: list[Candidate]) -> list[Snippet]:
        if not candidates:
            return []
        qterms = question_terms(question)
        best = candidates[0]
        runners_up = [c for c in candidates[1 : 1 + self.runners]
                      if log_odds(best.score) - log_odds(c.score) <= self.margin]
        first = self._snippet(best, qterms, self.max_words // (1 + len(runners_up)))
        chosen = self._whole_list(first, candidates, qterms) or [first]
        for left, runner_up in zip(range(len(runners_up), 0, -1), runners_up, strict=True):
            if runner_up.chunk.id in {s.candidate.chunk.id for s in chosen}:
                continue
            budget = max((self.max_words - sum(len(words(s.quote)) for s in chosen)) // left, 30)
            snip = self._snippet(runner_up, qterms, budget)  # what is left, shared with the runners-up after it
            if len(words(snip.quote)) <= budget + 10:
                chosen.append(snip)
        covered = set().union(*(text_terms(s.quote) for s in chosen))
        budget = self.max_words - sum(len(words(s.quote)) for s in chosen)
        used = {s.candidate.chunk.id for s in chosen}
        for cand in candidates[1 : self.max_passages + 2]:
            if len(used) >= self.max_passages or budget < 12:
                break
            if cand.score < 0.85 * best.score:
                break
            if cand.chunk.id in used:
                continue
            snip = self._snippet(cand, qterms, budget)
            new_terms = text_terms(snip.quote)
            gain = self.weights.coverage(qterms, new_terms - covered)
            if gain < 0.15 or len(words(snip.quote)) > budget:
                continue
            chosen.append(snip)
            used.add(cand.chunk.id)
            covered |= new_terms
            budget -= len(words(snip.quote))
        return chosen

    def _snippet(self, cand: Candidate, qterms: list[str], budget: int) -> Snippet:
        text = cand.chunk.text
        if len(words(text)) <= min(budget, WHOLE_WORDS) or cand.chunk.metadata.get("kind") == "table_row":
            return Snippet(cand, 0, len(text))
        spans = sentences(text)
        counts = [len(words(text[a:b])) for a, b in spans]
        windows = [self.window(cand, spans, i, budget, counts) for i in range(len(spans))]
        return windows[self.choose(cand, qterms, spans, windows)]

    def choose(self, cand: Candidate, qterms: list[str], spans: list[tuple[int, int]], windows: list[Snippet]) -> int:
        """The index of the sentence to quote from: the one whose quote (``windows[i]``, the sentence with what
        follows it) holds most of the question's terms, plus the sentence's own cosine with the question; the
        first when no quote shares a term. Scoring the quote rather than the lone sentence (the date asked
        for in the sentence before the one that names the body): on the dev splits the quote held a key fact
        for 0.930 of the passages over 100 words that hold one, against 0.884 (86 passages)."""
        text = cand.chunk.text
        own = [text_terms(text[a:b]) for a, b in spans]

        def quoted(w: Snippet) -> set[str]:  # a quote of whole sentences has their terms; a cut one is read again
            inside = [t for (a, b), t in zip(spans, own, strict=True) if a >= w.start and b <= w.end]
            return set().union(*inside) if inside and not w.cut else text_terms(w.quote)

        scored = [(self.weights.coverage(qterms, quoted(w)), -i, a, b)
                  for i, ((a, b), w) in enumerate(zip(spans, windows, strict=True))]
        _fit, neg_i, _a, _b = max((cov + self.sentence_weight * cand.sentences.get((a, b), cand.dense), neg_i, a, b)
                                  for cov, neg_i, a, b in scored)
        return -neg_i if scored[-neg_i][0] else 0

    def window(self, cand: Candidate, spans: list[tuple[int, int]], i: int, budget: int, counts: list[int]) -> Snippet:
        """The span quoted from sentence ``i``: with the list it belongs to, or the sentences that follow it.
        ``counts``: each sentence's words."""
        text = cand.chunk.text
        start, end = spans[i]
        first = i
        if _LIST.search(text):
            list_end = _list_end(text)
            if (i == 0 or start < list_end) and len(words(text[:list_end])) <= max(budget, 90):
                return Snippet(cand, 0, list_end)
            if start >= list_end and _LIST.search(text[:start]) and len(words(text[:end])) <= budget:
                return Snippet(cand, 0, end)  # a sentence after a list ('these commitments may vary') with the list
        # a short best sentence reads better with what follows it: add sentences up to ~CONTEXT_WORDS, and
        # do not stop after a ';' (an inline list '(i) …; (ii) …' goes on to its end when it fits)
        while (sum(counts[first : i + 1]) < CONTEXT_WORDS or text[:end].rstrip().endswith(";")) and i + 1 < len(spans):
            nxt_start, nxt_end = spans[i + 1]
            if sum(counts[first : i + 2]) > min(budget, CONTEXT_WORDS + 30):
                # a long next sentence may still give its first clause, up to a ':' or ';' (marked '…')
                clause = _CLAUSE.search(text, nxt_start, nxt_end)
                if clause and len(words(text[nxt_start:clause.start()])) >= 8 and \
                        len(words(text[start:clause.start()])) <= min(budget, CONTEXT_WORDS + 30):
                    return Snippet(cand, start, clause.start(), cut=True)
                break
            i, end = i + 1, nxt_end
        return Snippet(cand, start, end)

    def _whole_list(self, snip: Snippet, candidates: list[Candidate], qterms: list[str]) -> list[Snippet] | None:
        """The lead-in once and the items of every part, when ``snip`` is (in) the lead-in of a split list.
        When they do not all fit, each is cut to its first clause, except the items that hold more of the
        question's terms than the others, where they fit whole (who said it, in 'Who spoke for the EU?',
        ends the item)."""
        parts = self.parts.get(snip.candidate.chunk.id, [])
        items = [(part, span) for part in parts for span in _items(part.text)]
        if len(parts) < 2 or not items or items[0][0] is not parts[0] or snip.start >= _lead_end(snip.candidate.chunk.text):
            return None
        lead = len(words(parts[0].text[: items[0][1][0]]))
        whole = lead + sum(len(words(part.text[a:b])) for part, (a, b) in items) <= self.max_words
        held = [] if whole else [self.weights.coverage(qterms, text_terms(part.text[a:b])) for part, (a, b) in items]
        named = {i for i, h in enumerate(held) if h == max(held) > min(held)}  # none when the list fits whole
        ranked = {c.chunk.id: c for c in candidates}
        out: list[Snippet] = []
        budget = self.max_words - lead
        for i, (part, (a, b)) in enumerate(items):
            end = b if whole or (i in named and len(words(part.text[a:b])) <= budget) else _clause_end(part.text, a, b)
            size = len(words(part.text[a:end]))
            if size > budget:
                if out:
                    out[-1].cut = True
                break
            budget -= size
            cand = ranked.get(part.id) or Candidate(part, score=snip.candidate.score)
            out.append(Snippet(cand, 0 if not out else a, end, cut=end < b))
        return out or None


def log_odds(p: float) -> float:
    """The ranker's probability as log-odds (where the runner-up margin is measured: near 1 the probabilities
    of an uncertain pair differ in the third decimal, their log-odds by units)."""
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p) - math.log1p(-p)


def split_parts(chunks: list[StoredChunk]) -> dict[str, list[StoredChunk]]:
    """Chunk id → the parts of its passage in order, for passages split at ingest into several chunks."""
    groups: dict[tuple[str, str], list[StoredChunk]] = {}
    for chunk in chunks:
        if int(chunk.metadata.get("parts", 1) or 1) > 1 and chunk.metadata.get("kind") != "table_row":
            key = (str(chunk.metadata.get("doc_id")), str(chunk.metadata.get("locator")))
            groups.setdefault(key, []).append(chunk)
    out: dict[str, list[StoredChunk]] = {}
    for group in groups.values():
        group.sort(key=lambda c: int(c.metadata.get("part", 1) or 1))
        out.update({c.id: group for c in group})
    return out


def _items(text: str) -> list[tuple[int, int]]:
    """Spans of the list items in a passage: from each label to the end of its line."""
    spans = []
    for m in _ITEM.finditer(text):
        end = text.find("\n", m.start())
        spans.append((m.start(), end if end >= 0 else len(text)))
    return spans


def _lead_end(text: str) -> int:
    found = _ITEM.search(text)
    return found.start() if found else len(text)


def _clause_end(text: str, start: int, end: int) -> int:
    """End of an item's first clause: its first ';', '.' or ', ' after at least three words past the label."""
    for m in _CLAUSE_END.finditer(text, start, end):
        if len(words(text[start : m.start()])) >= 4:
            return m.start() if text[m.end() : end].strip() else end
    return end


def _list_end(text: str) -> int:
    """End of the lead-in plus its list items (the lines that start with a label or bullet)."""
    end = text.find("\n")
    for m in re.finditer(r"\n[^\n]*", text):
        if _LIST.match(m.group(0) + " "):
            end = m.end()
        else:
            break
    return end if end > 0 else len(text)
