"""The corpus manifest (``corpus/manifest.toml``): what each document is and how it reads."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from ingest.errors import ManifestError
from ingest.models import DocumentMeta
from ingest.reading.lines import MD_HEADING


def read_manifest(path: Path) -> dict[str, DocumentMeta]:
    """File name → metadata, for every entry in the manifest (an absent manifest is empty)."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: {exc}") from None
    entries: dict[str, DocumentMeta] = {}
    ids: set[str] = set()
    for n, raw in enumerate(data.get("documents", []), start=1):
        file = raw.pop("file", None)
        if not file:
            raise ManifestError(f"{path}: documents entry {n} has no 'file'")
        try:
            meta = DocumentMeta(**raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ManifestError(f"{path}: entry for {file}: {where}: {first['msg']}") from None
        if meta.id in ids:
            raise ManifestError(f"{path}: duplicate document id {meta.id!r}")
        ids.add(meta.id)
        entries[file] = meta
    return entries


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every candidate source file below ``corpus_dir`` (the manifest and hidden files excluded; symlinks
    are listed, and ingest skips those that point out of the corpus)."""
    return sorted(
        p
        for p in corpus_dir.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.name not in ("manifest.toml", "README.md")
        and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts)
    )


def infer_meta(path: Path, text: str, taken: set[str]) -> DocumentMeta:
    """Metadata for a file without a manifest entry: id from the file name, title from its first heading."""
    base = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "document"
    doc_id, n = base, 2
    while doc_id in taken:
        doc_id, n = f"{base}-{n}", n + 1
    title = ""
    for line in text.splitlines():
        if not line.strip():
            continue
        m = MD_HEADING.match(line)
        title = (m.group(2) if m else line).strip()
        break
    return DocumentMeta(id=doc_id, title=title[:200] or path.stem, doc_type="web_page", inferred=True)
