"""Hot-path benchmark (prints numbers; not a timed test): the same answers in process and over HTTP, in
one run, interleaved question by question so that both see the same load on the machine.

For each gold question: the answer in this process (the main thread, as ``evals.bench_answer``; and on
a request-like worker thread), then ``POST /ask`` to a real ``coalition serve`` on loopback, reading
the server's own ``timings_ms.total``; ``GET /healthz`` gives HTTP's own cost. Each ``--server``
configuration (``name:KEY=VALUE,KEY=VALUE``, environment for the server and this process) is a fresh
server. Run: ``python -m evals.bench_hotpath [--rounds 2]`` (``coalition ingest`` first).
Target: over HTTP ≤ 1.5× the in-process answer time.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import torch

from evals.bench_web import served


def _cpu_ms(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used, from /proc: spinning threads show here."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _p50(values: list[float]) -> float:
    return float(np.percentile(np.asarray(values), 50))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--server", action="append", default=[],
                        help="name:KEY=VALUE,… (environment of one server run); default: one run as configured")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assistant.pipeline import Assistant
    from assistant.web import threads
    from core.settings import Settings
    from evals.gold import load_gold

    configs = [(c.split(":", 1)[0], dict(kv.split("=", 1) for kv in c.split(":", 1)[1].split(",") if kv))
               for c in args.server] or [("as configured", {})]
    questions = [q.question for q in load_gold()][:40]
    settings = Settings()
    threads.configure(settings)
    assistant = Assistant.from_settings(settings)
    worker = ThreadPoolExecutor(1, thread_name_prefix="request")  # one long-lived thread, as a server's are
    for q in questions[:5]:
        assistant.answer(q)
        worker.submit(assistant.answer, q).result()

    def timed(q: str) -> float:
        t = time.perf_counter()
        assistant.answer(q)
        return (time.perf_counter() - t) * 1000

    here = os.getpid()

    for name, env in configs:
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        threads.configure(Settings())  # this process computes as the server does
        try:
            with tempfile.TemporaryDirectory() as data, served(data) as (url, server, _started), \
                    httpx.Client(base_url=url, timeout=60) as client:
                for q in questions[:10]:
                    client.post("/ask", json={"question": q})
                main_ms, thread_ms, http_ms, server_ms, health_ms = [], [], [], [], []
                cpu_here = cpu_server = 0.0
                for _ in range(args.rounds):
                    for q in questions:
                        c = _cpu_ms(here)
                        main_ms.append(timed(q))
                        cpu_here += _cpu_ms(here) - c
                        thread_ms.append(worker.submit(timed, q).result())
                        c = _cpu_ms(server.pid)
                        t = time.perf_counter()
                        r = client.post("/ask", json={"question": q})
                        http_ms.append((time.perf_counter() - t) * 1000)
                        cpu_server += _cpu_ms(server.pid) - c
                        server_ms.append(float(r.json()["timings_ms"]["total"]))
                        t = time.perf_counter()
                        client.get("/healthz")
                        health_ms.append((time.perf_counter() - t) * 1000)
        finally:
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        base = _p50(main_ms)
        print(f"[{name}] {', '.join(f'{k}={v}' for k, v in env.items()) or 'defaults'} "
              f"(torch intra-op threads {torch.get_num_threads()}, here and in the server)")
        print(f"  in process, main thread   p50 {base:6.2f} ms")
        print(f"  in process, worker thread p50 {_p50(thread_ms):6.2f} ms")
        print(f"  POST /ask over HTTP       p50 {_p50(http_ms):6.2f} ms  ({_p50(http_ms) / base:.2f}× in process; "
              f"server's own total p50 {_p50(server_ms):.2f} ms)")
        print(f"  GET /healthz              p50 {_p50(health_ms):6.2f} ms")
        print(f"  CPU time an answer: in process {cpu_here / len(main_ms):.1f} ms, in the server "
              f"{cpu_server / len(http_ms):.1f} ms (all threads; 1 core-ms of spinning counts as 1)")
    print("target: over HTTP ≤ 1.5× the in-process answer time")


if __name__ == "__main__":
    main()
