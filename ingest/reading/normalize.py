"""Normalise the seeds' markup into clean reading text, keeping a map back to the source.

Every character of the clean text remembers the offset of the source character it came from, so a
quote taken from a chunk can be located in the original file (``MappedText.source_span``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# Markdown backslash escapes seen in the seeds: US\$, GB.347/INS/PV\(Rev.\)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$&])")
_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
_BOLD = re.compile(r"\*\*([^*\n]+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*([^*\n]+?)\*(?![*\w])")
_STARS = re.compile(r"\*{2,}|(?<=\s)\*(?=\w)|(?<=\w)\*(?=[\s,.;:]|$)")
_SUP = re.compile(r"<sup>\s*(\d+)\s*</sup>")
_UNICODE_SUP = re.compile(r"(?<=\S)[¹²³⁴⁵⁶⁷⁸⁹⁰]+")
_TAG = re.compile(r"</?(?:p|ul|ol|li|br|span|div|b|i|strong|em)(?:\s[^>]*)?/?>", re.IGNORECASE)
_SPACES = re.compile(r"[ \u00a0\u2009\u202f]{2,}|\u00a0")
_BULLET = re.compile(r"[●•▪◦]")

SUPERSCRIPT_DIGITS = str.maketrans("¹²³⁴⁵⁶⁷⁸⁹⁰", "1234567890")


@dataclass
class MappedText:
    """Text plus, for each character, its offset in the source text."""

    text: str
    offsets: list[int]

    @classmethod
    def of(cls, text: str, start: int = 0) -> MappedText:
        return cls(text, list(range(start, start + len(text))))

    def sub(self, pattern: re.Pattern[str], repl: str | Callable[[re.Match[str]], str] | int) -> MappedText:
        """Like ``pattern.sub``; ``repl`` may be a group number (kept with its own offsets) or text."""
        out: list[str] = []
        offs: list[int] = []
        pos = 0
        for m in pattern.finditer(self.text):
            out.append(self.text[pos : m.start()])
            offs.extend(self.offsets[pos : m.start()])
            if isinstance(repl, int):
                out.append(m.group(repl))
                offs.extend(self.offsets[m.start(repl) : m.end(repl)])
            else:
                new = repl if isinstance(repl, str) else repl(m)
                out.append(new)
                anchor = self.offsets[m.start()] if m.start() < len(self.offsets) else self._end()
                offs.extend([anchor] * len(new))
            pos = m.end()
        out.append(self.text[pos:])
        offs.extend(self.offsets[pos:])
        return MappedText("".join(out), offs)

    def strip(self) -> MappedText:
        left = len(self.text) - len(self.text.lstrip())
        right = len(self.text.rstrip())
        return MappedText(self.text[left:right], self.offsets[left:right])

    def _end(self) -> int:
        return self.offsets[-1] + 1 if self.offsets else 0

    def source_span(self, start: int = 0, end: int | None = None) -> tuple[int, int]:
        """Source offsets ``[a, b)`` covering clean characters ``[start, end)``."""
        end = len(self.text) if end is None else end
        if not self.offsets or start >= end:
            return (self._end(), self._end())
        return (self.offsets[start], self.offsets[end - 1] + 1)


def footnote_refs(text: str) -> list[str]:
    """Footnote numbers referenced in raw text (``<sup>7</sup>`` or a trailing ``⁷``)."""
    refs = [m.group(1) for m in _SUP.finditer(text)]
    refs += [m.group(0).translate(SUPERSCRIPT_DIGITS) for m in _UNICODE_SUP.finditer(text)]
    return refs


def clean_inline(raw: MappedText) -> MappedText:
    """Markup → reading text: links, bold/italic, escapes, footnote markers, inline HTML, spaces."""
    t = raw.sub(_LINK, 1)
    t = t.sub(_BOLD, 1).sub(_BOLD, 1).sub(_ITALIC, 1).sub(_STARS, "")
    t = t.sub(_SUP, "").sub(_UNICODE_SUP, "")
    t = t.sub(_ESCAPE, 1)
    t = t.sub(_TAG, " ")
    t = t.sub(_BULLET, "•")
    t = t.sub(re.compile(r"\s*\n\s*"), " ")
    t = t.sub(_SPACES, " ")
    t = t.sub(re.compile(r" +([,.;:)])"), 1)
    return t.strip()


def normalise(text: str) -> str:
    """Reading text of a raw snippet; used to compare quotes with passages, whatever their markup."""
    text = re.sub(r"(?m)^\s*[-*•●]\s+", "", text)
    text = re.sub(r"(?m)^\s*#{1,6}\s+", "", text)
    clean = clean_inline(MappedText.of(text)).text.replace("•", " ")
    clean = re.sub(r"[“”]", '"', clean)
    clean = re.sub(r"[‘’]", "'", clean)
    return re.sub(r"\s+", " ", clean).strip().lower()
