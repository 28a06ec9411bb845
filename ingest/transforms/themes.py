"""The six thematic policy domains of GB.349/INS/4 ¶35 (also footnote 7 of the emerging partners
guide) as a controlled vocabulary, and a transparent tagger.

A passage's score for a theme is ``0.6 × dense + 0.4 × keywords``: ``dense`` is the cosine between the
passage's vector and the theme's description, rescaled from [0.15, 0.50] to [0, 1]; ``keywords`` is
the share of two keyword hits (one hit 0.5, two or more 1.0). A theme is tagged at ≥ 0.45; a passage
with none that high gets its best theme if that scores ≥ 0.3. Rows of a
table whose column names a theme (Table 2 of the guide) get that theme at 1.0: the table says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

THEMES_VERSION = "2"
TAG_AT = 0.45
FALLBACK_AT = 0.3


@dataclass(frozen=True)
class Theme:
    slug: str
    name: str  # as worded in ¶35
    description: str
    keywords: tuple[str, ...]
    aliases: tuple[str, ...] = ()


THEMES: tuple[Theme, ...] = (
    Theme("inequality", "Addressing inequality, discrimination and exclusion",
          "Addressing inequality, discrimination and exclusion: gender equality, non-discrimination, inclusion of "
          "minorities, migrants and vulnerable groups, equal opportunities.",
          ("inequalit", "discriminat", "exclusion", "gender", "equal opportunit", "racism", "minorit", "inclusion",
           "women", "vulnerable", "marginali")),
    Theme("labour_rights", "Realizing labour rights as human rights, ensuring human dignity and meeting basic needs",
          "Realizing labour rights as human rights, ensuring human dignity and meeting basic needs: fundamental "
          "principles and rights at work, child labour, forced labour, trafficking, access to justice.",
          ("labour rights", "human rights", "dignity", "basic needs", "child labour", "forced labour", "slave labour",
           "trafficking", "fundamental principles", "rule of law", "legal aid", "justice system"),
          ("labour rights", "human rights", "rights at work")),
    Theme("employment", "Expanding access to and capabilities for productive and freely chosen employment and "
          "sustainable enterprise",
          "Expanding productive and freely chosen employment and sustainable enterprise: job creation, skills, "
          "youth employment, entrepreneurship, decent jobs.",
          ("employment", "job creation", "jobs", "enterprise", "skills", "entrepreneur", "unemployment",
           "productive", "vocational", "training"),
          ("jobs", "decent jobs", "productive employment")),
    Theme("social_protection", "Providing protection and building resilience",
          "Providing protection and building resilience: social protection systems and floors, social security, "
          "safety nets, health care, pensions, occupational safety and health.",
          ("social protection", "protection floor", "social security", "safety net", "resilience", "health care",
           "pension", "occupational safety", "universal social protection"),
          ("protection", "social protection", "resilience")),
    Theme("just_transitions", "Strengthening just transitions and the social dimension of sustainable development, "
          "trade and investment",
          "Strengthening just transitions and the social dimension of sustainable development, trade and investment: "
          "climate, environment, green jobs, supply chains, trade agreements.",
          ("just transition", "climate", "environment", "green", "supply chain", "trade and investment",
           "sustainable development", "investment"),
          ("just transition", "just transitions", "trade", "climate")),
    Theme("social_dialogue", "Reinforcing institutions of social dialogue",
          "Reinforcing institutions of social dialogue: trade unions, employers' and workers' organizations, "
          "collective bargaining, freedom of association, tripartism.",
          ("social dialogue", "trade union", "collective bargaining", "tripartite", "tripartism",
           "workers' organization", "employers' organization", "freedom of association", "labour relations"),
          ("social dialogue", "dialogue", "trade unions")),
)
BY_SLUG = {t.slug: t for t in THEMES}


def resolve(value: str) -> Theme | None:
    """'social dialogue', 'Social_Dialogue', 'Reinforcing institutions of social dialogue' → that theme."""
    key = re.sub(r"[\s_-]+", " ", value.strip().lower())
    for theme in THEMES:
        names = {theme.slug.replace("_", " "), theme.name.lower(), *theme.aliases}
        if key in names:
            return theme
    return None


def theme_of_column(column: str) -> Theme | None:
    """Table 2's 'thematic area 2: Providing protection and building resilience' → that theme."""
    label = column.split(":", 1)[-1].strip().lower()
    for theme in THEMES:
        words = set(re.findall(r"[a-z]{5,}", theme.name.lower()))
        if words and len(words & set(re.findall(r"[a-z]{5,}", label))) >= min(2, len(words)):
            return theme
    return None


class ThemeTagger:
    """Example: ``ThemeTagger(embedder.embed([t.description for t in THEMES])).scores(text, vector)``."""

    def __init__(self, theme_vectors: np.ndarray) -> None:
        self.vectors = theme_vectors

    def scores(self, text: str, vector: np.ndarray, column: str = "") -> dict[str, float]:
        lowered = text.lower()
        sims = self.vectors @ vector
        every: dict[str, float] = {}
        for theme, sim in zip(THEMES, sims, strict=True):
            dense = float(np.clip((sim - 0.15) / 0.35, 0, 1))
            hits = sum(1 for k in theme.keywords if k in lowered)
            every[theme.slug] = round(0.6 * dense + 0.4 * min(1.0, hits / 2), 3)
        out = {slug: score for slug, score in every.items() if score >= TAG_AT}
        best = max(every, key=lambda slug: every[slug])
        if not out and every[best] >= FALLBACK_AT:  # a passage about something gets its closest theme
            out[best] = every[best]
        fixed = theme_of_column(column) if column else None
        if fixed is not None:
            out[fixed.slug] = 1.0
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def theme_metadata(scores: dict[str, float]) -> dict[str, str | bool]:
    """Chroma metadata: a ``theme_<slug>`` flag per tagged theme (filterable) and the scores as JSON."""
    import json

    meta: dict[str, str | bool] = {f"theme_{t.slug}": t.slug in scores for t in THEMES}
    meta["themes"] = json.dumps(scores)
    return meta
