"""Reading article pages of MediaWiki sites (the CCDCOE toolkit is one).

Handles both heading markups: `h2 > span.mw-headline` (MediaWiki < 1.42)
and `div.mw-heading > h2` (newer), and leaves out what is not the article's
own text: the table of contents, edit links, footnote markers, references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from parsel import Selector

from crawler.text import normalise_text

_HEADING_TAGS = {"h2", "h3", "h4"}
_BLOCK_TAGS = {"p", "blockquote", "dl", "pre"}
_LIST_TAGS = {"ul", "ol"}
# Sections after which nothing is the position's own text.
_END_SECTIONS = {"references", "notes", "footnotes", "see also", "external links"}
_SKIP_CLASSES = ("toc", "reflist", "references", "navbox", "mw-references-wrap", "noprint")
_NOT_TEXT_TAGS = {"style", "script"}


@dataclass
class WikiArticle:
    title: str
    text: str
    language: str | None
    sections: list[dict] = field(default_factory=list)  # heading, level, char_start, char_end

    def section_text(self, heading: str) -> str:
        for section in self.sections:
            if section["heading"].casefold() == heading.casefold():
                return self.text[section["char_start"] : section["char_end"]]
        return ""


def parse_article(html: str | Selector) -> WikiArticle:
    page = html if isinstance(html, Selector) else Selector(text=html)
    title = normalise_text(" ".join(page.css("h1#firstHeading ::text").getall()))
    content = page.css("#mw-content-text")
    # Attributes are read one by one with root.get(): `.attrib` builds a dict of all
    # of them and lxml raises on an attribute name holding a control character.
    language = (content[0].root.get("lang") if content else None) or page.xpath("/html/@lang").get()
    body = content.css(".mw-parser-output") or content
    if not body:
        return WikiArticle(title=title, text="", language=language)
    paragraphs: list[str] = []
    sections: list[dict] = []
    offset = 0
    for element in body[0].xpath("./*"):
        tag = element.root.tag
        classes = element.root.get("class") or ""
        heading = _heading(element, tag, classes)
        if heading is not None:
            text, level = heading
            if text.casefold() in _END_SECTIONS:
                break
            _close(sections, offset)
            sections.append({"heading": text, "level": level, "char_start": None, "char_end": None})
            continue
        if any(name in classes.split() for name in _SKIP_CLASSES) or element.root.get("id") == "toc":
            continue
        for block in _blocks(element, tag):
            if paragraphs:
                offset += 2  # the blank line between paragraphs
            if sections and sections[-1]["char_start"] is None:
                sections[-1]["char_start"] = offset
            paragraphs.append(block)
            offset += len(block)
    _close(sections, offset)
    return WikiArticle(title=title, text="\n\n".join(paragraphs), language=language, sections=sections)


def _heading(element: Selector, tag: str, classes: str) -> tuple[str, int] | None:
    if tag in _HEADING_TAGS:
        node = element
    elif tag == "div" and "mw-heading" in classes.split():
        node = element.xpath("./h2|./h3|./h4")
        if not node:
            return None
        node = node[0]
        tag = node.root.tag
    else:
        return None
    headline = node.css(".mw-headline")
    text = normalise_text(" ".join(_text_parts((headline[0] if headline else node).root)))
    return text, int(tag[1])


def _blocks(element: Selector, tag: str) -> list[str]:
    if tag in _LIST_TAGS:
        items = element.xpath("./li")
        return [t for t in (_own_text(item) for item in items) if t]
    if tag in _BLOCK_TAGS or tag == "div":
        text = _own_text(element)
        return [text] if text else []
    return []


def _own_text(element: Selector) -> str:
    # Paragraph-internal line breaks are layout, not structure.
    return normalise_text(re.sub(r"\s+", " ", "".join(_text_parts(element.root))))


def _text_parts(node) -> list[str]:
    """Text of an lxml element without footnote markers, edit links, scripts and comments
    (a tree walk: one pass, no XPath per block)."""
    parts: list[str] = []

    def walk(element) -> None:
        if _is_text(element) and element.text:
            parts.append(element.text)
        if _is_text(element):
            for child in element:
                walk(child)
                if child.tail:
                    parts.append(child.tail)

    walk(node)
    return parts


def _is_text(element) -> bool:
    tag = element.tag
    if not isinstance(tag, str) or tag in _NOT_TEXT_TAGS:
        return False  # comments, processing instructions, scripts
    classes = element.get("class") or ""
    return not ("mw-editsection" in classes or (tag == "sup" and "reference" in classes))


def _close(sections: list[dict], offset: int) -> None:
    """End the open section at `offset`; a heading with no text of its own spans nothing."""
    if sections and sections[-1]["char_end"] is None:
        if sections[-1]["char_start"] is None:
            sections[-1]["char_start"] = offset
        sections[-1]["char_end"] = offset
