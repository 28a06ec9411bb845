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
