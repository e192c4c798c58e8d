"""Reference data shipped with the code: the state registry and the norm taxonomy.

Both are seeded into the database by comparing rows, so an unchanged
registry writes nothing (reruns must leave `total_changes()` at zero).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import sqlite_utils
import yaml

STATES_CSV = Path(__file__).with_name("states.csv")
NORMS_YML = Path(__file__).resolve().parents[1] / "nlp" / "norms.yml"


@cache
def state_rows() -> tuple[dict, ...]:
    """Rows for the `states` table from db/states.csv."""
    rows = []
    with STATES_CSV.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            rows.append(
                {
                    "iso3": record["iso3"],
                    "name": record["name"],
                    "short_name": record["short_name"],
                    "aliases": json.dumps(_split(record["aliases"]), ensure_ascii=False),
                    "un_member": int(record["un_member"]),
                    "observer": int(record["observer"]),
                    "region": record["region"] or None,
                    "subregion": record["subregion"] or None,
                    "groups": json.dumps(_split(record["groups"])),
                    "capital": record["capital"] or None,
                    "latitude": float(record["latitude"]) if record["latitude"] else None,
                    "longitude": float(record["longitude"]) if record["longitude"] else None,
                }
            )
    return tuple(rows)


@cache
def norm_rows() -> tuple[dict, ...]:
    """Rows for the `norms` table from nlp/norms.yml."""
    entries = yaml.safe_load(NORMS_YML.read_text(encoding="utf-8"))
    return tuple(
        {
            "id": entry["id"],
            "family": entry["family"],
            "label": entry["label"],
            "description": entry["description"],
            "source": entry.get("source"),
            "examples": json.dumps(entry.get("examples", []), ensure_ascii=False),
        }
        for entry in entries
    )


def sync_reference_data(db: sqlite_utils.Database) -> int:
    """Upsert states and norms that differ from the shipped data; return rows written."""
    return _sync(db["states"], "iso3", state_rows()) + _sync(db["norms"], "id", norm_rows())


def _sync(table: sqlite_utils.db.Table, pk: str, rows: Iterable[dict]) -> int:
    existing = {row[pk]: row for row in table.rows}
    changed = [row for row in rows if existing.get(row[pk]) != row]
    if changed:
        table.upsert_all(changed, pk=pk)
    return len(changed)


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]
