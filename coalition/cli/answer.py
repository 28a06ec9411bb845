"""``coalition ask`` and ``coalition eval``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from coalition.cli.base import load_settings, main, parse_filters


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer JSON (the web API's contract).")
@click.option("--k", type=click.IntRange(1, 200), default=None, help="Candidates per retriever.")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="doc_type, country, doc_id or kind; repeatable.")
def ask(question: str, as_json: bool, k: int | None, filters: tuple[str, ...]) -> None:
    """Answer QUESTION from the indexed documents, with numbered sources.

    \b
    Example:
        coalition ask "What must a partner commit to?"
        coalition ask "projects funded by China" --filter doc_type=good_practice_guide --json
    """
    from assistant.errors import AssistantError, IndexNotReady
    from assistant.pipeline import Assistant

    parsed = parse_filters(filters)
    try:
        assistant = Assistant.from_settings(load_settings())
        result = assistant.answer(question, filters=parsed, k=k)
    except (AssistantError, IndexNotReady) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(result.model_dump_json())
        return
    click.echo(result.answer)
    if result.citations:
        click.echo("\nSources:")
        for c in result.citations:
            click.echo(f"  [{c.n}] {c.locator} — {c.title}")
            click.echo(f"      \"{c.quote[:200]}{'…' if len(c.quote) > 200 else ''}\"")


@main.command("eval")
@click.option("--set", "gold_set", type=click.Path(exists=True, path_type=Path), default=None,
              help="A gold .jsonl file or folder (default: evals/gold).")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None, help="Write results as JSON.")
@click.option("--report", type=click.Path(path_type=Path), default=None, help="Write a Markdown report (+ PNG).")
@click.option("--k", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option("--ablate", is_flag=True, help="Also score dense only, BM25 only, hybrid and hybrid + rerank.")
@click.option("--gate", is_flag=True, help="Exit 1 when below evals/thresholds.toml.")
def eval_cmd(gold_set: Path | None, json_out: Path | None, report: Path | None, k: int, ablate: bool,
             gate: bool) -> None:
    """Score the assistant on the gold question set, per persona.

    \b
    Example:
        coalition eval --report artifacts/eval.md --ablate
    """
    from assistant.pipeline import Assistant
    from evals import run as ev

    assistant = Assistant.from_settings(load_settings())
    result = ev.run_eval(assistant, ev.load_gold(gold_set), k=k, ablate=ablate)
    click.echo(ev.table(result.personas, k))
    if result.ablations:
        click.echo("\nablations (retrieval only):\n" + ev.table(result.ablations, k))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(ev.as_json(result), indent=2, ensure_ascii=False))
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        ev.write_report(result, report)
        click.echo(f"report: {report}")
    if gate:
        failures = ev.gate(result, ev.thresholds())
        for line in failures:
            click.echo(f"quality gate: {line}", err=True)
        if failures:
            sys.exit(1)
        click.echo("quality gate: passed")
