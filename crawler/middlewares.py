"""Downloader middlewares that make Scrapy's defaults safe for a nightly crawl.

Each fixes a trap measured on this stack (../shared/RELIABILITY.md):
- robots.txt that answers 5xx or cannot be fetched means "disallow all"
  (RFC 9309); Scrapy treats both as "allow everything";
- Retry-After on 429/503 is honoured, up to a cap (Scrapy ignores it);
- pages that declare no encoding and are not UTF-8 are read as windows-1252
  (Scrapy guesses cp1250 and turns "Señor" into "Seńor");
and one spider middleware: a callback that raises on a hostile page records a
`parse_error` for that URL instead of losing it in a log line.
"""

from __future__ import annotations

import asyncio
import logging
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.misc import build_from_crawler

from crawler.items import FetchErrorItem

logger = logging.getLogger(__name__)

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Unreachable or failing robots.txt: assume complete disallow (RFC 9309 2.3.1.4)."""

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            logger.warning("robots.txt answered %s: disallowing %s", response.status, netloc)
            response = response.replace(body=DISALLOW_ALL)
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        logger.warning("robots.txt unreachable (%s): disallowing %s", type(exc).__name__, netloc)
        super()._robots_error(exc, netloc)
        self._parsers[netloc] = build_from_crawler(self._parserimpl, self.crawler, DISALLOW_ALL)


class RetryAfterMiddleware(RetryMiddleware):
    """Retry 429/503 after the server's Retry-After delay, when it is under RETRY_AFTER_MAX."""

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("RETRY_AFTER_MAX", 60)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        delay = retry_after_seconds(response) if response.status in (429, 503) else None
        if delay is not None and not request.meta.get("dont_retry", False):
            if delay > self.max_wait:
                logger.warning("Retry-After %.0fs over the cap for %s: giving up", delay, request.url)
                return response
            await asyncio.sleep(delay)
        return super().process_response(request, response)


def retry_after_seconds(response: Response) -> float | None:
    value = (response.headers.get(b"Retry-After") or b"").decode("latin-1").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class Cp1252FallbackMiddleware:
    """Read undeclared, non-UTF-8 text as windows-1252, the usual encoding of such pages."""

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or response._declared_encoding():
            return response
        try:
            response.body.decode("utf-8")
        except UnicodeDecodeError:
            return response.replace(encoding="cp1252")
        return response.replace(encoding="utf-8")


class ParseErrorMiddleware:
    """Spider middleware: an exception in a callback becomes a recorded fetch error."""

    def process_spider_exception(self, response: Response, exception: Exception):
        logger.warning("parse error url=%s error=%r", response.url, exception)
        return [FetchErrorItem(url=response.url, reason="parse_error", status=response.status,
                               detail=f"{type(exception).__name__}: {exception}")]
