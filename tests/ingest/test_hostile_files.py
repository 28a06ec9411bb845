"""Hostile corpus files, through the real pipeline (real model, real Chroma): each is skipped with its
reason, and the rest is ingested."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from ingest.storage.store import ChunkStore
from ingest.transforms.embed import SentenceTransformerEmbedder
from tests.conftest import CORPUS, make_settings
from tests.ingest.test_load import BILLION_LAUGHS, with_document_xml

pytestmark = pytest.mark.slow

GOOD = "industriall-joins.txt"  # a short real document


def small_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / GOOD, corpus / GOOD)
    return corpus


def test_malformed_docx_files_are_skipped_and_the_rest_ingested(tmp_path: Path,
                                                                embedder: SentenceTransformerEmbedder) -> None:
    corpus = small_corpus(tmp_path)
    with_document_xml(corpus / "not-xml.docx", b"this is not XML")
    with_document_xml(corpus / "truncated.docx", b'<?xml version="1.0"?><w:document xmlns:w="urn:x"><w:body><w:p>')
    with_document_xml(corpus / "laughs.docx", BILLION_LAUGHS)
    with_document_xml(corpus / "bomb.docx", b"<w:document xmlns:w='urn:x'>" + b" " * 3_000_000 + b"</w:document>")
    settings = make_settings(tmp_path, corpus, max_unzipped_bytes=2_000_000)
    report = Ingestor(settings, embedder).run()
    reasons = {s.path: s.reason for s in report.skipped}
    assert report.exit_code == 2 and report.documents == 1
    assert sorted(reasons) == ["bomb.docx", "laughs.docx", "not-xml.docx", "truncated.docx"]
    assert reasons["bomb.docx"].startswith("decompresses to 3.")
    assert "declares a DTD" in reasons["laughs.docx"]
    assert reasons["not-xml.docx"].startswith("corrupt DOCX") and reasons["truncated.docx"].startswith("corrupt DOCX")
    assert {c.metadata["doc_id"] for c in ChunkStore(settings).all_chunks()} == {"industriall-joins"}


def test_symlinks_and_paths_out_of_the_corpus_are_not_read(tmp_path: Path,
                                                           embedder: SentenceTransformerEmbedder) -> None:
    corpus = small_corpus(tmp_path)
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:root:/root:/bin/bash\nThe membership fee is a secret.\n")
    (corpus / "x.txt").symlink_to(secret)
    (corpus / "sub").mkdir()
    (corpus / "sub" / "up.md").symlink_to(Path("..", "..", "outside", "secret.txt"))
    settings = make_settings(tmp_path, corpus)
    report = Ingestor(settings, embedder).run()
    assert sorted(s.path for s in report.skipped) == ["sub/up.md", "x.txt"]
    assert all("outside the corpus" in s.reason for s in report.skipped)
    explicit = Ingestor(settings, embedder).run([secret, corpus / ".." / "outside" / "secret.txt"])
    assert len(explicit.skipped) == 2 and all("outside the corpus" in s.reason for s in explicit.skipped)
    stored = ChunkStore(settings).all_chunks()
    assert {c.metadata["doc_id"] for c in stored} == {"industriall-joins"}
    text = repr([(c.text, c.metadata) for c in stored]) + repr(report.as_json())
    assert "root:x:0:0" not in text and "fee is a secret" not in text
    assert str(tmp_path) not in text and "secret.txt" not in text


def test_a_file_over_the_size_limit_is_skipped_with_its_reason(tmp_path: Path,
                                                               embedder: SentenceTransformerEmbedder) -> None:
    corpus = small_corpus(tmp_path)
    (corpus / "huge.md").write_text("# Huge\n\n" + "Partners share their plans. " * 8_000)  # 224 KB
    report = Ingestor(make_settings(tmp_path, corpus, max_file_bytes=200_000), embedder).run()
    assert report.exit_code == 2 and report.documents == 1
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("huge.md", "file is 0.2 MB, over the 0.2 MB limit (COALITION_MAX_FILE_BYTES)")]


def test_utf16_text_files_are_ingested(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    corpus = small_corpus(tmp_path)
    note = "# Pledge of the Federation\n\nWe will train 300 labour inspectors in Türkiye.\n"
    (corpus / "pledge-utf16.txt").write_bytes(note.encode("utf-16"))
    (corpus / "pledge-utf8-bom.md").write_bytes(b"\xef\xbb\xbf" + note.replace("300", "400").encode())
    settings = make_settings(tmp_path, corpus)
    report = Ingestor(settings, embedder).run()
    assert report.exit_code == 0, report.skipped
    texts = " ".join(c.text for c in ChunkStore(settings).all_chunks())
    assert "300 labour inspectors in Türkiye" in texts and "400 labour inspectors" in texts


def test_file_names_cannot_forge_lines_of_ingest_output(tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path)
    (corpus / "slides\nskipped gb349-ins4.txt: forged.pptx").write_bytes(b"x")
    (corpus / "term\x1b[2J.pptx").write_bytes(b"x")
    env = os.environ | {"COALITION_CORPUS_DIR": str(corpus), "COALITION_INDEX_DIR": str(tmp_path / "index")}
    out = subprocess.run([sys.executable, "-m", "coalition.cli", "ingest"], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 2, out.stderr
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("skipped")]
    assert lines == ["skipped slides\\nskipped gb349-ins4.txt: forged.pptx: unsupported file type '.pptx'; "
                     "supported: .docx, .htm, .html, .markdown, .md, .pdf, .txt",
                     "skipped term\\x1b[2J.pptx: unsupported file type '.pptx'; "
                     "supported: .docx, .htm, .html, .markdown, .md, .pdf, .txt"]
    assert "\x1b" not in out.stdout + out.stderr
