"""Text analysis shared by indexing and answering: words, stemmed terms and the answer-type pseudo-terms
('<date>', '<number>', …) a passage can satisfy. ``coalition ingest`` stores each passage's terms
(``ingest/storage/lexicon.py``), and the answering stages analyse questions and sentences with the same functions,
so the two always meet. ``FINGERPRINT`` names this analysis (this file and the stemmer's version): an
index whose stored terms were analysed otherwise is rebuilt by the next ingest.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import Stemmer

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


_SPELLING = re.compile(r"[A-Za-z]+")


def spelling_words(text: str) -> list[str]:
    """The words a misspelt question word may be corrected to: letters only, three or more of them."""
    return [w for w in _SPELLING.findall(text.lower()) if len(w) > 2]


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


FINGERPRINT = hashlib.sha256(Path(__file__).read_bytes() + version("PyStemmer").encode()).hexdigest()[:16]
