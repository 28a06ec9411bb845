"""The feedback store in a real SQLite file: what it refuses, and what its retention keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import UnencodableText
from assistant.feedback import FeedbackStore
from assistant.models import Answer


def test_unencodable_text_is_refused_before_sqlite(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite3")
    answer_id = store.record_answer("fees?", Answer(answer="none", abstained=False), channel="web")
    with pytest.raises(UnencodableText, match="the comment"):
        store.add_feedback(answer_id, "down", "wrong \udfff")
    with pytest.raises(UnencodableText, match="the question"):
        store.record_answer("partners \ud800 commit", Answer(answer="x", abstained=False), channel="web")
    assert store.add_feedback(answer_id, "down", "fine") > 0
    store.close()


def test_retention_drops_old_answers_and_their_feedback(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite3"
    store = FeedbackStore(path, retention_days=365)
    old = store.record_answer("old?", Answer(answer="a", abstained=False), channel="web")
    store.add_feedback(old, "up")
    new = store.record_answer("new?", Answer(answer="b", abstained=False), channel="web")
    store._db.execute("UPDATE answers SET created = created - 366 * 86400 WHERE answer_id = ?", (old,))
    store._db.execute("UPDATE feedback SET created = created - 366 * 86400 WHERE answer_id = ?", (old,))
    assert store.prune() == 1
    assert store.answer(old) is None and store.answer(new) is not None
    assert [r["answer_id"] for r in store.feedback()] == []
    store.close()
    reopened = FeedbackStore(path, retention_days=0)  # 0 keeps everything
    assert reopened.prune() == 0 and reopened.answer(new) is not None
    reopened.close()
