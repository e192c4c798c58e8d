"""Writes of the collection step: documents, fetch errors and crawl runs.

Documents are keyed by a content-derived id and inserted only when new, so
recrawling or re-ingesting unchanged material writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field, fields
from functools import cached_property
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
    original_language: str | None = None
    spider: str = "ingest"
    provenance: str = "official"
    crawl_run_id: int | None = None
    fetched_at: str = field(default_factory=utc_now)

    @cached_property
    def text_sha256(self) -> str:
        return sha256_hex(self.text)

    @cached_property
    def id(self) -> str:
        # The speaker is part of the key: a joint statement is one document per state.
        origin = self.url or f"{self.spider}:{self.date}:{self.title}"
        return document_id(self.text_sha256, f"{origin}|{self.state or self.speaker or ''}")

    def row(self) -> dict:
        row = {column.name: getattr(self, column.name) for column in fields(self)}
        row["sections"] = json.dumps(self.sections, ensure_ascii=False)
        row["aligned_states"] = json.dumps(self.aligned_states) if self.aligned_states else None
        row["id"] = self.id
        row["text_sha256"] = self.text_sha256
        return row


def insert_document(db: sqlite_utils.Database, document: Document) -> bool:
    """Store a document unless one with the same id exists; True if it was new."""
    return insert_documents(db, [document]) == 1


def insert_documents(db: sqlite_utils.Database, documents: list[Document]) -> int:
    """Store, in one transaction, the documents whose ids are new; return how many were."""
    rows = {document.id: document for document in documents}
    if not rows:
        return 0
    with write_transaction(db):
        marks = ",".join("?" * len(rows))
        known = {row[0] for row in db.execute(f"SELECT id FROM documents WHERE id IN ({marks})", list(rows))}
        new = [document.row() for doc_id, document in rows.items() if doc_id not in known]
        if new:
            db["documents"].insert_all(new, pk="id")
    return len(new)


def duplicate_of(db: sqlite_utils.Database, document: Document) -> str | None:
    """The id of a current document by the same speaker with the same text at another URL."""
    row = db.execute(
        """SELECT id FROM documents
           WHERE text_sha256 = ? AND coalesce(state, speaker) IS ? AND url IS NOT ?
             AND superseded_in_run IS NULL LIMIT 1""",
        [document.text_sha256, document.state or document.speaker, document.url],
    ).fetchone()
    return row[0] if row else None


def known_document_urls(db_path: str | None, spider: str) -> set[str]:
    """URLs this spider already turned into documents (for incremental listing walks).

    Called while a run is open (its crawl_runs row is the newest). Empty, so the walk
    is complete, unless the run before it finished cleanly: a killed or failed run
    stores documents in no particular order and can leave a listing page half
    harvested, and stopping at it would lose the rest for good.
    """
    if not db_path or not os.path.exists(db_path):
        return set()
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        try:
            previous = conn.execute(
                "SELECT finish_reason FROM crawl_runs WHERE spider = ? ORDER BY id DESC LIMIT 1 OFFSET 1",
                [spider],
            ).fetchone()
            if previous is None or previous[0] != "finished":
                return set()
            rows = conn.execute("SELECT DISTINCT url FROM documents WHERE spider = ?", [spider])
            return {url for (url,) in rows if url}
        except sqlite3.OperationalError:  # not migrated yet: nothing is known
            return set()


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
    db: sqlite_utils.Database,
    run_id: int,
    *,
    reason: str,
    new: int,
    seen: int,
    errors: int,
    stats: dict | None = None,
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
                "stats": json.dumps(stats or {}, sort_keys=True, default=str),
            },
        )


def supersede_revised(db: sqlite_utils.Database, run_id: int, seen_by_url: dict[str, set[str]]) -> int:
    """Mark documents from refetched URLs that this run no longer produced; return how many.

    Each new document whose (url, speaker, doc_type) matches a superseded one
    records it in `revision_of`.
    """
    superseded = 0
    with write_transaction(db):
        for url, ids in seen_by_url.items():
            marks = ",".join("?" * len(ids))
            stale = list(db.query(
                f"""SELECT id, coalesce(state, speaker) AS who, doc_type FROM documents
                    WHERE url = ? AND superseded_in_run IS NULL AND id NOT IN ({marks})""",
                [url, *ids],
            ))
            for old in stale:
                db.execute("UPDATE documents SET superseded_in_run = ? WHERE id = ?", [run_id, old["id"]])
                db.execute(
                    f"""UPDATE documents SET revision_of = ?
                        WHERE id IN ({marks}) AND crawl_run_id = ? AND revision_of IS NULL
                          AND coalesce(state, speaker) IS ? AND doc_type IS ?""",
                    [old["id"], *ids, run_id, old["who"], old["doc_type"]],
                )
            superseded += len(stale)
    return superseded
