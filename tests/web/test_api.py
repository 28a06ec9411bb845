"""Every endpoint and every bad-input case, against the real app on a real uvicorn over loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from assistant.feedback import FeedbackStore
from assistant.pipeline import Assistant
from assistant.web import create_app
from core.settings import Settings
from tests.servers import serving

pytestmark = [pytest.mark.slow, pytest.mark.server]


def problem(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in response.text
    return str(body["detail"])


def test_health_and_readiness(client: httpx.Client, assistant: Assistant) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] is True and ready["documents"] == 5 and ready["chunks"] == len(assistant.chunks)
    assert "all-MiniLM-L6-v2" in ready["model"] and ready["mode"] == "extractive"
    assert client.get("/openapi.json").json()["paths"].keys() >= {"/ask", "/chat/stream", "/search", "/feedback",
                                                                  "/documents", "/documents/{doc_id}"}


def test_ask_returns_the_cli_contract_plus_an_answer_id(client: httpx.Client, web_settings: Settings) -> None:
    body = client.post("/ask", json={"question": "Are there membership fees?"}).json()
    assert set(body) >= {"answer", "abstained", "citations", "timings_ms", "mode", "answer_id"}
    assert body["citations"][0]["locator"] == "GB.349/INS/4 ¶20" and "membership fees" in body["answer"]
    assert set(body["citations"][0]) == {"n", "doc_id", "title", "symbol", "locator", "quote", "text", "url", "score",
                                         "chunk_id"}
    stored = FeedbackStore(web_settings.feedback_path).answer(body["answer_id"])
    assert stored is not None and stored["question"] == "Are there membership fees?"
    assert stored["citations"][0]["locator"] == "GB.349/INS/4 ¶20" and stored["channel"] == "web"


def test_follow_up_uses_history(client: httpx.Client) -> None:
    history = [{"role": "user", "content": "What is the Coordinating Group?"}, {"role": "assistant", "content": "…"}]
    body = client.post("/ask", json={"question": "how often does it meet?", "history": history}).json()
    assert not body["abstained"] and "twice a year" in body["answer"]  # ¶24 and the web page both say so
    assert any("twice a year" in c["text"] for c in body["citations"])


def events(response: httpx.Response) -> list[tuple[str, object]]:
    out = []
    for block in response.text.strip().split("\n\n"):
        name = block.split("\n")[0].removeprefix("event: ")
        data = json.loads(block.split("\n", 1)[1].removeprefix("data: "))
        out.append((name, data))
    return out


def test_stream_sends_meta_deltas_citations_done(client: httpx.Client) -> None:
    response = client.post("/chat/stream", json={"question": "What must a partner commit to?"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    got = events(response)
    names = [n for n, _ in got]
    assert names[0] == "meta" and names[-2:] == ["citations", "done"] and names.count("delta") >= 1
    done = got[-1][1]
    assert isinstance(done, dict)
    assert "".join(d["text"] for n, d in got if n == "delta") == done["answer"]  # type: ignore[index]
    assert got[-2][1] == done["citations"] and got[0][1]["answer_id"] == done["answer_id"]  # type: ignore[index]


def test_abstention_is_marked(client: httpx.Client) -> None:
    body = client.post("/ask", json={"question": "What is the capital of Australia?"}).json()
    assert body["abstained"] is True and body["citations"] == [] and "don't say" in body["answer"]


def test_search_ranks_passages_with_locators(client: httpx.Client) -> None:
    hits = client.get("/search", params={"q": "cotton producing countries", "limit": 3}).json()["hits"]
    assert len(hits) == 3 and "cotton" in hits[0]["locator"].lower()
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
    filtered = client.get("/search", params={"q": "social protection", "country": "China"}).json()["hits"]
    assert filtered and all(h["doc_id"] == "emerging-partners-guide" for h in filtered)
    typed = client.get("/search", params={"q": "membership", "doc_type": "governing_body_paper"}).json()["hits"]
    assert typed and {h["doc_id"] for h in typed} == {"gb349-ins4"}


def test_documents_are_addressable_by_passage(client: httpx.Client) -> None:
    docs = client.get("/documents").json()
    assert len(docs) == 5 and {d["doc_id"] for d in docs} >= {"gb349-ins4", "emerging-partners-guide"}
    gb = client.get("/documents/gb349-ins4").json()
    locators = [p["locator"] for p in gb["passages"]]
    assert gb["symbol"] == "GB.349/INS/4" and "GB.349/INS/4 ¶16" in locators
    assert locators.index("GB.349/INS/4 ¶16") < locators.index("GB.349/INS/4 ¶20")
    assert len({p["id"] for p in gb["passages"]}) == len(gb["passages"]) == gb["chunks"]
    answer = client.post("/ask", json={"question": "Are there membership fees?"}).json()
    cited = answer["citations"][0]
    passage = next(p for p in gb["passages"] if p["id"] == cited["chunk_id"])
    assert cited["quote"] in passage["text"]


def test_feedback_is_stored_with_the_question_and_citations(client: httpx.Client, web_settings: Settings) -> None:
    answer = client.post("/ask", json={"question": "Who can join the coalition?"}).json()
    first = client.post("/feedback", json={"answer_id": answer["answer_id"], "rating": "up"})
    assert first.status_code == 201 and first.json()["rating"] == "up"
    again = client.post("/feedback", json={"answer_id": answer["answer_id"], "rating": "down", "comment": "too long"})
    assert again.json()["id"] == first.json()["id"]  # one rating per answer per person: updated
    rows = [r for r in FeedbackStore(web_settings.feedback_path).feedback() if r["answer_id"] == answer["answer_id"]]
    assert len(rows) == 1 and rows[0]["rating"] == "down" and rows[0]["comment"] == "too long"
    assert rows[0]["question"] == "Who can join the coalition?" and rows[0]["citations"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "reason"),
    [
        ("post", "/ask", {"content": b'{"question": ', "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ("post", "/ask", {"json": {"question": ""}}, 400, "empty"),
        ("post", "/ask", {"json": {"question": " \n\t "}}, 400, "empty"),
        ("post", "/ask", {"json": {"question": "x" * 2001}}, 400, "longer than 2000"),
        ("post", "/ask", {"json": {}}, 422, "question: Field required"),
        ("post", "/ask", {"json": {"question": "fees?", "bogus": 1}}, 422, "bogus"),
        ("post", "/ask", {"json": {"question": "fees?", "k": 0}}, 422, "k:"),
        ("post", "/ask", {"json": {"question": "fees?", "k": "5"}}, 422, "k: Input should be a valid integer"),
        ("post", "/ask", {"json": {"question": "fees?", "k": True}}, 422, "k: Input should be a valid integer"),
        ("post", "/ask", {"json": {"question": "fees?", "history": [{"role": "boss", "content": "x"}]}}, 422, "role"),
        ("post", "/ask", {"json": {"question": "fees?", "filters": {"colour": "red"}}}, 400, "unknown filter"),
        ("post", "/ask", {"json": {"question": "fees?", "filters": {"country": "Atlantis"}}}, 400, "matches nothing"),
        ("post", "/ask", {"json": {"question": "fees?", "filters": {"country": 7}}}, 422, "filters"),
        ("post", "/ask", {"json": ["question"]}, 422, "body"),
        ("post", "/chat/stream", {"json": {"question": ""}}, 400, "empty"),
        ("post", "/ask", {"json": {"question": "x" * 70_000}}, 413, "larger than"),
        ("get", "/search", {}, 422, "q: Field required"),
        ("get", "/search", {"params": {"q": "fees", "limit": 0}}, 422, "limit"),
        ("get", "/search", {"params": {"q": "fees", "doc_type": "novel"}}, 400, "matches nothing"),
        ("get", "/search", {"params": {"q": "   "}}, 400, "empty"),
        ("get", "/documents/no-such-doc", {}, 404, "no document"),
        ("post", "/feedback", {"json": {"answer_id": "0" * 32, "rating": "up"}}, 404, "no answer"),
        ("post", "/feedback", {"json": {"answer_id": "abc", "rating": "meh"}}, 422, "rating"),
        ("get", "/nowhere", {}, 404, "Not Found"),
    ],
)
def test_bad_input_gets_a_4xx_with_a_reason(client: httpx.Client, method: str, path: str, kwargs: dict[str, object],
                                            status: int, reason: str) -> None:
    assert reason in problem(client.request(method.upper(), path, **kwargs), status)  # type: ignore[arg-type]


def test_chunked_oversized_body_is_refused(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    response = client.post("/ask", content=chunks(), headers={"content-type": "application/json"})
    assert "larger than" in problem(response, 413)


def test_api_key_and_cors(web_settings: Settings, assistant: Assistant) -> None:
    settings = web_settings.model_copy(update={"api_key": SecretStr("s3cret-key"),
                                               "cors_origins": ["https://partners.example"]})
    with serving(create_app(settings, assistant)) as url, httpx.Client(base_url=url) as c:
        assert "X-API-Key" in problem(c.post("/ask", json={"question": "fees?"}), 401)
        problem(c.post("/ask", json={"question": "fees?"}, headers={"X-API-Key": "wrong"}), 401)
        problem(c.get("/documents"), 401)
        ok = c.post("/ask", json={"question": "Are there membership fees?"}, headers={"X-API-Key": "s3cret-key"})
        assert ok.status_code == 200 and "s3cret-key" not in ok.text
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200
        assert c.get("/").status_code == 200  # the page loads; it asks for the key on a 401
        pre = c.options("/ask", headers={"Origin": "https://partners.example", "Access-Control-Request-Method": "POST",
                                         "Access-Control-Request-Headers": "x-api-key,content-type"})
        assert pre.headers["access-control-allow-origin"] == "https://partners.example"
        other = c.options("/ask", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in other.headers


def test_without_an_index_the_app_says_why(tmp_path: object, web_settings: Settings) -> None:
    from pathlib import Path

    empty = web_settings.model_copy(update={"index_dir": Path(str(tmp_path)) / "none"})
    with serving(create_app(empty)) as url, httpx.Client(base_url=url) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 503 and "coalition ingest" in ready.json()["reason"]
        assert "coalition ingest" in problem(c.post("/ask", json={"question": "fees?"}), 503)
