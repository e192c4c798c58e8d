"""Serving the published database with Datasette."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml

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
    metadata["description_html"] = metadata["description_html"].replace(
        f"/{TEMPLATE_DATABASE}/", f"/{name}/"
    )
    if holds_synthetic_data(db_path):
        metadata["title"] += " (synthetic sample data)"
        metadata["description_html"] = SYNTHETIC_NOTICE + metadata["description_html"]
    return metadata


def holds_synthetic_data(db_path: Path) -> bool:
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        row = conn.execute(
            "SELECT 1 FROM documents WHERE provenance = 'synthetic-sample' LIMIT 1"
        ).fetchone()
    return row is not None


def serve(db_path: Path, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Become Datasette on the published file (immutable, with an inspect file).

    The process is replaced (exec), so stopping it stops Datasette: no orphan
    server keeps the old file open after a restart.
    """
    metadata_file = db_path.with_name(f"{db_path.stem}.metadata.json")
    metadata_file.write_text(json.dumps(metadata_for(db_path), indent=2), encoding="utf-8")
    inspect_file = db_path.with_name(f"{db_path.stem}.inspect.json")
    datasette = [sys.executable, "-m", "datasette"]
    subprocess.run(
        [*datasette, "inspect", str(db_path), "--inspect-file", str(inspect_file)], check=True
    )
    command = [
        *datasette, "serve", "-i", str(db_path),
        "--inspect-file", str(inspect_file),
        "--metadata", str(metadata_file),
        "--host", host, "--port", str(port),
        "--setting", "sql_time_limit_ms", "3000",
        "--setting", "max_returned_rows", "2000",
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)
