"""Block Kit for answers: the answer (mrkdwn, ``[n]`` markers), its sources, feedback buttons.

Slack limits a section's text to 3,000 characters and a context element's to 2,000; long answers are
split across sections at line breaks. Text from users or documents is escaped (``&``, ``<``, ``>``).
"""

from __future__ import annotations

from typing import Any

from assistant.models import Answer
from assistant.web.documents import source_link

SECTION_LIMIT = 3000
QUOTE_CHARS = 160
Block = dict[str, Any]


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sections(text: str) -> list[Block]:
    blocks: list[Block] = []
    chunk = ""
    for line in escape(text).split("\n"):
        while len(line) > SECTION_LIMIT:  # one enormous line: cut at a space
            cut = line.rfind(" ", 0, SECTION_LIMIT) or SECTION_LIMIT
            blocks.append(_section(line[:cut]))
            line = line[cut:].lstrip()
        if chunk and len(chunk) + 1 + len(line) > SECTION_LIMIT:
            blocks.append(_section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk.strip():
        blocks.append(_section(chunk))
    return blocks


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def source_lines(answer: Answer, public_url: str | None) -> list[str]:
    lines = []
    for c in answer.citations:
        quote = c.quote if len(c.quote) <= QUOTE_CHARS else c.quote[: QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
        name = escape(c.locator)
        if public_url and c.chunk_id:
            name = f"<{source_link(public_url, c)}|{name}>"
        lines.append(f"[{c.n}] {name} — “{escape(quote)}”")
    return lines


def answer_blocks(answer: Answer, answer_id: str, public_url: str | None = None, share: bool = False) -> list[Block]:
    blocks: list[Block] = []
    if answer.abstained:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": ":grey_question: *Not in the documents*"}]})
    blocks += _sections(answer.answer)
    lines = source_lines(answer, public_url)
    for start in range(0, len(lines), 10):  # a context block holds at most 10 elements
        elements = [{"type": "mrkdwn", "text": line[:2000]} for line in lines[start : start + 10]]
        blocks.append({"type": "context", "elements": elements})
    buttons: list[Block] = [
        {"type": "button", "action_id": "feedback_up", "text": {"type": "plain_text", "text": "👍 Helpful", "emoji": True},
         "value": answer_id},
        {"type": "button", "action_id": "feedback_down", "text": {"type": "plain_text", "text": "👎 Not helpful", "emoji": True},
         "value": answer_id},
    ]
    if share:
        buttons.insert(0, {"type": "button", "action_id": "share_answer", "style": "primary", "value": answer_id,
                           "text": {"type": "plain_text", "text": "Share in channel"}})
    blocks.append({"type": "actions", "block_id": "answer_actions", "elements": buttons})
    return blocks


def fallback_text(answer: Answer) -> str:
    """The notification text (``text`` beside ``blocks``)."""
    head = "Not in the documents: " if answer.abstained else ""
    return escape(head + answer.answer)[:300]


def thanks_blocks(blocks: list[Block], rating: str, user: str) -> list[Block]:
    """The same message with the buttons replaced by an acknowledgement."""
    kept = [b for b in blocks if b.get("block_id") != "answer_actions"]
    mark = "👍" if rating == "up" else "👎"
    return kept + [{"type": "context", "elements": [{"type": "mrkdwn", "text": f"{mark} Thanks <@{user}>, feedback recorded."}]}]


def apology_text(reason: str) -> str:
    return f":warning: Sorry, I couldn't answer that just now ({escape(reason)}). Please try again in a minute."


def practice_blocks(responder: Any, query: str, limit: int = 5, audience: Any = None) -> list[Block]:
    """``/coalition practices <query>``: the best records, each with its facts and source."""
    from assistant.practices import practice_request

    _, filters = practice_request(f"practices {query}") or (query, None)
    assistant = responder.assistant(audience) if audience is not None else responder.assistant()
    result = assistant.practices.search(query or "", filters, limit)
    head = f"*Good practices* for _{escape(query)}_" if query else "*Good practices*"
    tail = f", the best {len(result.hits)}:" if result.hits else "."
    blocks: list[Block] = [_section(f"{head}: {result.total} found{tail}")]
    for hit in result.hits:
        r = hit.record
        facts = " · ".join(x for x in (", ".join(r.countries),
                                       f"{r.year_from}–{r.year_to}" if r.year_from else "",
                                       f"funded by {r.funder}" if r.funder else "",
                                       f"{r.currency} {r.amount:,.0f}" if r.amount else "") if x)
        source = escape(r.locator)
        if responder.settings.public_url and r.chunk_ids:
            link = f"{responder.settings.public_url.rstrip('/')}/?doc={r.doc_id}#{r.chunk_ids[0]}"
            source = f"<{link}|{source}>"
        text = f"*{escape(r.title)}*\n{escape(facts)}\n{escape(r.summary)}"
        blocks.append(_section(text[:SECTION_LIMIT]))
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": source[:2000]}]})
    return blocks[:50]  # a message holds at most 50 blocks
