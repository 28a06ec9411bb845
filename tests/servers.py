"""A real uvicorn on a free loopback port, in a thread, for the web and Slack tests: configured as
``coalition serve`` configures it (``server_config``: httptools with header limits)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from assistant.web.server import server_config
from coalition.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    port = free_port()
    settings = app.state.settings if isinstance(getattr(app.state, "settings", None), Settings) else Settings()
    config = server_config(app, settings, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200 and server.started:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:
        raise RuntimeError("uvicorn did not start")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
