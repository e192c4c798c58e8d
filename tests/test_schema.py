"""Schema contract: tables, reference data, views and idempotent migrations."""

from __future__ import annotations

import json

from db.connection import open_db
from db.store import Document, insert_document

CONTRACT_NORMS = (
    [f"un13{letter}" for letter in "abcdefghijk"]
    + [
        "law.applies", "law.sovereignty-rule", "law.non-intervention", "law.use-of-force",
        "law.armed-attack", "law.due-diligence-binding", "law.ihl-applies",
        "law.human-rights-applies", "law.state-responsibility", "law.countermeasures",
        "law.collective-countermeasures", "law.attribution-evidence", "law.peaceful-settlement",
        "law.data-as-object",
        "debate.new-treaty", "debate.programme-of-action", "debate.stakeholders",
        "debate.capacity-building", "debate.confidence-building",
    ]
    + [f"gcsc.{n}" for n in range(1, 9)]
    + [f"paris.{n}" for n in range(1, 10)]
)


def test_tables_and_columns(db):
    columns = {table.name: set(table.columns_dict) for table in db.tables}
    assert {"states", "documents", "sentences", "norms", "stances", "embeddings",
            "crawl_runs", "fetch_errors"} <= set(columns)
    assert {"iso3", "name", "short_name", "aliases", "un_member", "region", "groups",
            "latitude", "longitude"} <= columns["states"]
    assert {"id", "url", "state", "speaker_role", "on_behalf_of", "date", "title", "forum",
            "doc_type", "language", "text", "text_sha256", "spider", "fetched_at",
            "provenance"} <= columns["documents"]
    assert {"id", "document_id", "position", "text", "char_start", "char_end"} <= columns["sentences"]
    assert {"id", "family", "label", "description", "source"} <= columns["norms"]
    assert {"sentence_id", "document_id", "state", "norm_id", "stance", "confidence", "method",
            "cue"} <= columns["stances"]
    assert {"sentence_id", "model", "vector"} <= columns["embeddings"]
    assert {"document_stances", "positions"} <= set(db.view_names())
    assert db["sentences"].detect_fts() and db["documents"].detect_fts()


def test_state_registry_entities(db):
    states = {row["iso3"]: row for row in db["states"].rows}
    assert sum(row["un_member"] for row in states.values()) == 193
    assert {iso for iso, row in states.items() if row["observer"]} == {"VAT", "PSE"}
    assert {"EUN", "AU"} <= set(states)
    assert "NATO" in json.loads(states["FRA"]["groups"])
    assert "BRICS" in json.loads(states["BRA"]["groups"])


def test_norm_taxonomy_matches_the_contract(db):
    ids = [row["id"] for row in db["norms"].rows]
    assert sorted(ids) == sorted(CONTRACT_NORMS)
    for row in db["norms"].rows:
        assert row["label"] and row["description"] and row["family"]


def test_reopening_changes_nothing(tmp_path):
    path = tmp_path / "w.db"
    open_db(path).close()
    again = open_db(path)
    assert again.conn.total_changes == 0


def add_stance(db, document: Document, position: int, norm: str, stance: str, confidence: float):
    sentence_id = f"{document.id}-{position:04d}"
    db["sentences"].upsert(
        {"id": sentence_id, "document_id": document.id, "position": position,
         "text": f"sentence {position}", "char_start": 0, "char_end": 1},
        pk="id",
    )
    db["stances"].insert(
        {"sentence_id": sentence_id, "document_id": document.id, "state": document.state,
         "norm_id": norm, "stance": stance, "confidence": confidence, "method": "test", "cue": None},
        pk=("sentence_id", "norm_id"),
    )
    return sentence_id


def test_views_pick_decisive_sentence_and_latest_document(db):
    old = Document(text="old", url="u1", state="GBR", speaker="UK", date="2018-05-23")
    new = Document(text="new", url="u2", state="GBR", speaker="UK", date="2022-05-19")
    fra = Document(text="fr", url="u3", state="FRA", speaker="France", date="2019-09-09")
    for document in (old, new, fra):
        insert_document(db, document)
    add_stance(db, old, 0, "law.attribution-evidence", "mention", 0.9)
    old_evidence = add_stance(db, old, 1, "law.attribution-evidence", "oppose", 0.7)
    add_stance(db, new, 0, "law.attribution-evidence", "support", 0.6)
    new_evidence = add_stance(db, new, 1, "law.attribution-evidence", "support", 0.8)
    add_stance(db, fra, 0, "debate.new-treaty", "mention", 0.5)

    per_document = {
        (row["document_id"], row["norm_id"]): row
        for row in db.query("select * from document_stances")
    }
    assert len(per_document) == 3
    assert per_document[(old.id, "law.attribution-evidence")]["stance"] == "oppose"
    assert per_document[(old.id, "law.attribution-evidence")]["evidence_sentence_id"] == old_evidence
    assert per_document[(new.id, "law.attribution-evidence")]["evidence_sentence_id"] == new_evidence

    positions = {(row["state"], row["norm_id"]): row for row in db.query("select * from positions")}
    uk = positions[("GBR", "law.attribution-evidence")]
    assert (uk["stance"], uk["documents"], uk["first_date"], uk["last_date"]) == (
        "support", 2, "2018-05-23", "2022-05-19")
    assert uk["evidence_sentence_id"] == new_evidence and uk["evidence_document_id"] == new.id
    # The change of view stays visible, with the date and the quote before it.
    assert (uk["earlier_stance"], uk["earlier_date"], uk["earlier_evidence_sentence_id"]) == (
        "oppose", "2018-05-23", old_evidence)
    france = positions[("FRA", "debate.new-treaty")]
    assert (france["stance"], france["earlier_stance"]) == ("mention", None)


