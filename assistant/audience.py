"""Who may see what: documents are ``public`` < ``partner`` < ``staff``, and so are callers.

A document's visibility is its manifest's ``visibility``; one without (a dropped-in file) gets
``COALITION_DEFAULT_VISIBILITY`` (``staff`` unless set). A caller's audience comes from its API key
(``COALITION_API_KEYS``, ``COALITION_API_KEY`` = staff), from ``COALITION_ANONYMOUS_AUDIENCE`` without
one, or in Slack from the channel (or, in a direct message, the user).

Enforcement is by construction, before anything ranks: each audience gets its own view of the corpus
(``AudienceViews``), built from the passages it may see only — the BM25 index and its term statistics,
the vectors, the spelling vocabulary, the known filter values, the countries, the answerability
features, the practice records. A passage the caller may not see is not in any structure its question
meets, so it cannot be ranked, cited, named as a "nearest topic" or change a score.

Example::

    audience = key_audience(settings, request_key)        # Audience.PARTNER
    mask = visible_mask(index.chunks, audience, Audience.parse(settings.default_visibility))
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from enum import IntEnum
from typing import Any, Generic, TypeVar

import numpy as np

from assistant.errors import Unauthorized
from core.settings import Settings
from ingest.storage.keyword import KeywordIndex, keyword_text, tokenize
from ingest.storage.store import StoredChunk

T = TypeVar("T")


class Audience(IntEnum):
    """Ordered: an audience sees every document of its own level and below."""

    PUBLIC = 0
    PARTNER = 1
    STAFF = 2

    @classmethod
    def parse(cls, value: str) -> Audience:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValueError(f"audience {value!r} is not one of public, partner, staff") from None

    def __str__(self) -> str:
        return self.name.lower()

    def may_see(self, visibility: Audience) -> bool:
        return visibility <= self


def visibility(metadata: Mapping[str, Any], default: Audience) -> Audience:
    """A passage's (or document's) visibility; an unknown value counts as staff (the safe side)."""
    value = str(metadata.get("visibility", "") or "")
    if not value:
        return default
    try:
        return Audience.parse(value)
    except ValueError:
        return Audience.STAFF


def default_visibility(settings: Settings) -> Audience:
    return Audience.parse(settings.default_visibility)


def catalog(chunks: Sequence[StoredChunk], settings: Settings) -> list[dict[str, Any]]:
    """``ingest.storage.catalog.documents`` with each document's visibility resolved (the default where unset)."""
    from ingest.storage.catalog import documents

    default = str(default_visibility(settings))
    return [row | {"visibility": row.get("visibility") or default} for row in documents(list(chunks))]


def visible_mask(chunks: Sequence[StoredChunk], audience: Audience, default: Audience) -> np.ndarray:
    """Which chunks ``audience`` may see, in index order."""
    return np.array([audience.may_see(visibility(c.metadata, default)) for c in chunks], dtype=bool)


def restricted_index(index: KeywordIndex, mask: np.ndarray) -> KeywordIndex:
    """A BM25 index over the chunks of ``mask`` only: its IDF and lengths are those of what the audience may
    see, so a restricted passage's words change no score. 299 passages index in ~0.1 s."""
    import bm25s

    chunks = [c for c, keep in zip(index.chunks, mask, strict=True) if keep]
    retriever = None
    if chunks:
        retriever = bm25s.BM25()
        retriever.index(tokenize([keyword_text(c) for c in chunks], index.stemmer), show_progress=False)
    return KeywordIndex(chunks, retriever, index.fingerprint, lexicon=index.lexicon.restricted(mask))


def key_audience(settings: Settings, key: str | None) -> Audience:
    """The audience of a request sending ``key`` (None/empty: none sent), or ``Unauthorized``.

    Without any key configured, a key sent is ignored (as before); with keys configured, an unknown key is
    refused, and a request without one gets ``COALITION_ANONYMOUS_AUDIENCE``."""
    keys = settings.audience_keys()
    if key and keys:
        for known, audience in keys.items():  # compare_digest against each: no early exit on a prefix
            if secrets.compare_digest(key.encode(), known.encode()):
                return Audience.parse(audience)
        raise Unauthorized("wrong API key")
    anonymous = settings.anonymous_audience
    if anonymous is None:
        anonymous = "" if settings.keys_configured else "public"
    if not anonymous:
        raise Unauthorized("an API key is needed")
    return Audience.parse(anonymous)


def slack_audience(settings: Settings, channel: str | None, user: str | None, direct: bool) -> Audience:
    """A Slack conversation's audience: the channel's from the configuration, in a direct message the
    user's; anything not configured is public."""
    value = (settings.slack_user_audiences.get(user or "") if direct
             else settings.slack_channel_audiences.get(channel or ""))
    return Audience.parse(value) if value else Audience.PUBLIC


class AudienceViews(Generic[T]):
    """One view of the corpus per audience, built on first use from the chunks it may see; audiences that
    see the same chunks share one (with every document public, all three are the full view).

    Example: ``AudienceViews(chunks, full, build, default).get(Audience.PUBLIC)``."""

    def __init__(self, chunks: Sequence[StoredChunk], full: T, build: Callable[[np.ndarray], T],
                 default: Audience) -> None:
        self.chunks, self.full, self.build, self.default = chunks, full, build, default
        self._views: dict[bytes, T] = {}
        self._masks = {a: visible_mask(chunks, a, default) for a in Audience}
        self._lock = threading.Lock()

    def mask(self, audience: Audience) -> np.ndarray:
        return self._masks[audience]

    def get(self, audience: Audience) -> T:
        mask = self._masks[audience]
        if mask.all():
            return self.full
        key = np.packbits(mask).tobytes()
        with self._lock:  # built once, even when the first questions of an audience arrive together
            if key not in self._views:
                self._views[key] = self.build(mask)
            return self._views[key]
