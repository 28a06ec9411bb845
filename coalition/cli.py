"""The ``coalition`` command line: one CLI, a subcommand per job, ``--json`` for machines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from coalition.settings import Settings


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic ValidationError: name the variable, no traceback
        raise click.ClickException(f"bad configuration: {exc}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="coalition-assistant")
def main() -> None:
    """Coalition Assistant: grounded, cited answers over Global Coalition for Social Justice documents."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Drop the index and build it again from scratch.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of text.")
def ingest(paths: tuple[Path, ...], rebuild: bool, as_json: bool) -> None:
    """Index the corpus (or just PATHS) into Chroma + BM25; unchanged documents are skipped.

    \b
    Example:
        coalition ingest                 # the whole corpus/ folder, incrementally
        coalition ingest --rebuild --json
    Exit status: 0 all ingested, 2 some files skipped, 1 nothing could be ingested.
    """
    from tqdm import tqdm

    from ingest.errors import IngestError
    from ingest.pipeline import Ingestor

    settings = _settings()
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if as_json or total == 0:
            return
        if bar is None:
            bar = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr)
        bar.n = done
        bar.refresh()

    try:
        report = Ingestor(settings).run(list(paths) or None, rebuild=rebuild, progress=progress)
    except IngestError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()
    if as_json:
        click.echo(json.dumps(report.as_json()))
    else:
        rate = report.embedded / report.seconds if report.seconds else 0.0
        click.echo(
            f"documents: {report.documents}  chunks: {report.chunks}  embedded: {report.embedded}  "
            f"skipped: {len(report.skipped)}  seconds: {report.seconds:.2f}  chunks/s: {rate:.0f}"
        )
        if report.deleted:
            click.echo(f"removed from the index: {', '.join(report.deleted)}")
        for s in report.skipped:
            click.echo(f"skipped {s.path}: {s.reason}", err=True)
    sys.exit(report.exit_code)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def docs(as_json: bool) -> None:
    """List the indexed documents with their metadata and chunk counts.

    \b
    Example:
        coalition docs --json
    """
    from ingest.catalog import documents
    from ingest.errors import IngestError
    from ingest.store import ChunkStore

    try:
        rows = documents(ChunkStore(_settings(), create=False).all_chunks())
    except IngestError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        name = row["symbol"] or row["doc_type"]
        click.echo(f"{row['doc_id']:<26} {row['chunks']:>4} chunks  {name:<22} {row['date']:<10} {row['title']}")
    click.echo(f"{len(rows)} documents, {sum(r['chunks'] for r in rows)} chunks")


def _parse_filters(values: tuple[str, ...]) -> dict[str, str]:
    filters: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(f"{item!r} is not key=value", param_hint="--filter")
        filters[key.strip()] = value.strip()
    return filters


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

    parsed = _parse_filters(filters)
    try:
        assistant = Assistant.from_settings(_settings())
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

    assistant = Assistant.from_settings(_settings())
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


if __name__ == "__main__":
    main()
