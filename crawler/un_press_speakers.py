"""Splitting a UN Meetings Coverage summary into one statement per speaking delegation.

The press summary paraphrases each speaker in one or more paragraphs. A
paragraph is classified by its first sentence, in this order:

1. it opens with a pronoun ("He said", "She added", "The speaker went on",
   "Il a ajouté") -> it continues the current speaker's statement;
2. it names a speaking delegation ("Indonesia's representative, speaking for
   the Non-Aligned Movement, said", "The representative of Azerbaijan urged",
   "..., said Pakistan's representative", "Also questioning the report was the
   representative of the Russian Federation, who", "Le représentant de
   l'Indonésie, au nom du Mouvement ...", "La déléguée de la France a") -> a
   new statement. A name only counts when the speaker is the subject: it opens
   the sentence or follows a comma, "was", "said", "selon", "a estimé" ...;
   "He agreed with the representative of Mexico" names no new speaker;
3. it opens with an official (Chair, High Representative) -> an official's
   remarks, kept apart so they end the previous statement;
4. it refers to "he"/"she"/"the speaker" anywhere -> continuation;
5. otherwise it is procedural ("The Committee will reconvene ...") and ends
   the current statement.

Everything before the first heading is the staff summary naming several
speakers; a body without headings has a one-paragraph summary. A heading
also ends the current statement and sets the type of those under it:
"Right of reply" / "Droits de réponse", "Explanations of vote" /
"Explications de vote"; the same words in a statement's first sentence
override the heading for that statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crawler.un_press_names import on_behalf_of

STATEMENT = "statement"
RIGHT_OF_REPLY = "right of reply"
EXPLANATION_OF_VOTE = "explanation of vote"


@dataclass
class Block:
    """A paragraph or heading of the page body, with its span in the body text."""

    text: str
    start: int
    end: int
    is_heading: bool = False


@dataclass
class Statement:
    speaker: str
    role: str  # delegation | group | observer | official
    doc_type: str
    on_behalf_of: str | None = None
    blocks: list[Block] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(block.text for block in self.blocks)

    @property
    def start(self) -> int:
        return self.blocks[0].start

    @property
    def end(self) -> int:
        return self.blocks[-1].end


@dataclass
class MeetingSplit:
    summary: list[Block]
    statements: list[Statement]
    unattributed: list[Block]


@dataclass(frozen=True)
class _Rules:
    """The attribution patterns of one language."""

    attributions: tuple[re.Pattern[str], ...]  # groups: name, noun
    subject_before: re.Pattern[str]  # what may precede a speaking delegation
    continuation_start: re.Pattern[str]
    continuation_cue: re.Pattern[str]
    official: re.Pattern[str]  # group: title
    group: re.Pattern[str]  # group: group
    right_of_reply: re.Pattern[str]
    explanation_of_vote: re.Pattern[str]
    articles: re.Pattern[str]


# English state names: capitalised words joined by of/and/the/for, "(Islamic Republic of)", "d'Ivoire".
_EN_TOKEN = r"(?:[A-Z][\w'-]*|d'[A-Z][\w-]*|\([^)]*\))"
_EN_NAME = rf"[A-Z][\w'-]*(?:\s+(?:(?:of|and|the|for)\s+)*{_EN_TOKEN})*"
_EN_NOUN = r"(?P<noun>representative|delegate|observer)"
_EN_VERBS = (
    "was|were|said|added|stressed|noted|argued|warned|insisted|observed|continued|declared"
    "|explained|asserted|responded|replied|cautioned|recalled|emphasized|underlined"
)

_ENGLISH = _Rules(
    attributions=(
        re.compile(rf"(?P<name>{_EN_NAME})(?:'s|')\s+{_EN_NOUN}\b"),
        re.compile(rf"\b(?:[Tt]he\s+)?{_EN_NOUN}\s+(?:of|for)\s+(?P<name>(?:the\s+)?{_EN_NAME})"),
    ),
    subject_before=re.compile(rf"(?:^|,|\b(?:{_EN_VERBS}|[Aa]ccording to|[Aa]lso))$"),
    continuation_start=re.compile(
        r"^(?:He|She|His|Her|The speaker|The (?:delegate|representative|observer)(?!\s+(?:of|for)\b))\b"
    ),
    continuation_cue=re.compile(
        r"\b(?:he|she|his|her|the speaker|the (?:delegate|representative)(?!\s+(?:of|for)\b))\b"
    ),
    official=re.compile(
        r"^(?:[^,]{0,60},\s+)?(?:[Tt]he\s+)?(?P<title>(?:Committee\s+)?(?:Vice-)?Chair(?:person)?"
        r"|High Representative for Disarmament Affairs|High Representative"
        r"|Under-Secretary-General|Secretary of the Committee)\b"
    ),
    group=re.compile(
        r"\b(?:[Ss]peaking\s+(?:for|on behalf of)|[Oo]n behalf of)\s+(?P<group>[^,;.]+?)"
        r"(?=\s*[,;.]|\s+(?:said|and|urged|stressed|called)\b|$)"
    ),
    right_of_reply=re.compile(r"\brights? of reply\b", re.IGNORECASE),
    explanation_of_vote=re.compile(
        r"\bexplanations? of (?:vote|position)\b"
        r"|\bexplain(?:ed|ing)? (?:his|her|its|their|the) (?:delegation's )?(?:vote|position)\b",
        re.IGNORECASE,
    ),
    articles=re.compile(r"^(?:the)\s+", re.IGNORECASE),
)

# French: the name runs to the first comma, full stop or verb ("a", "qui", "estime" ...).
_FR_NAME = (
    r"[A-ZÀ-Ý][^,;.]*?(?=\s*[,;.]|\s+(?:a|ont|qui|s'est|est|avait|estime|juge|rappelle)\b|$)"
)
_FRENCH = _Rules(
    attributions=(
        re.compile(
            r"\b(?:(?:[Ll]e|[Ll]a|[Ll]')\s*)?"
            r"(?P<noun>représentante?|déléguée?|délégation|observat(?:eur|rice))\s+"
            rf"(?:de\s+la\s+|de\s+l'|du\s+|des\s+|de\s+)(?P<name>{_FR_NAME})"
        ),
    ),
    subject_before=re.compile(r"(?:^|,|\b[Ss]elon|\b(?:a|ont|avait)\s+[\w-]+)$"),
    continuation_start=re.compile(
        r"^(?:Il|Elle|Selon (?:lui|elle)|Pour (?:lui|elle)|L'orat(?:eur|rice)"
        r"|(?:Le|La) (?:déléguée?|représentante?)(?!\s+(?:de|du|des)\b))\b"
    ),
    continuation_cue=re.compile(r"\b(?:il|elle|selon lui|selon elle|l'orat(?:eur|rice))\b"),
    official=re.compile(
        r"^(?:[^,]{0,60},\s+)?(?:(?:[Ll]e|[Ll]a)\s+)?(?P<title>Présidente?(?: de la Commission)?"
        r"|Haut-Représentant(?:e)?(?: pour les affaires de désarmement)?"
        r"|Haute-Représentante(?: pour les affaires de désarmement)?|Secrétaire de la Commission)\b"
    ),
    group=re.compile(
        r"\bau nom (?:du|de la|de l'|des|de)\s*(?P<group>[^,;.]+?)(?=\s*[,;.]|\s+a\b|$)"
    ),
    right_of_reply=re.compile(r"\bdroits? de réponse\b", re.IGNORECASE),
    explanation_of_vote=re.compile(
        r"\bexplications? de (?:vote|position)\b|\bexpliquant (?:son|le|leur) vote\b", re.IGNORECASE
    ),
    articles=re.compile(r"^(?:la|le|les|l')\s*", re.IGNORECASE),
)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý\"'])")


def split_statements(blocks: list[Block], language: str | None) -> MeetingSplit:
    """Group a page body's blocks into statements (see the module docstring)."""
    rules = _FRENCH if language == "fr" else _ENGLISH
    first_heading = next((i for i, block in enumerate(blocks) if block.is_heading), None)
    summary_end = first_heading if first_heading is not None else min(1, len(blocks))
    statements: list[Statement] = []
    unattributed: list[Block] = []
    current: Statement | None = None
    section_type = STATEMENT
    for block in blocks[summary_end:]:
        if block.is_heading:
            section_type = heading_doc_type(block.text, rules)
            current = None
            continue
        sentence = first_sentence(block.text)
        if current is not None and rules.continuation_start.match(sentence):
            current.blocks.append(block)
            continue
        started = _new_statement(sentence, rules, section_type)
        if started is not None:
            current = started
            current.blocks.append(block)
            statements.append(current)
        elif current is not None and rules.continuation_cue.search(sentence):
            current.blocks.append(block)
        else:
            current = None
            unattributed.append(block)
    return MeetingSplit(blocks[:summary_end], statements, unattributed)


