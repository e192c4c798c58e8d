"""National and common positions from the CCDCOE International cyber law toolkit."""

from __future__ import annotations

import re
from collections.abc import Iterator

from scrapy.http import Response

from crawler.base_spiders import ListingSpider
from crawler.items import DocumentItem, FetchErrorItem
from crawler.mediawiki import parse_article

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}}) ({_MONTHS}) (\d{{4}})\b")
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTHS}) (\d{{1,2}}), (\d{{4}})\b")
_MONTH_NUMBER = {name: number for number, name in enumerate(_MONTHS.split("|"), start=1)}


class CcdcoePositionsSpider(ListingSpider):
    """
    Domain
      cyberlaw.ccdcoe.org, "International cyber law: interactive toolkit" (MediaWiki, CC BY-SA 4.0).
      One document per position page: `National position of <State> (<Year>)`, plus the
      common positions of the African Union and the EU. A state can have several years.
    Caveats
      The wiki quotes the positions; non-English originals appear in unofficial translation.
      The date is the first full date in the Introduction (when the position was published),
      else the year from the title. Section headings are kept as topic hints for the NLP step.
      The site has answered 403 to automated clients: the spider is slow and identifies itself.
    Spider arguments
      none. Setting CCDCOE_BASE_URL points it at another copy of the site (the sample site).
    """

    name = "ccdcoe_positions"
    # SourceSpider
    base_url_setting = "CCDCOE_BASE_URL"
    default_base_url = "https://cyberlaw.ccdcoe.org"
    # ListingSpider
    listing_paths = ("/wiki/Category:National_position",)
    item_link_css = "#mw-pages li a"
    item_title_pattern = re.compile(
        r"^(?P<kind>National|Common) position of (?P<speaker>.+?) \((?P<year>\d{4})\)$"
    )
    # SOURCES.md: the CCDCOE asks for a slower pace than other sources.
    custom_settings = {"DOWNLOAD_DELAY": 5}

    def parse_document(
        self, response: Response, listing: dict[str, str]
    ) -> Iterator[DocumentItem | FetchErrorItem]:
        article = parse_article(response.selector)
        if not article.text:
            yield FetchErrorItem(url=response.url, reason="empty_text", status=response.status)
            return
        match = self.item_title_pattern.match(article.title) or None
        fields = match.groupdict() if match else listing
        yield DocumentItem(
            url=response.url,
            speaker=fields["speaker"],
            text=article.text,
            date=publication_date(article.section_text("Introduction"), fields["year"]),
            title=article.title,
            forum="national position",
            doc_type=f"{fields['kind'].lower()} position",
            language=article.language,
            provenance=response.css('meta[name="normwatch:provenance"]::attr(content)').get()
            or "official",
            sections=article.sections,
        )


def publication_date(introduction: str, year: str) -> str:
    """The first full date of the title's year in the introduction, else the bare year."""
    for match in _DAY_MONTH_YEAR.finditer(introduction):
        day, month, found_year = match.groups()
        if found_year == year:
            return f"{year}-{_MONTH_NUMBER[month]:02d}-{int(day):02d}"
    for match in _MONTH_DAY_YEAR.finditer(introduction):
        month, day, found_year = match.groups()
        if found_year == year:
            return f"{year}-{_MONTH_NUMBER[month]:02d}-{int(day):02d}"
    return year
