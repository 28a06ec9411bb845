"""``coalition feedback export``: rated-down answers as candidate gold lines for a person to complete."""

from __future__ import annotations

import json
from pathlib import Path

import click

from coalition.cli.base import load_settings, main


@main.group()
def feedback() -> None:
    """Feedback given on answers (web page and Slack)."""


@feedback.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the JSONL here instead of standard output.")
@click.option("--all", "everything", is_flag=True, help="Export every rating as JSON rows, not just gold candidates.")
@click.option("--audience", type=click.Choice(["public", "partner", "staff"]), default="staff", show_default=True,
              help="Only answers given to this audience or below (public: nothing a partner or staff member asked "
                   "or was shown, e.g. for lines that go into the public repository).")
def export(out: Path | None, everything: bool, audience: str) -> None:
    """Print answers rated down as gold-set lines (question, what was cited, the comment).

    Each line has the gold fields (id, persona, question, evidence, key_facts, should_abstain) with
    persona "TODO" and empty evidence/key facts for a person to fill in, plus a ``_feedback`` object
    saying what was answered and cited; remove that key when adding the line to evals/gold/.

    \b
    Example:
        coalition feedback export --audience public --out evals/gold/candidates.jsonl
    """
    from assistant.feedback import FeedbackStore, candidate_gold_lines

    settings = load_settings()
    from assistant.db import DatabaseError

    if settings.database_url is None and not settings.feedback_path.exists():
        raise click.ClickException(f"no feedback yet ({settings.feedback_path} does not exist)")
    try:
        store = FeedbackStore.from_settings(settings)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        levels = ("public", "partner", "staff")
        rows = store.feedback(audiences=levels[: levels.index(audience) + 1])
    finally:
        store.close()
    lines = rows if everything else candidate_gold_lines(rows)
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        click.echo(f"{len(lines)} lines → {out}", err=True)
    else:
        click.echo(text, nl=False)
