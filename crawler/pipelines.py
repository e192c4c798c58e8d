"""Item pipelines: small, one job each."""

from __future__ import annotations

import logging
import re
from collections import defaultdict

from scrapy import signals

from crawler.items import DocumentItem, FetchErrorItem
from db import store
from db.connection import open_db
from db.states import registry

logger = logging.getLogger(__name__)

# Documents are written in batches: one transaction per page would make SQLite
# the crawl's bottleneck. A killed run loses at most one batch, refetched next time.
BATCH_SIZE = 50

# Text with more than this share of replacement or control characters is binary
# garbage served as text (RELIABILITY.md item 4), not a statement.
GARBAGE_SHARE = 0.05


def document_from_item(item: DocumentItem, spider: str, run_id: int | None) -> store.Document:
    return store.Document(
        text=item.text,
        url=item.url,
        state=item.state,
        speaker=item.speaker,
        date=item.date,
        title=item.title,
        forum=item.forum,
        doc_type=item.doc_type,
        language=item.language,
        speaker_role=item.speaker_role,
        on_behalf_of=item.on_behalf_of,
        sections=item.sections,
        symbol=item.symbol,
        source_char_start=item.source_char_start,
        source_char_end=item.source_char_end,
        original_language=item.original_language,
        aligned_states=[registry().resolve(name) or name for name in item.aligned_states],
        spider=spider,
        provenance=item.provenance,
        crawl_run_id=run_id,
    )


# Replacement characters, control characters but tab and newline, private use.
_UNREADABLE = re.compile("[\ufffd\x00-\x08\x0b-\x1f\x7f-\x9f\ue000-\uf8ff]")


def garbage_share(text: str) -> float:
    if not text:
        return 1.0
    return len(_UNREADABLE.findall(text)) / len(text)


# Speaker roles that are never states: an unresolved speaker with one is expected.
NOT_STATES = ("group", "stakeholder", "official", "observer", "UN body", "secretariat")


class ResolveStatePipeline:
    """Map the speaker's name to an iso3 code; an unknown speaker stays unresolved."""

    def process_item(self, item):
        if isinstance(item, DocumentItem) and item.state is None:
            item.state = registry().resolve(item.speaker)
            # Groups (NAM, African Group) and stakeholders are not states: expected, not a warning.
            if item.state is None and item.speaker_role not in NOT_STATES:
                logger.warning("unresolved speaker speaker=%r url=%s", item.speaker, item.url)
        return item


class StorePipeline:
    """Write documents and fetch errors to the working database and record the run.

    Every URL ends as documents or a fetch error: requests dropped before
    download (a page redirecting to itself, a duplicate) are recorded from
    Scrapy's `request_dropped` signal.
    """

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.db_path = crawler.settings.get("NORMWATCH_DB")
        self.new = self.seen = self.errors = 0
        self.seen_by_url: dict[str, set[str]] = defaultdict(set)
        self.pending: list[store.Document] = []
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.db = open_db(self.db_path)
        base_url = getattr(spider, "base_url", None)
        self.run_id = store.start_crawl_run(self.db, spider.name, {"base_url": base_url})
        logger.info("crawl run started run_id=%s db=%s", self.run_id, self.db_path)

    def process_item(self, item):
        if isinstance(item, DocumentItem):
            self._store_document(item)
        elif isinstance(item, FetchErrorItem):
            self._store_error(item)
        return item

    def _store_document(self, item: DocumentItem) -> None:
        if not item.text.strip():
            self._store_error(FetchErrorItem(url=item.url, reason="empty_text"))
            return
        share = garbage_share(item.text)
        if share > GARBAGE_SHARE:
            self._store_error(
                FetchErrorItem(url=item.url, reason="garbage_text", detail=f"{share:.0%} unreadable")
            )
            return
        document = document_from_item(item, self.crawler.spider.name, self.run_id)
        original = self._duplicate_of(document)
        if original:
            self._store_error(FetchErrorItem(url=item.url, reason="duplicate_content",
                                             detail=f"same text as document {original}"))
            return
        self.seen += 1
        self.seen_by_url[document.url].add(document.id)
        self.pending.append(document)
        if len(self.pending) >= BATCH_SIZE:
            self._flush()

    def _duplicate_of(self, document: store.Document) -> str | None:
        for waiting in self.pending:
            if (waiting.text_sha256, waiting.state or waiting.speaker) == (
                document.text_sha256, document.state or document.speaker
            ) and waiting.url != document.url:
                return waiting.id
        return store.duplicate_of(self.db, document)

    def _flush(self) -> None:
        self.new += store.insert_documents(self.db, self.pending)
        self.pending = []

    def _store_error(self, item: FetchErrorItem) -> None:
        self.errors += 1
        store.record_fetch_error(
            self.db,
            url=item.url,
            reason=item.reason,
            status=item.status,
            detail=item.detail,
            crawl_run_id=self.run_id,
        )

    def request_dropped(self, request, spider=None) -> None:
        # A redirect back to a URL already seen is a loop (RELIABILITY.md item 3).
        redirects = request.meta.get("redirect_urls") or []
        reason = "redirect_loop" if redirects else "dropped_duplicate"
        url = redirects[0] if redirects else request.url
        self._store_error(FetchErrorItem(url=url, reason=reason))

    def spider_closed(self, spider, reason: str) -> None:
        self._flush()
        if reason == "finished":
            # Only a complete run knows which documents a refetched page no longer has.
            store.supersede_revised(self.db, self.run_id, self.seen_by_url)
        stats = {
            key: value
            for key, value in self.crawler.stats.get_stats().items()
            if key.startswith(("downloader/response_status_count", "httpcache/", "retry/",
                               "robotstxt/", "item_scraped_count", "log_count/ERROR",
                               "elapsed_time_seconds", "response_received_count"))
        }
        store.finish_crawl_run(
            self.db, self.run_id, reason=reason, new=self.new, seen=self.seen,
            errors=self.errors, stats=stats,
        )
        logger.info(
            "crawl run finished run_id=%s reason=%s new=%s seen=%s errors=%s",
            self.run_id, reason, self.new, self.seen, self.errors,
        )
        self.db.close()
