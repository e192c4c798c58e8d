"""SIGKILL at random moments during crawl, process and publish never corrupts anything."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

KILLS = 51
STAGE_SECONDS = {"crawl": 2.5, "process": 2.5, "publish": 1.0}  # about a run's length here


def command(db: Path, published: Path, stage: str, base_url: str) -> list[str]:
    base = [sys.executable, str(REPO / "pipeline.py"), "--db", str(db)]
    if stage == "crawl":
        return base + ["crawl", "ccdcoe_positions", "--set", f"CCDCOE_BASE_URL={base_url}",
                       "--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False"]
    if stage == "process":
        return base + ["process", "--no-embed"]
    return base + ["publish", "--out", str(published)]


def run(db: Path, published: Path, stage: str, base_url: str) -> None:
    result = subprocess.run(command(db, published, stage, base_url), cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{stage}: {result.stderr[-2000:]}"


def check_intact(path: Path) -> None:
    if not path.exists():
        return
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def content(path: Path) -> dict[str, set]:
    """What a run produced, without run-specific columns (times, run ids)."""
    with sqlite3.connect(path) as conn:
        return {
            "documents": set(conn.execute("select id, url, state, date, text_sha256 from documents "
                                          "where superseded_in_run is null")),
            "sentences": set(conn.execute("select id, text, char_start, char_end from sentences")),
            "stances": set(conn.execute("select sentence_id, norm_id, stance, confidence from stances")),
            "positions": set(conn.execute("select state, norm_id, stance from positions")),
        }


def test_random_kills_leave_consistent_databases_and_the_same_end_result(tmp_path, sample_site):
    base_url = sample_site["ccdcoe"]
    reference_db, reference_out = tmp_path / "ref" / "w.db", tmp_path / "ref" / "pub" / "nw.db"
    for stage in ("crawl", "process", "publish"):
        run(reference_db, reference_out, stage, base_url)

    db, published = tmp_path / "killed" / "w.db", tmp_path / "killed" / "pub" / "nw.db"
    rng = random.Random(20261201)
    killed_while_running = 0
    for kill in range(KILLS):
        stage = ("crawl", "process", "publish")[kill % 3]
        process = subprocess.Popen(command(db, published, stage, base_url), cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        time.sleep(rng.uniform(0.2, STAGE_SECONDS[stage]))
        if process.poll() is None:
            killed_while_running += 1
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the scrapy child too
        except ProcessLookupError:
            pass  # finished before the kill

        process.wait(timeout=30)
        check_intact(db)
        check_intact(published)  # the old file or the new one, never half of one

    assert killed_while_running >= KILLS // 3  # many kills really interrupted work
    for stage in ("crawl", "process", "publish"):
        run(db, published, stage, base_url)
    check_intact(published)
    assert content(published) == content(reference_out)
