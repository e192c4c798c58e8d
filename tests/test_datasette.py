"""Datasette on the published database, in-process: canned queries, facets, search."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import yaml
from datasette.app import Datasette

from db.publish import publish
from db.site import METADATA_TEMPLATE, datasette_kwargs, metadata_for
from nlp.analyzer import Analyzer
from nlp.process import process
from tests.conftest import load_sample_documents


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    from db.connection import open_db
    from tests.conftest import FakeEmbedder

    folder = tmp_path_factory.mktemp("site")
    db = open_db(folder / "work.db")
    load_sample_documents(db)
    process(db, Analyzer(), FakeEmbedder())
    db.close()
    return publish(folder / "work.db", folder / "normwatch.db")


def get(published: Path, path: str):
    datasette = Datasette(**datasette_kwargs(published))

    async def fetch():
        return await datasette.client.get(path)

    return asyncio.run(fetch())


def test_positions_for_state(published):
    response = get(published, "/normwatch/positions_for_state.json?state=France&_shape=array")
    assert response.status_code == 200
    rows = response.json()
    assert rows and {row["state"] for row in rows} == {"FRA"}
    assert set(rows[0]) == {
        "state", "state_name", "norm_id", "norm", "family", "stance", "confidence", "documents",
        "first_date", "last_date", "evidence", "source_title", "source_url", "provenance",
        "earlier_stance", "earlier_date", "earlier_evidence",
    }
    by_norm = {row["norm_id"]: row for row in rows}
    assert by_norm["debate.new-treaty"]["stance"] == "oppose"
    assert by_norm["law.sovereignty-rule"]["stance"] == "support"
    assert all(row["evidence"] and row["provenance"] == "synthetic-sample" for row in rows)
    by_code = get(published, "/normwatch/positions_for_state.json?state=fra&_shape=array").json()
    assert by_code == rows


def test_states_on_norm(published):
    response = get(published, "/normwatch/states_on_norm.json?norm=debate.new-treaty&_shape=array")
    assert response.status_code == 200
    rows = response.json()
    stances = {row["state"]: row["stance"] for row in rows}
    assert stances["IRN"] == "support" and stances["AU"] == "support"
    assert stances["FRA"] == "oppose" and stances["JPN"] == "oppose"
    order = [row["stance"] for row in rows]
    assert order == sorted(order, key=["support", "qualified", "oppose", "mention"].index)


def test_positions_view_has_rows_for_six_states(published):
    response = get(published, "/normwatch/positions.json?_shape=array&_size=max")
    assert response.status_code == 200
    assert len({row["state"] for row in response.json()}) >= 6


def test_facets_and_full_text_search(published):
    documents = get(published, "/normwatch/documents.json?_facet=state&_facet=provenance")
    assert documents.status_code == 200
    facets = documents.json()["facet_results"]
    assert {"state", "provenance"} <= set(facets)
    search = get(published, "/normwatch/sentences.json?_search=diligence&_shape=array")
    assert search.status_code == 200
    assert search.json() and all("diligence" in row["text"].lower() for row in search.json())


def test_home_page_says_the_data_are_synthetic(published):
    response = get(published, "/")
    assert response.status_code == 200
    assert "SYNTHETIC SAMPLE DATA" in response.text
    assert "(synthetic sample data)" in metadata_for(published)["title"]


def test_every_canned_query_in_the_metadata_answers(published):
    template = yaml.safe_load(METADATA_TEMPLATE.read_text())
    queries = template["databases"]["normwatch"]["queries"]
    assert {"positions_for_state", "states_on_norm"} <= set(queries)
    with sqlite3.connect(published) as conn:
        sentence_id = conn.execute("select sentence_id from similar_sentences limit 1").fetchone()[0]
    for name in queries:
        response = get(published, f"/normwatch/{name}.json?state=GBR&norm=law.sovereignty-rule"
                                  f"&sentence_id={sentence_id}&q=sovereignty")
        assert response.status_code == 200, name
        assert response.json()["rows"], name
