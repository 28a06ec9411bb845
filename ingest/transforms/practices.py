"""Practice records, extracted at ingest from the stored chunks, where the manifest says practices are:

* ``[[documents.practices]]`` — a section whose headings name, level by level, the partner country and
  the project (the guide's *Success Stories*): one **project** record each, with countries, years,
  funder, amount and currency, partners, a summary and the source locator;
* ``[[documents.tables]]`` with ``records = "country"`` (the guide's Table 2) — one **country** record a
  row, its text per thematic area and its initiatives; ``records = "regional_group"`` (Table 1) — one
  **regional_group** record a row, with the group's interests.

Records carry theme scores (the maximum over their passages, see ``ingest/transforms/themes.py``) and a vector
(the normalised mean of their passages' vectors), and are written to ``<index>/practices.json`` with
the index fingerprint of the chunks they were extracted from: ingest rewrites them whenever that
differs from Chroma's (a killed ingest left them stale before), and answering refuses stale ones.
"""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from ingest.models import DocumentMeta
from ingest.storage.store import ChunkStore, StoredChunk, index_fingerprint
from ingest.transforms import geo

_YEARS = re.compile(r"\((?:\D{0,20})?((?:19|20)\d{2})\s*[-–]\s*((?:19|20)?\d{2})\)")
_YEAR = re.compile(r"\b((?:19|20)\d{2})\b")
_AMOUNT = re.compile(r"(US)?\$\s?(\d[\d,]*(?:\.\d+)?)\s*(million|billion)?", re.IGNORECASE)
_NAMED_ACRONYM = re.compile(r"((?:[A-Z][\w'’-]+\s+)(?:(?:of|and|for|the|on|[A-Z][\w'’-]+)\s+)*[A-Z][\w'’-]+)\s+\(([A-Z]{2,})\)")
_GROUP_ACRONYM = re.compile(r"\(([A-Z]{2,})\)")
GROUP_REGIONS = {"africa": "Africa", "aspag": "Asia and the Pacific", "asia": "Asia and the Pacific",
                 "grulac": "Americas", "latin america": "Americas", "arab": "Arab States", "europe": "Europe and Central Asia"}


class PracticeRecord(BaseModel):
    id: str
    kind: str = Field(description="project, country or regional_group")
    title: str
    doc_id: str
    doc_title: str
    locator: str
    countries: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    funder: str = ""
    amount: float | None = None
    currency: str = ""
    partners: list[str] = Field(default_factory=list)
    summary: str = ""
    text: str = ""
    fields: dict[str, str] = Field(default_factory=dict, description="Table cells by column meaning")
    themes: dict[str, float] = Field(default_factory=dict)
    chunk_ids: list[str] = Field(default_factory=list)
    vector: list[float] = Field(default_factory=list, exclude=True)


