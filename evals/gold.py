"""The gold question set: ``evals/gold/*.jsonl``, one question a line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

GOLD_DIR = Path(__file__).resolve().parent / "gold"
Persona = Literal["partner", "staff", "meeting", "out_of_scope", "adversarial"]


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


def dump_candidates(rows: list[dict[str, object]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
