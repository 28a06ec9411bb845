"""Document visibility over HTTP: the real server over an index holding a staff-only document. As the
public, no response body, header, facet count or log line holds its text or title; as staff it is cited."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from tests.assistant.test_audience import QUESTION, leaks
from tests.conftest import KEYS

pytestmark = [pytest.mark.slow, pytest.mark.server]
KEY = {audience: key for key, audience in KEYS.items()}


def call(url: str, method: str, path: str, audience: str | None, **kw: Any) -> httpx.Response:
    headers = {"X-API-Key": KEY[audience]} if audience else {}
    return httpx.request(method, url + path, headers=headers, timeout=60, **kw)


def everything(response: httpx.Response) -> str:
    return json.dumps(dict(response.headers)) + response.text


@pytest.mark.parametrize("audience", [None, "public", "partner"])
def test_what_others_may_not_see_is_nowhere(restricted_server: tuple[str, Any], audience: str | None,
                                            caplog: pytest.LogCaptureFixture) -> None:
    url, _ = restricted_server
    caplog.set_level(logging.DEBUG)
    responses = [
        call(url, "POST", "/ask", audience, json={"question": QUESTION}),
        call(url, "POST", "/chat/stream", audience, json={"question": QUESTION}),
        call(url, "POST", "/ask", audience, json={"question": "Who books travel at the Quillfeathr desk?"}),
        call(url, "POST", "/ask", audience, json={"question": "What will the Government of Uruguay co-host?"}),
        call(url, "POST", "/ask", audience, json={"question": "x", "filters": {"doc_id": "nope"}}),
        call(url, "GET", "/search", audience, params={"q": "secretariat retreat venue travel desk budget"}),
        call(url, "GET", "/documents", audience),
        call(url, "GET", "/practices", audience, params={"q": "retreat"}),
        call(url, "GET", "/practices", audience),
        call(url, "GET", "/readyz", audience),
    ]
    for response in responses:
        assert response.status_code in (200, 400), (response.request.url, response.text)
        assert not leaks(everything(response)), (response.request.url, response.text)
    asked = responses[0].json()
    assert "retreat-briefing" not in {c["doc_id"] for c in asked["citations"]}
    assert "known values" in responses[4].json()["detail"]
    assert caplog.records and not leaks(caplog.text)  # server, app and bot logs (the client's name what it asked)
    hidden = call(url, "GET", "/documents/retreat-briefing", audience)
    absent = call(url, "GET", "/documents/no-such-doc", audience)
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["detail"].replace("retreat-briefing", "X") == absent.json()["detail"].replace("no-such-doc", "X")
    assert call(url, "GET", "/audience", audience).json() == {"audience": audience or "public"}


def test_readyz_counts_the_public_documents_only(restricted_server: tuple[str, Any]) -> None:
    url, _ = restricted_server
    ready = httpx.get(url + "/readyz").json()
    public = call(url, "GET", "/documents", "public").json()
    assert ready["documents"] == len(public) == 5 and ready["chunks"] == sum(d["chunks"] for d in public)


def test_staff_see_and_are_cited_it(restricted_server: tuple[str, Any]) -> None:
    url, _ = restricted_server
    answer = call(url, "POST", "/ask", "staff", json={"question": QUESTION}).json()
    assert not answer["abstained"] and "retreat-briefing" in {c["doc_id"] for c in answer["citations"]}
    assert "Montreux" in answer["answer"]
    docs = {d["doc_id"]: d["visibility"] for d in call(url, "GET", "/documents", "staff").json()}
    assert docs["retreat-briefing"] == "staff" and docs["gb349-ins4"] == "public"
    assert docs["zanzibar-draft"] == "staff"  # no manifest entry: COALITION_DEFAULT_VISIBILITY
    assert call(url, "GET", "/documents/retreat-briefing", "staff").status_code == 200
    assert call(url, "GET", "/audience", "staff").json() == {"audience": "staff"}


def test_a_wrong_key_is_refused(restricted_server: tuple[str, Any]) -> None:
    url, _ = restricted_server
    response = httpx.post(url + "/ask", json={"question": QUESTION}, headers={"X-API-Key": "k-nope"})
    assert response.status_code == 401 and "k-nope" not in response.text


def test_the_server_builds_each_audience_s_view_at_start_up(restricted_settings: Any) -> None:
    from assistant.audience import Audience
    from assistant.web import create_app
    from tests.servers import serving

    app = create_app(restricted_settings)  # no keys: callers are public; the assistant loads in the lifespan
    with serving(app) as url:
        views = app.state.assistant.views
        assert len(views._views) == 1  # public and partner see the same passages: one view, built already
        assert views.get(Audience.PUBLIC) is views.get(Audience.PARTNER) is not app.state.assistant
        docs = httpx.get(url + "/documents", timeout=30).json()
        assert len(docs) == 5 and not leaks(json.dumps(docs))