def fingerprint(path: Path) -> str | None:
    """The index fingerprint the records at ``path`` were extracted from (None: absent, or written before
    records carried one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(data["fingerprint"]) if isinstance(data, dict) and "fingerprint" in data else None


def write(path: Path, chunks: list[StoredChunk], store: ChunkStore, manifest: dict[str, DocumentMeta]) -> list[PracticeRecord]:
    """Extract the records from the stored ``chunks`` (vectors read from ``store``) and write them."""
    records = extract(chunks, {m.id: m for m in manifest.values()})
    vectors = store.embeddings([cid for r in records for cid in r.chunk_ids])
    for record in records:
        mean = np.mean([vectors[cid] for cid in record.chunk_ids if cid in vectors], axis=0)
        record.vector = [round(float(x), 6) for x in mean / (np.linalg.norm(mean) or 1.0)]
    data = {"fingerprint": index_fingerprint(chunks), "records": [r.model_dump() | {"vector": r.vector} for r in records]}
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)  # readers never see half a file
    return records


def load(path: Path) -> list[PracticeRecord]:
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = data["records"] if isinstance(data, dict) else data  # a list: written before records had a fingerprint
    return [PracticeRecord.model_validate(row) for row in rows]


def extract(chunks: list[StoredChunk], metas: dict[str, DocumentMeta]) -> list[PracticeRecord]:
    by_doc: OrderedDict[str, list[StoredChunk]] = OrderedDict()
    chunks = [c for c in chunks if not c.metadata.get("instruction_like")]  # instructions are no practice
    for chunk in sorted(chunks, key=lambda c: (str(c.metadata.get("doc_id")), int(c.metadata.get("order", 0)))):
        by_doc.setdefault(str(chunk.metadata.get("doc_id")), []).append(chunk)
    records: list[PracticeRecord] = []
    for doc_id, doc_chunks in by_doc.items():
        meta = metas.get(doc_id)
        if meta is None:
            continue
        for spec in meta.practices:
            records += _projects(doc_chunks, spec.section, spec.levels)
        for table in meta.tables:
            if table.records:
                records += _table_rows(doc_chunks, table.title, table.records)
    return records


def _heading_path(chunk: StoredChunk) -> list[str]:
    return list(json.loads(str(chunk.metadata.get("heading_path", "[]"))))


def _themes(chunks: list[StoredChunk]) -> dict[str, float]:
    best: dict[str, float] = {}
    for chunk in chunks:
        for slug, score in json.loads(str(chunk.metadata.get("themes", "{}"))).items():
            best[slug] = max(best.get(slug, 0.0), float(score))
    return dict(sorted(best.items(), key=lambda kv: -kv[1]))


def _base(kind: str, title: str, chunks: list[StoredChunk]) -> PracticeRecord:
    first = chunks[0].metadata
    label, locator = str(first.get("label", "")), str(first.get("locator", ""))
    return PracticeRecord(
        id=f"{first.get('doc_id')}:{kind}:{_slug(title)}", kind=kind, title=title, doc_id=str(first.get("doc_id")),
        doc_title=str(first.get("title", "")), locator=f"{label} › {locator}", themes=_themes(chunks),
        chunk_ids=[c.id for c in chunks],
    )


def _projects(chunks: list[StoredChunk], section: str, levels: list[str]) -> list[PracticeRecord]:
    groups: OrderedDict[tuple[str, ...], list[StoredChunk]] = OrderedDict()
    for chunk in chunks:
        path = _heading_path(chunk)
        if len(path) > len(levels) and path[0].startswith(section):
            groups.setdefault(tuple(path[: len(levels) + 1]), []).append(chunk)
    records = []
    for key, parts in groups.items():
        named = dict(zip(levels, key[1:], strict=False))
        title = named.get("title", key[-1])
        body = "\n".join(_strip_heading(c.text, title) for c in parts).strip()
        record = _base("project", title, parts)
        partner = geo.country(named.get("country", ""))
        record.funder = partner
        mentioned = geo.mentioned(f"{title} {body}")
        record.countries = list(dict.fromkeys([partner, *mentioned] if partner else mentioned))
        record.regions = sorted({r for r in (geo.region(c) for c in record.countries) if r})
        record.year_from, record.year_to = _years(title, body)
        record.amount, record.currency = _amount(body)
        record.partners = _partners(body)
        record.text = body
        record.summary = _summary(body)
        records.append(record)
    return records


def _table_rows(chunks: list[StoredChunk], table: str, kind: str) -> list[PracticeRecord]:
    rows: OrderedDict[str, list[StoredChunk]] = OrderedDict()
    names: dict[str, str] = {}
    for chunk in chunks:
        extra = json.loads(str(chunk.metadata.get("extra", "{}")))
        if chunk.metadata.get("kind") != "table_row" or extra.get("table") != table:
            continue
        key = _row_identity(extra["row_key"], kind)
        names.setdefault(key, extra["row_key"])
        rows.setdefault(key, []).append(chunk)
    records = []
    for key, parts in rows.items():
        name = geo.country(names[key]) if kind == "country" else names[key]
        record = _base(kind, name, parts)
        for chunk in parts:
            extra = json.loads(str(chunk.metadata.get("extra", "{}")))
            cell = chunk.text.split(": ", 1)[1] if ": " in chunk.text else chunk.text
            column = extra["column"]
            record.fields[column] = f"{record.fields[column]}\n{cell}".strip() if column in record.fields else cell
        record.text = "\n".join(f"{column}: {cell}" for column, cell in record.fields.items())
        if kind == "country":
            record.countries = [name]
            record.regions = [geo.region(name)] if geo.region(name) else []
            record.summary = _summary(next(iter(record.fields.values()), ""))
        else:
            lowered = names[key].lower()
            record.regions = sorted({region for word, region in GROUP_REGIONS.items() if word in lowered})
            record.summary = _summary(record.fields.get("Coalition focus areas", record.text))
        record.partners = _partners(record.text)
        records.append(record)
    return records


def _row_identity(row_key: str, kind: str) -> str:
    """Rows continued on a second line (the guide spells ASPAG two ways) are one record."""
    if kind == "regional_group":
        acronym = _GROUP_ACRONYM.search(row_key)
        if acronym:
            return acronym.group(1)
    return geo.country(row_key).lower()


def _strip_heading(text: str, title: str) -> str:
    return text[len(title) :].lstrip() if text.startswith(title) else text


def _years(title: str, body: str) -> tuple[int | None, int | None]:
    match = _YEARS.search(title) or _YEARS.search(body)
    if match:
        start, end = int(match.group(1)), match.group(2)
        stop = int(end) if len(end) == 4 else (start // 100) * 100 + int(end)
        return start, stop
    single = _YEAR.search(title) or _YEAR.search(body)
    return (int(single.group(1)), int(single.group(1))) if single else (None, None)


def _amount(text: str) -> tuple[float | None, str]:
    match = _AMOUNT.search(text)
    if not match:
        return None, ""
    value = float(match.group(2).replace(",", ""))
    scale = {"million": 1e6, "billion": 1e9}.get((match.group(3) or "").lower(), 1.0)
    return value * scale, "USD"


def _partners(text: str) -> list[str]:
    found = [f"{name} ({acronym})" for name, acronym in _NAMED_ACRONYM.findall(text)]
    for acronym in ("ILO", "MOHRSS", "BRICS", "IPEC", "FAO", "UNICEF", "UNDP", "ITUC", "IOE"):
        if re.search(rf"\b{acronym}\b", text) and not any(f"({acronym})" in f for f in found):
            found.append(acronym)
    return list(dict.fromkeys(found))


def _summary(text: str, limit: int = 280) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    return text[: cut + 1] if cut > 80 else text[:limit].rsplit(" ", 1)[0] + "…"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]
