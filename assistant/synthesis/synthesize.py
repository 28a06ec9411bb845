"""Synthesis stage: a LlamaIndex response synthesizer that answers from the ranked passages, or declines.

Answerable (by the answerability postprocessor's probability on the question): the extractive composer
quotes the sentences that answer, each with ``[n]`` (``assistant/synthesis/compose.py``, ``assistant/synthesis/cite.py``);
with an LLM configured, the generator rewrites it and every sentence's citation is verified
(``assistant/synthesis/generate.py``). Not answerable: "the documents don't say", in the question's language, with
the nearest topics; or, when the best passage is close (the topic is covered, the fact asked is not), a
near-miss reply that also quotes what the documents do say and cites it. The ``Response`` carries the
``Answer`` (the JSON contract of the API) in its metadata and the cited passages as its source nodes.
"""

from __future__ import annotations

import time
from typing import Any

from llama_index.core.base.response.schema import RESPONSE_TYPE, Response
from llama_index.core.llms import MockLLM
from llama_index.core.prompts.mixin import PromptDictType
from llama_index.core.response_synthesizers import BaseSynthesizer
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.types import RESPONSE_TEXT_TYPE

from assistant.candidates import Candidate, Query, candidates
from assistant.models import Answer
from assistant.postprocessing.answerable import Answerability
from assistant.retrieval import language as lang
from assistant.synthesis.cite import cite, display_locator
from assistant.synthesis.compose import ExtractiveComposer
from assistant.synthesis.generate import OpenAIGenerator
from assistant.text import terms


class CitedSynthesizer(BaseSynthesizer):
    """Example: ``CitedSynthesizer(composer, answerability).synthesize(query, ranked).metadata["answer"]``."""

    def __init__(self, composer: ExtractiveComposer, answerability: Answerability,
                 generator: OpenAIGenerator | None = None) -> None:
        # the extractive path needs no LLM; LlamaIndex would otherwise resolve its default (OpenAI) one
        super().__init__(llm=MockLLM())
        self.composer = composer
        self.answerability = answerability
        self.generator = generator

    def _get_prompts(self) -> PromptDictType:
        return {}

    def _update_prompts(self, prompts: PromptDictType) -> None:
        return None

    def get_response(self, query_str: str, text_chunks: Any, **response_kwargs: Any) -> RESPONSE_TEXT_TYPE:
        raise TypeError("CitedSynthesizer composes from ranked passages (their sentences and scores): call synthesize()")

    async def aget_response(self, query_str: str, text_chunks: Any, **response_kwargs: Any) -> RESPONSE_TEXT_TYPE:
        raise TypeError("CitedSynthesizer composes from ranked passages (their sentences and scores): call synthesize()")

    def synthesize(self, query: QueryBundle | str, nodes: list[NodeWithScore],  # type: ignore[override]
                   additional_source_nodes: Any = None, **response_kwargs: Any) -> RESPONSE_TYPE:
        q = Query.of(query)
        ranked = candidates(nodes)
        timings: dict[str, float] = {}
        verdict = q.verdict
        if verdict is None:  # the engine's postprocessors did not run (no passage retrieved)
            verdict = self.answerability.decide(q.query_str, ranked, q.language, q.e5_question)
        probability = verdict.probability
        cleaned = q.cleaned or q.query_str
        follow_up = q.query_str != cleaned  # retrieved with the question before it too
        focus = cleaned if terms(cleaned) and follow_up else q.query_str
        if q.translation is not None:  # French or Spanish: the sentences are chosen by the words BM25 searched
            focus = q.term_text
        if not verdict.answerable or (q.injected and not terms(cleaned)):
            answer = self.decline(q, ranked, probability, verdict.near_miss)
        else:
            t = time.perf_counter()
            snippets = self.composer.select(focus, ranked)
            timings["compose"] = _ms(t)
            t = time.perf_counter()
            text, citations = cite(snippets)
            timings["cite"] = _ms(t)
            if lead := lang.phrase("sources_in_english", q.language):
                text = f"{lead}\n\n{text}"
            answer = Answer(answer=text, abstained=False, citations=citations, language=q.language,
                            answerable=round(probability, 4))
            if self.generator is not None:
                t = time.perf_counter()
                previous = [m.content for m in q.history if m.role == "user"]
                asked = f"{cleaned} (a follow-up to: {previous[-1]})" if follow_up and previous else cleaned
                answer = self.generator.improve(asked, ranked[:5], answer)
                timings["generate"] = _ms(t)
        answer.timings_ms = timings
        cited = {c.chunk_id for c in answer.citations}
        return Response(response=answer.answer, source_nodes=[c for c in ranked if c.chunk.id in cited],
                        metadata={"answer": answer})

    def decline(self, q: Query, ranked: list[Candidate], probability: float, near: float) -> Answer:
        """'The documents don't say'. When the best passage is close to the question (the topic is covered,
        the fact asked is not), the reply also quotes what they do say and cites it: a near-miss reply."""
        if ranked and not q.unknown_countries and not q.injected and probability >= near:
            best = self.composer.select(q.term_text, ranked[:1])[:1]
            text, citations = cite(best)
            return Answer(answer=f"{lang.phrase('near', q.language)}\n\n{text}", abstained=True, citations=citations,
                          language=q.language, answerable=round(probability, 4))
        return Answer(answer=abstain_text(ranked, q.unknown_countries, q.language), abstained=True,
                      language=q.language, answerable=round(probability, 4))


def abstain_text(ranked: list[Candidate], unknown: list[str] | None = None, language: str = "en") -> str:
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


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
