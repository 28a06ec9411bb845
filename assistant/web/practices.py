"""``GET /practices``, ``GET /practices/{id}``, ``GET /practices/{id}/similar``: the good-practice finder."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from assistant.practices import Hit, PracticeFilters
from assistant.web.deps import ApiKey, AssistantDep
from assistant.web.limits import RateLimit
from assistant.web.schemas import Problem
from ingest.transforms.practices import PracticeRecord

router = APIRouter(dependencies=[ApiKey, RateLimit], tags=["practices"], responses={
    400: {"model": Problem}, 401: {"model": Problem}, 422: {"model": Problem}, 429: {"model": Problem},
    503: {"model": Problem}})


class PracticeHit(BaseModel):
    score: float
    record: PracticeRecord


class PracticeSearch(BaseModel):
    query: str
    total: int
    hits: list[PracticeHit]
    facets: dict[str, dict[str, int]]


def _hits(hits: list[Hit]) -> list[PracticeHit]:
    return [PracticeHit(score=h.score, record=h.record) for h in hits]


@router.get("/practices", response_model=PracticeSearch)
def search_practices(
    assistant: AssistantDep,
    q: Annotated[str, Query(max_length=2000, description="What to look for; empty lists everything filtered")] = "",
    country: str | None = None,
    region: Annotated[str | None, Query(description="ILO region: Africa, Americas, Arab States, …")] = None,
    theme: Annotated[str | None, Query(description="A ¶35 domain: slug, name or alias ('social dialogue')")] = None,
    funder: str | None = None,
    kind: Annotated[str | None, Query(description="project, country or regional_group")] = None,
    year_from: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    year_to: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> PracticeSearch:
    """Ranked practice records with facet counts (by country, region, theme, funder, decade, kind)."""
    filters = PracticeFilters(country=country, region=region, theme=theme, funder=funder, kind=kind,
                              year_from=year_from, year_to=year_to)
    result = assistant.practices.search(q, filters, limit)
    return PracticeSearch(query=q, total=result.total, hits=_hits(result.hits), facets=result.facets)


@router.get("/practices/{record_id}", response_model=PracticeRecord, responses={404: {"model": Problem}})
def get_practice(record_id: str, assistant: AssistantDep) -> Any:
    """One practice record with its source locator and passage ids."""
    record = assistant.practices.get(record_id)
    if record is None:
        raise HTTPException(404, f"no practice {record_id!r}; GET /practices lists them")
    return record


@router.get("/practices/{record_id}/similar", response_model=list[PracticeHit], responses={404: {"model": Problem}})
def similar_practices(record_id: str, assistant: AssistantDep,
                      limit: Annotated[int, Query(ge=1, le=50)] = 5) -> list[PracticeHit]:
    """The records closest in meaning to this one."""
    try:
        return _hits(assistant.practices.similar(record_id, limit))
    except KeyError:
        raise HTTPException(404, f"no practice {record_id!r}; GET /practices lists them") from None
