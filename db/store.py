"""Writes of the collection step: documents, fetch errors and crawl runs.

Documents are keyed by a content-derived id and inserted only when new, so
recrawling or re-ingesting unchanged material writes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import sqlite_utils

from db.connection import write_transaction


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_id(text_sha256: str, source_key: str) -> str:
    """A stable id from where the text came from and what it says.

    An edited page gets a new id (a new revision), never an overwrite.
    """
    return sha256_hex(f"{source_key}\n{text_sha256}")[:16]


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Document:
    """A statement as collected, before any analysis."""

    text: str
    url: str | None
    state: str | None
    speaker: str | None
    date: str | None
    title: str | None = None
    forum: str | None = None
    doc_type: str | None = None
    language: str | None = None
    speaker_role: str | None = None
    on_behalf_of: str | None = None
    sections: list[dict] = field(default_factory=list)
    symbol: str | None = None
    source_char_start: int | None = None
    source_char_end: int | None = None
    aligned_states: list[str] = field(default_factory=list)
    spider: str = "ingest"
    provenance: str = "official"
    crawl_run_id: int | None = None
    fetched_at: str = field(default_factory=utc_now)

    @property
    def text_sha256(self) -> str:
        return sha256_hex(self.text)

    @property
    def id(self) -> str:
        # The speaker is part of the key: a joint statement is one document per state.
        origin = self.url or f"{self.spider}:{self.date}:{self.title}"
        return document_id(self.text_sha256, f"{origin}|{self.state or self.speaker or ''}")

    def row(self) -> dict:
        row = asdict(self)
        row["sections"] = json.dumps(self.sections, ensure_ascii=False)
        row["aligned_states"] = json.dumps(self.aligned_states) if self.aligned_states else None
        row["id"] = self.id
        row["text_sha256"] = self.text_sha256
        return row


def insert_document(db: sqlite_utils.Database, document: Document) -> bool:
    """Store a document unless one with the same id exists; True if it was new."""
    with write_transaction(db):
        db["documents"].insert(document.row(), pk="id", ignore=True)
        return db.conn.execute("SELECT changes()").fetchone()[0] > 0


def record_fetch_error(
    db: sqlite_utils.Database,
    *,
    url: str,
    reason: str,
    status: int | None = None,
    detail: str | None = None,
    crawl_run_id: int | None = None,
) -> None:
    with write_transaction(db):
        db["fetch_errors"].insert(
            {
                "crawl_run_id": crawl_run_id,
                "url": url,
                "reason": reason,
                "status": status,
                "detail": (detail or "")[:500] or None,
                "recorded_at": utc_now(),
            }
        )


def start_crawl_run(db: sqlite_utils.Database, spider: str, settings: dict) -> int:
    with write_transaction(db):
        table = db["crawl_runs"].insert(
            {
                "spider": spider,
                "started_at": utc_now(),
                "settings": json.dumps(settings, sort_keys=True),
                "documents_new": 0,
                "documents_seen": 0,
                "errors": 0,
            }
        )
        return int(table.last_pk)


def finish_crawl_run(
    db: sqlite_utils.Database, run_id: int, *, reason: str, new: int, seen: int, errors: int
) -> None:
    with write_transaction(db):
        db["crawl_runs"].update(
            run_id,
            {
                "finished_at": utc_now(),
                "finish_reason": reason,
                "documents_new": new,
                "documents_seen": seen,
                "errors": errors,
            },
        )
