"""Generative mode against a loopback server speaking OpenAI chat-completions: every sentence is
checked against the passages it cites; bad citations and unsupported claims are dropped; errors fall
back to the extractive answer."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from assistant.generate import OpenAIGenerator, check
from assistant.models import Turn
from assistant.pipeline import Assistant
from tests.fakes import FakeLLM

pytestmark = pytest.mark.slow

FEES = "Are there membership fees?"
SUPPORTED = "Participation in the Coalition does not entail any membership fees [1]."
COSTS = "Each participant bears the costs of attending the Forum and the Coordinating Group meetings [1]."


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM([]) as server:
        yield server


def generative(assistant: Assistant, llm: FakeLLM, **kw: object) -> Assistant:
    settings = assistant.settings.model_copy(
        update={"llm_url": llm.url + "/v1", "llm_model": "test-model", "llm_api_key": "sk-test-secret", **kw}
    )
    return Assistant(settings, assistant.retriever, assistant.reranker, assistant.composer, assistant.answerability,
                     OpenAIGenerator(settings))


def test_fluent_answer_is_kept_and_cited(assistant: Assistant, llm: FakeLLM, caplog: pytest.LogCaptureFixture) -> None:
    llm.replies = [f"{SUPPORTED} {COSTS}"]
    caplog.set_level(logging.DEBUG)
    answer = generative(assistant, llm).answer(FEES)
    assert answer.mode == "generative" and not answer.abstained
    assert answer.answer.splitlines() == [SUPPORTED, COSTS]
    [cited] = answer.citations
    assert cited.locator == "GB.349/INS/4 ¶20" and cited.quote in cited.text
    assert "membership fees" in cited.quote and "borne by each participant" in cited.quote
    assert "generate" in answer.timings_ms
    [call] = llm.calls
    assert call.headers["authorization"] == "Bearer sk-test-secret"
    assert call.body["model"] == "test-model" and call.body["temperature"] == 0
    prompt = call.body["messages"][1]["content"]
    assert "[1] GB.349/INS/4 ¶20" in prompt and "will not entail any membership fees" in prompt
    assert prompt.rstrip().endswith(f"Question: {FEES}")
    assert "sk-test-secret" not in caplog.text


def test_made_up_citation_is_dropped(assistant: Assistant, llm: FakeLLM) -> None:
    llm.replies = [f"{SUPPORTED} The Coalition was founded by the World Bank in 1919 [9]."]
    answer = generative(assistant, llm).answer(FEES)
    assert answer.mode == "generative"
    assert "World Bank" not in answer.answer and "[9]" not in answer.answer
    assert [c.n for c in answer.citations] == [1]


def test_unsupported_sentence_is_dropped(assistant: Assistant, llm: FakeLLM) -> None:
    llm.replies = [f"{SUPPORTED} Partners pay an annual contribution of US$10,000 to the secretariat [1]."]
    answer = generative(assistant, llm).answer(FEES)
    assert answer.mode == "generative"
    assert "10,000" not in answer.answer and "membership fees" in answer.answer


def test_uncited_sentence_is_dropped() -> None:
    assert check("Joining is free.", []).dropped == [("Joining is free.", "no citation")]


@pytest.mark.parametrize("reply", ["Nothing here is supported by anything at all [1].", 500, "Joining is free."])
def test_nothing_checkable_falls_back_to_the_extractive_answer(assistant: Assistant, llm: FakeLLM, reply: object) -> None:
    llm.replies = [reply]
    extractive = assistant.answer(FEES)
    answer = generative(assistant, llm).answer(FEES)
    assert answer.mode == "extractive-fallback"
    assert answer.answer == extractive.answer and answer.citations == extractive.citations


def test_timeout_falls_back_quickly(assistant: Assistant, llm: FakeLLM) -> None:
    llm.replies = [("sleep", 3)]
    started = time.perf_counter()
    answer = generative(assistant, llm, llm_timeout=0.5).answer(FEES)
    assert answer.mode == "extractive-fallback" and "membership fees" in answer.answer
    assert time.perf_counter() - started < 2.5


def test_follow_up_and_abstention(assistant: Assistant, llm: FakeLLM) -> None:
    llm.replies = [SUPPORTED]
    history = [Turn(role="user", content="How can an organisation join the coalition?")]
    answer = generative(assistant, llm).answer("and does it cost anything?", history=history)
    assert "(a follow-up to: How can an organisation join the coalition?)" in llm.calls[0].body["messages"][1]["content"]
    assert answer.citations
    abstained = generative(assistant, llm).answer("What is the capital of Australia?")
    assert abstained.abstained and len(llm.calls) == 1  # no LLM call when the evidence is too weak


def test_citations_are_renumbered_in_order_of_use(assistant: Assistant, llm: FakeLLM) -> None:
    ranked = assistant.run(FEES)[1][:5]
    second = ranked[1].chunk.text
    first_sentence = second.split("\n")[-1].split(". ")[0].rstrip(".") + " [2]."
    llm.replies = [f"{first_sentence} {SUPPORTED}"]
    answer = generative(assistant, llm).answer(FEES)
    assert answer.answer.splitlines() == [first_sentence.replace("[2]", "[1]"), SUPPORTED.replace("[1]", "[2]")]
    assert [c.chunk_id for c in answer.citations] == [ranked[1].chunk.id, ranked[0].chunk.id]
