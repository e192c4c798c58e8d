"""Real Scrapy crawls (in subprocesses) of the sample site served on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlite_utils

from tests.conftest import REPO, position_pages

pytestmark = pytest.mark.slow


def crawl(db_path, base_url: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "pipeline.py", "--db", str(db_path), "crawl", "ccdcoe_positions",
        "--set", f"CCDCOE_BASE_URL={base_url}",
        "--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False",
    ]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_crawl_stores_every_position_then_recrawl_writes_nothing_new(tmp_path, sample_site):
    db_path = tmp_path / "crawl.db"
    first = crawl(db_path, sample_site["ccdcoe"])
    assert first.returncode == 0, first.stderr
    db = sqlite_utils.Database(db_path)
    documents = list(db.query("SELECT * FROM documents ORDER BY title"))
    assert len(documents) == len(position_pages())
    assert {d["state"] for d in documents} >= {"FRA", "GBR", "NLD", "DEU", "BRA", "KEN", "JPN", "IRN", "AU"}
    assert all(d["provenance"] == "synthetic-sample" for d in documents)
    assert all(d["url"].startswith(sample_site["ccdcoe"]) for d in documents)
    assert all(d["spider"] == "ccdcoe_positions" and d["crawl_run_id"] == 1 for d in documents)
    run = db["crawl_runs"].get(1)
    assert (run["finish_reason"], run["documents_new"], run["errors"]) == ("finished", 10, 0)
    rows_before = db.execute("SELECT count(*) FROM documents").fetchone()[0]

    second = crawl(db_path, sample_site["ccdcoe"])
    assert second.returncode == 0, second.stderr
    run = db["crawl_runs"].get(2)
    assert (run["documents_new"], run["documents_seen"]) == (0, len(position_pages()))
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == rows_before


def test_missing_listing_is_recorded_and_fails_the_command(tmp_path, sample_site):
    db_path = tmp_path / "crawl.db"
    result = crawl(db_path, sample_site["ccdcoe"] + "/no-such-mirror")
    db = sqlite_utils.Database(db_path)
    errors = list(db.query("SELECT url, reason, status FROM fetch_errors"))
    assert errors == [
        {
            "url": sample_site["ccdcoe"] + "/no-such-mirror/wiki/Category:National_position",
            "reason": "http_404",
            "status": 404,
        }
    ]
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
    assert result.returncode == 0  # the run itself finished; the error is on record
    assert "1 errors" in result.stderr


def test_unknown_spider_is_a_usage_error(tmp_path):
    command = [sys.executable, "pipeline.py", "--db", str(tmp_path / "x.db"), "crawl", "nope"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "unknown spider" in result.stderr


def test_scrapy_list_from_repo_root():
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "ccdcoe_positions" in result.stdout.split()
