"""The SQL database behind answers and feedback: SQLite by default, PostgreSQL when
``COALITION_DATABASE_URL`` names one. The schema is the app's: ``migrate`` brings any database to
``SCHEMA_VERSION`` at start-up, one numbered step at a time, recorded in ``schema_version``.

Several processes (``coalition serve --workers N``, replicas on other machines, the Slack bot) may start
at once: PostgreSQL serialises them on an advisory lock, SQLite on a lock file beside the database.

Example::

    engine = connect("sqlite:////srv/coalition/feedback.sqlite3")     # or postgresql+psycopg://…
    migrate(engine)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.engine import make_url

from assistant.errors import AssistantError

metadata = MetaData()

answers = Table(
    "answers", metadata,
    Column("answer_id", Text, primary_key=True),
    Column("created", Float, nullable=False),
    Column("channel", Text, nullable=False),
    Column("question", Text, nullable=False),
    Column("history", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("abstained", Integer, nullable=False),
    Column("mode", Text, nullable=False),
    Column("citations", Text, nullable=False),
    Column("audience", Text, nullable=False, server_default="staff"),  # who was answered (exports filter by it)
    Index("answers_created", "created"),
)

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", Text, ForeignKey("answers.answer_id"), nullable=False),
    Column("created", Float, nullable=False),
    Column("rating", Text, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("channel", Text, nullable=False),
    Column("user", Text, nullable=False, server_default=""),
    UniqueConstraint("answer_id", "channel", "user"),
    Index("feedback_answer", "answer_id"),
    sqlite_autoincrement=True,
)

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

_LOCK_ID = 0x636F616C  # 'coal': the advisory lock that serialises migrations on PostgreSQL


class DatabaseError(AssistantError):
    """The answers/feedback database cannot be used (bad URL, newer schema than this code)."""


def _v1(conn: Connection) -> None:
    """The tables as the SQLite-only store made them (``CREATE … IF NOT EXISTS``: such a file is adopted)."""
    for table in (answers, feedback):
        table.create(conn, checkfirst=True)
        for index in table.indexes:  # an adopted file lacks the ones it did not have (answers_created)
            index.create(conn, checkfirst=True)


def _v2(conn: Connection) -> None:
    """Each answer's audience. A store from before audiences: its answers count as staff's (the safe side)."""
    from sqlalchemy import inspect, text

    if "audience" not in {c["name"] for c in inspect(conn).get_columns("answers")}:
        conn.execute(text("ALTER TABLE answers ADD COLUMN audience TEXT NOT NULL DEFAULT 'staff'"))


MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2]  # step n brings version n-1 to n; append, never edit
SCHEMA_VERSION = len(MIGRATIONS)


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3 here (SQLAlchemy's default driver is psycopg2)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def connect(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://user:pw@host:port/db``)."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseError(f"COALITION_DATABASE_URL is not a database URL: {exc}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(f"COALITION_DATABASE_URL must be sqlite:/// or postgresql://, not {parsed.drivername}://")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=8)


def _sqlite_pragmas(dbapi: Any, _record: Any) -> None:
    cur = dbapi.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")  # a stored rating survives a power cut, not just a crash
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def migrate(engine: Engine) -> int:
    """Bring the database to ``SCHEMA_VERSION``; the version it was at. A newer one is refused, named."""
    with _exclusive(engine), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        schema_version.create(conn, checkfirst=True)
        found = conn.execute(select(schema_version.c.version)).scalar()
        if found is None:
            conn.execute(schema_version.insert().values(version=0))
            found = 0
        if found > SCHEMA_VERSION:
            raise DatabaseError(f"the database's schema is version {found}, newer than this code's {SCHEMA_VERSION}: "
                                "upgrade the code")
        for step in MIGRATIONS[found:]:
            step(conn)
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION))
    return int(found)


@contextlib.contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    """SQLite: one process migrates at a time (a lock file beside the database)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    import fcntl

    with open(f"{database}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
