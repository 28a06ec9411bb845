"""Chunk stage: source text → passages with locators a person can check.

Two layouts, chosen per document in the manifest:

* ``numbered_paragraphs`` (Governing Body papers): one chunk per numbered paragraph (``¶16``), its
  lettered items kept with their lead-in, text that continues after a page break's footnotes kept
  with its paragraph, and each footnote its own chunk (``footnote 8``).
* ``sections`` (web pages, guides): paragraphs packed under their heading path (``Step #5: …``,
  ``Success Stories › Brazil › <project>``); tables one chunk per row and column that repeats the row
  key and the column meaning (``Table 2: Countries › Kuwait › thematic area 2: …``).

Any chunk longer than the embedding model's window is split at item or sentence boundaries, keeping
its locator (and a list's lead-in). We do not use LlamaIndex's ``SentenceSplitter`` here: it knows
neither lettered items nor lead-ins, and its output would lose the map back to source offsets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest.models import Chunk, DocumentMeta, PracticeSpec, TableSpec, chunk_id
from ingest.reading.lines import (
    LIST_ITEM,
    MD_HEADING,
    NUMBERED,
    SENTENCE_END,
    SEPARATOR,
    TABLE_TITLE,
    Line,
    TextBuilder,
    footnote,
    item_text,
    split_lines,
)
from ingest.reading.normalize import MappedText, clean_inline, footnote_refs

TokenCounter = Callable[[str], int]


@dataclass
class Piece:
    locator: str
    kind: str
    text: MappedText
    heading_path: list[str] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)
    packable: bool = False
    heading: MappedText | None = None


class Chunker:
    """Cuts a document into ``Chunk``s; ``count_tokens`` is the embedding model's word-piece count.

    Example::

        chunker = Chunker(count_tokens=lambda s: len(s.split()), max_tokens=240, target_tokens=160)
        chunks = chunker.chunk(meta, source_text)
    """

    def __init__(self, count_tokens: TokenCounter, max_tokens: int = 240, target_tokens: int = 160) -> None:
        if target_tokens > max_tokens:
            raise ValueError(f"target_tokens ({target_tokens}) must not exceed max_tokens ({max_tokens})")
        self.count = count_tokens
        self.max_tokens = max_tokens
        self.target_tokens = target_tokens

    def chunk(self, meta: DocumentMeta, source_text: str) -> list[Chunk]:
        lines = split_lines(source_text)
        if meta.layout == "numbered_paragraphs":
            pieces = numbered_pieces(lines)
        else:
            pieces = SectionReader(meta.tables, meta.practices).read(lines)
        pieces = self._pack(pieces)
        chunks: list[Chunk] = []
        seen: set[str] = set()
        for piece in pieces:
            heading = piece.heading if piece.heading is not None and piece.heading.text else None
            parts = self._split(piece.text, reserve=self.count(heading.text) + 1 if heading else 0)
            if heading:  # a section's heading (a project title, "Step #5: …") leads each of its chunks
                parts = [MappedText(heading.text + "\n" + p.text, heading.offsets + heading.offsets[-1:] + p.offsets)
                         for p in parts]
            for n, part in enumerate(parts, start=1):
                cid = chunk_id(meta.id, piece.locator, part.text)
                while cid in seen:
                    cid = chunk_id(meta.id, piece.locator + f"#{len(seen)}", part.text)
                seen.add(cid)
                start, end = part.source_span()
                chunks.append(
                    Chunk(
                        id=cid,
                        doc_id=meta.id,
                        locator=piece.locator,
                        text=part.text,
                        kind=piece.kind,  # type: ignore[arg-type]
                        order=len(chunks),
                        part=n,
                        parts=len(parts),
                        source_start=start,
                        source_end=end,
                        footnotes=piece.footnotes,
                        heading_path=piece.heading_path,
                        extra=piece.extra,
                    )
                )
        return chunks

    def _pack(self, pieces: list[Piece]) -> list[Piece]:
        """Merge neighbouring packable pieces under the same heading while they stay under target."""
        out: list[Piece] = []
        for piece in pieces:
            prev = out[-1] if out else None
            if (
                prev is not None
                and prev.packable
                and piece.packable
                and prev.heading_path == piece.heading_path
                and self.count(prev.text.text) + self.count(piece.text.text) <= self.target_tokens
            ):
                joined = TextBuilder()
                joined.add(prev.text)
                joined.add(piece.text, new_line=True)
                prev.text = joined.build()
                prev.footnotes = prev.footnotes + piece.footnotes
                continue
            out.append(piece)
        return out

    def _split(self, text: MappedText, reserve: int = 0) -> list[MappedText]:
        limit = self.max_tokens - reserve
        if self.count(text.text) <= limit:
            return [text]
        segments = _segments(text.text, self.count, limit)
        lead_in = text.text[: segments[0][1]] if text.text[: segments[0][1]].rstrip().endswith(":") else ""
        lead_tokens = self.count(lead_in) if lead_in else 0
        parts: list[MappedText] = []
        start, end, used = segments[0][0], segments[0][1], self.count(text.text[slice(*segments[0])])
        for a, b in segments[1:]:
            cost = self.count(text.text[a:b])
            budget = limit - (lead_tokens if parts else 0)
            if used + cost <= budget:
                end, used = b, used + cost
                continue
            parts.append(_slice(text, start, end))
            start, end, used = a, b, cost
        parts.append(_slice(text, start, end))
        if lead_in and len(parts) > 1:
            prefix = MappedText.of(lead_in.strip() + " … ", 0)
            prefix.offsets = [text.offsets[0]] * len(prefix.text)
            parts = [parts[0]] + [MappedText(prefix.text + p.text, prefix.offsets + p.offsets) for p in parts[1:]]
        return parts


def _slice(text: MappedText, a: int, b: int) -> MappedText:
    return MappedText(text.text[a:b], text.offsets[a:b]).strip()


HEADING_END = re.compile(r"[.!;:,\"”]\s*$")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+(?=\S)")


def _segments(text: str, count: TokenCounter, max_tokens: int) -> list[tuple[int, int]]:
    """Split points, coarsest first: lines (list items), then sentences, then words."""
    out: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        if count(line.group()) <= max_tokens:
            out.append(line.span())
            continue
        pos = line.start()
        for m in list(_SENTENCE.finditer(line.group())) + [None]:
            end = line.start() + (m.start() if m else len(line.group()))
            if count(text[pos:end]) <= max_tokens:
                out.append((pos, end))
            else:
                out.extend(_words(text, pos, end, count, max_tokens))
            pos = line.start() + m.end() if m else end
    return out


def _words(text: str, a: int, b: int, count: TokenCounter, max_tokens: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    words = [m.span() for m in re.finditer(r"\S+", text[a:b])]
    start = 0
    while start < len(words):
        end = start + 1
        while end < len(words) and count(text[a + words[start][0] : a + words[end][1]]) <= max_tokens:
            end += 1
        spans.append((a + words[start][0], a + words[end - 1][1]))
        start = end
    return spans


# --- numbered paragraphs (Governing Body papers) ------------------------------------------------


def numbered_pieces(lines: list[Line]) -> list[Piece]:
    pieces: list[Piece] = []
    headings: list[tuple[int, str]] = []
    expected = 1
    para: tuple[int, TextBuilder, list[str], list[str]] | None = None
    front = TextBuilder()
    note: tuple[str, TextBuilder] | None = None

    def path() -> list[str]:
        return [text for _, text in headings]

    def flush_para() -> None:
        nonlocal para
        if para and para[1]:
            number, builder, hpath, refs = para
            pieces.append(Piece(f"¶{number}", "paragraph", builder.build(), hpath, sorted(set(refs), key=int)))
        para = None

    def flush_front() -> None:
        nonlocal front
        if front:
            locator = " › ".join(path()[-2:]) or "front matter"
            pieces.append(Piece(locator, "front_matter", front.build(), path(), packable=True))
        front = TextBuilder()

    def flush_note() -> None:
        nonlocal note
        if note and note[1]:
            pieces.append(Piece(f"footnote {note[0]}", "footnote", note[1].build(), path()))
        note = None

    def flush_all() -> None:
        flush_note()
        flush_para()
        flush_front()

    for line in lines:
        if line.blank:
            flush_note()
            continue
        if SEPARATOR.match(line.text):
            continue
        heading = MD_HEADING.match(line.text)
        if heading:
            flush_all()
            level = len(heading.group(1))
            headings[:] = [h for h in headings if h[0] < level]
            headings.append((level, clean_inline(MappedText.of(heading.group(2))).text))
            continue
        fn = footnote(line)
        if fn:
            flush_note()
            note = (fn[0], TextBuilder())
            note[1].add(fn[1])
            continue
        if note:
            note[1].add(line.mapped())
            continue
        numbered = NUMBERED.match(line.text)
        if numbered and int(numbered.group(1)) == expected:
            flush_para()
            flush_front()
            expected += 1
            para = (int(numbered.group(1)), TextBuilder(), path(), footnote_refs(line.text))
            para[1].add(clean_inline(MappedText.of(numbered.group(2), line.start + numbered.start(2))))
            continue
        text = item_text(line) if LIST_ITEM.match(line.text) else line.mapped()
        if para:
            para[1].add(text)
            para[3].extend(footnote_refs(line.text))
        else:
            front.add(text)
    flush_all()
    return pieces


# --- heading sections, tables and practice sections (guides, web pages) ---------------------------


class SectionReader:
    """Reads a document without paragraph numbers into heading-path pieces."""

    def __init__(self, tables: list[TableSpec], practices: list[PracticeSpec]) -> None:
        self.tables = tables
        self.practices = practices
        self.pieces: list[Piece] = []
        self.path: list[tuple[int, str, bool]] = []  # (level, heading, has content)
        self.units = 0
        self.practice: PracticeSpec | None = None
        self.parents: dict[str, list[tuple[int, str, bool]]] = {}
        self.heading_text: dict[str, MappedText] = {}

    def read(self, lines: list[Line]) -> list[Piece]:
        has_md = any(MD_HEADING.match(line.text) for line in lines)
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.blank or SEPARATOR.match(line.text):
                i += 1
                continue
            fn = footnote(line)
            if fn:
                self.pieces.append(Piece(f"footnote {fn[0]}", "footnote", fn[1], self._path()))
                i += 1
                continue
            md = MD_HEADING.match(line.text)
            if md:
                self._heading(len(md.group(1)), clean_inline(MappedText.of(md.group(2), line.start + md.start(2))))
                i += 1
                continue
            if TABLE_TITLE.match(line.text) and _alone(lines, i):
                i = self._table(lines, i)
                continue
            if not has_md and _plain_heading(lines, i):
                self._plain_heading(line.mapped())
                i += 1
                continue
            i = self._block(lines, i)
        self._close_empty_heading(None)
        return self.pieces

    def _path(self) -> list[str]:
        return [text for _, text, _ in self.path]

    def _emit(self, text: MappedText, refs: list[str], kind: str = "section", extra: dict[str, str] | None = None,
              locator: str | None = None) -> None:
        if not text.text:
            return
        self.units += 1
        if self.path:
            level, heading, _ = self.path[-1]
            self.path[-1] = (level, heading, True)
        loc = locator or (" › ".join(self._path()) or f"para. {self.units}")
        title = self.heading_text.get(self.path[-1][1]) if self.path else None
        self.pieces.append(Piece(loc, kind, text, self._path(), refs, extra or {}, packable=kind == "section",
                                 heading=title))

    def _close_empty_heading(self, level: int | None) -> None:
        """A heading with nothing under it before a sibling heading was body text (a list line)."""
        if self.path and not self.path[-1][2] and (level is None or self.path[-1][0] == level):
            _, heading, _ = self.path.pop()
            self.path = self.parents.pop(heading, self.path)
            self._emit(self.heading_text.pop(heading, MappedText.of(heading)), [])

    def _heading(self, level: int, mapped: MappedText) -> None:
        text = mapped.text
        self.heading_text[text] = mapped
        self._close_empty_heading(level)
        parent = list(self.path)
        self.path = [h for h in self.path if h[0] < level]
        self.path.append((level, text, False))
        self.parents[text] = parent

    def _plain_heading(self, mapped: MappedText) -> None:
        """Plain-text headings are flat, except inside a practice section the manifest declares."""
        text = mapped.text
        level = 1
        if self.practice and self.practice.until and text.startswith(self.practice.until):
            self.practice = None
        elif self.practice:
            level = 2 if len(text.split()) <= 4 else 3
        else:
            self.practice = next((p for p in self.practices if text.startswith(p.section)), None)
        self._heading(level, mapped)
        if self.practice is not None and level < 3:
            self.path[-1] = (level, text, True)  # a practice section or country heading holds sub-headings

    def _block(self, lines: list[Line], i: int) -> int:
        builder = TextBuilder()
        refs: list[str] = []
        while i < len(lines) and not MD_HEADING.match(lines[i].text) and not footnote(lines[i]):
            if lines[i].blank:
                j = _next_text(lines, i)
                runs_on = i > 0 and lines[i - 1].text.rstrip().endswith(",")  # '… stating,' ⏎ “Joining …”
                if not (builder and j is not None and (lines[j].text.strip()[:1].islower() or runs_on)):
                    break
                i = j  # a sentence broken by a page break (or a quote's lead-in) goes on after the blank lines
            line = lines[i]
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            if "\t" in line.text.strip():
                piece = line.mapped().sub(re.compile(r"\s*\t\s*"), " — ")
            elif LIST_ITEM.match(line.text):
                piece = item_text(line)
            else:
                piece = line.mapped()
            builder.add(piece)
            refs += footnote_refs(line.text)
            i += 1
            next_is_item = nxt is not None and not nxt.blank and bool(LIST_ITEM.match(nxt.text))
            ends = bool(SENTENCE_END.search(line.text.rstrip())) and not line.text.rstrip().endswith(":")
            in_list = bool(LIST_ITEM.match(line.text))
            if (ends and not next_is_item) or (in_list and not next_is_item):
                self._emit(builder.build(), refs)
                builder, refs = TextBuilder(), []
        if builder:
            self._emit(builder.build(), refs)
        return i

    def _table(self, lines: list[Line], i: int) -> int:
        title = clean_inline(MappedText.of(lines[i].text)).text
        if self.path:
            self.path[-1] = (self.path[-1][0], self.path[-1][1], True)
        spec = next((t for t in self.tables if title.startswith(t.title) or t.title.startswith(title)), None)
        header: list[str] = []
        rows: list[list[TextBuilder]] = []
        i += 1
        while i < len(lines):
            line = lines[i]
            if line.blank:
                i += 1
                continue
            fn = footnote(line)
            if fn:
                self.pieces.append(Piece(f"footnote {fn[0]}", "footnote", fn[1], [title]))
                i += 1
                continue
            if "\t" not in line.text:
                break
            cells = _cells(line)
            if not header:
                header = [c.text for c in cells]
            elif not cells[0].text:
                if rows:
                    for col, cell in enumerate(cells[1:], start=1):
                        while len(rows[-1]) <= col:
                            rows[-1].append(TextBuilder())
                        rows[-1][col].add(cell, new_line=False)
            else:
                row = [TextBuilder() for _ in cells]
                for builder, cell in zip(row, cells, strict=True):
                    builder.add(cell)
                rows.append(row)
            i += 1
        for row in rows:
            key = row[0].build().text
            for col, builder in enumerate(row[1:], start=1):
                if not builder:
                    continue
                cell = builder.build()
                if spec and col - 1 < len(spec.columns):
                    meaning = spec.columns[col - 1]
                else:
                    meaning = header[col] if col < len(header) and header[col] else f"column {col + 1}"
                prefix = f"{key} — {meaning}: "
                text = MappedText(prefix + cell.text, [cell.offsets[0]] * len(prefix) + cell.offsets)
                extra = {"table": title, "row_key": key, "column": meaning}
                self.units += 1
                self.pieces.append(Piece(f"{title} › {key} › {meaning}", "table_row", text, [title, key], [], extra))
        return i


def _cells(line: Line) -> list[MappedText]:
    cells: list[MappedText] = []
    pos = line.start
    for raw in line.text.split("\t"):
        cells.append(clean_inline(MappedText.of(raw, pos)))
        pos += len(raw) + 1
    return cells


def _next_text(lines: list[Line], i: int) -> int | None:
    return next((j for j in range(i, len(lines)) if not lines[j].blank), None)


def _alone(lines: list[Line], i: int) -> bool:
    before = i == 0 or lines[i - 1].blank
    after = i + 1 >= len(lines) or lines[i + 1].blank
    return before and after


def _plain_heading(lines: list[Line], i: int) -> bool:
    """A line that stands alone, is short, and does not end like a sentence reads as a heading."""
    text = lines[i].text.strip()
    if not _alone(lines, i) or "\t" in text or LIST_ITEM.match(text) or not text[:1].isupper():
        return False
    if len(text) > 160 or len(text.split()) > 25:
        return False
    following = next((line.text.strip() for line in lines[i + 1 :] if not line.blank), "")
    if following[:1].islower():  # a sentence broken by a page break, not a heading
        return False
    return not HEADING_END.search(text) or text.endswith("?")
