"""The journalist's pages, the derived tables and the safe defaults, through Datasette in-process."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import lxml.html
import numpy as np
import pytest
from datasette.app import Datasette

from crawler.ingest import parse_line
from db.connection import open_db
from db.derived import public_tables
from db.publish import publish
from db.site import datasette_kwargs
from db.store import insert_documents
from nlp.analyzer import Analyzer
from nlp.process import process
from tests.conftest import REPO, FakeEmbedder, load_sample_documents

sys.path.insert(0, str(REPO / "datasette_config" / "plugins"))

HOSTILE = "<script>alert(1)</script> Chile considers that sovereignty is a rule of international law."


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pages")
    db = open_db(folder / "work.db")
    load_sample_documents(db)
    line = json.dumps({"text": HOSTILE, "state": "CHL", "date": "2023-03-01",
                       "title": "<b>Chile</b> on sovereignty", "provenance": "synthetic-sample"})
    untitled = json.dumps({"text": "Peru considers that international humanitarian law applies.",
                           "state": "PER", "date": "2022-05-05", "provenance": "synthetic-sample"})
    formula = json.dumps({"text": '=HYPERLINK("http://example.invalid","x") Peru opposes a new treaty.',
                          "state": "PER", "date": "2022-06-06", "title": "Formula",
                          "provenance": "synthetic-sample"})
    # A change of view the rules decide by proposition cues, whatever the learned layer does.
    earlier = json.dumps({"text": "Norway considers that existing international law is sufficient and that "
                          "there is no need for a new treaty.", "state": "NOR", "date": "2019-04-01",
                          "title": "Norway 2019", "provenance": "synthetic-sample"})
    later = json.dumps({"text": "Norway now sees gaps in the law that only a new legally binding instrument "
                        "can close.",
                        "state": "NOR", "date": "2024-04-01", "title": "Norway 2024",
                        "provenance": "synthetic-sample"})
    # Mixed evidence the rules decide by proposition cues: one sentence against, two for.
    mixed = json.dumps({"text": "For most purposes, Uruguay sees no need for a new treaty. It also notes gaps in "
                        "the law on ransomware, which a new treaty should close. Uruguay therefore considers "
                        "that these gaps call for a new treaty.", "state": "URY", "date": "2023-09-01",
                        "title": "Uruguay on a treaty", "provenance": "synthetic-sample"})
    insert_documents(db, [parse_line(text, folder) for text in (line, untitled, formula, earlier, later, mixed)])
    process(db, Analyzer(), FakeEmbedder())
    db.close()
    return publish(folder / "work.db", folder / "normwatch.db", built_at="2026-12-01T00:00:00Z")


@pytest.fixture(scope="module")
def site(published):
    return Datasette(**datasette_kwargs(published))


def get(site: Datasette, path: str):
    return asyncio.run(site.client.get(path))


def page(site: Datasette, path: str) -> lxml.html.HtmlElement:
    response = get(site, path)
    assert response.status_code == 200, (path, response.text[:500])
    return lxml.html.fromstring(response.text)


def query(published: Path, sql: str, params=()) -> list[tuple]:
    with sqlite3.connect(published) as conn:
        return conn.execute(sql, params).fetchall()


def test_home_page_links_every_journalist_page(site):
    links = {a.get("href") for a in page(site, "/").iter("a")}
    assert {"/states", "/norms", "/matrix", "/dictionary", "/normwatch.db",
            "/normwatch/new_statements.atom", "/normwatch/sentences"} <= links


def test_every_page_says_the_sample_is_synthetic(site):
    for path in ("/states", "/state/FRA", "/norms", "/norm/law.applies", "/matrix", "/dictionary"):
        assert "SYNTHETIC SAMPLE DATA" in page(site, path).text_content(), path


def test_state_profile_quotes_the_evidence_with_its_source(site, published):
    html = page(site, "/state/fra")
    assert "France" in html.findtext(".//h1")
    row = html.xpath('//tr[@data-norm="debate.new-treaty"]')[0]
    assert row.xpath('string(.//span[contains(@class, "stance")])') == "oppose"
    quote = row.xpath('string(.//*[@class="evidence"])').strip("“” \n")
    evidence = query(published, """select s.text from positions p join sentences s
                                   on s.id = p.evidence_sentence_id
                                   where p.state = 'FRA' and p.norm_id = 'debate.new-treaty'""")
    assert quote == evidence[0][0].strip('"')
    hrefs = row.xpath(".//a/@href")
    assert any(href.startswith("/normwatch/documents/") for href in hrefs)
    assert any(href.startswith("https://cyberlaw.ccdcoe.org/") for href in hrefs)
    assert get(site, "/state/XYZ").status_code == 404


def test_norm_page_groups_states_by_stance_and_lists_the_silent(site, published):
    html = page(site, "/norm/debate.new-treaty")
    label = query(published, "select label from norms where id = 'debate.new-treaty'")[0][0]
    assert label in html.findtext(".//h1")
    names = {stance: html.xpath(f'//section[@id="{stance}"]//td[@class="state-name"]/a/text()')
             for stance in ("support", "qualified", "oppose", "mention")}
    expected = query(published, """select p.stance, st.name from positions p join states st
                                   on st.iso3 = p.state where p.norm_id = 'debate.new-treaty'""")
    assert {(stance, name) for stance, found in names.items() for name in found} == set(expected)
    assert "France" in names["oppose"] and "Iran (Islamic Republic of)" in names["support"]
    silent = set(html.xpath('//section[@id="silence"]//a/text()'))
    assert "Afghanistan" in silent and "France" not in silent
    assert len(silent) + len(expected) == query(
        published, "select count(*) from states where un_member or observer or iso3 in ('EUN', 'AU')"
    )[0][0]
    assert get(site, "/norm/no.such-norm").status_code == 404


def test_matrix_has_a_cell_per_position(site, published):
    html = page(site, "/matrix")
    cells = html.xpath('//td[contains(@class, "cell") and contains(@class, "stance-")]')
    assert len(cells) == query(published, "select count(*) from positions")[0][0]


def test_a_qualified_position_from_mixed_evidence_quotes_both_sides(site, published):
    mixed = query(published, """select p.state, p.norm_id, s.text, c.text from positions p
                                join sentences s on s.id = p.evidence_sentence_id
                                join sentences c on c.id = p.counter_evidence_sentence_id""")
    assert mixed, "the sample has no document with mixed evidence"
    for state, norm, evidence, counter in mixed:
        (row,) = page(site, f"/state/{state}").xpath(f'//tr[@data-norm="{norm}"]')
        assert row.xpath('string(.//span[contains(@class, "stance")])') == "qualified"
        quotes = [quote.strip("“” \n") for quote in row.xpath('.//blockquote/text()')]
        assert evidence.strip('"') in quotes and counter.strip('"') in quotes
        assert row.xpath('string(.//*[@class="evidence counter"])').strip("“” \n") == counter.strip('"')


def test_states_and_norms_indexes(site, published):
    states = page(site, "/states")
    assert len(states.xpath("//tbody/tr")) == query(published, "select count(*) from states")[0][0]
    norms = page(site, "/norms")
    assert len(norms.xpath("//tbody/tr")) == query(published, "select count(*) from norms")[0][0]


def test_every_column_of_every_public_table_is_described(published):
    with sqlite3.connect(published) as conn:
        tables = set(public_tables(conn))
    described = query(published, "select distinct table_name from data_dictionary")
    assert {row[0] for row in described} == tables
    missing = query(published, "select table_name, column_name from data_dictionary "
                               "where coalesce(description, '') = '' or table_description is null")
    assert missing == []


def test_dictionary_page_shows_every_table(site, published):
    html = page(site, "/dictionary")
    tables = {row[0] for row in query(published, "select distinct table_name from data_dictionary")}
    assert set(html.xpath("//h2/@id")) == tables


def test_release_row_says_when_and_with_what(published):
    (row,) = query(published, "select built_at, nlp_versions, embedding_models, documents from releases")
    assert row[0] == "2026-12-01T00:00:00Z"
    assert json.loads(row[1]) and json.loads(row[2]) == ["fake-hash-8"]
    assert row[3] == query(published, "select count(*) from documents")[0][0]


def test_similar_sentences_are_the_nearest_of_other_speakers(published):
    # The float vectors are in the working database only (the published file has int8 copies).
    with sqlite3.connect(published) as conn:
        conn.execute("attach ? as work", [str(published.with_name("work.db"))])
        rows = conn.execute("""select e.sentence_id, ds.state, e.vector from work.embeddings e
                               join (select distinct evidence_sentence_id, state from document_stances
                                     where stance <> 'mention') ds
                               on ds.evidence_sentence_id = e.sentence_id""").fetchall()
    ids = [row[0] for row in rows]
    vectors = np.vstack([np.frombuffer(row[2], dtype="<f4") for row in rows])
    states = [row[1] for row in rows]
    for index in range(0, len(ids), max(1, len(ids) // 5)):
        scores = vectors @ vectors[index]
        others = [j for j in range(len(ids)) if states[j] != states[index]]
        best = max(scores[j] for j in others)
        stored = query(published, "select similar_sentence_id, similarity, similar_state from "
                                  "similar_sentences where sentence_id = ? order by rank", (ids[index],))
        assert stored and stored[0][1] == pytest.approx(best, abs=1e-4)
        assert all(state != states[index] for _, _, state in stored)
        assert [s for _, s, _ in stored] == sorted((s for _, s, _ in stored), reverse=True)


def test_state_agreement_counts_shared_norms(published):
    for state, other, both, same, agreement in query(published, "select * from state_agreement"):
        pairs = query(published, """select a.stance = b.stance from positions a join positions b
                                   on a.norm_id = b.norm_id where a.state = ? and b.state = ?
                                   and a.stance <> 'mention' and b.stance <> 'mention'""", (state, other))
        assert both == len(pairs) and same == sum(row[0] for row in pairs)
        assert agreement == pytest.approx(same / both, abs=1e-3)


def test_statement_text_is_escaped_everywhere(site, published):
    (document_id,) = query(published, "select id from documents where state = 'CHL'")[0]
    for path in ("/state/CHL", "/norm/law.sovereignty-rule", "/matrix",
                 f"/normwatch/documents/{document_id}", "/normwatch/sentences?_search=Chile",
                 "/normwatch/positions_for_state?state=CHL",
                 "/normwatch/new_statements_by_state.atom?state=CHL"):
        response = get(site, path)
        assert response.status_code == 200, path
        assert "<script>alert" not in response.text and "<b>Chile" not in response.text, path
    assert "&lt;script&gt;alert(1)" in get(site, "/state/CHL").text


def test_atom_feed_lists_new_statements(site, published):
    response = get(site, "/normwatch/new_statements.atom")
    assert response.status_code == 200
    entries = ElementTree.fromstring(response.text).findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == min(50, query(published, "select count(*) from documents")[0][0])


def test_an_oversized_value_is_refused(site):
    small = get(site, "/normwatch.json?sql=select+length(randomblob(1000))&_shape=array")
    assert small.status_code == 200 and small.json() == [{"length(randomblob(1000))": 1000}]
    huge = get(site, "/normwatch.json?sql=select+length(randomblob(50000000))")
    assert huge.status_code == 400 and "too big" in huge.text


def test_search_marks_the_matching_words_and_names_the_speaker(site):
    response = get(site, "/normwatch/search_statements.json?q=sovereignty&_shape=array")
    assert response.status_code == 200
    rows = response.json()
    assert rows and all("«sovereignty»" in row["snippet"].lower() for row in rows)
    assert {"state_name", "date", "source_url", "sentence_id"} <= set(rows[0])
    chile = [row for row in rows if row["state"] == "CHL"]
    assert chile and chile[0]["date"] == "2023-03-01"
    # FTS syntax in the query is escaped, not an error
    assert get(site, '/normwatch/search_statements.json?q="unbalanced').status_code == 200


def test_documents_facet_by_year(site):
    response = get(site, "/normwatch/documents.json?_facet=year")
    years = {item["value"] for item in response.json()["facet_results"]["year"]["results"]}
    assert "2023" in years and all(len(year) == 4 for year in years)


def test_untitled_documents_are_named_by_speaker_and_date(published):
    assert query(published, "select title from documents where state = 'CHL'") == [
        ("<b>Chile</b> on sovereignty",)
    ]
    assert query(published, "select title from documents where date = '2022-05-05'") == [
        ("(untitled) Peru, 2022-05-05",)
    ]


def test_csv_exports_cannot_run_formulas(site):
    for path in ("/normwatch/sentences.csv?_search=HYPERLINK", "/normwatch/sentences.csv?_search=HYPERLINK&_dl=1",
                 "/normwatch/sentences.csv?_search=HYPERLINK&_stream=on",
                 "/normwatch/search_statements.csv?q=HYPERLINK"):
        response = get(site, path)
        assert response.status_code == 200, path
        rows = list(csv.reader(io.StringIO(response.text)))
        cells = [cell for row in rows[1:] for cell in row]
        assert any(cell.startswith("'=HYPERLINK") for cell in cells), path
        assert not any(cell.startswith(("=", "+", "@")) for cell in cells), path


def test_defuse_leaves_numbers_and_plain_text_alone():
    from normwatch_csv import defuse

    assert defuse("-1.5") == "-1.5" and defuse("+3") == "+3" and defuse("France") == "France"
    assert defuse("-cmd|calc") == "'-cmd|calc" and defuse("@SUM(A1)") == "'@SUM(A1)"


def test_timeline_shows_the_quotes_before_and_after_a_change(site, published):
    response = get(site, "/normwatch/state_timeline.json?state=Norway&_shape=array")
    assert response.status_code == 200
    rows = [row for row in response.json() if row["norm_id"] == "debate.new-treaty"]
    assert [row["date"] for row in rows] == sorted(row["date"] for row in rows)
    (changed,) = [row for row in rows if row["change"] == "changed"]
    earlier, latest = query(published, """select earlier_stance, stance from positions
                                          where state = 'NOR' and norm_id = 'debate.new-treaty'""")[0]
    assert (earlier, latest) == ("oppose", "support")
    assert (changed["previous_stance"], changed["stance"]) == (earlier, latest)
    assert changed["quote_before"] and changed["quote"] and changed["quote_before"] != changed["quote"]
