"""Line-level reading of markdown-ish source text: what each line is, with its source offsets.

Both chunk layouts (numbered paragraphs, heading sections) are built on these primitives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.reading.normalize import SUPERSCRIPT_DIGITS, MappedText, clean_inline

MD_HEADING = re.compile(r"^(#{1,6})\s+(?:[▶►]\s*)?(.*?)\s*#*\s*$")
FOOTNOTE_DEF = re.compile(r"^\s*(?:<sup>\s*(\d+)\s*</sup>|([¹²³⁴⁵⁶⁷⁸⁹⁰]+))\s*(.*\S)")
NUMBERED = re.compile(r"^\s*(?:[-*]\s+)?(?:\*\*)?(\d{1,3})\.(?:\*\*)?\s+(.*)$")
LIST_ITEM = re.compile(r"^\s*(?:[-*•●]\s+|\(?[a-z]\)\s+|\(?[ivx]{1,4}\)\s+|\d{1,2}\.\s+)")
BULLET_PREFIX = re.compile(r"^\s*[-*•●]\s+")
LABEL_PREFIX = re.compile(r"^\s*[-*]\s+(?=\*{0,2}\(?[a-z0-9]{1,4}\)|\d{1,2}\.)")
SEPARATOR = re.compile(r"^\s*(?:-{3,}|_{3,}|\*{3,})\s*$")
TABLE_TITLE = re.compile(r"^\s*Table\s+\d+\s*:")
SENTENCE_END = re.compile(r"[.!?;:\"”)’]\s*$")


@dataclass
class Line:
    text: str
    start: int

    @property
    def blank(self) -> bool:
        return not self.text.strip()

    def mapped(self, drop_prefix: re.Pattern[str] | None = None) -> MappedText:
        raw = MappedText.of(self.text, self.start)
        if drop_prefix is not None:
            raw = raw.sub(drop_prefix, "")
        return clean_inline(raw)


def split_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    pos = 0
    for raw in text.split("\n"):
        lines.append(Line(raw, pos))
        pos += len(raw) + 1
    return lines


def footnote(line: Line) -> tuple[str, MappedText] | None:
    m = FOOTNOTE_DEF.match(line.text)
    if not m:
        return None
    number = m.group(1) or m.group(2).translate(SUPERSCRIPT_DIGITS)
    body = clean_inline(MappedText.of(m.group(3), line.start + m.start(3)))
    return number, body


def item_text(line: Line) -> MappedText:
    """A list line's reading text: labelled items keep their label, bare bullets become '•'."""
    if LABEL_PREFIX.match(line.text):
        return line.mapped(LABEL_PREFIX)
    if BULLET_PREFIX.match(line.text):
        body = line.mapped(BULLET_PREFIX)
        return MappedText("• " + body.text, [body.offsets[0] if body.offsets else line.start] * 2 + body.offsets)
    return line.mapped()


@dataclass
class TextBuilder:
    """Joins cleaned line texts: list items start a new line, broken sentences are re-joined."""

    parts: list[MappedText] = field(default_factory=list)
    seps: list[str] = field(default_factory=list)

    def add(self, piece: MappedText, *, new_line: bool | None = None) -> None:
        if not piece.text:
            return
        if self.parts:
            if new_line is None:
                new_line = bool(LIST_ITEM.match(piece.text)) or bool(SENTENCE_END.search(self.parts[-1].text))
            self.seps.append("\n" if new_line else " ")
        self.parts.append(piece)

    def build(self) -> MappedText:
        text: list[str] = []
        offsets: list[int] = []
        for i, part in enumerate(self.parts):
            if i:
                text.append(self.seps[i - 1])
                offsets.append(offsets[-1] if offsets else part.offsets[0])
            text.append(part.text)
            offsets.extend(part.offsets)
        return MappedText("".join(text), offsets)

    def __bool__(self) -> bool:
        return bool(self.parts)
