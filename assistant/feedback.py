"""Answers given and the feedback on them, in SQLite (WAL): one store for the web app and the Slack bot.

Every answer served gets an ``answer_id`` and a row holding the question and what was cited, so a
rating can later be read with its context and rated-down answers exported as candidate gold lines.

Example::

    store = FeedbackStore(settings.feedback_path)
    answer_id = store.record_answer("How do we join?", answer, channel="web")
    store.add_feedback(answer_id, "down", "cited the wrong paragraph", channel="web")
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from assistant.errors import AssistantError
from assistant.models import Answer, Turn
from assistant.text import require_utf8

Rating = Literal["up", "down"]
PRUNE_EVERY = 3600  # seconds between retention sweeps while answering

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    answer_id  TEXT PRIMARY KEY,
    created    REAL NOT NULL,
    channel    TEXT NOT NULL,
    question   TEXT NOT NULL,
    history    TEXT NOT NULL,
    answer     TEXT NOT NULL,
    abstained  INTEGER NOT NULL,
    mode       TEXT NOT NULL,
    citations  TEXT NOT NULL,
    audience   TEXT NOT NULL DEFAULT 'staff'
);
CREATE TABLE IF NOT EXISTS feedback (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id  TEXT NOT NULL REFERENCES answers(answer_id),
    created    REAL NOT NULL,
    rating     TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment    TEXT NOT NULL DEFAULT '',
    channel    TEXT NOT NULL,
    user       TEXT NOT NULL DEFAULT '',
    UNIQUE (answer_id, channel, user)
);
CREATE INDEX IF NOT EXISTS feedback_answer ON feedback(answer_id);
"""


class UnknownAnswer(AssistantError):
    """Feedback names an answer_id that was never given."""


class FeedbackStore:
    """Thread-safe (one connection behind a lock; writes are a few hundred bytes)."""

    def __init__(self, path: Path, retention_days: int = 365) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.retention_days = retention_days
        self._pruned = 0.0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a stored rating survives a power cut, not just a crash
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(answers)")}
        if "audience" not in columns:  # a store from before audiences: its answers count as staff's (the safe side)
            self._db.execute("ALTER TABLE answers ADD COLUMN audience TEXT NOT NULL DEFAULT 'staff'")
        self.prune()

    def record_answer(self, question: str, answer: Answer, channel: str, history: list[Turn] | None = None,
                      audience: str = "staff") -> str:
        """Store an answer given to ``audience`` (the export of feedback filters by it); its id."""
        require_utf8(question, "the question")
        if time.time() - self._pruned > PRUNE_EVERY:
            self.prune()
        answer_id = uuid.uuid4().hex
        cited = [c.model_dump(include={"n", "doc_id", "locator", "quote", "chunk_id"}) for c in answer.citations]
        with self._lock:
            self._db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (answer_id, time.time(), channel, question, json.dumps([t.model_dump() for t in history or []]),
                 answer.answer, int(answer.abstained), answer.mode, json.dumps(cited, ensure_ascii=False), audience),
            )
        return answer_id

    def add_feedback(self, answer_id: str, rating: Rating, comment: str = "", channel: str = "web",
                     user: str = "") -> int:
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        require_utf8(comment, "the comment")
        with self._lock:
            if self._db.execute("SELECT 1 FROM answers WHERE answer_id = ?", (answer_id,)).fetchone() is None:
                raise UnknownAnswer(f"no answer with id {answer_id!r}")
            # one rating per person per answer: changing one's mind, or adding a comment, updates it
            row = self._db.execute(
                "INSERT INTO feedback (answer_id, created, rating, comment, channel, user) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (answer_id, channel, user) DO UPDATE SET rating = excluded.rating, "
                "created = excluded.created, comment = CASE WHEN excluded.comment = '' THEN comment "
                "ELSE excluded.comment END RETURNING id",
                (answer_id, time.time(), rating, comment, channel, user),
            ).fetchone()
        return int(row[0])

    def prune(self) -> int:
        """Delete answers older than ``retention_days`` and the feedback on them; the number of answers."""
        self._pruned = time.time()
        if self.retention_days <= 0:
            return 0
        cutoff = self._pruned - self.retention_days * 86400
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM feedback WHERE answer_id IN (SELECT answer_id FROM answers WHERE created < ?)",
                                 (cutoff,))
                deleted = self._db.execute("DELETE FROM answers WHERE created < ?", (cutoff,)).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return int(deleted)

    def answer(self, answer_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM answers WHERE answer_id = ?", (answer_id,)).fetchone()
        return _answer_row(row) if row else None

    def feedback(self, rating: Rating | None = None, audiences: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Feedback rows joined with the answer they rate, oldest first; ``audiences``: only answers given to
        those (an export for the public holds no staff question or answer)."""
        sql = ("SELECT f.id, f.created AS rated, f.rating, f.comment, f.channel AS feedback_channel, f.user, a.* "
               "FROM feedback f JOIN answers a USING (answer_id) WHERE 1 = 1")
        args: tuple[str, ...] = ()
        if rating:
            sql += " AND f.rating = ?"
            args = (rating,)
        if audiences is not None:
            sql += f" AND a.audience IN ({', '.join('?' * len(audiences))})"
            args = (*args, *audiences)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY f.id", args).fetchall()
        return [_answer_row(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _answer_row(row: sqlite3.Row) -> dict[str, Any]:
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
