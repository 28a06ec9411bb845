"""Per-client limits of the web API: a rate limit (``COALITION_RATE_LIMIT_PER_MINUTE``, off by default)
and the history a question may bring (``COALITION_MAX_HISTORY_TURNS`` / ``_CHARS``).

The rate limit is a token bucket per client: its ``X-API-Key`` when COALITION_API_KEY is set (the key is
checked first, so a wrong one is a 401 and not counted), else its address. It is a
dependency of the API routers only, so ``/healthz``, ``/readyz``, the page and the signed Slack route
(Slack bursts and retries) are never limited.

Example::

    limiter = RateLimiter(per_minute=60)
    limiter.take("203.0.113.7")   # 0.0: allowed; otherwise the seconds to wait
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security

from assistant.errors import BadQuestion
from assistant.models import Turn
from assistant.web.deps import _api_key_header
from core.settings import Settings


class RateLimiter:
    """``per_minute`` requests a minute per client, in bursts of up to ``per_minute``; at most ``clients``
    buckets are kept (the least recently seen is dropped)."""

    def __init__(self, per_minute: int, clients: int = 10_000) -> None:
        self.per_minute, self.clients = per_minute, clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0.0 if ``client`` may go on (one token taken), else the seconds until it may."""
        now = time.monotonic()
        rate = self.per_minute / 60
        with self._lock:
            tokens, seen = self._buckets.pop(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - seen) * rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self.clients:
                self._buckets.popitem(last=False)
        return wait


async def rate_limit(request: Request, key: Annotated[str | None, Security(_api_key_header)] = None) -> None:
    limiter: RateLimiter | None = request.app.state.limiter
    if limiter is None:
        return
    if not key:  # the OpenAI-compatible routes send it as a bearer token
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else None
    # the key only counts when the server checks it (else a client would send a new one each time)
    checked = key if key and request.app.state.settings.keys_configured else None
    client = ("key:" + hashlib.sha256(checked.encode()).hexdigest()) if checked else (
        "addr:" + (request.client.host if request.client else "unknown"))
    wait = limiter.take(client)
    if wait:
        raise HTTPException(429, f"too many requests: {limiter.per_minute} requests a minute per client",
                            headers={"Retry-After": str(max(1, math.ceil(wait)))})


RateLimit = Depends(rate_limit)


def check_history(history: list[Turn], settings: Settings) -> None:
    """A web request's earlier turns within the limits (each turn is stored with the answer)."""
    if len(history) > settings.max_history_turns:
        raise BadQuestion(f"the history has more than {settings.max_history_turns} turns; send the latest ones")
    if sum(len(t.content) for t in history) > settings.max_history_chars:
        raise BadQuestion(f"the history is longer than {settings.max_history_chars} characters; send the latest turns")
