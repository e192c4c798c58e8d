"""Opening the working database with the settings every writer relies on."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_MS = 30_000


def open_db(path: str | Path, *, migrate: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) a working database, migrated to the current schema.

    WAL lets Datasette or an analyst read while a crawl writes; foreign keys keep
    sentences and stances tied to their documents.
    """
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    # The stdlib driver, even where sqlite-utils would pick pysqlite3 (installed for Datasette).
    db = sqlite_utils.Database(sqlite3.connect(str(path)))
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if str(path) != ":memory:":
        db.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL never corrupts the file; a power cut may lose the last commits.
        db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    if migrate:
        from db.schema import ensure_schema

        ensure_schema(db)
    return db


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A transaction that takes the write lock up front.

    A deferred BEGIN in WAL mode fails at once with "database is locked" when
    another writer holds the lock; BEGIN IMMEDIATE waits out the busy timeout.
    Nested use falls back to a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


def total_changes(db: sqlite_utils.Database) -> int:
    """Rows changed through this connection since it was opened."""
    conn: sqlite3.Connection = db.conn
    return conn.total_changes
