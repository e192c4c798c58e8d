"""UN General Assembly documents on ICT security, fetched as PDFs by symbol from documents.un.org."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import scrapy
from scrapy.http import Response

from crawler.base_spiders import SourceSpider
from crawler.items import DocumentItem, FetchErrorItem
from crawler.pdf import extract_pdf
from crawler.un_documents_parsing import (
    REPORT,
    SECRETARY_GENERAL,
    Part,
    UnDocument,
    access_url,
    body_problem,
    parse_symbols,
    parse_un_document,
)

LANGUAGE_NAMES = {"ar": "Arabic", "zh": "Chinese", "en": "English", "fr": "French", "ru": "Russian",
                  "es": "Spanish", "de": "German", "pt": "Portuguese", "it": "Italian", "ja": "Japanese"}


class UnDocumentsSpider(SourceSpider):
    """
    Domain
      documents.un.org, `/api/symbol/access?s=<symbol>&l=en&t=pdf` (the symbol percent-encoded,
      slashes as %2F). English versions of General Assembly documents on ICT security:
        A/70/174  report of the 2015 Group of Governmental Experts (the 11 norms)
        A/76/135  report of the 2021 Group of Governmental Experts
        A/76/136  compendium of national contributions on international law (2021), one document
                  per state, each in its language of submission
        A/75/816  final report of the Open-ended Working Group 2019-2021
        A/77/275  first annual progress report of the OEWG 2021-2025
        A/78/265  second annual progress report of the OEWG 2021-2025
        A/66/152, A/68/156  Secretary-General reports "Developments in the field of information and
                  telecommunications in the context of international security" with replies
                  received from Governments, one document per replying state [check symbols]
      Per-state parts: doc_type "national contribution" or "reply to the Secretary-General",
      speaker the heading's country name (resolved later; an unknown name stays unresolved).
      The rest of a document is one "report" spoken by the issuing body (Group of Governmental
      Experts, Open-ended Working Group or Secretary-General), with no state.
    Caveats
      An unknown symbol answers 200 with an empty body: recorded as fetch error "empty_body";
      a body that is not a PDF or is tiny: "not_pdf"; unreadable PDFs: the extractor's reason
      (pdf_encrypted, pdf_no_text for scans, pdf_damaged, pdf_timeout).
      The English edition translates replies: `language` is the text's language, the
      "[Original: X]" language of submission is named in the title (no item field for it yet).
      A reply's date is its own "[30 May 2013]" line, else the document's date.
      Compendium headings are recognised only when the state registry knows the name;
      a contribution under an unknown heading stays inside the previous one.
      source_char_start/end index the normalised extracted PDF text; texts drop page
      furniture (running symbol, job-number footers) and rejoin wrapped lines.
      Two-column PDFs come out column by column, which keeps the reading order.
    Spider arguments
      symbols  comma-separated symbols replacing the list above, e.g. `-a symbols=A/76/136,A/78/265`.
               The setting UN_DOCUMENTS_SYMBOLS does the same where spider arguments cannot be
               passed (`pipeline.py crawl --set`). UN_DOCUMENTS_BASE_URL points at a mirror.
    """

    name = "un_documents"
    # SourceSpider
    base_url_setting = "UN_DOCUMENTS_BASE_URL"
    default_base_url = "https://documents.un.org"
    # UnDocumentsSpider
    symbols: tuple[str, ...] = (
        "A/70/174", "A/76/135", "A/76/136", "A/75/816", "A/77/275", "A/78/265",
        "A/66/152", "A/68/156",
    )
    language = "en"
    forum = "UN General Assembly"
    # SOURCES.md: 2-5 s per host; PDFs are large, stay at the gentle end.
    custom_settings = {"DOWNLOAD_DELAY": 3}

    def __init__(self, *args, symbols: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.symbols_argument = parse_symbols(symbols) if symbols else None

    def wanted_symbols(self) -> tuple[str, ...]:
        configured = self.settings.get("UN_DOCUMENTS_SYMBOLS")
        return self.symbols_argument or (parse_symbols(configured) if configured else self.symbols)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for symbol in self.wanted_symbols():
            url = access_url(self.base_url, symbol, self.language)
            yield self.request(url, self.parse_document, cb_kwargs={"symbol": symbol, "url": url})

    async def parse_document(
        self, response: Response, symbol: str, url: str
    ) -> AsyncIterator[DocumentItem | FetchErrorItem]:
        # `url` is the by-symbol address, kept even if the site redirects to a file URL.
        problem = body_problem(response.body)
        if problem:
            reason, detail = problem
            self.logger.warning("no pdf reason=%s symbol=%s url=%s", reason, symbol, url)
            yield FetchErrorItem(url=url, reason=reason, status=response.status, detail=detail)
            return
        extracted = await asyncio.to_thread(extract_pdf, response.body)
        if not extracted.ok:
            self.logger.warning("pdf unreadable reason=%s symbol=%s", extracted.reason, symbol)
            yield FetchErrorItem(
                url=url, reason=extracted.reason, status=response.status, detail=extracted.detail
            )
            return
        document = parse_un_document(extracted.text, symbol)
        if not document.parts:
            yield FetchErrorItem(url=url, reason="empty_text", status=response.status)
            return
        for part in document.parts:
            yield self.item(url, document, part)

    def item(self, url: str, document: UnDocument, part: Part) -> DocumentItem:
        report = part.kind == REPORT
        title = document.title if report else f"{document.symbol} {part.kind}: {part.speaker}"
        if part.original_language:
            title += f" (original: {LANGUAGE_NAMES.get(part.original_language, part.original_language)})"
        return DocumentItem(
            url=url,
            speaker=part.speaker,
            text=part.text,
            date=part.date or document.date,
            title=title,
            forum=self.forum,
            doc_type=part.kind,
            language=part.language,
            speaker_role=speaker_role(part),
            provenance="synthetic-sample" if document.synthetic else "official",
            sections=part.sections,
            symbol=document.symbol,
            source_char_start=part.source_char_start,
            source_char_end=part.source_char_end,
            original_language=part.original_language,
        )


def speaker_role(part: Part) -> str:
    if part.kind != REPORT:
        return "government"
    return "secretariat" if part.speaker == SECRETARY_GENERAL else "UN body"
