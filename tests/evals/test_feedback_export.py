"""Rated-down answers come back out as gold-set candidate lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.feedback import FeedbackStore, UnknownAnswer
from assistant.models import Answer, Citation, Turn
from coalition.cli import main
from evals.gold import GoldQuestion


def answer(text: str) -> Answer:
    cite = Citation(n=1, doc_id="gb349-ins4", title="Update", locator="GB.349/INS/4 ¶47", quote="Operational costs …",
                    text="Operational costs …", chunk_id="gb349-ins4:abc")
    return Answer(answer=text + " [1]", abstained=False, citations=[cite])


def test_export_turns_down_ratings_into_gold_candidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    bad = store.record_answer("does it cost anything?", answer("Operational costs"), "slack",
                              [Turn(role="user", content="how do we join?")])
    good = store.record_answer("Are there membership fees?", answer("No fees"), "web")
    store.add_feedback(bad, "down", "should cite ¶20: no membership fees", channel="slack", user="U123")
    store.add_feedback(good, "up")
    with pytest.raises(UnknownAnswer):
        store.add_feedback("nope", "down")
    store.close()

    monkeypatch.setenv("COALITION_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["feedback", "export"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert line["question"] == "does it cost anything?" and line["persona"] == "TODO"
    assert line["_feedback"]["comment"] == "should cite ¶20: no membership fees"
    assert line["_feedback"]["cited"] == ["GB.349/INS/4 ¶47: Operational costs …"]
    completed = {k: v for k, v in line.items() if k != "_feedback"} | {"persona": "partner"}
    GoldQuestion.model_validate(completed)  # the shape the gold loader reads

    everything = CliRunner().invoke(main, ["feedback", "export", "--all", "--out", str(tmp_path / "all.jsonl")])
    assert everything.exit_code == 0 and len((tmp_path / "all.jsonl").read_text().splitlines()) == 2


def test_export_without_a_store_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COALITION_DATA_DIR", str(tmp_path / "none"))
    result = CliRunner().invoke(main, ["feedback", "export"])
    assert result.exit_code == 1 and "no feedback yet" in result.output


def test_export_for_an_audience_leaves_out_what_others_were_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    public = store.record_answer("who can join?", answer("Any organisation"), "web", audience="public")
    staff = store.record_answer("where is the Montreux retreat?", answer("In Montreux"), "slack", audience="staff")
    store.add_feedback(public, "down")
    store.add_feedback(staff, "down")
    store.close()
    monkeypatch.setenv("COALITION_DATA_DIR", str(tmp_path))
    shown = CliRunner().invoke(main, ["feedback", "export", "--audience", "public"])
    assert shown.exit_code == 0 and "who can join?" in shown.output and "Montreux" not in shown.output
    assert "Montreux" in CliRunner().invoke(main, ["feedback", "export"]).output  # staff: everything, as before


def test_a_store_from_before_audiences_counts_its_answers_as_staff(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "feedback.sqlite3"
    old = sqlite3.connect(path)
    old.executescript("CREATE TABLE answers (answer_id TEXT PRIMARY KEY, created REAL NOT NULL, channel TEXT NOT NULL, "
                      "question TEXT NOT NULL, history TEXT NOT NULL, answer TEXT NOT NULL, abstained INTEGER NOT NULL, "
                      "mode TEXT NOT NULL, citations TEXT NOT NULL);"
                      "INSERT INTO answers VALUES ('a1', 1e10, 'web', 'q', '[]', 'a', 0, 'extractive', '[]');")
    old.commit()
    old.close()
    store = FeedbackStore(path)
    store.add_feedback("a1", "down")
    assert store.feedback(audiences=("public",)) == [] and store.feedback()[0]["audience"] == "staff"
    store.close()
