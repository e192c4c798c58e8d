"""Build the publishable database file atomically.

VACUUM INTO a temporary file beside the target, switch it to a rollback journal
(readers of a downloaded file need no -wal companion), add the read-only derived
tables (db.derived), swap the float embeddings for compact vectors and their
sqlite-vec index (db.vectors), write the data dictionary, check it, then
os.replace: a reader sees the complete old file or the complete new one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path

from db.derived import build_data_dictionary, build_published_tables
from db.site import table_descriptions
from db.vectors import build_vector_index

logger = logging.getLogger(__name__)


class PublishError(RuntimeError):
    pass


def publish(working_db: str | Path, out: str | Path, built_at: str | None = None) -> Path:
    working_db, out = Path(working_db), Path(out)
    if not working_db.exists():
        raise PublishError(f"no working database at {working_db}: run crawl/ingest and process first")
    out.parent.mkdir(parents=True, exist_ok=True)
    for leftover in out.parent.glob(f".{out.name}.*.tmp"):
        leftover.unlink(missing_ok=True)  # from a publish that was killed (runs hold the lock)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with contextlib.closing(sqlite3.connect(working_db)) as source:
            source.execute("VACUUM INTO ?", [str(temporary)])
        with contextlib.closing(sqlite3.connect(temporary)) as built:
            built.execute("PRAGMA journal_mode = DELETE")
            check_database(built)  # the source itself, before anything is derived from it
            if not built.execute("SELECT 1 FROM sqlite_master WHERE name = 'positions'").fetchone():
                raise PublishError(f"{working_db} is not a NormWatch working database")
            counts = build_published_tables(built, built_at)
            logger.info("derived tables built %s", " ".join(f"{k}={v}" for k, v in counts.items()))
        build_vector_index(temporary)  # drops `embeddings`: it must follow the tables that read it
        with contextlib.closing(sqlite3.connect(temporary)) as built:
            build_data_dictionary(built, table_descriptions())
            built.execute("ANALYZE")  # the query planner's statistics ship with the file
            built.commit()
            check_database(built)
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)
    return out


def check_database(conn: sqlite3.Connection) -> None:
    """Integrity and foreign keys must be clean before a file is published."""
    integrity = conn.execute("PRAGMA integrity_check").fetchall()
    if integrity != [("ok",)]:
        raise PublishError(f"integrity_check failed: {integrity[:5]}")
    dangling = conn.execute("PRAGMA foreign_key_check").fetchall()
    if dangling:
        raise PublishError(f"foreign_key_check found {len(dangling)} dangling rows, e.g. {dangling[:3]}")
