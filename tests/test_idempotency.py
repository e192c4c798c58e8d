"""A second full run against the unchanged sample site changes no content."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys

import pytest

import pipeline
from tests.conftest import REPO

pytestmark = pytest.mark.slow

# Run bookkeeping (crawl_runs, fetch_errors) grows by design: each run records itself.
CONTENT = {
    "documents": "id, url, state, date, text_sha256, superseded_in_run, revision_of",
    "sentences": "id, document_id, position, text, char_start, char_end, section",
    "stances": "sentence_id, norm_id, stance, confidence, method, cue",
    "sentence_vectors": "sentence_id, vector",
    "analysed_documents": "document_id, text_sha256, nlp_version",
    "states": "*",
    "norms": "*",
}


def content_hash(path) -> str:
    digest = hashlib.sha256()
    with sqlite3.connect(path) as conn:
        for table, columns in CONTENT.items():
            for row in conn.execute(f"select {columns} from {table} order by 1, 2"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def test_second_full_run_changes_no_content(tmp_path, sample_site):
    settings = [arg for key, value in {**pipeline.SAMPLE_CRAWL_SETTINGS,
                                       **pipeline.sample_base_url_settings(sample_site)}.items()
                for arg in ("--set", f"{key}={value}")]
    command = [sys.executable, "pipeline.py", "--db", str(tmp_path / "w.db"), "run",
               "--out", str(tmp_path / "pub" / "normwatch.db"), *settings]
    first = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    before = content_hash(tmp_path / "pub" / "normwatch.db")

    second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Processed 0 documents" in second.stderr and "Rows changed: 0." in second.stderr
    with sqlite3.connect(tmp_path / "w.db") as conn:
        spiders = len(pipeline.available_spiders())
        latest = conn.execute(f"select documents_new from crawl_runs order by id desc limit {spiders}").fetchall()
    assert latest == [(0,)] * spiders
    assert content_hash(tmp_path / "pub" / "normwatch.db") == before
