"""The `process` step: analysis and embeddings, and reruns that write nothing."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner

import pipeline
from db.store import Document, insert_document
from nlp.analyzer import Analyzer, default_analyzer
from nlp.embedder import from_blob
from nlp.process import process
from tests.conftest import load_sample_documents


def test_process_sample_documents_then_rerun_changes_nothing(db, fake_embedder):
    count = load_sample_documents(db)
    analyzer = Analyzer()
    report = process(db, analyzer, fake_embedder)
    assert report.documents == count
    assert report.sentences == db["sentences"].count > count * 5
    assert report.stances == db["stances"].count > 0
    assert db["embeddings"].count == db["sentences"].count
    assert db["analysed_documents"].count == count
    # Identical sentences (the synthetic notice repeats) are embedded once.
    distinct = db.execute("select count(distinct text_sha256) from sentences").fetchone()[0]
    assert len(fake_embedder.calls) == distinct == report.embedded
    vector = from_blob(db.execute("select vector from embeddings limit 1").fetchone()[0])
    assert vector.dtype == np.float32 and abs(np.linalg.norm(vector) - 1) < 1e-5

    before = db.conn.total_changes
    again = process(db, analyzer, fake_embedder)
    assert (again.documents, again.sentences, again.embedded) == (0, 0, 0)
    assert db.conn.total_changes == before


def test_every_stance_points_at_its_evidence(db, fake_embedder):
    load_sample_documents(db)
    process(db, Analyzer(), fake_embedder)
    orphans = db.execute(
        """select count(*) from stances st
           left join sentences s on s.id = st.sentence_id
           left join documents d on d.id = st.document_id
           where s.id is null or d.id is null or s.document_id != st.document_id
              or st.state is not d.state"""
    ).fetchone()[0]
    assert orphans == 0
    for row in db.query("select s.text, s.char_start, s.char_end, d.text as doc from sentences s "
                        "join documents d on d.id = s.document_id"):
        assert row["doc"][row["char_start"] : row["char_end"]] == row["text"]
    sections = {row["section"] for row in db.query("select distinct section from sentences")}
    assert {"Sovereignty", "Due diligence"} <= sections


def test_changed_rules_reanalyse_and_keep_vectors(db, fake_embedder):
    insert_document(db, Document(text="Due diligence is a binding obligation. States must act.",
                                 url="u", state="KEN", speaker="Kenya", date="2021-05-28"))
    analyzer = Analyzer()
    process(db, analyzer, fake_embedder)
    calls = len(fake_embedder.calls)
    analyzer.version = analyzer.version + "-changed"
    report = process(db, analyzer, fake_embedder)
    assert report.documents == 1
    assert len(fake_embedder.calls) == calls  # same sentences, vectors kept
    assert db["stances"].count == 1
    assert db.execute("select nlp_version from analysed_documents").fetchone()[0].endswith("-changed")


def test_ingest_then_process_gives_document_stances(tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(
        '{"text": "Cuba considers that existing international law is not sufficient and supports a '
        'new legally binding instrument.", "state": "Cuba", "date": "2023-07-01"}\n'
        '{"text": "Estonia affirms that sovereignty is a rule of international law. Estonia supports '
        'the Programme of Action.", "state": "EST", "date": "2022-03-01"}\n',
        encoding="utf-8",
    )
    db_path = tmp_path / "w.db"
    runner = CliRunner()
    assert runner.invoke(pipeline.cli, ["--db", str(db_path), "ingest", str(manifest)]).exit_code == 0
    result = runner.invoke(pipeline.cli, ["--db", str(db_path), "process", "--no-embed"])
    assert result.exit_code == 0, result.output
    import sqlite_utils

    rows = {
        (row["state"], row["norm_id"]): row["stance"]
        for row in sqlite_utils.Database(db_path).query("select * from document_stances")
    }
    assert rows[("CUB", "debate.new-treaty")] == "support"
    assert rows[("EST", "law.sovereignty-rule")] == "support"
    assert rows[("EST", "debate.programme-of-action")] == "support"
    again = runner.invoke(pipeline.cli, ["--db", str(db_path), "process", "--no-embed"])
    assert "Processed 0 documents" in again.output and "Rows changed: 0." in again.output


def test_analyzer_with_an_embedder_stores_its_vectors_once(db, fake_embedder):
    load_sample_documents(db)
    analyzer = Analyzer(embedder=fake_embedder, stance_vectors=True)
    assert analyzer.model is not None and analyzer.model.uses_vectors
    assert analyzer.version.endswith("+" + fake_embedder.model_name)
    assert analyzer.semantic.classifier is not None  # fitting embeds the semantic layer's prototypes
    calls_after_training = len(fake_embedder.calls)
    report = process(db, analyzer, fake_embedder)
    assert db["embeddings"].count == db["sentences"].count == report.sentences
    # Analysis embedded each text once (the repeated notice too) and left the embedding
    # step nothing to do.
    distinct = db.execute("select count(distinct text_sha256) from sentences").fetchone()[0]
    assert len(fake_embedder.calls) - calls_after_training == report.embedded == distinct < report.sentences
    methods = {row["method"] for row in db.query("select distinct method from stances")}
    base = {"rules-v1", "rules-v1+section", "rules+lr+emb-v2"}
    assert methods <= base | {m + "+semantic" for m in base} and "rules+lr+emb-v2" in methods
    before = db.conn.total_changes
    assert process(db, analyzer, fake_embedder).documents == 0
    assert db.conn.total_changes == before
    # A fresh analyzer with nothing to do does not train (training embeds the labelled sentences).
    calls = len(fake_embedder.calls)
    idle = Analyzer(embedder=fake_embedder, stance_vectors=True)
    assert process(db, idle, fake_embedder).documents == 0 and len(fake_embedder.calls) == calls
    # Other rules re-analyse every document, with the stored vectors.
    other = Analyzer(embedder=fake_embedder, stance_vectors=True, semantic=False)
    assert other.model is not None  # trains on first use, embedding the labelled sentences
    calls = len(fake_embedder.calls)
    again = process(db, other, fake_embedder)
    assert again.documents == report.documents and again.reused_vectors == again.sentences
    assert again.embedded == 0 and len(fake_embedder.calls) == calls


def test_default_analyzer_uses_vectors_only_when_it_has_them(fake_embedder):
    with_vectors, without = default_analyzer(fake_embedder), default_analyzer(None)
    assert with_vectors.semantic is not None and with_vectors.model.uses_vectors
    assert without.semantic is None and not without.model.uses_vectors
    assert with_vectors.version != without.version


def test_fitting_both_learned_layers_embeds_each_training_sentence_once(fake_embedder):
    analyzer = default_analyzer(fake_embedder)
    assert analyzer.model is not None and analyzer.semantic.classifier is not None
    assert fake_embedder.calls and len(fake_embedder.calls) == len(set(fake_embedder.calls))


def test_switching_embedder_replaces_the_stored_vectors(db, fake_embedder):
    load_sample_documents(db)
    process(db, default_analyzer(fake_embedder), fake_embedder)

    class OtherModel(type(fake_embedder)):
        model_name = "fake-other"

    other = OtherModel()
    report = process(db, default_analyzer(other), other)
    assert report.documents > 0  # the model is part of the analyzer's version
    models = {row["model"] for row in db.query("select distinct model from embeddings")}
    assert models == {"fake-other"} and db["embeddings"].count == db["sentences"].count