def first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text, maxsplit=1)[0]


def heading_doc_type(heading: str, rules: _Rules = _ENGLISH) -> str:
    for candidate in (_ENGLISH, _FRENCH, rules):
        if candidate.right_of_reply.search(heading):
            return RIGHT_OF_REPLY
        if candidate.explanation_of_vote.search(heading):
            return EXPLANATION_OF_VOTE
    return STATEMENT


def _new_statement(sentence: str, rules: _Rules, section_type: str) -> Statement | None:
    """A statement opened by this first sentence: a delegation, else an official, else None."""
    doc_type = section_type
    if rules.right_of_reply.search(sentence):
        doc_type = RIGHT_OF_REPLY
    elif rules.explanation_of_vote.search(sentence):
        doc_type = EXPLANATION_OF_VOTE
    found = _speaking_delegation(sentence, rules)
    if found is not None:
        match, name = found
        group = rules.group.search(sentence)
        behalf = on_behalf_of(group.group("group").strip() if group else None, name)
        noun = match.group("noun")
        role = "group" if behalf else "observer" if noun.startswith("observ") else "delegation"
        return Statement(speaker=name, role=role, doc_type=doc_type, on_behalf_of=behalf)
    official = rules.official.match(sentence)
    if official is not None:
        return Statement(speaker=official.group("title"), role="official", doc_type=doc_type)
    return None


def _speaking_delegation(sentence: str, rules: _Rules) -> tuple[re.Match[str], str] | None:
    """The first delegation named as the sentence's speaker, with its cleaned name."""
    matches = sorted(
        (match for pattern in rules.attributions for match in pattern.finditer(sentence)),
        key=lambda match: match.start(),
    )
    for match in matches:
        before = sentence[: match.start()].rstrip()
        if rules.subject_before.search(before):
            name = rules.articles.sub("", match.group("name").strip()).strip()
            if name:
                return match, name
    return None
