"""Reading UNODA Meetings Place document listings and the statements they link to.

Pure functions over HTML and text, so they can be tested without Scrapy:
- `parse_meeting_page`: a `/meeting/<id>/documents` page -> its heading, entries, next page.
- `is_statement`: which listing types are statements (agendas, programmes... are not).
- `attribute`: who speaks, from the listing title (never from the PDF's file name).
- `statement_text`: PDF text reflowed into paragraphs, plus the synthetic-sample marker.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from parsel import Selector

from crawler.text import normalise_text
from db.states import registry

logger = logging.getLogger(__name__)

# Listing markup, after a public scraper of the site: `article div > div > h5 > a`, then a
# third div holding one div with the type and one with the date. [check]
_TITLE_LINK = "h5 > a"
_META_DIVS = "./div[not(.//h5)]//div[not(div)]"
NEXT_PAGE_CSS = 'a[rel="next"], li.pager__item--next a'  # Drupal pager [check]

_DATE_FORMATS = (
    "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y",
)
_STATEMENT_TYPE = re.compile(r"statement|d[ée]claration|declaraci[óo]n|intervention", re.IGNORECASE)
_STAKEHOLDER_TYPE = re.compile(r"stakeholder|non-governmental|\bngo\b|civil society", re.IGNORECASE)
_SPEAKER_PREFIX = re.compile(r"^(?:statement|intervention|remarks)\s+(?:by|of|from)\s+", re.IGNORECASE)
_ON_BEHALF = re.compile(r"^(?P<speaker>.+?),?\s+on behalf of\s+(?P<group>.+)$", re.IGNORECASE)
_JOINT = re.compile(
    r"^joint statement(?:\s+(?:by|of|from)\s+(?P<names>.+?))?(?:\s+on\s+(?P<topic>.+))?$",
    re.IGNORECASE,
)
_OEWG_YEARS = re.compile(r"(?:19|20)(\d{2})\s*[-\u2013\u2014]\s*((?:19|20)\d{2})")
MARKER = re.compile(r"^\s*SYNTHETIC SAMPLE\b", re.MULTILINE)

# Groups that speak in the OEWG, by the names listings use for them.
GROUPS = {
    "non-aligned movement": "Non-Aligned Movement",
    "movement of non-aligned countries": "Non-Aligned Movement",
    "nam": "Non-Aligned Movement",
    "european union": "European Union",
    "european union and its member states": "European Union",
    "eu": "European Union",
    "african group": "African Group",
    "group of african states": "African Group",
    "arab group": "Arab Group",
    "asean": "ASEAN",
    "association of southeast asian nations": "ASEAN",
    "caricom": "CARICOM",
    "group of 77 and china": "Group of 77 and China",
}


@dataclass(frozen=True)
class ListingEntry:
    title: str
    href: str
    type_label: str | None
    date: str | None  # YYYY-MM-DD


@dataclass
class MeetingPage:
    heading: str | None
    entries: list[ListingEntry] = field(default_factory=list)
    next_href: str | None = None


@dataclass(frozen=True)
class Attribution:
    """One speaker a listed statement is attributed to."""

    speaker: str
    speaker_role: str | None  # delegation | group | stakeholder | None when unknown
    on_behalf_of: str | None
    doc_type: str  # statement | joint statement
    aligned_states: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatementText:
    text: str
    synthetic: bool  # the PDF carries the SYNTHETIC SAMPLE marker line
    body: str  # the text without marker lines, for language detection


def parse_meeting_page(html: str) -> MeetingPage:
    """Heading, document entries and next-page link of a meeting's documents page."""
    page = Selector(text=html)
    heading = _clean(" ".join(page.css("h1 ::text").getall())) or None
    entries = []
    for article in page.css("article"):
        link = article.css(_TITLE_LINK)
        title = _clean(" ".join(link.css("::text").getall()))
        href = (link.attrib.get("href") or "").strip()
        if not title or not href:
            logger.debug("listing entry without title or link skipped heading=%r", heading)
            continue
        texts = [_clean(" ".join(div.css("::text").getall())) for div in article.xpath(_META_DIVS)]
        texts = [text for text in texts if text]
        date = next((d for d in map(parse_date, texts) if d), None)
        type_label = next((t for t in texts if parse_date(t) is None), None)
        entries.append(ListingEntry(title=title, href=href, type_label=type_label, date=date))
    next_href = page.css(NEXT_PAGE_CSS).attrib.get("href")
    return MeetingPage(heading=heading, entries=entries, next_href=next_href or None)


