"""Small text tools shared by the answering stages: terms, sentences, follow-up detection."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

from assistant.errors import UnencodableText
from ingest.sentences import sentences as sentences  # re-exported: the answering stages split with it

STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being do does did
    doing have has had having it its it's this that these those there their they them we our us you your i me my
    what which who whom whose when where why how can could should would will shall may might must not no nor so
    than too very just also about into over under again further then once any all both each few more most other
    some such only own same s t don now please tell give show explain describe say says said list much many since
    often frequently""".split()
)
# Words in nearly every passage ('coalition', 'social justice', 'ILO') are not stopwords: they count at
# their (low) IDF, so a question made of them alone ('What is the Global Coalition?') still has terms.

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]|\d[\d,.]*\d|\d")
_stemmer = Stemmer.Stemmer("english")


def require_utf8(text: str, what: str) -> str:
    """``text`` unchanged, or ``UnencodableText`` naming ``what`` when UTF-8 cannot encode it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnencodableText(f"{what} holds text that cannot be encoded as UTF-8 (a lone surrogate at "
                              f"character {exc.start})") from None
    return text


def words(text: str) -> list[str]:
    return [w.lower().strip("'") for w in _WORD.findall(text)]


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def terms(text: str) -> list[str]:
    """Content terms, stemmed: 'commitments' and 'commit' meet. A hyphenated word also gives its parts
    ('country-by-country' meets 'countries', 'two-year' meets 'year')."""
    out = []
    for w in words(text):
        parts = w.split("-") if "-" in w else []
        out += [stem(x) for x in (w, *parts) if x not in STOPWORDS and len(x) > 1]
    return out


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


# What a question asks for, in the three working languages (the question words only: the documents are English).
_ASKS_WHEN = re.compile(r"^\W*(when|what date|what year|which year|by when|since when|quand|à quelle date|en quelle année|"
                        r"cuándo|en qué (año|fecha)|qué fecha)\b", re.IGNORECASE)
_ASKS_NUMBER = re.compile(r"^\W*(how (many|much|big|large|long)|what (amount|number|budget|percentage|share)|combien|"
                          r"quel(le)? (montant|nombre|pourcentage|budget)|cuánt[oa]s?|qué (porcentaje|cantidad|monto))\b",
                          re.IGNORECASE)
_ASKS_WHO = re.compile(r"^\W*(who|whom|which (person|people|organi[sz]ations?|countries|country)|name of|qui|quelles? "
                       r"(personnes?|organisations?)|quién(es)?|qué (personas?|organizaciones?))\b", re.IGNORECASE)
# a name: two capitalised words ('Atle Høie', 'Coordinating Group'), or an acronym of three letters or more
_NAME = re.compile(r"\b[A-Z][a-zà-ÿ]+(?: (?:[A-Z]\.|of|for|the))?(?: [A-Z][a-zà-ÿA-Z]+)+\b|\b[A-Z]{3,}\b")
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# Month names only capitalised: 'partners may join' holds no date.
# A year that names a plan ('the 2030 Agenda', 'Agenda 2030') is not a date.
_DATE = re.compile(rf"\b((?<!Agenda )(19|20)\d{{2}}(?! Agenda)|{_MONTHS}|[Ff]irst half|[Ss]econd half)\b")
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|thousand|million)\b",
                     re.IGNORECASE)
# 'How can we join?' wants the procedure: a sentence opening with its purpose ('To become a partner …,')
# or saying what one is asked to do ('will be requested to inform …').
_ASKS_HOW = re.compile(r"^\W*how (can|do|does|should|could|to|may)\b(?!.*\bbe \w+ed\b)", re.IGNORECASE)
_STEPS = re.compile(r"(?:^|[.:]\s+)To [a-z]+\b[^,.]{0,80},|\b(?:requested|required|invited|asked) to\b")
# 'How often…?' wants a frequency: 'twice a year', 'once a year', 'annually', 'every two years'.
_ASKS_OFTEN = re.compile(r"^\W*(how (often|frequently|regularly)|how many times)\b", re.IGNORECASE)
_OFTEN = re.compile(r"\b((once|twice|\w+ times) (a|per|each) (year|month|week)|annual(ly)?|yearly|monthly|"
                    r"every \w+( \w+)? (years?|months?|weeks?)|each year|regularly)\b", re.IGNORECASE)
DATE, NUMBER, STEPS, OFTEN, NAME = "<date>", "<number>", "<steps>", "<often>", "<name>"


# (pseudo-term, what a question asking for it looks like, what a text holding one looks like)
_ANSWER_TYPES = ((DATE, _ASKS_WHEN, _DATE), (NUMBER, _ASKS_NUMBER, _NUMBER), (STEPS, _ASKS_HOW, _STEPS),
                 (OFTEN, _ASKS_OFTEN, _OFTEN), (NAME, _ASKS_WHO, _NAME))


def answer_type_terms(question: str) -> list[str]:
    """'When…?' wants a date and 'how many…?' a number: pseudo-terms that passages holding one cover."""
    return [term for term, asks, _ in _ANSWER_TYPES if asks.search(question)]


def text_terms(text: str) -> set[str]:
    """A passage's or sentence's terms, with the answer-type pseudo-terms it can satisfy."""
    return set(terms(text)) | {term for term, _, holds in _ANSWER_TYPES if holds.search(text)}


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
