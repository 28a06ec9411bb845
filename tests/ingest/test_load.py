"""Loading each format through its library, and skipping each kind of bad file with a reason."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from ingest.errors import CorruptFile, EmptyDocument, SkippedFile, TooLarge, UnsupportedFormat
from ingest.reading.load import load_text


def make_pdf(path: Path, lines: list[str]) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    y = 800
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 18
    pdf.showPage()
    pdf.save()
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Decent work pledge", level=1)
    document.add_paragraph("Our federation commits to one initiative on social protection floors.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Country", "Initiative"
    table.cell(1, 0).text, table.cell(1, 1).text = "Ghana", "Training for labour inspectors"
    document.save(str(path))
    return path


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "pledge.pdf", ["Pledge of the Federation", "We will train 300 labour inspectors."])
    text = load_text(pdf)
    assert "Pledge of the Federation" in text and "300 labour inspectors" in text


def test_docx_headings_and_tables_are_kept(tmp_path: Path) -> None:
    text = load_text(make_docx(tmp_path / "pledge.docx"))
    assert "# Decent work pledge" in text
    assert "Ghana\tTraining for labour inspectors" in text


def test_html_becomes_headings_and_paragraphs(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><script>x=1</script><h2>Who can join</h2><p>Any <b>organisation</b>.</p>"
                    "<ul><li>governments</li></ul></body></html>")
    text = load_text(page)
    assert "## Who can join" in text and "Any organisation ." in text and "- governments" in text
    assert "x=1" not in text


@pytest.mark.parametrize(
    ("name", "data", "error", "reason"),
    [
        ("empty.txt", b"", EmptyDocument, "empty file"),
        ("blank.md", b"  \n\n ", EmptyDocument, "empty file"),
        ("binary.txt", b"\x00\x01\x02PK\x03\x04" * 50, CorruptFile, "binary content"),
        ("latin1.txt", "Coopération sociale".encode("latin-1"), CorruptFile, "not valid UTF-8"),
        ("broken.pdf", b"%PDF-1.7\nthis is not really a pdf", CorruptFile, "corrupt PDF"),
        ("broken.docx", b"PK\x03\x04 not a zip at all", CorruptFile, "corrupt DOCX"),
        ("slides.pptx", b"whatever", UnsupportedFormat, "unsupported file type '.pptx'"),
    ],
)
def test_bad_files_are_refused_with_a_reason(
    tmp_path: Path, name: str, data: bytes, error: type[SkippedFile], reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(error, match=reason):
        load_text(path)


def with_document_xml(path: Path, xml: bytes) -> Path:
    """A copy of the docx at ``path`` whose word/document.xml is ``xml``."""
    import zipfile

    source = make_docx(path.with_name(f".{path.stem}-source.docx"))
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, xml if item.filename == "word/document.xml" else zin.read(item.filename))
    source.unlink()
    return path


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE w:document [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"""


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (b"this is not XML at all", "corrupt DOCX"),
        (b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
         b"<w:body><w:p><w:r><w:t>cut off", "corrupt DOCX"),
        (BILLION_LAUGHS, "declares a DTD"),
    ],
    ids=["not-xml", "truncated", "billion-laughs"],
)
def test_malformed_docx_is_refused_with_a_reason(tmp_path: Path, xml: bytes, reason: str) -> None:
    with pytest.raises(CorruptFile, match=reason):
        load_text(with_document_xml(tmp_path / "bad.docx", xml))


def test_docx_that_decompresses_past_the_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    body = b"<w:p><w:r><w:t>" + b"padding " * 300_000 + b"</w:t></w:r></w:p>"  # 2.4 MB of XML, a few KB zipped
    xml = (b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           b"<w:body>" + body + b"</w:body></w:document>")
    path = with_document_xml(tmp_path / "bomb.docx", xml)
    assert path.stat().st_size < 100_000
    with pytest.raises(TooLarge, match=r"decompresses to 3\.\d MB, over the 1\.0 MB limit"):
        load_text(path, max_unzipped_bytes=1_000_000)
    assert "padding" in load_text(path, max_unzipped_bytes=4_000_000)


def test_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.md"
    path.write_text("# Big\n\n" + "A sentence about decent work. " * 40_000)  # 1.2 MB
    with pytest.raises(TooLarge, match=r"file is 1\.2 MB, over the 1\.0 MB limit \(COALITION_MAX_FILE_BYTES\)"):
        load_text(path, max_bytes=1_000_000)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_text_with_a_byte_order_mark_is_decoded(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "note.txt"
    text = "# Coopération\n\nPartners commit to decent work — in Türkiye too.\n"
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    path.write_bytes(bom + text.encode(encoding))
    assert load_text(path) == text