def parse_date(text: str) -> str | None:
    """YYYY-MM-DD from the date formats a listing may use, or None."""
    text = _clean(text).replace("Sept ", "Sep ")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def is_statement(type_label: str | None) -> bool:
    return bool(type_label and _STATEMENT_TYPE.search(type_label))


def forum_from_heading(heading: str | None) -> str | None:
    """"OEWG 2021-2025" from a meeting heading naming the group and its years."""
    if not heading:
        return None
    years = _OEWG_YEARS.search(heading)
    if "open-ended working group" in heading.casefold() and years:
        return f"OEWG 20{years.group(1)}-{years.group(2)}"
    return heading


def attribute(title: str, type_label: str | None = None) -> list[Attribution]:
    """Who a listed statement speaks for, from its listing title and type.

    A joint statement gives one attribution per listed state; a group statement is the group's
    (or the delivering state's, when the title names it); an unknown name is kept as given.
    """
    title = _clean(title)
    joint = _JOINT.match(title)
    if joint:
        names = split_names(joint.group("names") or "")
        if not names:
            return [Attribution(title, "group", title, "joint statement")]
        return [
            Attribution(name, "delegation", title, "joint statement", tuple(names))
            for name in names
        ]
    name = _strip_article(_SPEAKER_PREFIX.sub("", title))
    if _STAKEHOLDER_TYPE.search(type_label or ""):
        return [Attribution(name, "stakeholder", None, "statement")]
    on_behalf = _ON_BEHALF.match(name)
    if on_behalf:
        group = group_name(on_behalf.group("group"))
        speaker = _strip_article(on_behalf.group("speaker"))
        return [Attribution(speaker, "group", group, "statement")]
    group = GROUPS.get(name.casefold())
    if group:
        return [Attribution(group, "group", group, "statement")]
    if registry().resolve(name):
        return [Attribution(name, "delegation", None, "statement")]
    logger.warning("speaker is neither a state nor a known group title=%r", title)
    return [Attribution(name, None, None, "statement")]


def group_name(text: str) -> str:
    """A group's usual name; an unknown group keeps the listing's words."""
    name = _strip_article(text)
    return GROUPS.get(name.casefold(), name)


def split_names(text: str) -> list[str]:
    """"Australia, Canada and New Zealand" -> three names; "Bosnia and Herzegovina" stays one."""
    names: list[str] = []
    for part in re.split(r"\s*[,;]\s*", text):
        part = _strip_article(re.sub(r"^and\s+", "", part.strip()))
        if part:
            names.extend(_split_on_and(part))
    return names


def _split_on_and(part: str) -> list[str]:
    """Split at an " and " only where every side is a known state; else keep the words."""
    resolve = registry().resolve
    part = _strip_article(part)
    if resolve(part):
        return [part]
    pieces = part.split(" and ")
    for cut in range(1, len(pieces)):
        left, right = " and ".join(pieces[:cut]), " and ".join(pieces[cut:])
        if resolve(left):
            rest = _split_on_and(right)
            if all(resolve(name) for name in rest):
                return [left, *rest]
    return [part]


def statement_text(raw: str) -> StatementText:
    """PDF text with wrapped lines joined into paragraphs, normalised."""
    text = normalise_text("\n\n".join(reflow(page) for page in raw.split("\n\n")))
    body = "\n\n".join(p for p in text.split("\n\n") if not MARKER.match(p))
    return StatementText(text=text, synthetic=bool(MARKER.search(raw)), body=body)


def reflow(page: str) -> str:
    """Join a PDF page's wrapped lines; a short line ending a sentence ends a paragraph."""
    lines = [line.strip() for line in page.splitlines() if line.strip()]
    if not lines:
        return ""
    full = max(len(line) for line in lines)
    paragraphs, current = [], lines[0]
    for previous, line in pairwise(lines):
        if previous.endswith((".", "!", "?", ":", "\u00bb", '"')) and len(previous) < 0.8 * full:
            paragraphs.append(current)
            current = line
        elif previous.endswith("-"):
            current += line  # a word broken at its hyphen: keep the hyphen, no space
        else:
            current += " " + line
    paragraphs.append(current)
    return "\n\n".join(paragraphs)


def _strip_article(text: str) -> str:
    text = text.strip(" .,:;")
    return text[4:] if text.casefold().startswith("the ") else text


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", normalise_text(text)).strip()
