"""Question sets: the blind sets ``evals/blind/``, ``evals/blind2/`` … ``evals/blind24/questions.jsonl`` (each
written from the documents alone and split into dev and test) and the older, tuned-on ``evals/gold/*.jsonl``
and ``evals/heldout/*.jsonl``, one question a line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from assistant.models import Turn

EVALS_DIR = Path(__file__).resolve().parent
GOLD_DIR = EVALS_DIR / "gold"
HELDOUT_DIR = EVALS_DIR / "heldout"
BLIND_SET = EVALS_DIR / "blind" / "questions.jsonl"
BLIND_COUNT = 24  # evals/blind, evals/blind2 … evals/blind24; a new set's folder is registered by raising this
BLIND_SETS = {"blind": BLIND_SET, **{f"blind{n}": EVALS_DIR / f"blind{n}" / "questions.jsonl"
                                     for n in range(2, BLIND_COUNT + 1)}}  # name → file
Persona = Literal["partner", "staff", "meeting", "out_of_scope", "adversarial"]
Kind = Literal["answerable", "off_topic", "near_miss", "injection", "false_premise"]


class Evidence(BaseModel):
    doc_id: str
    quote: str


class GoldQuestion(BaseModel):
    id: str
    persona: Persona
    question: str
    evidence: list[Evidence] = Field(default_factory=list)
    key_facts: list[str] = Field(default_factory=list)
    should_abstain: bool = False
    language: Literal["en", "fr", "es"] = "en"
    kind: Kind | None = None  # the older sets have none: answerable or off_topic by should_abstain
    split: Literal["dev", "test"] | None = None
    history: list[Turn] = Field(default_factory=list)
    near_evidence: list[Evidence] = Field(default_factory=list)

    @property
    def question_kind(self) -> str:
        return self.kind or ("off_topic" if self.should_abstain else "answerable")


def load_gold(path: Path | None = None) -> list[GoldQuestion]:
    files = [path] if path and path.is_file() else sorted((path or GOLD_DIR).glob("*.jsonl"))
    out: list[GoldQuestion] = []
    for file in files:
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    out.append(GoldQuestion.model_validate_json(line))
                except ValueError as exc:
                    raise ValueError(f"{file}:{n}: {exc}") from None
    return out


def dev_questions() -> list[GoldQuestion]:
    """The dev split of every blind set: what the fitted models are fitted on."""
    return [q for path in BLIND_SETS.values() for q in load_gold(path) if q.split == "dev"]


def tuned_on_sets() -> dict[str, Path]:
    """The sets whose questions were looked at while the rules were written: regression reports only."""
    return {"gold (tuned-on)": GOLD_DIR, **{f"heldout-{p.stem} (tuned-on)": p for p in sorted(HELDOUT_DIR.glob("*.jsonl"))}}


def dump_candidates(rows: list[dict[str, object]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
