"""Load stage: a file on disk → the plain, markdown-ish source text the chunker reads.

Each format goes through a well-kept library (pypdf, python-docx, BeautifulSoup); what they return
is rendered as lines with ``#`` headings, ``- `` list items and tab-separated table rows, so one
chunker serves every format. Bad files raise a ``SkippedFile`` subclass with a one-line reason.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

from ingest.errors import CorruptFile, EmptyDocument, UnsupportedFormat

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx"}

logging.getLogger("pypdf").setLevel(logging.ERROR)


def load_text(path: Path) -> str:
    """Source text of ``path``; raises ``SkippedFile`` (with the reason) when it cannot be read."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise UnsupportedFormat(f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(sorted(SUPPORTED))}")
    data = path.read_bytes()
    if not data.strip():
        raise EmptyDocument("empty file")
    if suffix in TEXT_SUFFIXES:
        text = _decode(data)
    elif suffix in HTML_SUFFIXES:
        text = _html(_decode(data))
    elif suffix == ".pdf":
        text = _pdf(data)
    else:
        text = _docx(data)
    if not text.strip():
        raise EmptyDocument("no text could be extracted")
    return text


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise CorruptFile("binary content (NUL bytes) in a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorruptFile(f"not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8") from None
    control = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if control > 0.05 * min(len(text), 8192):
        raise CorruptFile("binary content (control characters) in a text file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _html(markup: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "nav", "noscript", "template"]):
        tag.decompose()
    lines: list[str] = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr"]):
        if el.name == "tr":
            cells = [c.get_text(" ", strip=True) for c in el.find_all(["td", "th"])]
            lines.append("\t".join(cells))
            continue
        if el.find_parent(["li", "tr"]) is not None and el.name == "p":
            continue
        text = el.get_text(" ", strip=True)
        if not text:
            continue
        if el.name.startswith("h"):
            lines += ["", "#" * int(el.name[1]) + " " + text, ""]
        elif el.name == "li":
            lines.append("- " + text)
        else:
            lines += ["", text, ""]
    if not any(line.strip() for line in lines):
        lines = [soup.get_text("\n", strip=True)]
    return "\n".join(lines)


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise CorruptFile(f"corrupt PDF: {exc}") from None
    return "\n\n".join(pages)


def _docx(data: bytes) -> str:
    import zipfile

    import docx
    from docx.document import Document as DocxDocument
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document: DocxDocument = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise CorruptFile(f"corrupt DOCX: {exc}") from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                lines.append("\t".join(cell.text.strip() for cell in row.cells))
            lines.append("")
        elif isinstance(block, Paragraph):
            text = block.text.strip()
            style = (block.style.name if block.style is not None else "") or ""
            if not text:
                continue
            if style.startswith("Heading") and style[-1:].isdigit():
                lines += ["#" * int(style[-1]) + " " + text, ""]
            elif style == "Title":
                lines += ["# " + text, ""]
            elif "List" in style:
                lines.append("- " + text)
            else:
                lines += [text, ""]
    return "\n".join(lines)
