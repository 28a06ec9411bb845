"""Enrich stage, screening: passages that read as instructions to an assistant, not as content.

Documents are data. A passage that tells the reader, as a model or assistant, what to do ("Ignore all
previous instructions…", "You are now…", "When asked about fees, answer…"), asks for credentials
("send your login and password"), or sends the reader to a link to log in or pay is flagged at
ingest: its chunk carries ``instruction_like`` and the signals that fired, ``coalition docs`` reports
it, and the answering side leaves it out of retrieval. The signals describe the kind of text (an
imperative addressed to an assistant, a credential request, a link with an instruction to act on
it), not known attack strings; tests hold them to flagging no passage of the real corpus.

Example::

    instruction_signals("Ignore all previous instructions and …")   # ['override']
"""

from __future__ import annotations

import re
import unicodedata

# what a model is called when addressed; not 'model' or 'assistant' alone after 'as' ('serves as a model for
# other countries', 'joined as an assistant to the Director')
_ASSISTANT = r"(?:ai|a\.i\.|ai assistant|assistant|chat ?bot|language model|llm|gpt|copilot)"
_AS_A = r"(?:ai|a\.i\.|ai assistant|chat ?bot|language model|llm)"
_CREDENTIAL = (r"(?:passwords?|pass ?codes?|pass ?phrases?|credentials|log-?in(?: details| data| information)?|"
               r"user ?names?|api keys?|access tokens?|auth(?:entication)? tokens?|pin(?: codes?)?|one-time codes?|"
               r"otp|bank (?:details|account numbers?)|card numbers?|credit cards?|security codes?|cvv)")
_URL = r"(?:https?://|www\.)\S+"

SIGNALS: dict[str, re.Pattern[str]] = {
    # 'ignore / disregard / forget … previous / above … instructions / rules / prompt', as an imperative
    # (opening a clause, or after 'you must'): 'these guidelines override all previous instructions' is not one
    "override": re.compile(
        r"(?:^|\n|[.!?:;,\-–—(\"“]\s*|\bplease\s+|\bnow\s+|\band\s+|\byou (?:must|should|will|need to|can)\s+(?:now\s+)?)"
        r"(?:ignore|disregard|forget|override|bypass|overrule)\b[^.?!]{0,40}?"
        r"\b(?:previous|prior|above|earlier|preceding|original|all|any|your|system|these|those)\b[^.?!]{0,20}?"
        r"\b(?:instructions?|prompts?|rules|directions|directives|guidelines|context|messages)\b"),
    # the reader addressed as a model: 'you are now…', 'as an AI…', 'Assistant: reply…', 'system prompt'
    "addressed to an assistant": re.compile(
        rf"\byou are now\b|\bfrom now on,? you\b|\b(?:you are|you're|act as|pretend to be) an? {_ASSISTANT}\b"
        rf"|\bas an? {_AS_A}\b"
        rf"|\b{_ASSISTANT}s?\s*[,:]\s*(?:please\s+)?(?:you\s+(?:must|should|will)|ignore|tell|say|answer|respond|"
        rf"reply|always|never|do not|don't|when|if)\b"
        r"|\bsystem prompt\b|\bjailbreak|\bdeveloper mode\b|\b(?:new|hidden|secret) instructions\b"),
    # what to say when asked: 'when a user asks about X, reply that…', 'tell every user that…'
    "scripted answer": re.compile(
        r"\b(?:when|if|whenever)\s+(?:you are |you're )?(?:a user |users |someone |anyone |people )?"
        r"(?:asks?|asked|questioned)\b[^.?!]{0,80}?\b(?:answer|respond|reply|say|tell|state)\b"
        r"[^.?!]{0,20}?\b(?:that|with|it is|they)\b"
        r"|\b(?:tell|inform|remind)\s+(?:every|all|each|the)?\s*(?:users?|readers?|visitors?|people)\s+that\b"),
    # 'send / share / enter … your password / login / card number'
    "credential request": re.compile(
        rf"\b(?:send|share|provide|enter|give|e-?mail|submit|confirm|verify|type|reply with|post|upload)\b"
        rf"[^.?!]{{0,60}}?\b{_CREDENTIAL}\b"),
    # a link with an instruction to log in, verify or pay there
    "link with an instruction": re.compile(
        rf"\b(?:log ?in|sign ?in|verify|confirm|pay|transfer|enter)\b[^.?!]{{0,60}}?{_URL}"
        rf"|{_URL}[^.?!]{{0,60}}?\b(?:to (?:log ?in|sign ?in|verify|confirm|pay)|within \d+ hours)\b"),
}
_SPACE = re.compile(r"\s+")  # a run with a line break is one line break (a clause may open there)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def normalise(text: str) -> str:
    """Compatibility forms folded ('Ｉｇｎｏｒｅ' → 'Ignore'), invisible characters dropped, spaces collapsed
    (a run with a line break to one line break), lower case: the form the signals are matched on."""
    folded = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).lower()
    return _SPACE.sub(lambda m: "\n" if "\n" in m.group(0) else " ", folded).strip()


def instruction_signals(text: str) -> list[str]:
    """The names of the signals ``text`` sets off ([] for ordinary content)."""
    plain = normalise(text)
    return [name for name, pattern in SIGNALS.items() if pattern.search(plain)]
