"""What limiting request headers costs: req/s of the real app's ``GET /healthz`` under three HTTP parsers.

* ``httptools`` — uvicorn's default parser, no header limits (a 32 MB header is read whole);
* ``limited`` — httptools with our limits (``assistant.web.server.HeaderLimits``: 16 KB a header, 64 KB
  in all, 100 headers → 431), what ``coalition serve`` runs;
* ``h11`` — uvicorn's pure-Python parser with ``h11_max_incomplete_event_size`` = 64 KB (a total limit
  only, answered 400; the per-header and count limits would still need code).

Each server is the real app (``create_app``, no index: ``/healthz`` does not need one) in its own process
on a loopback port; the load is ``wrk`` (a C client; ``apt-get install wrk``) or, without it, an asyncio
client in this process. Each request carries 12 browser-like headers (~700 bytes). Runs alternate between
the parsers, ``--rounds`` times, and the median is printed. Bounded: rounds × 3 × ``--seconds``.
Run: ``python -m evals.bench_headers [--seconds 5] [--rounds 3] [--concurrency 8]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

VARIANTS = ("httptools", "limited", "h11")
HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.9,fr;q=0.8", "Accept-Encoding": "gzip, deflate, br",
    "Cache-Control": "no-cache", "Pragma": "no-cache", "Referer": "http://127.0.0.1/",
    "Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin",
    "X-API-Key": "k" * 32, "Cookie": "session=" + "c" * 120,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(variant: str, port: int, root: str) -> None:
    """The server process: the real app under one parser."""
    import uvicorn

    from assistant.web import create_app
    from assistant.web.server import limited_protocol
    from core.settings import Settings

    settings = Settings(index_dir=Path(root) / "no-index", data_dir=Path(root) / "data")
    app = create_app(settings)
    http: object = {"httptools": "httptools", "h11": "h11", "limited": limited_protocol(settings)}[variant]
    uvicorn.run(app, host="127.0.0.1", port=port, http=http, log_level="critical", access_log=False,  # type: ignore[arg-type]
                h11_max_incomplete_event_size=settings.max_headers_bytes)


def _wrk(url: str, concurrency: int, seconds: int) -> float:
    args = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s"]
    for name, value in HEADERS.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url + "/healthz"], capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("Requests/sec:"))
    return float(line.split()[1])


async def _asyncio_load(port: int, concurrency: int, seconds: int) -> float:
    request = ("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items()) + "\r\n").encode()
    done = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(x.split(b":")[1]) for x in head.lower().split(b"\r\n") if x.startswith(b"content-length"))
            await reader.readexactly(length)
            done += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


def _measure(variant: str, concurrency: int, seconds: int, use_wrk: bool) -> float:
    port = _free_port()
    with tempfile.TemporaryDirectory() as root:
        env = os.environ | {"HF_HUB_OFFLINE": "1"}
        server = subprocess.Popen([sys.executable, "-m", "evals.bench_headers", "--serve", variant, "--port", str(port),
                                   "--root", root], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the {variant} server did not start")
                time.sleep(0.1)
            if use_wrk:
                return _wrk(url, concurrency, seconds)
            return asyncio.run(_asyncio_load(port, concurrency, seconds))
        finally:
            server.terminate()
            server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="seconds per run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per parser, alternating (default 3)")
    parser.add_argument("--concurrency", type=int, default=8, help="connections (default 8)")
    parser.add_argument("--client", choices=["wrk", "asyncio"], default="wrk" if shutil.which("wrk") else "asyncio")
    parser.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.root)
        return
    runs: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for _ in range(max(1, args.rounds)):
        for variant in VARIANTS:
            runs[variant].append(_measure(variant, args.concurrency, args.seconds, args.client == "wrk"))
    base = statistics.median(runs["httptools"])
    print(f"GET /healthz, real app, c={args.concurrency}, {args.seconds} s × {args.rounds} runs, client {args.client}")
    for variant in VARIANTS:
        median = statistics.median(runs[variant])
        print(f"{variant:<10} {median:8.0f} req/s  ({median / base:5.1%} of httptools)  runs: "
              + ", ".join(f"{r:.0f}" for r in runs[variant]))


if __name__ == "__main__":
    main()
