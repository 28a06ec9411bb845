"""The feedback store in a real SQLite file and on a real PostgreSQL server: what it refuses, what its
retention keeps, its migrations, and several processes writing at once."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from assistant import db
from assistant.errors import UnencodableText
from assistant.feedback import FeedbackStore, UnknownAnswer
from assistant.models import Answer
from core.settings import Settings
from tests.postgres import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    if request.param == "sqlite":
        return tmp_path / "f.sqlite3"
    url: str = request.getfixturevalue("postgres_url")
    return fresh_database(url, f"t_{uuid.uuid4().hex[:12]}")


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


def test_unencodable_text_is_refused_before_the_database(where: Path | str) -> None:
    store = FeedbackStore(where)
    answer_id = store.record_answer("fees?", Answer(answer="none", abstained=False), channel="web")
    with pytest.raises(UnencodableText, match="the comment"):
        store.add_feedback(answer_id, "down", "wrong \udfff")
    with pytest.raises(UnencodableText, match="the question"):
        store.record_answer("partners \ud800 commit", Answer(answer="x", abstained=False), channel="web")
    assert store.add_feedback(answer_id, "down", "fine") > 0
    with pytest.raises(UnknownAnswer):
        store.add_feedback("nope", "up")
    with pytest.raises(ValueError, match="rating"):
        store.add_feedback(answer_id, "meh")  # type: ignore[arg-type]
    store.close()


def test_one_rating_per_person_and_a_comment_kept(where: Path | str) -> None:
    store = FeedbackStore(where)
    answer_id = store.record_answer("fees?", Answer(answer="none", abstained=True), channel="slack")
    first = store.add_feedback(answer_id, "down", "wrong paragraph", channel="slack", user="U1")
    again = store.add_feedback(answer_id, "up", channel="slack", user="U1")  # a change of mind, no comment
    other = store.add_feedback(answer_id, "down", channel="slack", user="U2")
    assert first == again != other
    rows = store.feedback()
    assert [(r["user"], r["rating"], r["comment"]) for r in rows] == [("U1", "up", "wrong paragraph"), ("U2", "down", "")]
    assert rows[0]["abstained"] is True and rows[0]["feedback_channel"] == "slack" and rows[0]["question"] == "fees?"
    assert [r["user"] for r in store.feedback("down")] == ["U2"]
    store.close()


def test_retention_drops_old_answers_and_their_feedback(where: Path | str) -> None:
    clock = Clock()
    store = FeedbackStore(where, retention_days=365, clock=clock)
    old = store.record_answer("old?", Answer(answer="a", abstained=False), channel="web")
    store.add_feedback(old, "up")
    clock.now += 200 * 86400
    new = store.record_answer("new?", Answer(answer="b", abstained=False), channel="web")  # sweeps: none old yet
    assert store.answer(old) is not None
    clock.now += 166 * 86400
    assert store.prune() == 1
    assert store.answer(old) is None and store.answer(new) is not None
    assert [r["answer_id"] for r in store.feedback()] == []
    store.close()
    reopened = FeedbackStore(where, retention_days=0)  # 0 keeps everything
    assert reopened.prune() == 0 and reopened.answer(new) is not None
    reopened.close()


def test_a_database_from_a_newer_version_is_refused(where: Path | str) -> None:
    store = FeedbackStore(where)
    with store._engine.begin() as conn:
        assert conn.execute(text("SELECT version FROM schema_version")).scalar() == db.SCHEMA_VERSION
        conn.execute(text("UPDATE schema_version SET version = :v"), {"v": db.SCHEMA_VERSION + 1})
    store.close()
    with pytest.raises(db.DatabaseError, match="newer than this code"):
        FeedbackStore(where)


def test_a_file_from_the_sqlite_only_store_is_adopted(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "feedback.sqlite3"
    legacy = sqlite3.connect(path)
    legacy.executescript("""
        CREATE TABLE answers (answer_id TEXT PRIMARY KEY, created REAL NOT NULL, channel TEXT NOT NULL,
            question TEXT NOT NULL, history TEXT NOT NULL, answer TEXT NOT NULL, abstained INTEGER NOT NULL,
            mode TEXT NOT NULL, citations TEXT NOT NULL);
        CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id TEXT NOT NULL REFERENCES answers(answer_id),
            created REAL NOT NULL, rating TEXT NOT NULL CHECK (rating IN ('up', 'down')), comment TEXT NOT NULL DEFAULT '',
            channel TEXT NOT NULL, user TEXT NOT NULL DEFAULT '', UNIQUE (answer_id, channel, user));
        INSERT INTO answers VALUES ('a1', 4102444800, 'web', 'how do we join?', '[]', 'Write [1]', 0, 'extractive', '[]');
        INSERT INTO feedback (answer_id, created, rating, comment, channel, user)
            VALUES ('a1', 4102444800, 'down', 'x', 'web', '');
    """)
    legacy.commit()
    legacy.close()
    store = FeedbackStore(path)
    assert store.answer("a1")["question"] == "how do we join?"  # type: ignore[index]
    assert store.add_feedback("a1", "up") == 1  # the same person's rating, updated in place
    store.close()


def test_bad_or_unreachable_urls_are_named_without_secrets(tmp_path: Path) -> None:
    with pytest.raises(db.DatabaseError, match="sqlite:/// or postgresql://"):
        FeedbackStore("mysql://root:hunter2@localhost/x")
    with pytest.raises(db.DatabaseError, match="cannot be used") as caught:
        FeedbackStore("postgresql://someone:hunter2@127.0.0.1:1/none")
    assert "hunter2" not in str(caught.value)
    settings = Settings(data_dir=tmp_path, database_url="postgres://u:p@db:5432/coalition")  # type: ignore[arg-type]
    assert settings.feedback_url.startswith("postgres://") and "p@db" not in repr(settings)
    assert Settings(data_dir=tmp_path).feedback_url == f"sqlite:///{(tmp_path / 'feedback.sqlite3').resolve()}"


WRITER = """
import sys
from assistant.feedback import FeedbackStore
from assistant.models import Answer
store = FeedbackStore(sys.argv[1] if "://" in sys.argv[1] else __import__("pathlib").Path(sys.argv[1]))
for i in range(40):
    store.add_feedback(store.record_answer(f"q{i}?", Answer(answer="a", abstained=False), "web"), "up")
store.close()
"""


def test_processes_migrate_and_write_at_once(where: Path | str) -> None:
    """Four processes start on a new database together (as `serve --workers 4` does) and all write."""
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(where)], stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    store = FeedbackStore(where)
    assert len(store.feedback()) == 160
    store.close()


def test_serve_and_export_refuse_a_bad_database_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from coalition.cli import main

    monkeypatch.setenv("COALITION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COALITION_DATABASE_URL", "postgresql://coalition:s3cret@127.0.0.1:1/coalition")
    for args in (["serve", "--port", "1"], ["serve", "--workers", "2", "--port", "1"], ["feedback", "export"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert "cannot be used" in result.output and "s3cret" not in result.output, result.output
