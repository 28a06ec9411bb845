"""Text that UTF-8 cannot encode (a lone surrogate, which JSON's \\ud800 escape can carry) is refused with
a 400 at the edge, wherever it arrives, and never takes down anyone else's request."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.server]

JSON = {"content-type": "application/json"}


def raw(body: str) -> bytes:
    """JSON text as bytes; the \\ud800 escapes stay escapes (valid JSON, an unencodable string)."""
    return body.encode("ascii")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/ask", r'{"question": "partners \ud800 commit"}'),
        ("/chat/stream", r'{"question": "partners \ud800 commit"}'),
        ("/ask", r'{"question": "\udfff"}'),
        ("/ask", r'{"question": "how often?", "history": [{"role": "user", "content": "the \ud800 Forum"}]}'),
        ("/ask", r'{"question": "fees?", "filters": {"country": "Bra\ud800zil"}}'),
    ],
)
def test_unencodable_text_is_a_400(client: httpx.Client, path: str, body: str) -> None:
    response = client.post(path, content=raw(body), headers=JSON)
    assert response.status_code == 400, response.text
    assert "UTF-8" in response.json()["detail"] and "Traceback" not in response.text


def test_unencodable_feedback_comment_is_a_400(client: httpx.Client) -> None:
    answer_id = client.post("/ask", json={"question": "Are there membership fees?"}).json()["answer_id"]
    body = json.dumps({"answer_id": answer_id, "rating": "down", "comment": "wrong \udfff"})
    response = client.post("/feedback", content=raw(body), headers=JSON)
    assert response.status_code == 400 and "UTF-8" in response.json()["detail"], response.text
    assert client.post("/feedback", json={"answer_id": answer_id, "rating": "down", "comment": "ok"}).status_code == 201


def test_search_with_undecodable_bytes_is_not_a_500(client: httpx.Client) -> None:
    response = client.get("/search?q=partners%ED%A0%80commit")  # percent-encoded surrogate: not UTF-8
    assert response.status_code in (200, 400), response.text


def test_a_bad_question_does_not_fail_the_others(client: httpx.Client) -> None:
    def ask(i: int) -> int:
        if i % 4 == 0:
            return client.post("/ask", content=raw(r'{"question": "partners \ud800 commit"}'), headers=JSON).status_code
        return client.post("/ask", json={"question": f"What must a partner commit to? ({i})"}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(ask, range(32)))
    assert statuses == [400 if i % 4 == 0 else 200 for i in range(32)]
