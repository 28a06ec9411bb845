"""Loopback stand-ins for servers the tests cannot reach (an LLM server, Slack's Web API).

They fake only the HTTP boundary: our code talks to them with its real HTTP clients.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


Reply = tuple[int, dict[str, Any]]


@dataclass
class RecordingServer:
    """A threaded HTTP server on 127.0.0.1 that records every POST and answers with ``respond(call)``."""

    respond: Callable[[Call], Reply]
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                kind = self.headers.get("Content-Type", "")
                if "json" in kind:
                    body = json.loads(raw or "{}")
                else:
                    body = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                call = Call(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                outer.calls.append(call)
                status, payload = outer.respond(call)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> RecordingServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FakeLLM(RecordingServer):
    """Speaks OpenAI chat-completions at ``/v1/chat/completions``; ``replies`` are served in order.

    A reply is a string (the assistant message), an int (an HTTP error status) or ``("sleep", seconds)``.
    """

    def __init__(self, replies: list[Any]) -> None:
        self.replies = list(replies)
        super().__init__(self._answer)

    def _answer(self, call: Call) -> Reply:
        if call.path != "/v1/chat/completions":
            return 404, {"error": {"message": f"no route {call.path}"}}
        reply = self.replies.pop(0) if self.replies else "I have nothing to add."
        if isinstance(reply, tuple) and reply[0] == "sleep":
            time.sleep(reply[1])
            return 200, _completion("too late [1]")
        if isinstance(reply, int):
            return reply, {"error": {"message": "server error"}}
        return 200, _completion(reply)


def _completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    }


class FakeSlack(RecordingServer):
    """Answers like Slack's Web API under ``/api/`` (auth.test included: Bolt calls it on the first event)
    and accepts ``response_url`` posts under ``/response/``. ``threads`` maps a thread_ts to the messages
    ``conversations.replies`` returns."""

    BOT_USER = "UBOT"
    BOT_ID = "BBOT"

    def __init__(self) -> None:
        self.threads: dict[str, list[dict[str, Any]]] = {}
        self._ts = 0
        super().__init__(self._answer)

    def _answer(self, call: Call) -> Reply:
        if call.path.startswith("/response/"):
            return 200, {"ok": True}
        method = call.path.removeprefix("/api/")
        if method == "auth.test":
            return 200, {"ok": True, "url": "https://example.slack.com/", "team": "Example", "user": "coalition",
                         "team_id": "T1", "user_id": self.BOT_USER, "bot_id": self.BOT_ID, "is_enterprise_install": False}
        if method == "chat.postMessage":
            self._ts += 1
            return 200, {"ok": True, "channel": call.body.get("channel"), "ts": f"1800000000.{self._ts:06d}"}
        if method == "conversations.replies":
            return 200, {"ok": True, "messages": self.threads.get(str(call.body.get("ts")), []), "has_more": False}
        if method in ("reactions.add", "reactions.remove", "chat.update"):
            return 200, {"ok": True}
        return 200, {"ok": False, "error": "unknown_method"}

    def methods(self) -> list[str]:
        return [c.path.removeprefix("/api/") for c in self.calls]

    def named(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.path.removeprefix("/api/") == method or c.path == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 20) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.named(method)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"expected {count} {method} call(s); got calls: {self.methods()}")
