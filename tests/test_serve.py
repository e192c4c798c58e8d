"""`serve` over real HTTP: restarted when a publish replaces the file, public settings, no orphans."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from db.connection import open_db
from db.publish import publish
from nlp.analyzer import Analyzer
from nlp.process import process
from tests.conftest import REPO, FakeEmbedder, free_port, load_sample_documents


@pytest.fixture(scope="module")
def working(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "work.db"
    db = open_db(path)
    load_sample_documents(db)
    process(db, Analyzer(), FakeEmbedder())
    db.close()
    return path


def fetch_json(url: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def built_at(port: int) -> str:
    rows = fetch_json(f"http://127.0.0.1:{port}/normwatch/releases.json?_shape=array")
    return rows[0]["built_at"]


@contextlib.contextmanager
def serving(published: Path, *options: str):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(REPO / "pipeline.py"), "serve", str(published), "--port", str(port),
         *options],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        yield server, port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)


def datasette_processes(port: int) -> bytes:
    return subprocess.run(["pgrep", "-f", f"datasette serve.*--port {port}"],
                          capture_output=True).stdout


def wait_until_gone(port: int, seconds: float = 20) -> bytes:
    deadline = time.monotonic() + seconds
    while datasette_processes(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    return datasette_processes(port)


def test_a_new_publish_is_served_without_a_manual_restart(working, tmp_path):
    published = publish(working, tmp_path / "normwatch.db", built_at="2026-01-01T00:00:00Z")
    with serving(published) as (server, port):
        assert built_at(port) == "2026-01-01T00:00:00Z"
        publish(working, published, built_at="2026-02-02T00:00:00Z")
        deadline = time.monotonic() + 60
        while built_at(port) != "2026-02-02T00:00:00Z":
            assert time.monotonic() < deadline, "Datasette still serves the replaced file"
            time.sleep(0.5)
        server.terminate()
        assert server.wait(timeout=30) == 0
        assert wait_until_gone(port) == b""


def test_killing_serve_takes_datasette_with_it(working, tmp_path):
    published = publish(working, tmp_path / "normwatch.db")
    with serving(published) as (server, port):
        built_at(port)
        server.send_signal(signal.SIGKILL)  # the parent only: no handler runs
        server.wait(timeout=30)
        assert wait_until_gone(port) == b""


def test_public_mode_tightens_the_limits(working, tmp_path):
    published = publish(working, tmp_path / "normwatch.db")
    with serving(published, "--public") as (_, port):
        settings = fetch_json(f"http://127.0.0.1:{port}/-/settings.json")
        assert settings["sql_time_limit_ms"] == 1000 and settings["max_returned_rows"] == 1000
        assert settings["allow_csv_stream"] is False
        databases = fetch_json(f"http://127.0.0.1:{port}/-/databases.json")
        assert [db["is_mutable"] for db in databases] == [False]