def test_a_later_mention_does_not_undo_a_position(db):
    support = Document(text="s", url="u1", state="BRA", speaker="Brazil", date="2019-01-01")
    mention = Document(text="m", url="u2", state="BRA", speaker="Brazil", date="2023-01-01")
    insert_document(db, support)
    insert_document(db, mention)
    evidence = add_stance(db, support, 0, "law.peaceful-settlement", "support", 0.6)
    add_stance(db, mention, 0, "law.peaceful-settlement", "mention", 0.9)
    (row,) = db.query("select * from positions")
    assert (row["stance"], row["evidence_sentence_id"], row["earlier_stance"]) == ("support", evidence, None)
    assert (row["documents"], row["first_date"], row["last_date"]) == (2, "2019-01-01", "2023-01-01")


def test_mixed_evidence_makes_a_document_qualified_with_counter_evidence(db):
    paper = Document(text="p", url="u1", state="NLD", speaker="Netherlands", date="2019-07-05")
    insert_document(db, paper)
    evidence = add_stance(db, paper, 0, "law.sovereignty-rule", "support", 0.9)
    counter = add_stance(db, paper, 1, "law.sovereignty-rule", "oppose", 0.8)
    add_stance(db, paper, 2, "law.sovereignty-rule", "oppose", 0.7)  # 1.5 of 2.4 disagrees: at least half
    add_stance(db, paper, 3, "law.sovereignty-rule", "oppose", 0.5)  # too unsure to count
    (row,) = db.query("select * from document_stances")
    assert (row["stance"], row["evidence_sentence_id"], row["counter_evidence_sentence_id"]) == (
        "qualified", evidence, counter)
    (position,) = db.query("select * from positions")
    assert (position["stance"], position["counter_evidence_sentence_id"]) == ("qualified", counter)


def test_one_stray_sentence_does_not_qualify_a_long_paper(db):
    paper = Document(text="p", url="u1", state="NLD", speaker="Netherlands", date="2019-07-05")
    insert_document(db, paper)
    for position in range(5):
        add_stance(db, paper, position, "law.sovereignty-rule", "support", 0.8)
    add_stance(db, paper, 5, "law.sovereignty-rule", "oppose", 0.75)
    add_stance(db, paper, 6, "law.sovereignty-rule", "qualified", 0.7)  # counts half: 1.1 of 5.45 disagrees
    (row,) = db.query("select * from document_stances")
    assert (row["stance"], row["counter_evidence_sentence_id"]) == ("support", None)


def test_same_document_twice_is_stored_once(db):
    document = Document(text="Same text.", url="https://example.org/a", state="FRA", speaker="France",
                        date="2020-01-01")
    assert insert_document(db, document) is True
    changes = db.conn.total_changes
    assert insert_document(db, document) is False
    assert db.conn.total_changes == changes
    edited = Document(text="Edited text.", url="https://example.org/a", state="FRA", speaker="France",
                      date="2020-01-01")
    assert insert_document(db, edited) is True  # a new revision, not an overwrite
    assert db["documents"].count == 2


def test_group_statements_are_not_a_members_position(db):
    nam = Document(text="nam", url="u-nam", state="IDN", speaker="Indonesia", date="2023-07-01",
                   speaker_role="group", on_behalf_of="Non-Aligned Movement")
    own = Document(text="own", url="u-own", state="IDN", speaker="Indonesia", date="2021-01-01",
                   speaker_role="delegation")
    eu = Document(text="eu", url="u-eu", state="EUN", speaker="European Union", date="2023-07-01",
                  speaker_role="group")
    for document in (nam, own, eu):
        insert_document(db, document)
    add_stance(db, nam, 0, "debate.new-treaty", "support", 0.9)
    add_stance(db, own, 0, "debate.new-treaty", "oppose", 0.7)
    add_stance(db, eu, 0, "debate.new-treaty", "oppose", 0.8)
    assert db.execute("select count(*) from document_stances").fetchone()[0] == 3
    positions = {row["state"]: row for row in db.query("select * from positions")}
    assert positions["IDN"]["stance"] == "oppose" and positions["IDN"]["evidence_document_id"] == own.id
    assert positions["EUN"]["stance"] == "oppose"
