"""The few base classes NormWatch spiders are declared on.

A spider module should be almost pure declaration: class attributes under
comments naming the base class that reads them, plus one `parse_document`.

- `SourceSpider`: every spider. Reads `base_url_setting`; makes requests whose
  failures become `FetchErrorItem`s, so every URL ends as a document or an error.
- `ListingSpider`: sources that list their documents on index pages. Reads
  `listing_paths`, `item_link_css`, `item_title_pattern`, `next_page_css`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import urljoin

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from crawler.items import DocumentItem, FetchErrorItem
from db.store import known_document_urls

_FAILURE_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (DownloadCancelledError, "too_large"),  # over DOWNLOAD_MAXSIZE
    (DownloadTimeoutError, "timeout"),
    (CannotResolveHostError, "dns"),
    (DownloadConnectionRefusedError, "connection_refused"),
    (ResponseDataLossError, "data_loss"),
    (DownloadFailedError, "connection_lost"),
    (DNSLookupError, "dns"),
    (TimeoutError, "timeout"),
    (TCPTimedOutError, "timeout"),
    (ConnectionRefusedError, "connection_refused"),
    (ConnectionLost, "connection_lost"),
    (IgnoreRequest, "ignored"),
)


def failure_reason(failure: Failure) -> tuple[str, int | None]:
    """A short reason code (and HTTP status) for a failed request."""
    if failure.check(HttpError):
        status = failure.value.response.status
        return f"http_{status}", status
    for exception_type, reason in _FAILURE_REASONS:
        if failure.check(exception_type):
            if reason == "ignored" and "robots.txt" in str(failure.value):
                return "robots", None
            if reason == "ignored" and "max redirections" in str(failure.value):
                return "redirect_loop", None
            if reason == "ignored" and "DOWNLOAD_MAXSIZE" in str(failure.value):
                return "too_large", None  # a compressed body that inflates past the limit
            return reason, None
    return "error", None


class SourceSpider(scrapy.Spider):
    """Base of every NormWatch spider.

    Subclasses set:
      base_url_setting -- the setting that can override the site's base URL;
                          named `<SAMPLE FOLDER>_BASE_URL` (e.g. UN_PRESS_BASE_URL for
                          crawler/sample_site/un_press/), so the demo and the tests can
                          point every spider at its mirror on 127.0.0.1
      default_base_url -- the real site
    """

    base_url_setting: ClassVar[str]
    default_base_url: ClassVar[str]

    @property
    def base_url(self) -> str:
        return (self.settings.get(self.base_url_setting) or self.default_base_url).rstrip("/")

    def absolute(self, path: str) -> str:
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def request(self, url: str, callback, **kwargs: Any) -> scrapy.Request:
        """A request whose failure is recorded as a FetchErrorItem."""
        return scrapy.Request(url, callback=callback, errback=self.record_failure, **kwargs)

    def record_failure(self, failure: Failure) -> Iterator[FetchErrorItem]:
        reason, status = failure_reason(failure)
        self.logger.warning("fetch failed reason=%s url=%s", reason, failure.request.url)
        yield FetchErrorItem(
            url=failure.request.url, reason=reason, status=status, detail=repr(failure.value)
        )


class ListingSpider(SourceSpider):
    """Sources whose documents are linked from index pages.

    Subclasses set:
      listing_paths      -- paths of the index pages, relative to the base URL
      item_link_css      -- selector for document links on an index page
      item_title_pattern -- regex the link text must match; its named groups
                            reach `parse_document` as `listing`
      next_page_css      -- selector for the next index page, or None
    and implement `parse_document(response, listing)`.

    Listings are walked newest first. Every document linked from a visited
    index page is requested (unchanged ones revalidate cheaply through the HTTP
    cache, edited ones become revisions), but the walk stops paginating at the
    first index page that links a document already in the database.
    """

    listing_paths: ClassVar[tuple[str, ...]]
    item_link_css: ClassVar[str]
    item_title_pattern: ClassVar[re.Pattern[str]]
    next_page_css: ClassVar[str | None] = None

    _known_urls: frozenset[str] | None = None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for path in self.listing_paths:
            yield self.request(self.absolute(path), self.parse_listing)

    @property
    def known_urls(self) -> frozenset[str]:
        # Read at the first listing, when the pipeline has opened this run's crawl_runs row.
        if self._known_urls is None:
            settings = getattr(self, "settings", None)  # none for a spider made without a crawler
            database = settings.get("NORMWATCH_DB") if settings else None
            self._known_urls = frozenset(known_document_urls(database, self.name))
        return self._known_urls

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        reached_known = False
        for link in response.css(self.item_link_css):
            label = (link.root.get("title") or link.css("::text").get() or "").strip()
            match = self.item_title_pattern.match(label)
            href = link.root.get("href")
            if match and href:
                url = response.urljoin(href)
                reached_known = reached_known or url in self.known_urls
                yield self.request(url, self.parse_document, cb_kwargs={"listing": match.groupdict()})
        next_link = response.css(self.next_page_css) if self.next_page_css else None
        next_href = next_link[0].root.get("href") if next_link else None
        if next_href and reached_known:
            self.logger.info("stopping at known items listing=%s", response.url)
        elif next_href:
            yield self.request(response.urljoin(next_href), self.parse_listing)

    def parse_document(
        self, response: Response, listing: dict[str, str]
    ) -> Iterator[DocumentItem | FetchErrorItem]:
        raise NotImplementedError
