"""Two runs never write at once: the second exits with a message, not a traceback."""

from __future__ import annotations

import subprocess
import sys

from db.lock import exclusive
from tests.conftest import REPO


def test_second_writer_exits_cleanly_while_the_first_holds_the_lock(tmp_path):
    db_path = tmp_path / "w.db"
    with exclusive(db_path):
        for args in (["process", "--no-embed"], ["crawl", "ccdcoe_positions"], ["run"]):
            result = subprocess.run(
                [sys.executable, "pipeline.py", "--db", str(db_path), *args],
                cwd=REPO, capture_output=True, text=True, timeout=120,
            )
            assert result.returncode == 1, args
            assert "another NormWatch run is writing to" in result.stderr
            assert "Traceback" not in result.stderr
    after = subprocess.run(
        [sys.executable, "pipeline.py", "--db", str(db_path), "process", "--no-embed"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert after.returncode == 0, after.stderr  # released with the holder
