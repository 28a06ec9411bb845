"""Country names, normalised (Brasil → Brazil), and the ILO region each belongs to.

Regions follow the ILO's five: Africa, Americas, Arab States, Asia and the Pacific, Europe and Central
Asia. The list covers the countries the corpus names plus their neighbours; unknown names pass through.
"""

from __future__ import annotations

import re

REGIONS: dict[str, tuple[str, ...]] = {
    "Africa": ("Algeria", "Angola", "Benin", "Botswana", "Burkina Faso", "Burundi", "Cabo Verde", "Cameroon",
               "Central African Republic", "Chad", "Côte d'Ivoire", "Democratic Republic of the Congo", "Egypt",
               "Ethiopia", "Ghana", "Kenya", "Madagascar", "Malawi", "Mali", "Morocco", "Mozambique", "Namibia",
               "Niger", "Nigeria", "Rwanda", "Senegal", "South Africa", "Sudan", "Tanzania", "Togo", "Tunisia",
               "Uganda", "Zambia", "Zimbabwe"),
    "Americas": ("Argentina", "Barbados", "Bolivia", "Brazil", "Canada", "Chile", "Colombia", "Costa Rica", "Cuba",
                 "Dominican Republic", "Ecuador", "El Salvador", "Guatemala", "Haiti", "Honduras", "Jamaica", "Mexico",
                 "Nicaragua", "Panama", "Paraguay", "Peru", "Trinidad and Tobago", "United States", "Uruguay",
                 "Venezuela"),
    "Arab States": ("Bahrain", "Iraq", "Jordan", "Kuwait", "Lebanon", "Oman", "Qatar", "Saudi Arabia", "Syria",
                    "United Arab Emirates", "Yemen"),
    "Asia and the Pacific": ("Australia", "Bangladesh", "Cambodia", "China", "Fiji", "India", "Indonesia", "Japan",
                             "Lao PDR", "Malaysia", "Mongolia", "Myanmar", "Nepal", "New Zealand", "Pakistan",
                             "Philippines", "Republic of Korea", "Singapore", "Sri Lanka", "Thailand", "Timor-Leste",
                             "Viet Nam"),
    "Europe and Central Asia": ("Albania", "Armenia", "Azerbaijan", "France", "Georgia", "Germany", "Italy",
                                "Kazakhstan", "Kyrgyzstan", "Russian Federation", "Serbia", "Spain", "Switzerland",
                                "Tajikistan", "Turkey", "Ukraine", "United Kingdom", "Uzbekistan"),
}
ALIASES = {
    "brasil": "Brazil", "brazilian": "Brazil", "chinese": "China", "indian": "India", "prc": "China",
    "türkiye": "Turkey", "turkiye": "Turkey", "cape verde": "Cabo Verde", "central africa republic": "Central African Republic",
    "car": "Central African Republic", "vietnam": "Viet Nam", "laos": "Lao PDR", "south korea": "Republic of Korea",
    "korea": "Republic of Korea", "usa": "United States", "united states of america": "United States",
    "uk": "United Kingdom", "russia": "Russian Federation", "ivory coast": "Côte d'Ivoire",
    "drc": "Democratic Republic of the Congo",
    "uae": "United Arab Emirates", "méxico": "Mexico", "colômbia": "Colombia",
}
REGION_OF = {country: region for region, countries in REGIONS.items() for country in countries}
_CANON = {c.lower(): c for c in REGION_OF} | ALIASES
_REGION_NAMES = {r.lower(): r for r in REGIONS} | {"asia": "Asia and the Pacific", "asia pacific": "Asia and the Pacific",
                                                   "latin america": "Americas", "europe": "Europe and Central Asia",
                                                   "arab states": "Arab States", "middle east": "Arab States"}
_MENTION = re.compile(r"\b(" + "|".join(sorted((re.escape(n) for n in _CANON if len(n) > 3), key=len, reverse=True))
                      + r")\b", re.IGNORECASE)


def country(name: str) -> str:
    """The canonical name ('brasil' → 'Brazil'); an unknown name comes back tidied, not dropped."""
    key = re.sub(r"\s+", " ", name.strip()).lower()
    return _CANON.get(key, name.strip())


def region(name: str) -> str:
    return REGION_OF.get(country(name), "")


def region_name(name: str) -> str | None:
    """'asia' → 'Asia and the Pacific'; None when it is not a region."""
    return _REGION_NAMES.get(re.sub(r"\s+", " ", name.strip()).lower())


def mentioned(text: str) -> list[str]:
    """Countries named in ``text``, canonical, in order of first mention."""
    found: list[str] = []
    for match in _MENTION.finditer(text):
        name = country(match.group(1))
        if name not in found:
            found.append(name)
    return found
