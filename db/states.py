"""Resolving the names states go by in statements to ISO 3166-1 alpha-3 codes."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache

from db.reference import state_rows

_POSSESSIVE = re.compile(r"(?:'s|')$")
_SPACES = re.compile(r"\s+")


def name_key(name: str) -> str:
    """Fold a state name for lookup: accents, case, apostrophes, a leading "the", possessives."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("\u2019", "'").replace("\u2018", "'").casefold()
    text = _SPACES.sub(" ", text).strip(" .,;:")
    text = _POSSESSIVE.sub("", text).strip()
    if text.startswith("the "):
        text = text[4:]
    return text


class StateRegistry:
    """Every UN member, the two observer states, the EU (EUN) and the AU (AU)."""

    def __init__(self, rows: tuple[dict, ...]) -> None:
        self.rows = {row["iso3"]: row for row in rows}
        self._by_key: dict[str, str] = {}
        for iso3, row in self.rows.items():
            names = [iso3, row["name"], row["short_name"], *json.loads(row["aliases"])]
            for name in names:
                if name:
                    self._by_key.setdefault(name_key(name), iso3)

    def resolve(self, name: str | None) -> str | None:
        """The iso3 code for a name, code or alias, or None: an unknown speaker is never guessed."""
        if not name or not name.strip():
            return None
        stripped = name.strip()
        if stripped.upper() in self.rows:
            return stripped.upper()
        return self._by_key.get(name_key(stripped))

    def name(self, iso3: str) -> str:
        return self.rows[iso3]["name"]


@cache
def registry() -> StateRegistry:
    return StateRegistry(state_rows())
