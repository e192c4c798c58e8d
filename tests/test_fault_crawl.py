"""A crawl of 1,000 URLs, a third of them faulty: every URL ends as a document or a recorded error."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
from collections import Counter

import pytest
import sqlite_utils
from w3lib.url import safe_url_string

from crawler.pipelines import GARBAGE_SHARE, garbage_share
from db.reference import state_rows
from tests.conftest import REPO
from tests.fault_server import fault_server, page

pytestmark = pytest.mark.slow

URLS = 1000
SPEAKERS = [row["short_name"] for row in state_rows() if row["un_member"]]
# Faults cycle over every third URL; the value is the reason the URL must end with (None = a document).
FAULTS = {
    "503_once": None, "429_once": None, "cp1252": None, "bom": None,
    "500": "http_500", "404": "http_404", "slow": "timeout", "drop": "connection_lost",
    "garbage": "garbage_text", "huge": "too_large", "gzip_bomb": "too_large",
    "self_redirect": "redirect_loop", "robots": "robots", "duplicate": "duplicate_content",
    "empty": "empty_text",
}


def article(title: str, sentence: str) -> str:
    return (
        f'<html><head><title>{title}</title></head><body><h1 id="firstHeading">{title}</h1>'
        f'<div id="mw-content-text" lang="en"><div class="mw-parser-output">'
        f"<h2><span class=\"mw-headline\">Introduction</span></h2><p>{sentence}</p>"
        f"</div></div></body></html>"
    )


def plan():
    """(path, title, fault, expected sentence) for every document URL."""
    rows = []
    kinds = list(FAULTS)
    for n in range(URLS):
        fault = kinds[(n // 3) % len(kinds)] if n % 3 == 0 else "ok"
        speaker = SPEAKERS[n % len(SPEAKERS)]
        title = f"National position of {speaker} ({1900 + n})"
        prefix = "/private/wiki/" if fault == "robots" else "/wiki/"
        path = prefix + title.replace(" ", "_")
        sentence = f"Statement number {n} holds that sovereignty is a rule of international law."
        if fault == "cp1252":
            sentence = f"El Señor delegado número {n} afirmó que la soberanía es una norma; déjà vu."
        if fault == "bom":
            sentence = f"La délégation numéro {n} estime que le droit international s'applique."
        rows.append((path, title, fault, sentence))
    return rows


def route_for(path, title, fault, sentence, plan_rows):
    html = article(title, sentence)
    if fault in ("ok", "robots"):
        return page(html)
    if fault == "503_once" or fault == "429_once":
        status, headers = (503, {}) if fault == "503_once" else (429, {"Retry-After": "1"})

        def once(handler, hits):
            if hits == 1:
                return status, headers, b"busy"
            return 200, {"Content-Type": "text/html; charset=utf-8"}, html.encode()
        return once
    if fault == "404":
        return None  # no route: the server answers 404
    if fault == "500":
        return page("error", status=500)
    if fault == "slow":
        def slow(handler, hits):
            time.sleep(6)  # well past DOWNLOAD_TIMEOUT, which has slack for a loaded machine
            return 200, {"Content-Type": "text/html; charset=utf-8"}, html.encode()
        return slow
    if fault == "drop":
        return lambda handler, hits: (-1, {}, b"")
    if fault == "garbage":
        noise = bytes((n * 37 + 128) % 256 for n in range(4000))
        return page(html.replace(sentence, "GARBAGE").encode().replace(b"GARBAGE", noise))
    if fault == "cp1252":
        return page(html.encode("cp1252"), content_type="text/html")
    if fault == "bom":
        # The header says Latin-1; the UTF-8 byte order mark is right.
        return page(b"\xef\xbb\xbf" + html.encode("utf-8"), content_type="text/html; charset=iso-8859-1")
    if fault == "huge":
        return page(article(title, sentence + " padding" * 40_000))
    if fault == "gzip_bomb":
        bomb = gzip.compress(b" " * 5_000_000)
        return page(bomb, **{"Content-Encoding": "gzip"})
    if fault == "self_redirect":
        return lambda handler, hits: (302, {"Location": safe_url_string(path)}, b"")
    if fault == "duplicate":
        original = next(r for r in plan_rows if r[2] == "ok")
        return page(article(original[1], original[3]))
    if fault == "empty":
        return page(b"")
    raise AssertionError(fault)


def test_fault_crawl_accounts_for_every_url(tmp_path):
    rows = plan()
    links = "".join(f'<li><a href="{path}" title="{title}">{title}</a></li>' for path, title, _, _ in rows)
    routes = {
        "/robots.txt": page("User-agent: *\nDisallow: /private/\n", content_type="text/plain"),
        "/wiki/Category:National_position": page(f'<div id="mw-pages"><ul>{links}</ul></div>'),
    }
    for path, title, fault, sentence in rows:
        route = route_for(path, title, fault, sentence, rows)
        if route is not None:
            routes[path] = route
    db_path = tmp_path / "faults.db"
    with fault_server(routes) as (base, hits):
        command = [
            sys.executable, "pipeline.py", "--db", str(db_path), "crawl", "ccdcoe_positions",
            "--set", f"CCDCOE_BASE_URL={base}", "--set", "DOWNLOAD_DELAY=0",
            "--set", "AUTOTHROTTLE_ENABLED=False", "--set", "CONCURRENT_REQUESTS=32",
            "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=32", "--set", "DOWNLOAD_TIMEOUT=3",
            "--set", "DOWNLOAD_MAXSIZE=200000", "--set", "RETRY_AFTER_MAX=5",
        ]
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]

    db = sqlite_utils.Database(db_path)
    documents = {row["url"]: row for row in db.query("select url, text from documents")}
    errors = {}
    for row in db.query("select url, reason from fetch_errors"):
        assert row["url"] not in errors, f"two errors for {row['url']}"
        errors[row["url"]] = row["reason"]
    outcome = Counter()
    original = safe_url_string(base + next(path for path, _, fault, _ in rows if fault == "ok"))
    copies = [safe_url_string(base + path) for path, _, fault, _ in rows if fault == "duplicate"]
    # Whichever copy of the same statement arrives first is kept; each later one is an error.
    duplicated = [url for url in [original, *copies] if errors.get(url) == "duplicate_content"]
    assert len(duplicated) == len(copies)
    for path, _, fault, sentence in rows:
        url = safe_url_string(base + path)  # as Scrapy requests it
        in_documents, in_errors = url in documents, url in errors
        assert in_documents != in_errors, f"{fault} {url}: documents={in_documents} errors={in_errors}"
        if url in (original, *copies):
            outcome[fault] += 1
            continue
        expected = FAULTS.get(fault)
        if expected is None:
            assert in_documents, f"{fault} {url} should be a document, got {errors.get(url)}"
            assert sentence in documents[url]["text"]  # exact round trip, accents included
        else:
            assert errors.get(url) == expected, f"{fault} {url}"
        outcome[fault] += 1
    assert len(documents) + len(errors) == URLS
    assert len(errors) == sum(1 for _, _, fault, _ in rows if FAULTS.get(fault)) > URLS // 5
    assert all(garbage_share(row["text"]) <= GARBAGE_SHARE for row in documents.values())
    assert hits["/wiki/Category:National_position"] >= 1
    assert set(outcome) == set(FAULTS) | {"ok"}
