"""Answers given and the feedback on them, in one SQL store for the web app, its workers and replicas, and
the Slack bot: SQLite (WAL) in ``COALITION_DATA_DIR`` by default, PostgreSQL when
``COALITION_DATABASE_URL`` names one (``assistant/db.py``: the schema and its migrations).

Every answer served gets an ``answer_id`` and a row holding the question and what was cited, so a
rating can later be read with its context and rated-down answers exported as candidate gold lines.

Example::

    store = FeedbackStore.from_settings(settings)        # or FeedbackStore(path) / FeedbackStore("postgresql://…")
    answer_id = store.record_answer("How do we join?", answer, channel="web")
    store.add_feedback(answer_id, "down", "cited the wrong paragraph", channel="web")
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import OperationalError

from assistant import db
from assistant.db import answers, feedback
from assistant.errors import AssistantError
from assistant.models import Answer, Turn
from assistant.text import require_utf8

if TYPE_CHECKING:
    from core.settings import Settings

Rating = Literal["up", "down"]
PRUNE_EVERY = 3600  # seconds between retention sweeps while answering


class UnknownAnswer(AssistantError):
    """Feedback names an answer_id that was never given."""


class FeedbackStore:
    """Thread- and process-safe: each call is one transaction on the engine's connection pool.

    ``where`` is a path (an SQLite file) or a database URL; ``clock`` gives the time rows are stamped
    with (tests move it).
    """

    def __init__(self, where: Path | str, retention_days: int = 365, clock: Callable[[], float] = time.time) -> None:
        self.url = f"sqlite:///{Path(where).resolve()}" if isinstance(where, Path) else db.normalise_url(where)
        self.retention_days = retention_days
        self.clock = clock
        self._pruned = 0.0
        self._engine = db.connect(self.url)
        try:
            db.migrate(self._engine)
        except OperationalError as exc:  # unreachable, refused, bad password: said without the URL
            self._engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise db.DatabaseError(f"the answers/feedback database ({self.backend}) cannot be used: {reason}") from None
        self._insert = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
        self.prune()

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        return cls(settings.feedback_url, settings.answer_retention_days)

    @property
    def backend(self) -> str:
        """'sqlite' or 'postgresql' (never the URL: it may hold a password)."""
        return str(self._engine.dialect.name)

    def record_answer(self, question: str, answer: Answer, channel: str, history: list[Turn] | None = None,
                      audience: str = "staff") -> str:
        """Store an answer given to ``audience`` (the export of feedback filters by it); its id."""
        require_utf8(question, "the question")
        if self.clock() - self._pruned > PRUNE_EVERY:
            self.prune()
        answer_id = uuid.uuid4().hex
        cited = [c.model_dump(include={"n", "doc_id", "locator", "quote", "chunk_id"}) for c in answer.citations]
        with self._engine.begin() as conn:
            conn.execute(answers.insert().values(
                answer_id=answer_id, created=self.clock(), channel=channel, question=question,
                history=json.dumps([t.model_dump() for t in history or []]), answer=answer.answer,
                abstained=int(answer.abstained), mode=answer.mode, citations=json.dumps(cited, ensure_ascii=False),
                audience=audience,
            ))
        return answer_id

    def add_feedback(self, answer_id: str, rating: Rating, comment: str = "", channel: str = "web",
                     user: str = "") -> int:
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        require_utf8(comment, "the comment")
        with self._engine.begin() as conn:
            if conn.execute(select(answers.c.answer_id).where(answers.c.answer_id == answer_id)).first() is None:
                raise UnknownAnswer(f"no answer with id {answer_id!r}")
            # one rating per person per answer: changing one's mind, or adding a comment, updates it
            stmt = self._insert(feedback).values(answer_id=answer_id, created=self.clock(), rating=rating,
                                                 comment=comment, channel=channel, user=user)
            upsert = stmt.on_conflict_do_update(
                index_elements=[feedback.c.answer_id, feedback.c.channel, feedback.c.user],
                set_={"rating": stmt.excluded.rating, "created": stmt.excluded.created,
                      "comment": case((stmt.excluded.comment == "", feedback.c.comment), else_=stmt.excluded.comment)},
            ).returning(feedback.c.id)
            return int(conn.execute(upsert).scalar_one())

    def prune(self) -> int:
        """Delete answers older than ``retention_days`` and the feedback on them; the number of answers."""
        self._pruned = self.clock()
        if self.retention_days <= 0:
            return 0
        cutoff = self._pruned - self.retention_days * 86400
        old = select(answers.c.answer_id).where(answers.c.created < cutoff)
        with self._engine.begin() as conn:
            conn.execute(delete(feedback).where(feedback.c.answer_id.in_(old)))
            deleted = conn.execute(delete(answers).where(answers.c.created < cutoff)).rowcount
        return int(deleted)

    def answer(self, answer_id: str) -> dict[str, Any] | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(answers).where(answers.c.answer_id == answer_id)).mappings().first()
        return _answer_row(row) if row else None

    def feedback(self, rating: Rating | None = None, audiences: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Feedback rows joined with the answer they rate, oldest first; ``audiences``: only answers given to
        those (an export for the public holds no staff question or answer)."""
        f = feedback.c
        stmt = (select(f.id, f.created.label("rated"), f.rating, f.comment, f.channel.label("feedback_channel"), f.user,
                       *answers.c)
                .select_from(feedback.join(answers, f.answer_id == answers.c.answer_id)).order_by(f.id))
        if rating:
            stmt = stmt.where(f.rating == rating)
        if audiences is not None:
            stmt = stmt.where(answers.c.audience.in_(audiences))
        with self._engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [_answer_row(r) for r in rows]

    def close(self) -> None:
        self._engine.dispose()


def _answer_row(row: RowMapping) -> dict[str, Any]:
    out = dict(row)
    out["citations"] = json.loads(out["citations"])
    out["history"] = json.loads(out["history"])
    out["abstained"] = bool(out["abstained"])
    return out


def candidate_gold_lines(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rated-down answers as gold-set lines for a person to complete (evidence and key facts left empty)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        if row["rating"] != "down" or row["question"] in seen:
            continue
        seen.add(row["question"])
        out.append({
            "id": f"fb-{row['answer_id'][:8]}",
            "persona": "TODO",
            "question": row["question"],
            "evidence": [],
            "key_facts": [],
            "should_abstain": False,
            "_feedback": {
                "comment": row["comment"],
                "channel": row["feedback_channel"],
                "answer": row["answer"],
                "abstained": row["abstained"],
                "cited": [f"{c['locator']}: {c['quote'][:160]}" for c in row["citations"]],
            },
        })
    return out
