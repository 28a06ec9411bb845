"""The question's language, among the ILO's working languages, and the few fixed phrases the answer
wraps around its English quotes.

Detection is py3langid's naive Bayes model (it ships in the package, offline) restricted to English,
French and Spanish; a short or mixed question it is unsure of (a locator, "Step 4", "GB.349 ¶16") is
taken as English, the documents' language.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

LANGUAGES = ("en", "fr", "es")
SURE = 0.9  # below this the question is taken as English

PHRASES: dict[str, dict[str, str]] = {
    "abstain": {
        "en": "The coalition documents don't say anything about that.",
        "fr": "Les documents de la Coalition ne disent rien à ce sujet.",
        "es": "Los documentos de la Coalición no dicen nada al respecto.",
    },
    "near": {
        "en": "The coalition documents don't say that. What they do say:",
        "fr": "Les documents de la Coalition ne le disent pas. Voici ce qu'ils disent (en anglais) :",
        "es": "Los documentos de la Coalición no lo dicen. Esto es lo que dicen (en inglés):",
    },
    "sources_in_english": {
        "en": "",
        "fr": "Les documents sont en anglais ; voici ce qu'ils disent :",
        "es": "Los documentos están en inglés; esto es lo que dicen:",
    },
    "nearest": {
        "en": "The nearest topics they do cover:",
        "fr": "Les sujets les plus proches qu'ils traitent :",
        "es": "Los temas más cercanos que sí tratan:",
    },
}


def phrase(key: str, language: str) -> str:
    return PHRASES[key].get(language, PHRASES[key]["en"])


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect(text: str) -> str:
    """'en', 'fr' or 'es'. Example: ``detect("¿Quién puede unirse?")`` → 'es'."""
    if sum(ch.isalpha() for ch in text) < 8:
        return "en"
    language, probability = _identifier().classify(text)
    return str(language) if probability >= SURE else "en"


def warm_up() -> None:
    _identifier()
