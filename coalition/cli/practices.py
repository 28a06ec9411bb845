"""``coalition practices``: find good practices by query, country, region, theme, funder and years."""

from __future__ import annotations

import json

import click

from coalition.cli.base import load_settings, main


@main.command()
@click.argument("query", required=False, default="")
@click.option("--country", help="Brazil, brasil, China, …")
@click.option("--region", help="ILO region: Africa, Americas, Arab States, Asia and the Pacific, Europe and Central Asia")
@click.option("--theme", help="A ¶35 domain: social_protection, 'social dialogue', …")
@click.option("--funder", help="Who funded it (a country)")
@click.option("--kind", type=click.Choice(["project", "country", "regional_group"]))
@click.option("--year-from", type=int)
@click.option("--year-to", type=int)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print records and facets as JSON.")
def practices(query: str, country: str | None, region: str | None, theme: str | None, funder: str | None,
              kind: str | None, year_from: int | None, year_to: int | None, limit: int, as_json: bool) -> None:
    """List good practices matching QUERY and the filters, with facet counts.

    \b
    Example:
        coalition practices "social protection" --country Brazil
        coalition practices --funder China --json
    """
    from assistant.errors import BadQuestion
    from assistant.practices import PracticeFilters, PracticeFinder
    from ingest.transforms.embed import SentenceTransformerEmbedder

    settings = load_settings()
    if not settings.practices_path.exists():
        raise click.ClickException(f"no practice records at {settings.practices_path}; run `coalition ingest` first")
    finder = PracticeFinder.load(settings, SentenceTransformerEmbedder(settings.embedding_model, settings.device))
    filters = PracticeFilters(country=country, region=region, theme=theme, funder=funder, kind=kind,
                              year_from=year_from, year_to=year_to)
    try:
        result = finder.search(query, filters, limit)
    except BadQuestion as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"query": query, "total": result.total, "facets": result.facets,
                               "hits": [{"score": h.score, "record": h.record.model_dump()} for h in result.hits]},
                              ensure_ascii=False))
        return
    if not result.hits:
        click.echo("No practices match.")
    for n, hit in enumerate(result.hits, 1):
        r = hit.record
        years = f"{r.year_from}–{r.year_to}" if r.year_from else ""
        money = f"{r.currency} {r.amount:,.0f}" if r.amount else ""
        facts = " · ".join(x for x in (r.kind, ", ".join(r.countries), years, f"funder {r.funder}" if r.funder else "",
                                       money, ", ".join(r.themes)) if x)
        click.echo(f"{n}. {r.title}\n   {facts}\n   {r.summary}\n   source: {r.locator}  [{r.id}]")
    if not result.total:
        return
    shown = {k: v for k, v in result.facets.items() if v}
    click.echo(f"\n{result.total} matching · " + " | ".join(
        f"{name}: " + ", ".join(f"{value} {count}" for value, count in list(counts.items())[:6])
        for name, counts in shown.items()))
