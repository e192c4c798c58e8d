"""Names in UN Meetings Coverage: group names, and French state names.

Groups are reported under one English name whatever the page's language, so a
Non-Aligned Movement statement is found by `on_behalf_of` in English and French.

French state names ("l'Indonésie", "la Fédération de Russie") are not in the
state registry (db/states.py knows English names only). `french_state_code`
bridges them: the UN's French official forms below, then the CLDR French
territory names shipped with Babel (installed with trafilatura's courlan; not
pinned, so its absence only means fewer resolved French speakers).
"""

from __future__ import annotations

import logging
from functools import cache

from db.states import name_key, registry

logger = logging.getLogger(__name__)

# name_key(group as written) -> the group's English name.
_GROUPS = {
    "non-aligned movement": "Non-Aligned Movement",
    "movement of non-aligned countries": "Non-Aligned Movement",
    "mouvement des pays non alignes": "Non-Aligned Movement",
    "arab group": "Arab Group",
    "group of arab states": "Arab Group",
    "groupe arabe": "Arab Group",
    "groupe des etats arabes": "Arab Group",
    "african group": "African Group",
    "group of african states": "African Group",
    "groupe africain": "African Group",
    "groupe des etats d'afrique": "African Group",
    "european union": "European Union",
    "eu": "European Union",
    "union europeenne": "European Union",
    "african union": "African Union",
    "union africaine": "African Union",
    "association of southeast asian nations": "ASEAN",
    "asean": "ASEAN",
    "caribbean community": "Caribbean Community",
    "caricom": "Caribbean Community",
    "group of 77 and china": "Group of 77 and China",
}

# Organisations that speak for their members ("on behalf of its member States").
_OWN_MEMBERS = {
    "its member states",
    "itself and its member states",
    "ses etats membres",
    "ses membres",
}

# UN French official forms whose CLDR name differs -> the registry's English name.
_UN_FRENCH = {
    "federation de russie": "Russian Federation",
    "republique islamique d'iran": "Iran (Islamic Republic of)",
    "republique arabe syrienne": "Syrian Arab Republic",
    "republique de coree": "Republic of Korea",
    "republique populaire democratique de coree": "Democratic People's Republic of Korea",
    "etats-unis d'amerique": "United States",
    "royaume-uni de grande-bretagne et d'irlande du nord": "United Kingdom",
    "republique bolivarienne du venezuela": "Venezuela (Bolivarian Republic of)",
    "etat plurinational de bolivie": "Bolivia (Plurinational State of)",
    "republique democratique populaire lao": "Lao People's Democratic Republic",
    "republique-unie de tanzanie": "United Republic of Tanzania",
    "union europeenne": "European Union",
    "union africaine": "African Union",
}


def canonical_group(name: str | None) -> str | None:
    """The English name of a known group, or None."""
    if not name:
        return None
    return _GROUPS.get(name_key(name))


def on_behalf_of(group_text: str | None, speaker: str) -> str | None:
    """The group a speaker spoke for: a known group's English name, else the words given.

    "its member States" is the speaker's own membership (the EU speaking for the EU).
    """
    if group_text:
        if name_key(group_text) in _OWN_MEMBERS:
            return canonical_group(speaker) or speaker
        return canonical_group(group_text) or _strip_article(group_text)
    # A group organisation speaking needs no "on behalf of" to speak for its members.
    return canonical_group(speaker)


def french_state_code(name: str) -> str | None:
    """The registry code for a state named in French, or None (never a guess)."""
    code = registry().resolve(name)
    if code:
        return code
    english = _UN_FRENCH.get(name_key(name)) or _cldr_french_names().get(name_key(name))
    return registry().resolve(english) if english else None


@cache
def _cldr_french_names() -> dict[str, str]:
    """name_key(French territory name) -> English territory name, from Babel's CLDR data."""
    try:
        from babel import Locale
    except ImportError:
        logger.warning("babel not installed: French state names resolve only from the UN list")
        return {}
    french, english = Locale("fr").territories, Locale("en").territories
    return {
        name_key(label): english[code]
        for code, label in french.items()
        if len(code) == 2 and code.isalpha() and code in english
    }


def _strip_article(text: str) -> str:
    for article in ("the ", "The "):
        if text.startswith(article):
            return text[len(article):]
    return text
