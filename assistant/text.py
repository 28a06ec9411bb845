"""Small text tools shared by the answering stages: terms, sentences, follow-up detection."""

from __future__ import annotations

import re

from assistant.errors import UnencodableText
from ingest.analysis import DATE as DATE  # re-exported: the analysis is shared with ingest (ingest/analysis.py)
from ingest.analysis import NAME as NAME
from ingest.analysis import NUMBER as NUMBER
from ingest.analysis import OFTEN as OFTEN
from ingest.analysis import STEPS as STEPS
from ingest.analysis import STOPWORDS as STOPWORDS
from ingest.analysis import answer_type_terms as answer_type_terms
from ingest.analysis import stem as stem
from ingest.analysis import terms as terms
from ingest.analysis import text_terms as text_terms
from ingest.analysis import words as words
from ingest.storage.sentences import sentences as sentences  # re-exported: the answering stages split with it


def require_utf8(text: str, what: str) -> str:
    """``text`` unchanged, or ``UnencodableText`` naming ``what`` when UTF-8 cannot encode it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnencodableText(f"{what} holds text that cannot be encoded as UTF-8 (a lone surrogate at "
                              f"character {exc.start})") from None
    return text


# How people ask → how the documents say it. A question term also counts as covered by these words
# (rerank coverage, sentence choice) and they join the BM25 query. Kept short and domain-specific.
_GLOSSARY_WORDS = {
    "commit": "expected undertake adherence",
    "obligation": "expected commitments",
    "requirement": "expected commitments",
    "require": "expected commitments",
    "cost": "fees costs borne",
    "fee": "fees costs",
    "pay": "fees costs borne",
    "price": "fees costs",
    "charge": "fees costs",
    "gb": "governing body",  # how ILO staff write them
    "dg": "director-general",
    "ilc": "international labour conference",
    "term": "serve period",
    "rank": "benchmarking index",
    "fund": "support contribution",
    "subscription": "fees costs",
    "sit": "composed members",
    "compose": "composed members",
    "eligible": "include partners",
    "allowed": "include partners",
    "report": "document share progress",
    "launch": "initiative established",
}
GLOSSARY: dict[str, tuple[str, ...]] = {
    stem(key): tuple(dict.fromkeys(stem(w) for w in value.split())) for key, value in _GLOSSARY_WORDS.items()
}


_OBLIGATION = re.compile(r"\b(must|have to|has to|need to|needs to|required to|obliged to|obligations?|requirements?)\b",
                         re.IGNORECASE)
_WH_WHAT = re.compile(r"\W*(what|which)\b", re.IGNORECASE)
_WHO_MAY = re.compile(r"^\W*(?:(?:who|which \w+)\b.*\b(?:can|may|could|allowed|eligible|entitled)|"
                      r"(?:can|may|could) \w+(?: \w+)? (?:join|become|be a|take part))\b", re.IGNORECASE)


def question_terms(question: str) -> list[str]:
    """The question's terms, the answer-type pseudo-terms of what it asks for (a date, a number…), plus
    'expect' when it asks what one must do (the documents word duties as 'will be expected to'; stopword
    modals like 'must' would otherwise leave no trace), and 'include' when it asks who may do something
    (they list who 'will include'). Both lifts earned their place in the rule ablation on blind dev."""
    found = terms(question)
    if _OBLIGATION.search(question) and _WH_WHAT.match(question):  # 'do we have to…?' asks whether, not what
        found.append(stem("expected"))
    if _WHO_MAY.search(question):  # 'who can be a partner?': the documents list who 'will include'
        found.append(stem("include"))
    return found + answer_type_terms(question)


def expansions(text: str) -> list[str]:
    """Document words for the question's terms ('commit' → expected, undertake, adherence)."""
    out: list[str] = []
    for term in terms(text):
        for word in _GLOSSARY_WORDS.get(next((k for k in _GLOSSARY_WORDS if stem(k) == term), ""), "").split():
            if word not in out:
                out.append(word)
    return out


FOLLOW_UP_WORDS = 9


def is_follow_up(question: str) -> bool:
    """A short question in a conversation leans on what came before ('and does it cost anything?',
    'renewable?', 'et pour les universités ?'): it is retrieved together with the question before it.
    Length alone decides, in any language; a list of English follow-up words did not carry over."""
    return len(question.split()) <= FOLLOW_UP_WORDS


_INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\b[^.?!]{0,40}\b(instructions?|prompts?|rules?|guidelines?|previous|above)"
    r"|system prompt|you are now|pretend (to be|you)|jailbreak|developer mode"
    # 'act as a pirate' is an instruction; 'can partners act as co-champions?' is a question
    r"|(?:^|[.!?:]\s*)(?:please\s+)?act as\b|\byou (?:must |should |will |can )?(?:now )?act as\b",
    re.IGNORECASE,
)


_ONE_MARKER = r"\[\s*\d{1,3}(?:\s*[,–-]\s*\d{1,3})*\s*\]"  # '[1]', '[2, 3]', '[4–6]'
_DOC_MARKER = re.compile(rf"\s*{_ONE_MARKER}(?:\s*,\s*{_ONE_MARKER})*")


def inert_markers(text: str) -> str:
    """Document text without its own citation markers ('… ¶16) [1].' → '… ¶16).'): in an answer, a
    bracketed number is one of our citations, and the document's must not pass for one."""
    return _DOC_MARKER.sub("", text)


def strip_injection(question: str) -> tuple[str, bool]:
    """The question without instruction-like phrases, and whether any were found.

    The extractive composer only quotes the corpus, so such instructions can never be obeyed; removing
    them keeps them from steering retrieval towards nothing.
    """
    found = bool(_INJECTION.search(question))
    if not found:
        return question, False
    parts = re.split(r"(?<=[.!?])\s+|\band\b|,", question)
    kept = [p for p in parts if p and not _INJECTION.search(p)]
    return " ".join(kept).strip(), True
