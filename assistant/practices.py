"""The good-practice finder: ranked practice records with filters and facet counts.

Records come from ``<index>/practices.json`` (written at ingest, see ``ingest/transforms/practices.py``). A query
ranks them by ``cosine(query, record) + 0.5 × term coverage`` (the answer reranker's recipe); records
with neither a fair cosine nor any shared term are left out, so a query about nothing in the corpus
returns an empty list. Filters narrow before ranking; facets count the filtered matches.

Example::

    finder = PracticeFinder.load(settings, embedder)
    result = finder.search("social protection", country="brasil")
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from assistant.errors import BadQuestion
from assistant.text import terms
from core.settings import Settings
from ingest.transforms import geo, themes
from ingest.transforms.embed import Embedder
from ingest.transforms.practices import PracticeRecord, load

MIN_COSINE = 0.25


@dataclass
class Hit:
    record: PracticeRecord
    score: float


@dataclass
class PracticeResult:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class PracticeFilters:
    country: str | None = None
    region: str | None = None
    theme: str | None = None
    funder: str | None = None
    kind: str | None = None
    year_from: int | None = None
    year_to: int | None = None


class PracticeFinder:
    def __init__(self, records: list[PracticeRecord], embedder: Embedder) -> None:
        self.records = records
        self.embedder = embedder
        self.by_id = {r.id: r for r in records}
        self.vectors = np.array([r.vector for r in records], dtype=np.float32) if records else np.zeros((0, 384))
        self._terms = [set(terms(f"{r.title} {r.text} {' '.join(r.countries)} {r.funder}")) for r in records]

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder) -> PracticeFinder:
        return cls(load(settings.practices_path), embedder)

    def get(self, record_id: str) -> PracticeRecord | None:
        return self.by_id.get(record_id)

    def search(self, query: str = "", filters: PracticeFilters | None = None, limit: int = 10,
               vector: np.ndarray | None = None) -> PracticeResult:
        """``vector``: the query's embedding when the caller has it already (the chat path does)."""
        f = self._check(filters or PracticeFilters())
        pool = [i for i, r in enumerate(self.records) if _matches(r, f)]
        query = (query or "").strip()
        scored: list[Hit]
        if query:
            qterms = set(terms(query))
            qvec = vector if vector is not None else self.embedder.embed([query])[0]
            sims = self.vectors[pool] @ qvec if pool else np.zeros(0)
            scored = []
            for i, sim in zip(pool, sims, strict=True):
                coverage = len(qterms & self._terms[i]) / max(1, len(qterms))
                if sim >= MIN_COSINE or coverage > 0:
                    scored.append(Hit(self.records[i], round(float(sim) + 0.5 * coverage, 4)))
            scored.sort(key=lambda h: -h.score)
        else:
            scored = [Hit(self.records[i], 0.0) for i in pool]
            scored.sort(key=lambda h: (h.record.kind != "project", h.record.title))
        return PracticeResult(hits=scored[:limit], total=len(scored), facets=facets([h.record for h in scored]))

    def similar(self, record_id: str, limit: int = 5) -> list[Hit]:
        record = self.by_id.get(record_id)
        if record is None:
            raise KeyError(record_id)
        index = self.records.index(record)
        sims = self.vectors @ self.vectors[index]
        order = [int(i) for i in np.argsort(-sims) if int(i) != index]
        return [Hit(self.records[i], round(float(sims[i]), 4)) for i in order[:limit]]

    def _check(self, f: PracticeFilters) -> PracticeFilters:
        """Normalise filter values (brasil → Brazil, 'social dialogue' → social_dialogue); reject bad ones."""
        out = PracticeFilters(**vars(f))
        if f.country:
            out.country = geo.country(f.country)
        if f.region:
            name = geo.region_name(f.region)
            if name is None:
                raise BadQuestion(f"region {f.region!r} is not an ILO region; use one of: {', '.join(geo.REGIONS)}")
            out.region = name
        if f.theme:
            theme = themes.resolve(f.theme)
            if theme is None:
                raise BadQuestion(f"theme {f.theme!r} is not one of: " + "; ".join(t.slug for t in themes.THEMES))
            out.theme = theme.slug
        if f.funder:
            out.funder = geo.country(f.funder)
        if f.kind and f.kind not in ("project", "country", "regional_group"):
            raise BadQuestion(f"kind {f.kind!r} is not one of: project, country, regional_group")
        if f.year_from is not None and f.year_to is not None and f.year_from > f.year_to:
            raise BadQuestion(f"year_from {f.year_from} is after year_to {f.year_to}")
        return out


