"""The LLM as one more answerability feature (``COALITION_LLM_JUDGE=true``, with ``COALITION_LLM_URL``):
asked whether the best passages answer the question, its probability of replying "yes" (read from the
first token's log-probabilities, yes against no) joins the fitted features as ``llm_yes``.

The feature is used only when present: ``fitted/answerable_llm.json`` (fitted by ``python -m evals.fit
--llm-judge`` on the blind dev split, with the judge's answers) decides when the judge answered; when it
did not (no server, an error, a timeout, no yes/no among its likeliest first tokens) the plain model
(``fitted/answerable.json``) decides, as without an LLM.

Example::

    judge = AnswerJudge(judge_llm(settings))
    judge.probability("Are there membership fees?", ranked)   # 0.71, or None when it could not say
"""

from __future__ import annotations

import logging
import math
from typing import Any

from llama_index.core.llms import LLM, ChatMessage, MessageRole

from assistant.retrieval.retrieve import Candidate
from assistant.synthesis.generate import GenerationError, chat, numbered, openai_like
from core.settings import Settings

log = logging.getLogger(__name__)

JUDGE_SYSTEM = ("You decide whether the numbered passages contain the answer to the question. "
                "Reply with one word: yes or no.")
PASSAGES = 1  # the best passage, which the other features describe too; each more one costs ~1 s a question on 2 cores


def judge_llm(settings: Settings) -> LLM:
    """One token, with the 10 likeliest alternatives and their log-probabilities."""
    return openai_like(settings, max_tokens=1, logprobs=True, top_logprobs=10)


class AnswerJudge:
    """Asks ``llm`` (a LlamaIndex LLM that returns log-probabilities) for yes or no."""

    def __init__(self, llm: LLM, passages: int = PASSAGES) -> None:
        self.llm = llm
        self.passages = passages

    def messages(self, question: str, ranked: list[Candidate]) -> list[ChatMessage]:
        user = f"Passages:\n\n{numbered(ranked[: self.passages])}\n\nQuestion: {question}\n\nDo the passages answer it?"
        return [ChatMessage(role=MessageRole.SYSTEM, content=JUDGE_SYSTEM), ChatMessage(role=MessageRole.USER, content=user)]

    def probability(self, question: str, ranked: list[Candidate]) -> float | None:
        """P(yes) / (P(yes) + P(no)) over the first token's alternatives; ``None`` when it cannot say."""
        if not ranked:
            return None
        try:
            response = chat(self.llm, self.messages(question, ranked))
        except GenerationError as exc:
            log.warning("LLM judge unavailable, answerability without it: %s", exc)
            return None
        return yes_share(response.logprobs[0] if response.logprobs else [])


def yes_share(alternatives: list[Any]) -> float | None:
    """From a token's alternatives (``LogProb``: token, logprob), the yes share of the yes + no mass."""
    mass = {"yes": 0.0, "no": 0.0}
    for alt in alternatives:
        word = alt.token.strip().lower()
        if word in mass:
            mass[word] += math.exp(alt.logprob)
    total = mass["yes"] + mass["no"]
    return mass["yes"] / total if total > 0 else None
