"""Document visibility per audience, through the real pipeline over a real index holding a staff-only
document: what the public may not see reaches no ranking, answer, hint, correction or count."""

from __future__ import annotations

import pytest

from assistant.audience import Audience, key_audience, slack_audience
from assistant.errors import BadQuestion, Unauthorized
from assistant.pipeline import Assistant
from core.settings import Settings
from tests.conftest import RESTRICTED_TITLE

pytestmark = pytest.mark.slow
SECRETS = ("montreux", "quillfeather", "48,500", "retreat-briefing", RESTRICTED_TITLE.lower(), "zanzibar")
QUESTION = "Where will the secretariat retreat be held?"


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text.lower()]


def test_audiences_are_ordered_and_parsed() -> None:
    assert Audience.PUBLIC < Audience.PARTNER < Audience.STAFF
    assert Audience.STAFF.may_see(Audience.PARTNER) and not Audience.PARTNER.may_see(Audience.STAFF)
    assert Audience.parse(" Partner ") is Audience.PARTNER and str(Audience.STAFF) == "staff"
    with pytest.raises(ValueError, match="'board' is not one of"):
        Audience.parse("board")


def test_keys_map_to_audiences() -> None:
    s = Settings(api_keys='{"k-partner": "partner", "k-public": "public"}', api_key="k-staff")  # type: ignore[arg-type]
    assert key_audience(s, "k-partner") is Audience.PARTNER
    assert key_audience(s, "k-staff") is Audience.STAFF
    with pytest.raises(Unauthorized):
        key_audience(s, "k-wrong")
    with pytest.raises(Unauthorized):  # keys configured, no anonymous audience set: as before, 401
        key_audience(s, None)
    assert key_audience(s.model_copy(update={"anonymous_audience": "public"}), None) is Audience.PUBLIC
    assert key_audience(Settings(), None) is Audience.PUBLIC  # no keys at all: the public
    assert key_audience(Settings(), "anything") is Audience.PUBLIC
    with pytest.raises(Unauthorized):
        key_audience(Settings(anonymous_audience=""), None)
    with pytest.raises(ValueError, match="audience 'board'"):
        Settings(api_keys='{"k": "board"}')  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="JSON object"):
        Settings(api_keys="k1,k2")  # type: ignore[arg-type]


def test_slack_audience() -> None:
    s = Settings(slack_channel_audiences={"CSTAFF": "staff"}, slack_user_audiences={"UANA": "partner"})
    assert slack_audience(s, "CSTAFF", "UBOB", direct=False) is Audience.STAFF
    assert slack_audience(s, "CPUB", "UANA", direct=False) is Audience.PUBLIC
    assert slack_audience(s, "D1", "UANA", direct=True) is Audience.PARTNER
    assert slack_audience(s, "D1", "UBOB", direct=True) is Audience.PUBLIC


def test_staff_is_cited_the_restricted_document(restricted_assistant: Assistant) -> None:
    answer = restricted_assistant.answer(QUESTION, audience=Audience.STAFF)
    assert not answer.abstained, answer.answer
    assert "retreat-briefing" in {c.doc_id for c in answer.citations}
    assert "Montreux" in answer.answer


@pytest.mark.parametrize("audience", [Audience.PUBLIC, Audience.PARTNER])
def test_others_never_meet_it(restricted_assistant: Assistant, audience: Audience) -> None:
    view = restricted_assistant.for_audience(audience)
    assert view is not restricted_assistant and view is restricted_assistant.for_audience(audience)  # built once
    answer, ranked = restricted_assistant.run(QUESTION, audience=audience)
    assert not leaks(answer.model_dump_json()), answer.answer
    assert all(c.chunk.metadata["doc_id"] not in ("retreat-briefing", "zanzibar-draft") for c in ranked)
    assert not any(leaks(c.text) for c in view.chunks)
    hits = restricted_assistant.search("Montreux retreat Quillfeather travel desk", audience=audience)
    assert not any(leaks(h.chunk.text) for h in hits)


def test_derived_data_is_per_audience(restricted_assistant: Assistant) -> None:
    public = restricted_assistant.for_audience(Audience.PUBLIC)
    staff = restricted_assistant.for_audience(Audience.STAFF)
    # a restricted word must not become a spelling "correction"
    assert staff.retriever.speller.fix("the Quillfeathr desk") == "the quillfeather desk"
    assert public.retriever.speller.fix("the Quillfeathr desk") == "the Quillfeathr desk"
    # the countries a question may name: the public documents say nothing of Uruguay
    assert "Uruguay" in staff.answerability.countries and "Uruguay" not in public.answerability.countries
    uruguay = restricted_assistant.answer("What will the Government of Uruguay co-host?", audience=Audience.PUBLIC)
    assert uruguay.abstained and not leaks(uruguay.answer)
    # term statistics: BM25 and the term weights count the visible passages only
    assert len(public.retriever.index.chunks) < len(staff.retriever.index.chunks)
    assert "quillfeath" not in str(public.retriever.index.retriever.vocab_dict)
    assert "quillfeather" not in public.reranker.weights.idf  # type: ignore[attr-defined]
    assert "quillfeather" not in public.answerability.vocabulary
    # the known values a filter error lists
    with pytest.raises(BadQuestion) as refused:
        restricted_assistant.answer("retreat", filters={"doc_id": "nope"}, audience=Audience.PUBLIC)
    assert not leaks(str(refused.value)) and "gb349-ins4" in str(refused.value)
    with pytest.raises(BadQuestion, match="matches nothing"):
        restricted_assistant.answer("retreat", filters={"doc_id": "retreat-briefing"}, audience=Audience.PUBLIC)


def test_dropped_in_file_takes_the_default(restricted_assistant: Assistant) -> None:
    staff_docs = {c.metadata["doc_id"] for c in restricted_assistant.for_audience(Audience.STAFF).chunks}
    partner_docs = {c.metadata["doc_id"] for c in restricted_assistant.for_audience(Audience.PARTNER).chunks}
    assert "zanzibar-draft" in staff_docs and "zanzibar-draft" not in partner_docs
