"""Tables built into the published file only: read-only copies that make pages fast
and keep the file useful in any SQLite tool.

They are derived from the working tables (never the reverse), inside the
temporary copy that `db.publish` checks and then moves into place.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import numpy as np
import sqlite_utils

SIMILAR_PER_SENTENCE = 5
# A view that becomes a table of the same name and columns, with these indexes.
MATERIALISED_VIEWS = {
    "document_stances": [("document_id",), ("norm_id", "stance"), ("state", "norm_id")],
    "positions": [("state", "norm_id"), ("norm_id", "stance")],
}
DERIVED_COLUMN_TYPES = {
    "document_stances": {"confidence": float},
    "positions": {"confidence": float, "documents": int},
    "state_agreement": {"norms_both": int, "same_stance": int, "agreement": float},
}
# Declared on the copies so Datasette shows names for ids, and checked before publishing.
DERIVED_FOREIGN_KEYS = [
    ("document_stances", "document_id", "documents", "id"),
    ("document_stances", "state", "states", "iso3"),
    ("document_stances", "norm_id", "norms", "id"),
    ("document_stances", "evidence_sentence_id", "sentences", "id"),
    ("document_stances", "counter_evidence_sentence_id", "sentences", "id"),
    ("positions", "state", "states", "iso3"),
    ("positions", "norm_id", "norms", "id"),
    ("positions", "evidence_sentence_id", "sentences", "id"),
    ("positions", "counter_evidence_sentence_id", "sentences", "id"),
    ("positions", "evidence_document_id", "documents", "id"),
    ("positions", "earlier_evidence_sentence_id", "sentences", "id"),
    ("state_agreement", "state", "states", "iso3"),
    ("state_agreement", "other_state", "states", "iso3"),
]
STANCES_TAKEN = ("support", "oppose", "qualified")


def build_published_tables(conn: sqlite3.Connection, built_at: str | None = None) -> dict:
    """Every derived table that reads the float vectors, in dependency order; returns
    row counts for the log. The vector index (db.vectors) and the data dictionary
    come after, in db.publish."""
    materialise_views(conn)
    add_display_columns(conn)
    counts = {
        "similar_sentences": build_similar_sentences(conn),
        "state_agreement": build_state_agreement(conn),
    }
    declare_columns(conn)
    write_release(conn, built_at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    conn.commit()
    return counts


def materialise_views(conn: sqlite3.Connection) -> None:
    """positions and document_stances become tables: window functions over a
    million stances are too slow per page view, and the file is read-only."""
    # Copy all first, then drop the views (positions reads document_stances), then rename:
    # SQLite refuses a rename while a view refers to a missing table.
    for view in MATERIALISED_VIEWS:
        conn.execute(f"CREATE TABLE _{view}_rows AS SELECT * FROM {view}")
    for view in reversed(MATERIALISED_VIEWS):
        conn.execute(f"DROP VIEW {view}")
    for view, indexes in MATERIALISED_VIEWS.items():
        conn.execute(f"ALTER TABLE _{view}_rows RENAME TO {view}")
        for columns in indexes:
            name = f"idx_{view}_{'_'.join(columns)}"
            conn.execute(f"CREATE INDEX {name} ON {view} ({', '.join(columns)})")


def add_display_columns(conn: sqlite3.Connection) -> None:
    """A year to facet documents by (dates are YYYY-MM-DD or YYYY), and a title for
    untitled ones (ingested texts), since pages name documents by their title."""
    conn.execute("ALTER TABLE documents ADD COLUMN year TEXT")
    conn.execute("UPDATE documents SET year = substr(date, 1, 4) WHERE date IS NOT NULL")
    conn.execute("CREATE INDEX idx_documents_year ON documents (year)")
    conn.execute(
        """UPDATE documents SET title = '(untitled) ' || coalesce(
             (SELECT name FROM states WHERE iso3 = documents.state), speaker, 'statement')
             || coalesce(', ' || date, '')
           WHERE title IS NULL OR trim(title) = ''"""
    )


def declare_columns(conn: sqlite3.Connection) -> None:
    """CREATE TABLE AS leaves computed columns untyped: declare types and foreign keys."""
    db = sqlite_utils.Database(conn)
    for table, types in DERIVED_COLUMN_TYPES.items():
        db.table(table).transform(
            types=types,
            add_foreign_keys=[fk[1:] for fk in DERIVED_FOREIGN_KEYS if fk[0] == table],
        )


def build_similar_sentences(conn: sqlite3.Connection, per_sentence: int = SIMILAR_PER_SENTENCE) -> int:
    """For every sentence that takes a position, the most similar position-taking
    sentences of other speakers (cosine similarity of the stored embeddings)."""
    conn.execute(
        """
        CREATE TABLE similar_sentences (
          sentence_id TEXT NOT NULL REFERENCES sentences(id),
          rank INTEGER NOT NULL,
          similar_sentence_id TEXT NOT NULL REFERENCES sentences(id),
          similarity REAL NOT NULL,
          state TEXT,
          similar_state TEXT,
          PRIMARY KEY (sentence_id, rank)
        )
        """
    )
    rows = conn.execute(
        f"""
        SELECT DISTINCT ds.evidence_sentence_id, ds.state, e.vector
        FROM document_stances ds
        JOIN embeddings e ON e.sentence_id = ds.evidence_sentence_id
        WHERE ds.stance IN {STANCES_TAKEN} AND ds.state IS NOT NULL
        ORDER BY ds.evidence_sentence_id
        """
    ).fetchall()
    if len(rows) < 2:
        return 0
    ids = [row[0] for row in rows]
    states = np.array([row[1] for row in rows])
    vectors = np.vstack([np.frombuffer(row[2], dtype="<f4") for row in rows])
    k = min(per_sentence, len(rows) - 1)
    written = 0
    for start in range(0, len(rows), 2048):  # bounded memory: one block of similarities at a time
        block = vectors[start:start + 2048] @ vectors.T
        block[states[start:start + 2048, None] == states[None, :]] = -np.inf  # other speakers only
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        for offset, candidates in enumerate(top):
            row = start + offset
            ranked = sorted(candidates, key=lambda j: (-block[offset, j], ids[j]))
            batch = [
                (ids[row], rank, ids[j], round(float(block[offset, j]), 4), states[row], states[j])
                for rank, j in enumerate(ranked, 1)
                if np.isfinite(block[offset, j])
            ]
            conn.executemany("INSERT INTO similar_sentences VALUES (?, ?, ?, ?, ?, ?)", batch)
            written += len(batch)
    conn.execute("CREATE INDEX idx_similar_sentences_similar ON similar_sentences (similar_sentence_id)")
    return written


def build_state_agreement(conn: sqlite3.Connection) -> int:
    """How often two speakers take the same stance on the norms both took a position on."""
    conn.execute(
        f"""
        CREATE TABLE state_agreement AS
        SELECT a.state AS state, b.state AS other_state,
               count(*) AS norms_both,
               sum(a.stance = b.stance) AS same_stance,
               round(1.0 * sum(a.stance = b.stance) / count(*), 3) AS agreement
        FROM positions a
        JOIN positions b ON a.norm_id = b.norm_id AND a.state <> b.state
        WHERE a.stance IN {STANCES_TAKEN} AND b.stance IN {STANCES_TAKEN}
        GROUP BY a.state, b.state
        """
    )
    conn.execute("CREATE UNIQUE INDEX idx_state_agreement_pair ON state_agreement (state, other_state)")
    return conn.execute("SELECT count(*) FROM state_agreement").fetchone()[0]


def write_release(conn: sqlite3.Connection, built_at: str) -> None:
    """One row saying when this file was built, from which crawl runs, by which model."""

    def values(sql: str) -> list:
        return [row[0] for row in conn.execute(sql)]

    crawl_runs = [
        {"id": run_id, "spider": spider, "finished_at": finished, "documents_new": new}
        for run_id, spider, finished, new in conn.execute(
            "SELECT id, spider, finished_at, documents_new FROM crawl_runs ORDER BY id"
        )
    ]
    conn.execute(
        """
        CREATE TABLE releases (
          built_at TEXT PRIMARY KEY, nlp_versions TEXT, embedding_models TEXT,
          crawl_runs TEXT, latest_crawl_finished_at TEXT,
          documents INTEGER, sentences INTEGER, stances INTEGER, states_with_positions INTEGER
        )
        """
    )
    conn.execute(
        "INSERT INTO releases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            built_at,
            json.dumps(values("SELECT DISTINCT nlp_version FROM analysed_documents ORDER BY 1")),
            json.dumps(values("SELECT DISTINCT model FROM embeddings ORDER BY 1")),
            json.dumps(crawl_runs),
            max((run["finished_at"] or "" for run in crawl_runs), default=None) or None,
            *[conn.execute(sql).fetchone()[0] for sql in (
                "SELECT count(*) FROM documents WHERE superseded_in_run IS NULL",
                "SELECT count(*) FROM sentences",
                "SELECT count(*) FROM stances",
                "SELECT count(DISTINCT state) FROM positions",
            )],
        ),
    )


def public_tables(conn: sqlite3.Connection) -> list[str]:
    """Tables and views a reader browses: not `_hidden` ones, not virtual tables
    (FTS, vec0) nor their shadow tables."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
    ).fetchall()
    virtual = {name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")}
    return [
        name for name, _ in rows
        if not name.startswith(("_", "sqlite_")) and name not in virtual
        and not any(name.startswith(f"{table}_") for table in virtual)
    ]


def build_data_dictionary(conn: sqlite3.Connection, descriptions: dict[str, dict]) -> int:
    """Every column of every public table with its type and description.

    `descriptions` maps table -> {"description": ..., "columns": {column: text}}
    (the site metadata). Built last, so it lists exactly what the file holds."""
    conn.execute(
        """
        CREATE TABLE data_dictionary (
          table_name TEXT NOT NULL, position INTEGER NOT NULL, column_name TEXT NOT NULL,
          type TEXT, description TEXT, table_description TEXT,
          PRIMARY KEY (table_name, column_name)
        )
        """
    )
    rows = []
    for table in public_tables(conn):
        about = descriptions.get(table, {})
        for position, name, kind, *_ in conn.execute(f"PRAGMA table_info([{table}])"):
            rows.append((table, position, name, kind or None,
                         about.get("columns", {}).get(name), about.get("description")))
    conn.executemany("INSERT INTO data_dictionary VALUES (?, ?, ?, ?, ?, ?)", rows)
    return len(rows)
