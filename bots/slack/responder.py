"""What every Slack listener shares: answering through the one Assistant, thread history, the
hourglass reaction, de-duplicated retries, and an apology instead of silence when anything fails."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.audience import Audience, slack_audience
from assistant.errors import BadQuestion, IndexNotReady
from assistant.feedback import FeedbackStore
from assistant.models import Answer, Citation, Turn
from assistant.pipeline import Assistant
from bots.slack.blocks import answer_blocks, apology_text, escape, fallback_text
from core.settings import Settings

log = logging.getLogger("bots.slack")
MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
HISTORY_TURNS = 8


def strip_mentions(text: str) -> str:
    return MENTION.sub("", text or "").strip()


class SeenEvents:
    """Event ids already taken (Slack retries an event it thinks we missed; it is answered once)."""

    def __init__(self, ttl: float = 3600, cap: int = 10_000) -> None:
        self.ttl, self.cap = ttl, cap
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event_id: str | None) -> bool:
        if not event_id:
            return True
        now = time.monotonic()
        with self._lock:
            while self._seen and (len(self._seen) > self.cap or next(iter(self._seen.values())) < now - self.ttl):
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            return True


class Responder:
    """Example: ``Responder(settings, lambda: assistant, store).reply(client, channel, ts, "how do we join?")``."""

    def __init__(self, settings: Settings, assistant: Callable[[], Assistant], store: FeedbackStore) -> None:
        self.settings = settings
        self._assistant = assistant
        self.store = store
        self.seen = SeenEvents()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="slack-answer")

    def assistant(self, audience: Audience = Audience.PUBLIC) -> Assistant:
        """The assistant over what ``audience`` may see (public unless the conversation is configured)."""
        return self._assistant().for_audience(audience)

    def audience(self, channel: str | None, user: str | None, direct: bool) -> Audience:
        """The conversation's audience: ``COALITION_SLACK_CHANNEL_AUDIENCES`` for a channel, in a direct message
        ``COALITION_SLACK_USER_AUDIENCES`` for the user; public when not configured."""
        return slack_audience(self.settings, channel, user, direct)

    def answer(self, question: str, history: list[Turn], audience: Audience = Audience.PUBLIC) -> tuple[Answer, str]:
        assistant = self.assistant(audience)
        future = self._pool.submit(assistant.answer, question, history)
        answer = future.result(timeout=self.settings.slack_answer_timeout)
        return answer, self.store.record_answer(question, answer, channel="slack", history=history,
                                                audience=str(audience))

    def blocks(self, answer: Answer, answer_id: str, share: bool = False) -> list[dict[str, Any]]:
        return answer_blocks(answer, answer_id, self.settings.public_url, share=share)

    def reply(self, client: WebClient, channel: str, thread_ts: str | None, question: str,
              history: list[Turn] | None = None, react_to: str | None = None,
              audience: Audience = Audience.PUBLIC) -> None:
        """Answer ``question`` in ``channel`` (in the thread ``thread_ts`` when given) from what ``audience``
        may see. Never silent."""
        if react_to:
            self._react(client.reactions_add, channel, react_to)
        try:
            answer, answer_id = self.answer(question, history or [], audience)
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=fallback_text(answer),
                                    blocks=self.blocks(answer, answer_id), unfurl_links=False, unfurl_media=False)
        except Exception as exc:  # noqa: BLE001 (whatever happened, the user hears about it)
            self.apologise(client, channel, thread_ts, exc)
        finally:
            if react_to:
                self._react(client.reactions_remove, channel, react_to)

    def apologise(self, client: WebClient, channel: str, thread_ts: str | None, exc: BaseException) -> None:
        reason = failure_reason(exc)
        if not isinstance(exc, BadQuestion):
            log.error("answering failed in %s: %s", channel, reason, exc_info=exc)
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=apology_text(reason))
        except SlackApiError:
            log.exception("could not post the apology either")

    def thread_history(self, client: WebClient, channel: str, thread_ts: str, current_ts: str,
                       bot_user_id: str | None) -> tuple[list[Turn], bool]:
        """The thread's earlier turns, and whether the bot took part in it."""
        messages = client.conversations_replies(channel=channel, ts=thread_ts, limit=50).get("messages") or []
        turns: list[Turn] = []
        bot_in_thread = False
        for msg in messages:
            if msg.get("ts") == current_ts:
                continue
            from_bot = bool(msg.get("bot_id")) or (bot_user_id is not None and msg.get("user") == bot_user_id)
            bot_in_thread = bot_in_thread or from_bot
            # a lone surrogate in an earlier message must not make every follow-up in the thread fail
            text = strip_mentions(msg.get("text", "")).encode("utf-8", "replace").decode("utf-8")
            if text:
                turns.append(Turn(role="assistant" if from_bot else "user", content=text))
        return turns[-HISTORY_TURNS:], bot_in_thread

    def stored(self, answer_id: str) -> Answer | None:
        """An answer given earlier, rebuilt from the store (for 'Share in channel' and feedback updates)."""
        row = self.store.answer(answer_id)
        if row is None:
            return None
        citations = [Citation(title="", text="", **c) for c in row["citations"]]
        return Answer(answer=row["answer"], abstained=row["abstained"], citations=citations, mode=row["mode"])

    @staticmethod
    def _react(call: Callable[..., Any], channel: str, ts: str) -> None:
        try:
            call(channel=channel, timestamp=ts, name="hourglass")
        except SlackApiError as exc:  # a missing reaction is cosmetic; the answer still goes out
            log.warning("reaction failed: %s", exc.response.get("error"))


def failure_reason(exc: BaseException) -> str:
    if isinstance(exc, BadQuestion):
        return escape(str(exc))
    if isinstance(exc, IndexNotReady):
        return "the document index is not ready"
    if isinstance(exc, FutureTimeout | TimeoutError):
        return "it took too long"
    return "an internal error; it has been logged"
