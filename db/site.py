"""Serving the published database with Datasette."""

from __future__ import annotations

import contextlib
import copy
import ctypes
import json
import logging
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml

from db.vectors import LIVE_SIMILAR_SQL

logger = logging.getLogger(__name__)
CONFIG_DIR = Path(__file__).resolve().parents[1] / "datasette_config"
METADATA_TEMPLATE = CONFIG_DIR / "metadata.yml"
TEMPLATE_DATABASE = "normwatch"
SYNTHETIC_NOTICE = (
    "<p><strong>SYNTHETIC SAMPLE DATA.</strong> The statements in this database were written by "
    "the NormWatch project to demonstrate the tool. They are not the words of the states named "
    "and must not be cited.</p>"
)


def metadata_for(db_path: Path) -> dict:
    """The metadata template, keyed by this file's database name, flagged when synthetic."""
    template = yaml.safe_load(METADATA_TEMPLATE.read_text(encoding="utf-8"))
    metadata = copy.deepcopy(template)
    name = db_path.stem
    metadata["databases"] = {name: template["databases"][TEMPLATE_DATABASE]}
    for link in ("/", ".db"):  # links to pages and to the download
        metadata["description_html"] = metadata["description_html"].replace(
            f"/{TEMPLATE_DATABASE}{link}", f"/{name}{link}"
        )
    # One SQL text for the canned query and db.vectors.knn, so they cannot disagree.
    metadata["databases"][name]["queries"]["similar_live"] = {
        "title": "Similar statements, live search",
        "description": "For a sentence id, its 10 nearest sentences among all sentences of all "
        "speakers, searched now in the sqlite-vec index (needs the sqlite-vec extension; "
        "similar_statements gives precomputed neighbours without it).",
        "sql": LIVE_SIMILAR_SQL,
    }
    if holds_synthetic_data(db_path):
        metadata["title"] += " (synthetic sample data)"
        metadata["description_html"] = SYNTHETIC_NOTICE + metadata["description_html"]
    return metadata


def table_descriptions() -> dict[str, dict]:
    """table -> {"description", "columns": {column: description}} from the site metadata."""
    template = yaml.safe_load(METADATA_TEMPLATE.read_text(encoding="utf-8"))
    return template["databases"][TEMPLATE_DATABASE]["tables"]


def holds_synthetic_data(db_path: Path) -> bool:
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        row = conn.execute(
            "SELECT 1 FROM documents WHERE provenance = 'synthetic-sample' LIMIT 1"
        ).fetchone()
    return row is not None


# Local browsing and the demo; --public tightens these for an Internet-facing server.
# suggest_facets off: suggesting means a trial GROUP BY per column on every table page
# (bench/site.py at 1M sentences: a search page 1,271 -> 273 ms, a facet page 1,677 -> 215 ms).
LOCAL_SETTINGS = {"sql_time_limit_ms": 3000, "max_returned_rows": 2000, "suggest_facets": "off"}
PUBLIC_SETTINGS = {
    "suggest_facets": "off",
    "sql_time_limit_ms": 1000,
    "max_returned_rows": 1000,
    "facet_time_limit_ms": 200,
    "num_sql_threads": 3,
    "allow_csv_stream": "off",  # no unbounded exports from a public server
    "force_https_urls": "on",  # behind a TLS-terminating reverse proxy
}
WATCH_INTERVAL_S = 2.0


def datasette_kwargs(db_path: Path) -> dict:
    """What `Datasette(...)` needs for this site: used by serve and the tests alike."""
    return {
        "files": [],
        "immutables": [str(db_path)],
        "metadata": metadata_for(db_path),
        "plugins_dir": str(CONFIG_DIR / "plugins"),
        "template_dir": str(CONFIG_DIR / "templates"),
    }


def datasette_command(db_path: Path, host: str, port: int, public: bool = False) -> list[str]:
    """The `datasette serve` command line for a published file, after writing its
    metadata and inspect files beside it."""
    metadata_file = db_path.with_name(f"{db_path.stem}.metadata.json")
    metadata_file.write_text(json.dumps(metadata_for(db_path), indent=2), encoding="utf-8")
    inspect_file = db_path.with_name(f"{db_path.stem}.inspect.json")
    datasette = [sys.executable, "-m", "datasette"]
    subprocess.run(
        [*datasette, "inspect", str(db_path), "--inspect-file", str(inspect_file)], check=True
    )
    settings = PUBLIC_SETTINGS if public else LOCAL_SETTINGS
    return [
        *datasette, "serve", "-i", str(db_path),
        "--inspect-file", str(inspect_file),
        "--metadata", str(metadata_file),
        "--plugins-dir", str(CONFIG_DIR / "plugins"),
        "--template-dir", str(CONFIG_DIR / "templates"),
        "--host", host, "--port", str(port),
        *[arg for key, value in settings.items() for arg in ("--setting", key, str(value))],
    ]


def serve(db_path: Path, host: str = "127.0.0.1", port: int = 8001, public: bool = False) -> None:
    """Run Datasette on the published file, restarting it whenever a publish replaces
    the file: open connections keep reading the old file after os.replace.

    Datasette dies with this process (PR_SET_PDEATHSIG), so killing the server
    never leaves an orphan holding the port and the old file.
    """
    # SIGTERM unwinds through the finally below, so Datasette is stopped and waited for.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        published = _identity(db_path)
        server = subprocess.Popen(datasette_command(db_path, host, port, public),
                                  preexec_fn=_die_with_parent)
        try:
            while server.poll() is None:
                time.sleep(WATCH_INTERVAL_S)
                if _identity(db_path) not in (published, None):
                    break
            else:
                raise SystemExit(server.returncode)
        finally:
            _stop(server)
        logger.warning("published file replaced: restarting Datasette path=%s", db_path)


def _identity(path: Path) -> tuple[int, int] | None:
    """Inode and mtime: os.replace gives the path a new inode."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None  # mid-replace: wait for the new file
    return stat.st_ino, stat.st_mtime_ns


def _die_with_parent() -> None:
    PR_SET_PDEATHSIG = 1  # linux/prctl.h
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
