"""Loading each format through its library, and skipping each kind of bad file with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import CorruptFile, EmptyDocument, SkippedFile, UnsupportedFormat
from ingest.load import load_text


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
