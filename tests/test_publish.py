"""`publish`: an atomic, checked copy of the working database."""

from __future__ import annotations

import sqlite3

import pytest

from db.publish import PublishError, publish
from nlp.analyzer import Analyzer
from nlp.process import process
from tests.conftest import load_sample_documents


@pytest.fixture
def analysed_db(db, fake_embedder):
    load_sample_documents(db)
    process(db, Analyzer(), fake_embedder)
    return db


def test_publish_copies_everything_and_checks_it(analysed_db, tmp_path):
    out = publish(analysed_db.conn.execute("PRAGMA database_list").fetchone()[2], tmp_path / "pub" / "nw.db")
    with sqlite3.connect(out) as published:
        assert published.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert published.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        for table in ("documents", "sentences", "stances", "states", "norms"):
            count = published.execute(f"select count(*) from {table}").fetchone()[0]
            assert count == analysed_db[table].count > 0
        # The float vectors become one compact vector per embedded sentence (db.vectors).
        vectors = published.execute("select count(*) from sentence_vectors").fetchone()[0]
        assert vectors == analysed_db["embeddings"].count > 0
        assert not published.execute("select 1 from sqlite_master where name = 'embeddings'").fetchone()
        assert published.execute("select count(*) from positions").fetchone()[0] > 0
        hits = published.execute(
            "select count(*) from sentences_fts where sentences_fts match 'sovereignty'"
        ).fetchone()[0]
        assert hits > 0
    assert not list(out.parent.glob(".*.tmp"))


def test_publish_replaces_the_old_file_whole(analysed_db, tmp_path):
    out = tmp_path / "nw.db"
    out.write_bytes(b"old contents")
    source = analysed_db.conn.execute("PRAGMA database_list").fetchone()[2]
    publish(source, out)
    with sqlite3.connect(out) as published:
        assert published.execute("select count(*) from documents").fetchone()[0] > 0


def test_publish_refuses_a_missing_or_broken_source(tmp_path):
    with pytest.raises(PublishError, match="no working database"):
        publish(tmp_path / "missing.db", tmp_path / "out.db")
    broken = tmp_path / "broken.db"
    with sqlite3.connect(broken) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("create table parent (id integer primary key)")
        conn.execute("create table child (id integer primary key, parent_id references parent(id))")
        conn.execute("insert into child values (1, 99)")
    with pytest.raises(PublishError, match="foreign_key_check"):
        publish(broken, tmp_path / "out.db")
    assert not (tmp_path / "out.db").exists()
