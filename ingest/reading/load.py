"""Load stage: a file on disk → the plain, markdown-ish source text the chunker reads.

Each format goes through a well-kept library (pypdf, python-docx, BeautifulSoup); what they return
is rendered as lines with ``#`` headings, ``- `` list items and tab-separated table rows, so one
chunker serves every format. Bad files raise a ``SkippedFile`` subclass with a one-line reason.
"""

from __future__ import annotations

import codecs
import io
import logging
import zipfile
from pathlib import Path

from ingest.errors import CorruptFile, EmptyDocument, SkippedFile, TooLarge, UnsupportedFormat

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx"}
MB = 1_000_000
# UTF-32's little-endian mark begins with UTF-16's, so it is tried first
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))

logging.getLogger("pypdf").setLevel(logging.ERROR)


def load_text(path: Path, max_bytes: int = 20 * MB, max_unzipped_bytes: int = 50 * MB) -> str:
    """Source text of ``path``; raises ``SkippedFile`` (with the reason) when it cannot be read.

    ``max_bytes`` bounds the file, ``max_unzipped_bytes`` what a zipped format (.docx) holds once
    decompressed. Whatever a format's library raises on a bad file becomes ``CorruptFile``: one bad
    file must never stop the others being ingested.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise UnsupportedFormat(f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(sorted(SUPPORTED))}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise TooLarge(f"file is {size / MB:.1f} MB, over the {max_bytes / MB:.1f} MB limit (COALITION_MAX_FILE_BYTES)")
        data = path.read_bytes()
    except OSError as exc:
        raise CorruptFile(f"cannot be read: {exc.strerror or exc}") from None
    if not data.strip():
        raise EmptyDocument("empty file")
    if suffix in TEXT_SUFFIXES:
        text = _decode(data)
    elif suffix in HTML_SUFFIXES:
        text = _html(_decode(data))
    else:
        kind = suffix[1:].upper()
        try:
            text = _pdf(data) if suffix == ".pdf" else _docx(data, max_unzipped_bytes)
        except SkippedFile:
            raise
        except Exception as exc:  # noqa: BLE001 - a library failing on a bad file skips that file, whatever it raises
            detail = (str(exc).splitlines() or [""])[0][:200]
            raise CorruptFile(f"corrupt {kind}: {type(exc).__name__}: {detail}") from None
    if not text.strip():
        raise EmptyDocument("no text could be extracted")
    return text


def _decode(data: bytes) -> str:
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None and b"\x00" in data[:8192]:
        raise CorruptFile("binary content (NUL bytes) in a text file")
    try:
        text = data.decode(encoding or "utf-8")
    except UnicodeDecodeError as exc:
        if encoding:
            raise CorruptFile(f"not valid {encoding.upper()} after its byte order mark (byte {exc.start})") from None
        raise CorruptFile(f"not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8") from None
    control = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if "\x00" in text[:8192] or control > 0.05 * min(len(text), 8192):
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

    reader = PdfReader(io.BytesIO(data))
    return "\n\n".join(page.extract_text() or "" for page in reader.pages)


def _check_zip(data: bytes, max_unzipped_bytes: int) -> None:
    """Refuse a zip whose members decompress past the limit (sizes from its directory: ``zipfile`` never
    reads a member past its declared size), or whose XML declares a DTD: OOXML has none, and a DTD is
    how entity expansion (a 'billion laughs') gets in."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        total = sum(m.file_size for m in members)
        if total > max_unzipped_bytes:
            raise TooLarge(f"decompresses to {total / MB:.1f} MB, over the {max_unzipped_bytes / MB:.1f} MB limit "
                           "(COALITION_MAX_UNZIPPED_BYTES)")
        for member in members:
            if member.filename.endswith((".xml", ".rels")):
                head = archive.read(member).replace(b"\x00", b"")  # UTF-16 parts too
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise CorruptFile(f"corrupt DOCX: {member.filename} declares a DTD (entities are not allowed)")


def _docx(data: bytes, max_unzipped_bytes: int) -> str:
    import docx
    from docx.document import Document as DocxDocument
    from docx.enum.style import WD_STYLE_TYPE
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    _check_zip(data, max_unzipped_bytes)
    document: DocxDocument = docx.Document(io.BytesIO(data))  # python-docx's parser: resolve_entities=False
    # ``Paragraph.style`` scans every style for the default on each call (2 ms a paragraph): look names up once
    names = {style.style_id: style.name or "" for style in document.styles}
    default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    default_name = (default.name or "") if default is not None else ""
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                lines.append("\t".join(cell.text.strip() for cell in row.cells))
            lines.append("")
        elif isinstance(block, Paragraph):
            text = block.text.strip()
            style_id = block._p.style  # the paragraph's pStyle, None for the default style
            style = names.get(style_id, default_name) if style_id else default_name
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
