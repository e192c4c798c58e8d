"""First Committee meetings on ICT security from UN Meetings Coverage (press.un.org)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import scrapy
from scrapy.http import Response

from crawler.base_spiders import ListingSpider
from crawler.items import DocumentItem, FetchErrorItem
from crawler.un_press_names import french_state_code
from crawler.un_press_parsing import (
    canonical_url,
    mentions_topic,
    parse_listing_page,
    parse_press_page,
)
from crawler.un_press_speakers import split_statements

logger = logging.getLogger(__name__)


class UnPressSpider(ListingSpider):
    """
    Domain
      press.un.org, UN Meetings Coverage and Press Releases (Drupal), General Assembly First
      Committee, English and French. One document per delegation speaking in a meeting summary
      (GA/DIS/... in English, AG/DSI/... in French): the summary paraphrases each speaker, so
      provenance is "secretariat summary" (sample pages: "synthetic-sample").
    Caveats
      Listing `/en/first-committee` (page 0 has no parameter, then `?page=1`, ... newest first),
      followed through the Drupal pager until a page without a "next" link or without items.
      Only meetings whose listing title or teaser names a `topic_keywords` entry are fetched;
      a fetched page whose body names none is recorded as a fetch error `not_ict`.
      French pages are reached through each English page's `link rel="alternate" hreflang="fr"`
      [check: whether press.un.org links its French releases as translations of the English node].
      Pre-2010 meetings the listing does not reach are fetched from `archive_paths`
      [check: how far back `/en/first-committee` pages go]; they may use the older layout
      (`div#content`, date as text), which is parsed too.
      Splitting (crawler/un_press_speakers.py): the staff summary before the first heading and
      officials' remarks (Chair, High Representative) are not a delegation's words and are not
      stored; procedural paragraphs ("The Committee will reconvene ...") are dropped. A page
      with no delegation statement is a fetch error `no_statements`; a non-meeting release
      (doctype other than Meetings Coverage) is `not_meeting`.
      Each document's URL is derived from the symbol (canonical_url): a copy under
      www.un.org/press/en/YYYY/... gives the same URL, hence the same document ids, as
      press.un.org/en/YYYY/...: same symbol, same meeting.
      French speakers are named in French ("Indonésie"); the state code is looked up from
      French names here (crawler/un_press_names.py) because the registry knows English only.
    Spider arguments
      urls -- comma-separated extra document URLs to parse, e.g. old www.un.org/press/en copies.
      Setting UN_PRESS_BASE_URL points it at another copy of the site (the sample site).
    """

    name = "un_press"
    # SourceSpider
    base_url_setting = "UN_PRESS_BASE_URL"
    default_base_url = "https://press.un.org"
    # ListingSpider (parse_listing is overridden: it filters on the listing teaser too)
    listing_paths = ("/en/first-committee",)
    item_link_css = (
        "div.views-row article.node--view-mode-content-list-item"
        " div.field--name-field-display-title h3 a"
    )
    next_page_css = "li.pager__item--next a"
    # UnPressSpider
    archive_paths = ("/en/2008/gadis3372.doc.htm",)
    # ICT security, English and French. Acronyms match as whole words ("ICT", "ICTs", "TIC"),
    # the rest case-insensitively anywhere ("cyber" finds "cyberspace", "cybersécurité").
    topic_keywords = (
        "ICT",
        "TIC",
        "cyber",
        "information and communications technolog",
        "information and communication technolog",
        "information and telecommunications",
        "technologies de l'information et des communications",
        "technologies de l'information et de la communication",
        "informatique et des télécommunications",
    )
    forum = "UN General Assembly First Committee"
    meeting_doctypes = ("meetings coverage", "couverture des réunions")
    # SOURCES.md: 2-5 s per host.
    custom_settings = {"DOWNLOAD_DELAY": 3}

    def __init__(self, *args, urls: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.extra_urls = [url.strip() for url in urls.split(",") if url.strip()]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        async for request in super().start():
            yield request
        for url in [self.absolute(path) for path in self.archive_paths] + self.extra_urls:
            yield self.request(url, self.parse_document, cb_kwargs={"listing": {}})

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        listing = parse_listing_page(response.text)
        for entry in listing.entries:
            if not mentions_topic(entry.text, self.topic_keywords):
                logger.debug("skipped off-topic meeting title=%r", entry.title)
                continue
            yield self.request(
                self.on_mirror(response.urljoin(entry.href)),
                self.parse_document,
                cb_kwargs={"listing": {"title": entry.title, "date": entry.date}},
            )
        # Drupal can show a pager past the end; an empty page is the end.
        if listing.entries and listing.next_href:
            yield self.request(self.on_mirror(response.urljoin(listing.next_href)), self.parse_listing)

    def parse_document(
        self, response: Response, listing: dict[str, str | None]
    ) -> Iterator[DocumentItem | FetchErrorItem | scrapy.Request]:
        page = parse_press_page(response.text, response.url)
        french = page.translations.get("fr")
        if page.language == "en" and french:
            yield self.request(self.on_mirror(response.urljoin(french)), self.parse_document,
                               cb_kwargs={"listing": {}})
        error = self._rejection(page)
        if error:
            yield FetchErrorItem(url=response.url, reason=error, status=response.status)
            return
        split = split_statements(page.blocks, page.language)
        statements = [s for s in split.statements if s.role != "official"]
        if not statements:
            yield FetchErrorItem(url=response.url, reason="no_statements", status=response.status)
            return
        url = canonical_url(self.base_url, page) or response.url
        for statement in statements:
            yield DocumentItem(
                url=url,
                speaker=statement.speaker,
                text=statement.text,
                date=page.date or listing.get("date"),
                title=f"{page.title or listing.get('title')} — {statement.speaker}",
                forum=self.forum,
                doc_type=statement.doc_type,
                language=page.language,
                speaker_role=statement.role,
                on_behalf_of=statement.on_behalf_of,
                provenance=page.provenance or "secretariat summary",
                symbol=page.symbol,
                source_char_start=statement.start,
                source_char_end=statement.end,
                state=french_state_code(statement.speaker) if page.language == "fr" else None,
            )
        logger.info(
            "meeting split symbol=%s statements=%d officials=%d unattributed=%d",
            page.symbol, len(statements), len(split.statements) - len(statements),
            len(split.unattributed),
        )

    def _rejection(self, page) -> str | None:
        """Why a fetched page gives no statements, or None."""
        if not page.blocks:
            return "empty_text"
        if page.doctype and page.doctype.casefold() not in self.meeting_doctypes:
            return "not_meeting"
        if not mentions_topic(page.title + "\n" + page.body_text, self.topic_keywords):
            return "not_ict"
        return None

    def on_mirror(self, url: str) -> str:
        """The site's own absolute links (Drupal writes them for translations) on the copy in use."""
        if url.startswith(self.default_base_url + "/"):
            return self.base_url + url[len(self.default_base_url):]
        return url
