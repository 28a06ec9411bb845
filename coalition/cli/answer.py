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
@click.option("--audience", type=click.Choice(["public", "partner", "staff"]), default="staff", show_default=True,
              help="Answer from the documents this audience may see.")
def ask(question: str, as_json: bool, k: int | None, filters: tuple[str, ...], audience: str) -> None:
    """Answer QUESTION from the indexed documents, with numbered sources.

    \b
    Example:
        coalition ask "What must a partner commit to?"
        coalition ask "projects funded by China" --filter doc_type=good_practice_guide --json
    """
    from assistant.audience import Audience
    from assistant.errors import AssistantError, IndexNotReady
    from assistant.pipeline import Assistant

    parsed = parse_filters(filters)
    try:
        assistant = Assistant.from_settings(load_settings())
        result = assistant.answer(question, filters=parsed, k=k, audience=Audience.parse(audience))
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
              help="One question set (.jsonl or folder); default: the blind set (dev, test) and the tuned-on sets.")
@click.option("--split", type=click.Choice(["dev", "test"]), default=None, help="Only this split of a split set.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None, help="Write results as JSON.")
@click.option("--report", type=click.Path(path_type=Path), default=None, help="Write a Markdown report.")
@click.option("--k", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option("--ablate", is_flag=True, help="Also score dense only, BM25 only, fused and fused + rerank.")
@click.option("--gate", is_flag=True, help="Exit 1 when the blind sets' test splits, pooled, are below evals/thresholds.toml.")
def eval_cmd(gold_set: Path | None, split: str | None, json_out: Path | None, report: Path | None, k: int,
             ablate: bool, gate: bool) -> None:
    """Score the assistant on what the user sees (cited passages, answer text), per set, kind and language.

    \b
    Example:
        coalition eval                        # blind dev + test, then the tuned-on sets
        coalition eval --split dev --report artifacts/dev.md
        coalition eval --set evals/heldout/c.jsonl
    """
    from assistant.pipeline import Assistant
    from evals import run as ev

    assistant = Assistant.from_settings(load_settings())
    sets = ev.named_sets(gold_set, split)
    if gate and not set(ev.GATED_SETS) <= set(sets):
        raise click.ClickException(f"--gate needs the sets {', '.join(ev.GATED_SETS)}")
    results = [ev.run_eval(assistant, questions, k=k, ablate=ablate, name=name) for name, questions in sets.items()]
    if set(ev.GATED_SETS) <= set(sets):
        results.append(ev.pooled(assistant, results))
    click.echo(ev.overview(results))
    ranker, answerable = assistant.reranker, assistant.answerability.model
    if hasattr(ranker, "model"):  # the fitted models' cross-validated dev scores, beside the test numbers above
        click.echo(f"\ncross-validated on dev ({ranker.model.fitted_on}): ranker {ranker.model.cv.get('out_of_fold')}; "
                   f"answerability {answerable.cv.get('out_of_fold')}")
    for r in results:
        if r.name.partition(":")[0] in ev.BLIND_SETS:
            groups = {g: s for g, s in r.groups.items() if g == "all" or g.startswith(("kind:", "lang:"))}
            click.echo(f"\n{r.name}:\n" + ev.table(groups, k))
        if r.ablations:
            click.echo(f"\n{r.name} ablations (retrieval only):\n" + ev.table(r.ablations, k, ev.RETRIEVAL_METRICS, "mode"))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(ev.as_json(results), indent=2, ensure_ascii=False))
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        ev.write_report(results, report)
        click.echo(f"report: {report}")
    if gate:
        gated = results[-1]  # the pooled test splits
        failures = ev.gate(gated, ev.thresholds())
        for line in failures:
            click.echo(f"quality gate ({ev.GATED_SET}): {line}", err=True)
        if failures:
            sys.exit(1)
        click.echo(f"quality gate ({ev.GATED_SET}): passed")
