"""How many threads a server process computes with: torch's intra-op pool, sized to the cores this
process has to itself (``COALITION_TORCH_THREADS``, else the cores / ``COALITION_WORKERS``). Two workers
of two threads each on two cores would each wait on the other's half of every matrix product.

Example::

    threads.configure(settings)   # once per process, before the model loads
"""

from __future__ import annotations

import logging
import os

from coalition.settings import Settings

log = logging.getLogger(__name__)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def configure(settings: Settings) -> int:
    """Set torch's intra-op threads for this process; the number set."""
    import torch

    n = settings.torch_threads or max(1, cores() // settings.workers)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    log.info("torch intra-op threads: %d (%d cores, %d workers)", n, cores(), settings.workers)
    return n
