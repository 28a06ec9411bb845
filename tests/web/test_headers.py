"""Request headers are bounded at the server (the real uvicorn the app runs on): one header over
16 KB, over 64 KB in all, or over 100 headers gets 431 and the connection closes; a 32 MB header is
refused after the first ~64 KB, not read whole."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.server]


def test_normal_headers_pass(client: httpx.Client) -> None:
    headers = {f"x-h{i}": "v" * 100 for i in range(90)} | {"x-big": "b" * 15_000}
    assert client.get("/healthz", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"x-big": "b" * 17_000}, "a request header is larger than 16384 bytes"),
        ({f"x-h{i}": "v" * 10_000 for i in range(8)}, "the request headers are larger than 65536 bytes"),
        ({f"x-h{i}": "v" for i in range(101)}, "more than 100 headers"),
    ],
)
def test_too_large_or_too_many_headers_get_431(client: httpx.Client, headers: dict[str, str], reason: str) -> None:
    response = client.get("/healthz", headers=headers)
    assert response.status_code == 431 and reason in response.json()["detail"]
    assert client.get("/healthz").status_code == 200  # a new connection is served as usual


def test_a_body_does_not_count_as_headers(client: httpx.Client) -> None:
    response = client.post("/ask", json={"question": "x" * 60_000})
    assert response.status_code == 400  # refused as too long a question, not as too large headers


def test_a_huge_header_is_cut_off_early(base_url: str, client: httpx.Client) -> None:
    url = urlsplit(base_url)
    sent, reply = 0, b""
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-huge: ")
        try:
            for _ in range(32 * 16):  # 32 MB in 64 KB pieces
                sock.sendall(b"a" * 65_536)
                sent += 65_536
            reply = sock.recv(4096)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection while the client was still sending: also a refusal
    assert sent < 8 * 1024 * 1024, f"the server read {sent} bytes of one header"
    assert reply == b"" or reply.startswith(b"HTTP/1.1 431")
    assert time.monotonic() - started < 10
    assert client.get("/healthz").status_code == 200
