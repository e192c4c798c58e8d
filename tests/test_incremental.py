"""Incremental crawls: conditional requests, unchanged pages write nothing, edits become revisions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import sqlite_utils

from crawler.sample_server import SAMPLE_ROOT, serve_sample_site
from tests.conftest import REPO, position_pages

pytestmark = pytest.mark.slow


def crawl(db_path, base_url):
    command = [
        sys.executable, "pipeline.py", "--db", str(db_path), "crawl", "ccdcoe_positions",
        "--set", f"CCDCOE_BASE_URL={base_url}",
        "--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False",
    ]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def test_recrawl_revalidates_and_an_edit_gives_one_revision(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SAMPLE_ROOT / "ccdcoe", site / "ccdcoe")
    db_path = tmp_path / "work.db"
    with serve_sample_site(site) as base_urls:
        crawl(db_path, base_urls["ccdcoe"])
        crawl(db_path, base_urls["ccdcoe"])
        db = sqlite_utils.Database(db_path)
        second = db["crawl_runs"].get(2)
        stats = json.loads(second["stats"])
        assert second["documents_new"] == 0
        assert stats.get("httpcache/revalidate", 0) >= len(position_pages())
        # "revalidate": the server answered 304 Not Modified and the cached copy was used.
        assert stats.get("httpcache/invalidate", 0) == 0
        assert db["documents"].count == len(position_pages())

        page = site / "ccdcoe" / "wiki" / "National_position_of_Kenya_(2021).html"
        html = page.read_text(encoding="utf-8")
        page.write_text(html.replace("</blockquote>", "<p>An added sentence on capacity.</p></blockquote>", 1),
                        encoding="utf-8")
        crawl(db_path, base_urls["ccdcoe"])

    third = db["crawl_runs"].get(3)
    assert (third["documents_new"], third["documents_seen"]) == (1, len(position_pages()))
    kenya = list(db.query("select id, superseded_in_run, revision_of from documents where state = 'KEN' order by fetched_at"))
    assert len(kenya) == 2
    old, new = sorted(kenya, key=lambda row: row["superseded_in_run"] is None)
    assert old["superseded_in_run"] == 3 and new["superseded_in_run"] is None
    assert new["revision_of"] == old["id"]
    assert db.execute("select count(*) from documents where superseded_in_run is not null").fetchone()[0] == 1


@pytest.mark.parametrize(("previous_reason", "known"), [("finished", True), (None, False), ("shutdown", False)])
def test_listing_walk_stops_early_only_after_a_clean_run(tmp_path, previous_reason, known):
    """A killed run (no finish) or a failed one can leave a listing page half harvested."""
    from db.connection import open_db
    from db.store import finish_crawl_run, known_document_urls, start_crawl_run

    db = open_db(tmp_path / "w.db")
    previous = start_crawl_run(db, "ccdcoe_positions", {})
    db["documents"].insert({"id": "d1", "url": "https://example.invalid/a", "text": "t",
                            "spider": "ccdcoe_positions", "provenance": "synthetic-sample"})
    if previous_reason:
        finish_crawl_run(db, previous, reason=previous_reason, new=1, seen=1, errors=0)
    start_crawl_run(db, "ccdcoe_positions", {})  # the run that is walking now
    db.close()
    urls = known_document_urls(str(tmp_path / "w.db"), "ccdcoe_positions")
    assert urls == ({"https://example.invalid/a"} if known else set())
