"""Statements to the OEWGs on ICT security from the UNODA Meetings Place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response

from crawler.base_spiders import SourceSpider
from crawler.items import DocumentItem, FetchErrorItem
from crawler.pdf import extract_pdf
from crawler.text import detect_language
from crawler.unoda_parsing import (
    ListingEntry,
    attribute,
    forum_from_heading,
    is_statement,
    parse_meeting_page,
    statement_text,
)


class UnodaOewgSpider(SourceSpider):
    """
    Domain
      meetings.unoda.org (listings) and docs-library.unoda.org (PDFs): statements delivered to
      the OEWG 2019-2021 and the OEWG 2021-2025. For each meeting in `meetings`, the pages
      `/meeting/<id>/documents` (and `?page=N` while a next link is shown) list documents as
      `<article>`s: title link `h5 > a`, then divs with the type and the date. Entries whose type
      is a statement are fetched; agendas, programmes of work, lists of participants are skipped.
      One document per speaker: the delegation, the group (EU, NAM, African Group...) or the
      delivering state ("Indonesia on behalf of the Non-Aligned Movement"), a stakeholder; a joint
      statement gives one document per listed state, same text, doc_type "joint statement".
    Caveats
      The speaker comes from the listing title, never from the PDF's file name. Date from the
      listing; language detected from the text (statements come in the language delivered).
      Structure provisional [check]: the article markup, the pager (`a[rel=next]`), the date
      format, the type labels ("Statements", "Stakeholder statement"), and the meeting ids:
      `meetings` holds PLACEHOLDER ids (those of the sample site); fill in the real ids of the
      substantive sessions from meetings.unoda.org before a real crawl (a public scraper cites
      /meeting/57871/documents for the OEWG 2021-2025 [check]). A PDF without a text layer, an
      encrypted or damaged PDF ends as a fetch error with the PdfText reason.
    Spider arguments
      meetings: comma-separated meeting ids to crawl instead of `meetings`
        (`-a meetings=57871,12345`); the forum of an id not in `meetings` is read from
        the meeting page's heading. Setting UNODA_BASE_URL points the spider at another copy
        of the site (the sample site); PDF links are followed wherever they point.
    """

    name = "unoda_oewg"
    # SourceSpider
    base_url_setting = "UNODA_BASE_URL"
    default_base_url = "https://meetings.unoda.org"
    # This spider: meeting id -> forum. PLACEHOLDER ids, see Caveats.
    meetings: ClassVar[dict[str, str]] = {
        "placeholder-oewg-2019-2021-s2": "OEWG 2019-2021",
        "placeholder-oewg-2021-2025-s3": "OEWG 2021-2025",
        "placeholder-oewg-2021-2025-s11": "OEWG 2021-2025",
    }
    # SOURCES.md: 2-5 s per host; the PDFs sit on a second host with its own slot.
    custom_settings = {"DOWNLOAD_DELAY": 3}

    def __init__(self, *args: Any, meetings: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen = [m.strip() for m in meetings.split(",")] if meetings else list(self.meetings)
        self.meeting_ids = [m for m in chosen if m]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for meeting_id in self.meeting_ids:
            if meeting_id.startswith("placeholder-") and self.base_url == self.default_base_url:
                self.logger.warning(
                    "meeting id is a placeholder; set the real id meeting=%s", meeting_id
                )
            url = self.absolute(f"/meeting/{meeting_id}/documents")
            yield self.request(url, self.parse_meeting, cb_kwargs={"meeting_id": meeting_id})

    def parse_meeting(self, response: Response, meeting_id: str) -> Iterator[scrapy.Request]:
        page = parse_meeting_page(response.text)
        forum = self.meetings.get(meeting_id) or forum_from_heading(page.heading)
        for entry in page.entries:
            if not is_statement(entry.type_label):
                self.logger.debug("not a statement type=%r title=%r", entry.type_label, entry.title)
                continue
            yield self.request(
                response.urljoin(entry.href),
                self.parse_statement,
                cb_kwargs={"entry": entry, "forum": forum},
            )
        # An empty page ends the listing even if a pager is still shown.
        if page.entries and page.next_href:
            next_url = response.urljoin(page.next_href)
            yield self.request(next_url, self.parse_meeting, cb_kwargs={"meeting_id": meeting_id})

    async def parse_statement(
        self, response: Response, entry: ListingEntry, forum: str | None
    ) -> AsyncIterator[DocumentItem | FetchErrorItem]:
        pdf = await asyncio.to_thread(extract_pdf, response.body)
        if not pdf.ok:
            self.logger.warning("no text reason=%s url=%s", pdf.reason, response.url)
            yield FetchErrorItem(
                url=response.url, reason=pdf.reason, status=response.status, detail=pdf.detail
            )
            return
        statement = statement_text(pdf.text)
        language = detect_language(statement.body or statement.text)
        for speaker in attribute(entry.title, entry.type_label):
            yield DocumentItem(
                url=response.url,
                speaker=speaker.speaker,
                text=statement.text,
                date=entry.date,
                title=entry.title,
                forum=forum,
                doc_type=speaker.doc_type,
                language=language,
                speaker_role=speaker.speaker_role,
                on_behalf_of=speaker.on_behalf_of,
                provenance="synthetic-sample" if statement.synthetic else "official",
                source_char_start=0,
                source_char_end=len(statement.text),
                aligned_states=list(speaker.aligned_states),
            )
