"""Reading UN Meetings Coverage pages (press.un.org, Drupal) and their older copies.

Pure functions from HTML to dataclasses, so they are tested without Scrapy:
- `parse_listing_page`: a `/en/first-committee?page=N` listing;
- `parse_press_page`: a `/{en|fr}/{YYYY}/{symbol}.doc.htm` document, in the
  Drupal layout (`div.field--name-body`, `time[datetime]`) or the pre-2010
  layout (`div#content` with an `h1` and bare paragraphs, date as text);
- `canonical_url`: one URL per meeting, derived from the press symbol, so a
  copy under www.un.org/press/en/... and the press.un.org page are one meeting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from parsel import Selector

from crawler.text import normalise_text
from crawler.un_press_speakers import Block

# First Committee press symbols: GA/DIS/3673 in English, AG/DSI/3673 in French.
SYMBOL = re.compile(r"\b(?:GA/DIS|AG/DSI)/\d{3,5}\b")
# The closing line of every release: not part of the summary.
_END_MARKERS = re.compile(
    r"^(?:\*\s*)+$"
    r"|^For information media\W+not an official record\W*$"
    r"|^À l'intention des organes d'information\W+document non officiel\W*$",
    re.IGNORECASE,
)
_MONTHS_EN = "january february march april may june july august september october november december"
_MONTHS_FR = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
_MONTH_NUMBER = {
    name: number
    for names in (_MONTHS_EN, _MONTHS_FR)
    for number, name in enumerate(names.split(), start=1)
}
_TEXT_DATE = re.compile(r"\b(\d{1,2})(?:er)? (" + "|".join(_MONTH_NUMBER) + r") (\d{4})\b", re.IGNORECASE)
_BLOCKS = ".//*[self::p or self::h2 or self::h3 or self::h4 or self::li]"
_SPACES = re.compile(r"\s+")


@dataclass
class ListingEntry:
    href: str
    title: str
    date: str | None
    text: str  # everything the listing says about the item (title, teaser): the topic test


@dataclass
class ListingPage:
    entries: list[ListingEntry]
    next_href: str | None


@dataclass
class PressPage:
    title: str
    symbol: str | None
    date: str | None
    doctype: str | None  # "Meetings Coverage", "Press Release"; None in the old layout
    language: str | None
    provenance: str | None  # the page's normwatch:provenance marker (sample pages)
    blocks: list[Block] = field(default_factory=list)
    translations: dict[str, str] = field(default_factory=dict)  # hreflang -> href

    @property
    def body_text(self) -> str:
        return "\n\n".join(block.text for block in self.blocks)


def parse_listing_page(html: str) -> ListingPage:
    page = Selector(text=html)
    entries = []
    for article in page.css("div.views-row article.node--view-mode-content-list-item"):
        link = article.css("div.field--name-field-display-title h3 a")
        href = link.attrib.get("href")
        if not href:
            continue
        entries.append(
            ListingEntry(
                href=href,
                title=_inline_text(link),
                date=_iso_date(article.css("time::attr(datetime)").get()),
                text=_inline_text(article),
            )
        )
    next_href = page.css("li.pager__item--next a::attr(href)").get()
    return ListingPage(entries=entries, next_href=next_href)


def parse_press_page(html: str, url: str = "") -> PressPage:
    page = Selector(text=html)
    body = page.css("div.field--name-body")
    if body:
        title = _inline_text(page.css("h1"))
        blocks = _blocks(body[0].xpath(_BLOCKS))
        date = _iso_date(page.css("div.field--name-field-dated time::attr(datetime)").get())
        doctype = _inline_text(page.css("div.field--name-field-doctype")) or None
        # The symbol line sits above the title; its field class is [check], so fall back to
        # the article's opening text (body paragraphs never carry a GA/DIS symbol of their own).
        header = " ".join(page.css("article ::text").getall()[:200])
    else:  # pre-2010 layout: symbol and date lines above the h1, paragraphs after it
        content = page.css("div#content") or page.css("body")
        title = _inline_text(content.css("h1"))
        blocks = _blocks(content.xpath("./h1/following-sibling::*[self::p or self::h2 or self::h3]"))
        header = _inline_text(content.xpath("./h1/preceding-sibling::*"))
        date = _text_date(header)
        doctype = None
    symbol = SYMBOL.search(_inline_text(page.css("div.field--name-field-symbol")) or header)
    return PressPage(
        title=title,
        symbol=symbol.group(0) if symbol else None,
        date=date,
        doctype=doctype,
        language=_language(url, page),
        provenance=page.css('meta[name="normwatch:provenance"]::attr(content)').get(),
        blocks=blocks,
        translations={
            link.attrib["hreflang"]: link.attrib["href"]
            for link in page.css('link[rel="alternate"][hreflang][href]')
        },
    )


def mentions_topic(text: str, keywords: tuple[str, ...]) -> bool:
    """Whether text names one of the keywords: acronyms (all capitals) as whole words, case
    kept; other keywords as case-insensitive substrings ("cyber" finds "cybersecurity")."""
    text = normalise_text(text)
    folded = text.casefold()
    for keyword in keywords:
        if keyword.isupper():
            if re.search(rf"\b{re.escape(keyword)}s?\b", text):
                return True
        elif normalise_text(keyword).casefold() in folded:
            return True
    return False


def canonical_url(base_url: str, page: PressPage) -> str | None:
    """`{base}/{lang}/{year}/{symbol, lower case, no slashes}.doc.htm`, or None without a
    symbol, date or language: the same symbol is the same meeting wherever it was copied."""
    if not (page.symbol and page.date and page.language):
        return None
    slug = page.symbol.lower().replace("/", "")
    return f"{base_url.rstrip('/')}/{page.language}/{page.date[:4]}/{slug}.doc.htm"


def _blocks(elements: list[Selector]) -> list[Block]:
    """Normalised paragraphs and headings with their spans in the joined body text."""
    blocks: list[Block] = []
    offset = 0
    for element in elements:
        if element.xpath("ancestor::li") and element.root.tag != "li":
            continue  # a paragraph inside a list item is read with the item
        text = normalise_text(_SPACES.sub(" ", "".join(element.xpath(".//text()").getall())))
        if not text:
            continue
        if _END_MARKERS.match(text):
            break
        if blocks:
            offset += 2  # the blank line between blocks
        blocks.append(Block(text, offset, offset + len(text), is_heading=_is_heading(element, text)))
        offset += len(text)
    return blocks


def _is_heading(element: Selector, text: str) -> bool:
    if element.root.tag in ("h2", "h3", "h4"):
        return True
    # Older pages set sub-headings as a bold paragraph.
    bold = normalise_text(" ".join(element.xpath("./b//text() | ./strong//text()").getall()))
    return bool(bold) and bold == text and len(text) <= 100 and not text.endswith(".")


def _inline_text(selection) -> str:
    return normalise_text(_SPACES.sub(" ", " ".join(selection.xpath(".//text()").getall())))


def _iso_date(value: str | None) -> str | None:
    if value and re.match(r"\d{4}-\d{2}-\d{2}", value):
        return value[:10]
    return None


def _text_date(text: str) -> str | None:
    match = _TEXT_DATE.search(text)
    if not match:
        return None
    day, month, year = match.groups()
    return f"{year}-{_MONTH_NUMBER[month.casefold()]:02d}-{int(day):02d}"


def _language(url: str, page: Selector) -> str | None:
    segment = urlsplit(url).path.strip("/").split("/")
    for part in segment[:2]:  # /en/2021/... or /press/en/2008/...
        if part in ("en", "fr"):
            return part
    lang = page.xpath("/html/@lang").get()
    return lang[:2].lower() if lang else None