def _matches(r: PracticeRecord, f: PracticeFilters) -> bool:
    if f.country and f.country.lower() not in {c.lower() for c in r.countries}:
        return False
    if f.region and f.region not in r.regions:
        return False
    if f.theme and f.theme not in r.themes:
        return False
    if f.funder and f.funder.lower() != r.funder.lower():
        return False
    if f.kind and r.kind != f.kind:
        return False
    if f.year_from is not None and (r.year_to is None or r.year_to < f.year_from):
        return False
    return not (f.year_to is not None and (r.year_from is None or r.year_from > f.year_to))


def facets(records: list[PracticeRecord]) -> dict[str, dict[str, int]]:
    """Counts by country, region, theme, funder, decade and kind; a record counts once per value it has."""
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("country", "region", "theme", "funder", "decade", "kind")}
    for r in records:
        counts["country"].update(set(r.countries))
        counts["region"].update(set(r.regions))
        counts["theme"].update(set(r.themes))
        counts["kind"][r.kind] += 1
        if r.funder:
            counts["funder"][r.funder] += 1
        if r.year_from is not None:
            last = r.year_to or r.year_from
            counts["decade"].update({f"{d}s" for d in range(r.year_from // 10 * 10, last // 10 * 10 + 1, 10)})
    return {name: dict(c.most_common()) for name, c in counts.items()}


_ASKS_FOR_PRACTICES = re.compile(
    r"\b(examples?|good practices?|practices|projects|initiatives|success stories|what have we done|"
    r"what has \w+ (?:funded|done))\b", re.IGNORECASE)
_FUNDING_WORD = re.compile(r"(?<!-)\b(funded|funds?|financed)\b", re.IGNORECASE)  # not 'the Brazil-funded project'
_QUICK_FACT = re.compile(r"^\W*(how (many|much|often|long)|when|who|where|why)\b", re.IGNORECASE)
_HOW = re.compile(r"^\W*how\b", re.IGNORECASE)
_FUNDED = re.compile(r"\b(fund(?:ed|s|ing)?|financ\w*|contribut\w*|support(?:ed)? by)\b", re.IGNORECASE)


def practice_request(question: str) -> tuple[str, PracticeFilters] | None:
    """('any examples of social protection in Asia?') → the query and the filters it implies, or None
    when the question does not ask for practices."""
    if _QUICK_FACT.search(question):
        return None  # 'how many ILO projects…?' wants a number from the text, not a list
    countries = geo.mentioned(question)
    # 'what did Brazil fund?' asks for projects; 'how will the coalition be funded?' for an explanation
    funded_by = bool(countries) and bool(_FUNDING_WORD.search(question)) and not _HOW.search(question)
    if not (_ASKS_FOR_PRACTICES.search(question) or funded_by):
        return None
    lowered = question.lower()
    f = PracticeFilters()
    if countries:
        if _FUNDED.search(question):
            f.funder = countries[0]
        else:
            f.country = countries[0]
    for phrase in sorted(geo._REGION_NAMES, key=len, reverse=True):
        if re.search(rf"\b{re.escape(phrase)}\b", lowered) and not (countries and phrase in {c.lower() for c in countries}):
            f.region = geo._REGION_NAMES[phrase]
            break
    for theme in themes.THEMES:
        names = {theme.slug.replace("_", " "), theme.name.lower(), *theme.aliases}
        if any(len(n) > 6 and n in lowered for n in names):
            f.theme = theme.slug
            break
    return question, f
