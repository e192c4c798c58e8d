"""Crawler safety nets: robots.txt failures, Retry-After, undeclared encodings (RELIABILITY.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlite_utils
from scrapy.http import HtmlResponse, Request, Response

from crawler.middlewares import Cp1252FallbackMiddleware, retry_after_seconds
from tests.conftest import CCDCOE_PAGES, REPO
from tests.fault_server import fault_server, page

LISTING = (CCDCOE_PAGES / "Category:National_position.html").read_text(encoding="utf-8")
KENYA = (CCDCOE_PAGES / "National_position_of_Kenya_(2021).html").read_text(encoding="utf-8")
KENYA_PATH = "/wiki/National_position_of_Kenya_(2021)"


def listing_of_kenya_only() -> str:
    start = LISTING.index('<div id="mw-pages">')
    return LISTING[:start] + f'<div id="mw-pages"><ul><li><a href="{KENYA_PATH}" ' \
        'title="National position of Kenya (2021)">Kenya</a></li></ul></div></body></html>'


def crawl(db_path, base_url):
    command = [
        sys.executable, "pipeline.py", "--db", str(db_path), "crawl", "ccdcoe_positions",
        "--set", f"CCDCOE_BASE_URL={base_url}", "--set", "DOWNLOAD_DELAY=0",
        "--set", "AUTOTHROTTLE_ENABLED=False", "--set", "RETRY_AFTER_MAX=5",
    ]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize("robots", [page("busy", status=503), lambda handler, hits: (-1, {}, b"")])
def test_unavailable_robots_txt_means_disallow(tmp_path, robots):
    routes = {"/robots.txt": robots, "/wiki/Category:National_position": page(listing_of_kenya_only())}
    with fault_server(routes) as (base, hits):
        crawl(tmp_path / "w.db", base)
    db = sqlite_utils.Database(tmp_path / "w.db")
    assert db["documents"].count == 0
    errors = list(db.query("select url, reason from fetch_errors"))
    assert errors == [{"url": f"{base}/wiki/Category:National_position", "reason": "robots"}]
    assert "/wiki/Category:National_position" not in hits


@pytest.mark.slow
def test_retry_after_is_waited_out_and_the_page_kept(tmp_path):
    def rate_limited_once(handler, hits):
        if hits == 1:
            return 429, {"Retry-After": "1"}, b"slow down"
        return 200, {"Content-Type": "text/html; charset=utf-8"}, KENYA.encode()

    routes = {
        "/robots.txt": page("User-agent: *\nAllow: /\n", content_type="text/plain"),
        "/wiki/Category:National_position": page(listing_of_kenya_only()),
        KENYA_PATH: rate_limited_once,
    }
    with fault_server(routes) as (base, hits):
        result = crawl(tmp_path / "w.db", base)
    assert result.returncode == 0, result.stderr
    db = sqlite_utils.Database(tmp_path / "w.db")
    assert [row["state"] for row in db.query("select state from documents")] == ["KEN"]
    assert db["fetch_errors"].count == 0
    assert hits[KENYA_PATH] == 2


def test_retry_after_forms():
    def response(value):
        return Response("http://x", status=429, headers={"Retry-After": value} if value else {})

    assert retry_after_seconds(response("7")) == 7
    assert retry_after_seconds(response("Wed, 21 Oct 2015 07:28:00 GMT")) == 0  # in the past
    assert retry_after_seconds(response(None)) is None
    assert retry_after_seconds(response("soon")) is None


def test_undeclared_windows_1252_is_read_as_such():
    body = "<html><body><p>Señor Presidente, la délégation française</p></body></html>".encode("cp1252")
    response = HtmlResponse("http://x/es", body=body, headers={"Content-Type": "text/html"})
    fixed = Cp1252FallbackMiddleware().process_response(Request("http://x/es"), response)
    assert "Señor Presidente, la délégation française" in fixed.text


def test_declared_encoding_is_left_alone():
    body = "<p>Señor</p>".encode("utf-8")
    response = HtmlResponse("http://x", body=body, headers={"Content-Type": "text/html; charset=utf-8"})
    assert Cp1252FallbackMiddleware().process_response(Request("http://x"), response) is response


def test_a_callback_exception_becomes_a_recorded_parse_error():
    from crawler.items import FetchErrorItem
    from crawler.middlewares import ParseErrorMiddleware

    response = HtmlResponse("http://x/page", body=b"<p>x</p>", status=200)
    (item,) = ParseErrorMiddleware().process_spider_exception(response, KeyError("title"))
    assert item == FetchErrorItem(url="http://x/page", reason="parse_error", status=200,
                                  detail="KeyError: 'title'")
