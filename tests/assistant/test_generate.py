"""Generative mode through LlamaIndex's ``OpenAILike``: every sentence is checked against the passages it
cites; bad citations and unsupported claims are dropped; errors fall back to the extractive answer.

The verifier is tested on written replies (what a bad model could say) and on a real OpenAI-compatible
server, llama.cpp's, with SmolLM2-135M-Instruct (``test_generate_real.py``). The loopback fake is kept
only for what a real server cannot be made to do on demand: a 500 and a timeout.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pytest
from llama_index.core.base.llms.types import LogProb

from assistant.fitted import LinearModel
from assistant.models import Answer
from assistant.pipeline import Assistant
from assistant.postprocessing.answerable import JUDGED_FEATURES, Answerability
from assistant.postprocessing.judge import AnswerJudge, judge_llm, yes_share
from assistant.retrieval.retrieve import Candidate
from assistant.synthesis.generate import OpenAIGenerator, check
from core.settings import Settings
from tests.fakes import FakeLLM

pytestmark = pytest.mark.slow

FEES = "Are there membership fees?"
SUPPORTED = "Participation in the Coalition does not entail any membership fees [1]."
COSTS = "Each participant bears the costs of attending the Forum and the Coordinating Group meetings [1]."


def generative(assistant: Assistant, url: str, **kw: object) -> Assistant:
    settings = assistant.settings.model_copy(update={"llm_url": url, "llm_model": "test-model", **kw})
    return Assistant(settings, assistant.retriever, assistant.reranker, assistant.composer, assistant.answerability,
                     OpenAIGenerator(settings))


@pytest.fixture
def fees(assistant: Assistant) -> tuple[list[Candidate], Answer]:
    answer, ranked = assistant.run(FEES)
    return ranked[:5], answer


@pytest.fixture
def verifier(assistant: Assistant) -> OpenAIGenerator:
    """Only ``verify`` is used: no server is contacted."""
    return OpenAIGenerator(assistant.settings.model_copy(update={"llm_url": "http://127.0.0.1:9/v1"}))


def test_fluent_answer_is_kept_and_cited(verifier: OpenAIGenerator, fees: tuple[list[Candidate], Answer]) -> None:
    passages, extractive = fees
    answer = verifier.verify(f"{SUPPORTED} {COSTS}", passages, extractive)
    assert answer.mode == "generative" and not answer.abstained
    assert answer.answer.splitlines() == [SUPPORTED, COSTS]
    [cited] = answer.citations
    assert cited.locator == "GB.349/INS/4 ¶20" and cited.quote in cited.text
    assert "membership fees" in cited.quote and "borne by each participant" in cited.quote


def test_prompt_numbers_the_passages_and_ends_with_the_question(fees: tuple[list[Candidate], Answer]) -> None:
    system, user = OpenAIGenerator.messages(FEES, fees[0])
    assert "ONLY the numbered passages" in str(system.content)
    prompt = str(user.content)
    assert "[1] GB.349/INS/4 ¶20" in prompt and "will not entail any membership fees" in prompt
    assert prompt.rstrip().endswith(f"Question: {FEES}")


def test_made_up_citation_is_dropped(verifier: OpenAIGenerator, fees: tuple[list[Candidate], Answer]) -> None:
    answer = verifier.verify(f"{SUPPORTED} The Coalition was founded by the World Bank in 1919 [9].", *fees)
    assert answer.mode == "generative"
    assert "World Bank" not in answer.answer and "[9]" not in answer.answer
    assert [c.n for c in answer.citations] == [1]


def test_unsupported_sentence_is_dropped(verifier: OpenAIGenerator, fees: tuple[list[Candidate], Answer]) -> None:
    answer = verifier.verify(f"{SUPPORTED} Partners pay an annual contribution of US$10,000 to the secretariat [1].", *fees)
    assert answer.mode == "generative"
    assert "10,000" not in answer.answer and "membership fees" in answer.answer


def test_uncited_sentence_is_dropped() -> None:
    assert check("Joining is free.", []).dropped == [("Joining is free.", "no citation")]


@pytest.mark.parametrize("reply", ["Nothing here is supported by anything at all [1].", "Joining is free.",
                                   "The passages do not mention it."])
def test_nothing_checkable_falls_back_to_the_extractive_answer(verifier: OpenAIGenerator,
                                                                fees: tuple[list[Candidate], Answer], reply: str) -> None:
    passages, extractive = fees
    answer = verifier.verify(reply, passages, extractive)
    assert answer.mode == "extractive-fallback"
    assert answer.answer == extractive.answer and answer.citations == extractive.citations


def test_citations_are_renumbered_in_order_of_use(verifier: OpenAIGenerator, fees: tuple[list[Candidate], Answer]) -> None:
    passages, extractive = fees
    second = passages[1].chunk.text
    first_sentence = second.split("\n")[-1].split(". ")[0].rstrip(".") + " [2]."
    answer = verifier.verify(f"{first_sentence} {SUPPORTED}", passages, extractive)
    assert answer.answer.splitlines() == [first_sentence.replace("[2]", "[1]"), SUPPORTED.replace("[1]", "[2]")]
    assert [c.chunk_id for c in answer.citations] == [passages[1].chunk.id, passages[0].chunk.id]


def test_the_llm_is_a_llama_index_llm_without_retries() -> None:
    from llama_index.core.llms import LLM

    llm = OpenAIGenerator(Settings(llm_url="http://127.0.0.1:9/v1", llm_model="m", llm_timeout=3)).llm
    assert isinstance(llm, LLM) and llm.max_retries == 0 and llm.timeout == 3  # type: ignore[attr-defined]


# what a real server cannot be made to do on demand: fail with a 500, or hang

@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    server = FakeLLM([])
    with server:
        yield server


def test_server_error_falls_back_to_the_extractive_answer(assistant: Assistant, fake: FakeLLM) -> None:
    fake.replies = [500]
    extractive = assistant.answer(FEES)
    answer = generative(assistant, fake.url + "/v1").answer(FEES)
    assert answer.mode == "extractive-fallback" and len(fake.calls) == 1  # no retries
    assert answer.answer == extractive.answer and answer.citations == extractive.citations


def test_timeout_falls_back_quickly(assistant: Assistant, fake: FakeLLM) -> None:
    fake.replies = [("sleep", 3)]
    started = time.perf_counter()
    answer = generative(assistant, fake.url + "/v1", llm_timeout=0.5).answer(FEES)
    assert answer.mode == "extractive-fallback" and "membership fees" in answer.answer
    assert time.perf_counter() - started < 2.5 and len(fake.calls) == 1


# the LLM answerability judge: its feature is used only when present

class FixedJudge(AnswerJudge):
    """Answers ``p`` without a server (``None``: as when the server could not say)."""

    def __init__(self, p: float | None) -> None:
        self.p = p

    def probability(self, question: str, ranked: list[Candidate]) -> float | None:
        return self.p


def judged(assistant: Assistant, judge: AnswerJudge) -> Answerability:
    plain = assistant.answerability
    n = len(JUDGED_FEATURES)
    model = LinearModel(name="answerable_llm", features=list(JUDGED_FEATURES), coef=[0.0] * (n - 1) + [10.0],
                        intercept=0.0, mean=[0.0] * (n - 1) + [0.5], scale=[1.0] * n, threshold=0.5)
    return Answerability(plain.model, plain.weights, judge, model, plain.translator, plain.words)


def test_the_judge_decides_only_when_it_answered(assistant: Assistant, fees: tuple[list[Candidate], Answer]) -> None:
    ranked = fees[0]
    plain = assistant.answerability.decide(FEES, ranked)
    assert plain.answerable and plain.llm_yes is None
    assert not judged(assistant, FixedJudge(0.1)).decide(FEES, ranked).answerable  # the judged model said no
    assert judged(assistant, FixedJudge(0.9)).decide(FEES, ranked).llm_yes == 0.9
    silent = judged(assistant, FixedJudge(None)).decide(FEES, ranked)
    assert (silent.probability, silent.answerable) == (plain.probability, plain.answerable)


def test_an_unreachable_judge_says_nothing(fees: tuple[list[Candidate], Answer]) -> None:
    judge = AnswerJudge(judge_llm(Settings(llm_url="http://127.0.0.1:9/v1", llm_timeout=2)))
    assert judge.probability(FEES, fees[0]) is None


def test_judge_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="COALITION_LLM_JUDGE needs COALITION_LLM_URL"):
        Settings(llm_judge=True)
    assert yes_share([LogProb(token=" Yes", logprob=math.log(0.3)), LogProb(token="no", logprob=math.log(0.1)),
                      LogProb(token="The", logprob=math.log(0.5))]) == pytest.approx(0.75)
    assert yes_share([LogProb(token="The", logprob=0.0)]) is None
