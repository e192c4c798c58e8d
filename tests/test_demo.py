"""End to end: `pipeline.py demo` (real crawl, real model), then Datasette served over HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import REPO, free_port

pytestmark = pytest.mark.slow


def wait_for(url: str, seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_demo_builds_then_serve_answers_over_http(tmp_path):
    build = subprocess.run(
        [sys.executable, str(REPO / "pipeline.py"), "demo", "--no-serve"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stderr
    assert "SYNTHETIC" in build.stderr
    published = tmp_path / "data" / "demo" / "normwatch.db"
    assert published.is_file()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(REPO / "pipeline.py"), "serve", str(published), "--port", str(port)],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        body = wait_for(f"http://127.0.0.1:{port}/normwatch/positions.json?_shape=array&_size=max")
        rows = json.loads(body)
        assert len({row["state"] for row in rows}) >= 6
        home = wait_for(f"http://127.0.0.1:{port}/").decode()
        assert "SYNTHETIC SAMPLE DATA" in home
        # Stopping `serve` stops Datasette: no orphan keeps serving an old file.
        server.terminate()
        server.wait(timeout=30)
        assert subprocess.run(["pgrep", "-f", f"--port {port}"], capture_output=True).stdout == b""
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
