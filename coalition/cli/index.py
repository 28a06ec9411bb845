"""``coalition ingest`` and ``coalition docs``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from coalition.cli.base import load_settings, main


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
    from ingest.reading.paths import printable

    settings = load_settings()
    bar = None

    def progress(what: str, done: int, total: int) -> None:
        nonlocal bar
        if as_json or total == 0:
            return
        if bar is None or bar.desc != f"embedding {what}":
            if bar is not None:
                bar.close()
            bar = tqdm(total=total, unit=what[:-1], desc=f"embedding {what}", file=sys.stderr)
        bar.n = done
        bar.refresh()

    try:
        report = Ingestor(settings).run(list(paths) or None, rebuild=rebuild, progress=progress)
    except IngestError as exc:
        raise click.ClickException(printable(str(exc))) from None
    finally:
        if bar is not None:
            bar.close()
    if as_json:
        click.echo(json.dumps(report.as_json()))
    else:
        rate = report.embedded / report.seconds if report.seconds else 0.0
        click.echo(
            f"documents: {report.documents}  chunks: {report.chunks}  embedded: {report.embedded}  "
            f"sentences embedded: {report.sentences_embedded}  "
            f"skipped: {len(report.skipped)}  seconds: {report.seconds:.2f}  chunks/s: {rate:.0f}"
        )
        if report.deleted:
            click.echo(f"removed from the index: {', '.join(printable(d) for d in report.deleted)}")
        for s in report.skipped:  # names escaped: a newline in a file name must not forge a line
            click.echo(f"skipped {printable(s.path)}: {printable(s.reason)}", err=True)
    sys.exit(report.exit_code)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def docs(as_json: bool) -> None:
    """List the indexed documents with their metadata, visibility (public, partner, staff) and chunk counts.

    \b
    Example:
        coalition docs --json
    """
    from assistant.audience import catalog
    from ingest.errors import IngestError
    from ingest.reading.paths import printable
    from ingest.storage.store import ChunkStore

    try:
        settings = load_settings()
        rows = catalog(ChunkStore(settings, create=False).all_chunks(), settings)
    except IngestError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        name = printable(row["symbol"] or row["doc_type"])
        click.echo(f"{printable(row['doc_id']):<26} {row['chunks']:>4} chunks  {row['visibility']:<7}  {name:<22} "
                   f"{printable(row['date']):<10} "
                   f"{printable(row['title'])}")
    click.echo(f"{len(rows)} documents, {sum(r['chunks'] for r in rows)} chunks")
    for row in rows:  # documents are data: a passage that instructs an assistant is reported, never answered from
        if flagged := row["instruction_like"]:
            count = "1 passage reads" if len(flagged) == 1 else f"{len(flagged)} passages read"
            click.echo(f"{printable(row['doc_id'])}: {count} as instructions to an assistant; kept out of answers")
            for item in flagged:
                click.echo(f"  {printable(item['locator'])} ({', '.join(item['signals'])})")
