"""How many threads a server process computes with: torch's intra-op pool (``COALITION_TORCH_THREADS``, 1).

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
    """Set torch's intra-op threads for this process; the number set."""
    import torch

    n = settings.torch_threads
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    log.info("torch intra-op threads: %d (%d cores, %d workers)", n, cores(), settings.workers)
    return n
