"""The UNODA OEWG spider: listings and statements on the saved sample site, then a real crawl."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
import sqlite_utils
from scrapy.http import HtmlResponse, Response

from crawler.items import DocumentItem, FetchErrorItem
from crawler.sample_pdf import render_spec
from crawler.sample_server import SAMPLE_ROOT
from crawler.spiders.unoda_oewg import UnodaOewgSpider
from crawler.unoda_parsing import (
    ListingEntry,
    attribute,
    forum_from_heading,
    parse_date,
    parse_meeting_page,
    reflow,
    split_names,
    statement_text,
)
from tests.conftest import REPO

UNODA = SAMPLE_ROOT / "unoda"
MEETINGS = "https://meetings.unoda.org"
DOCS = "https://docs-library.unoda.org"
S3 = "placeholder-oewg-2021-2025-s3"
S2 = "placeholder-oewg-2019-2021-s2"
S11 = "placeholder-oewg-2021-2025-s11"
MARKER = "SYNTHETIC SAMPLE: written by NormWatch, not the words of any state."


def listing_response(meeting: str, query: str = "") -> HtmlResponse:
    path = UNODA / "meeting" / meeting / f"documents{'?' + query if query else ''}.html"
    url = f"{MEETINGS}/meeting/{meeting}/documents{'?' + query if query else ''}"
    return HtmlResponse(url=url, body=path.read_bytes(), encoding="utf-8")


def statement(folder: str, name: str, title: str, type_label: str = "Statements",
              date: str = "2022-03-28", forum: str = "OEWG 2021-2025") -> list:
    """Run the async PDF callback on a sample PDF served from the real docs host."""
    body = render_spec(UNODA / folder / f"{name}.pdf.txt")
    response = Response(url=f"{DOCS}/{folder}/{name}.pdf", body=body,
                        headers={"Content-Type": "application/pdf"})
    entry = ListingEntry(title=title, href=response.url, type_label=type_label, date=date)

    async def collect() -> list:
        return [item async for item in UnodaOewgSpider().parse_statement(response, entry, forum)]

    return asyncio.run(collect())


def only(items: list) -> DocumentItem:
    assert len(items) == 1 and isinstance(items[0], DocumentItem), items
    return items[0]


# --- listings -------------------------------------------------------------------------


def test_first_listing_page_entries_types_dates_and_next_link():
    page = parse_meeting_page(listing_response(S3).text)
    assert page.heading.startswith("Open-ended Working Group on security of and in the use")
    assert [(e.title, e.type_label, e.date) for e in page.entries] == [
        ("Programme of work", "Programme of work", "2022-03-25"),
        ("Brazil", "Statements", "2022-03-28"),
        ("France", "Statements", "2022-03-28"),
        ("Mexico", "Statements", "2022-03-29"),
        ("European Union", "Statements", "2022-03-29"),
        ("Indonesia on behalf of the Non-Aligned Movement", "Statements", "2022-03-28"),
    ]
    assert page.entries[1].href == "/OEWG_2021-2025/Session_3/Statement_item5_general_final.pdf"
    assert page.next_href == "?page=1"


def test_spider_follows_statements_and_the_next_page_only():
    spider = UnodaOewgSpider()
    requests = list(spider.parse_meeting(listing_response(S3), meeting_id=S3))
    pdfs = [r for r in requests if r.callback == spider.parse_statement]
    pages = [r for r in requests if r.callback == spider.parse_meeting]
    assert [r.cb_kwargs["entry"].title for r in pdfs] == [
        "Brazil", "France", "Mexico", "European Union", "Indonesia on behalf of the Non-Aligned Movement"
    ]
    assert pdfs[0].url == f"{MEETINGS}/OEWG_2021-2025/Session_3/Statement_item5_general_final.pdf"
    assert {r.cb_kwargs["forum"] for r in pdfs} == {"OEWG 2021-2025"}
    assert [r.url for r in pages] == [f"{MEETINGS}/meeting/{S3}/documents?page=1"]
    assert pages[0].cb_kwargs == {"meeting_id": S3}
    assert all(r.errback == spider.record_failure for r in requests)


def test_last_page_has_no_next_link_and_skips_the_list_of_participants():
    spider = UnodaOewgSpider()
    requests = list(spider.parse_meeting(listing_response(S3, "page=1"), meeting_id=S3))
    assert all(r.callback == spider.parse_statement for r in requests)
    assert [r.cb_kwargs["entry"].title for r in requests] == [
        "Joint statement by Australia, Canada and New Zealand on international law",
        "Open Networks Civil Society Coalition",
        "Russian Federation",
        "Iran (Islamic Republic of)",
        "Kenya",
    ]
    assert requests[1].cb_kwargs["entry"].type_label == "Stakeholder statement"


def test_empty_listing_stops_even_with_a_pager():
    page = parse_meeting_page(listing_response(S11).text)
    assert page.entries == [] and page.next_href == "?page=1"
    assert list(UnodaOewgSpider().parse_meeting(listing_response(S11), meeting_id=S11)) == []


def test_older_oewg_forum_and_statement_by_prefix():
    spider = UnodaOewgSpider()
    requests = list(spider.parse_meeting(listing_response(S2), meeting_id=S2))
    assert [r.cb_kwargs["entry"].title for r in requests] == ["Statement by Estonia", "Cuba"]
    assert {r.cb_kwargs["forum"] for r in requests} == {"OEWG 2019-2021"}


def test_meetings_argument_and_forum_from_heading_for_unlisted_ids():
    spider = UnodaOewgSpider(meetings="57871, 12345,")
    assert spider.meeting_ids == ["57871", "12345"]
    assert UnodaOewgSpider().meeting_ids == list(UnodaOewgSpider.meetings)
    requests = list(spider.parse_meeting(listing_response(S2), meeting_id="57871"))
    assert {r.cb_kwargs["forum"] for r in requests} == {"OEWG 2019-2021"}


@pytest.mark.parametrize(("heading", "forum"), [
    ("Open-ended Working Group on security of and in the use of ICTs 2021\u20132025 \u2013 Fifth session",
     "OEWG 2021-2025"),
    ("Open-ended working group (2019-2021), second substantive session", "OEWG 2019-2021"),
    ("Global Mechanism on ICT security, first session", "Global Mechanism on ICT security, first session"),
    (None, None),
])
def test_forum_from_heading(heading, forum):
    assert forum_from_heading(heading) == forum


@pytest.mark.parametrize(("text", "iso"), [
    ("28 March 2022", "2022-03-28"), ("1 Apr 2022", "2022-04-01"), ("March 28, 2022", "2022-03-28"),
    ("2022-03-28", "2022-03-28"), ("28/03/2022", "2022-03-28"), ("Statements", None), ("", None),
])
def test_parse_date(text, iso):
    assert parse_date(text) == iso


# --- who speaks -----------------------------------------------------------------------


@pytest.mark.parametrize(("title", "type_label", "expected"), [
    ("Brazil", "Statements", ("Brazil", "delegation", None, "statement")),
    ("Statement by the Netherlands", "Statement", ("Netherlands", "delegation", None, "statement")),
    ("European Union", "Statements", ("European Union", "group", "European Union", "statement")),
    ("Statement by the Non-Aligned Movement", "Statements",
     ("Non-Aligned Movement", "group", "Non-Aligned Movement", "statement")),
    ("Indonesia on behalf of the Non-Aligned Movement", "Statements",
     ("Indonesia", "group", "Non-Aligned Movement", "statement")),
    ("Egypt, on behalf of the Arab Group", "Statements", ("Egypt", "group", "Arab Group", "statement")),
    ("Statement by the African Group", "Statements", ("African Group", "group", "African Group", "statement")),
    ("Open Networks Civil Society Coalition", "Stakeholder statement",
     ("Open Networks Civil Society Coalition", "stakeholder", None, "statement")),
    ("Atlantis", "Statements", ("Atlantis", None, None, "statement")),  # never guessed
])
def test_attribute_single_speakers(title, type_label, expected):
    (found,) = attribute(title, type_label)
    assert (found.speaker, found.speaker_role, found.on_behalf_of, found.doc_type) == expected


def test_joint_statement_names_split_only_where_states_resolve():
    assert split_names("Australia, Canada and New Zealand") == ["Australia", "Canada", "New Zealand"]
    assert split_names("Bosnia and Herzegovina, Canada and the Netherlands") == [
        "Bosnia and Herzegovina", "Canada", "Netherlands"
    ]
    assert split_names("Trinidad and Tobago and Antigua and Barbuda") == [
        "Trinidad and Tobago", "Antigua and Barbuda"
    ]
    assert split_names("Canada and Atlantis") == ["Canada and Atlantis"]  # kept, not guessed
    title = "Joint statement by Australia, Canada and New Zealand on international law"
    found = attribute(title, "Statements")
    assert [a.speaker for a in found] == ["Australia", "Canada", "New Zealand"]
    roles = {(a.speaker_role, a.on_behalf_of, a.doc_type) for a in found}
    assert roles == {("delegation", title, "joint statement")}
    assert found[0].aligned_states == ("Australia", "Canada", "New Zealand")
    (untitled,) = attribute("Joint statement on ransomware", "Statements")
    assert (untitled.speaker, untitled.speaker_role, untitled.doc_type) == (
        "Joint statement on ransomware", "group", "joint statement")


def test_reflow_joins_wrapped_lines_and_keeps_paragraphs():
    page = (
        "A first line that runs to the full\nwidth of the column and non-\n"
        "binding words end here.\nNext paragraph."
    )
    assert reflow(page) == (
        "A first line that runs to the full width of the column and non-binding words end here."
        "\n\nNext paragraph."
    )
    text = statement_text("SYNTHETIC SAMPLE: not\nreal.\nBonjour le monde.")
    assert text.synthetic and text.body == "Bonjour le monde."
    assert not statement_text("Plain official text.").synthetic


# --- statements (PDF callback) --------------------------------------------------------


def test_delegation_statement_fields():
    item = only(statement("OEWG_2021-2025/Session_3", "Statement_item5_general_final", "Brazil"))
    assert item.url == f"{DOCS}/OEWG_2021-2025/Session_3/Statement_item5_general_final.pdf"
    assert (item.speaker, item.speaker_role, item.on_behalf_of) == ("Brazil", "delegation", None)
    assert (item.date, item.title, item.forum, item.doc_type) == (
        "2022-03-28", "Brazil", "OEWG 2021-2025", "statement")
    assert item.language == "en" and item.provenance == "synthetic-sample"
    assert item.text.startswith(MARKER + "\n\nStatement by the delegation of Brazil")
    assert "Programme of Action" in item.text
    assert "\n\nWe recognise that international humanitarian law" in item.text  # paragraphs kept
    assert (item.source_char_start, item.source_char_end) == (0, len(item.text))
    assert item.state is None and item.symbol is None and item.aligned_states == [] and item.sections == []


@pytest.mark.parametrize(("name", "title", "language", "phrase"), [
    ("FR_intervention_DI_28mars", "France", "fr", "la souveraineté est une règle du droit international"),
    ("MX_Declaracion_Sesion3", "Mexico", "es", "Señor Presidente, México reitera"),
])
def test_statements_in_the_language_delivered(name, title, language, phrase):
    item = only(statement("OEWG_2021-2025/Session_3", name, title))
    assert (item.speaker, item.language) == (title, language)
    assert phrase in item.text  # accents survive the PDF round trip


def test_eu_statement_is_the_groups():
    item = only(statement("OEWG_2021-2025/Session_3", "EU_statement_existing_and_potential_threats",
                          "European Union", date="2022-03-29"))
    assert (item.speaker, item.speaker_role, item.on_behalf_of, item.doc_type) == (
        "European Union", "group", "European Union", "statement")


def test_group_statement_delivered_by_a_state():
    item = only(statement("OEWG_2021-2025/Session_3", "IDN_statement_final",
                          "Indonesia on behalf of the Non-Aligned Movement"))
    assert (item.speaker, item.speaker_role, item.on_behalf_of) == (
        "Indonesia", "group", "Non-Aligned Movement")
    assert "legally binding instrument" in item.text


def test_joint_statement_is_one_document_per_state_same_text():
    title = "Joint statement by Australia, Canada and New Zealand on international law"
    items = statement("OEWG_2021-2025/Session_3", "Joint_statement_IL_final_v3", title, date="2022-03-30")
    assert [i.speaker for i in items] == ["Australia", "Canada", "New Zealand"]
    assert len({i.text for i in items}) == 1 and len({i.url for i in items}) == 1
    for item in items:
        assert (item.doc_type, item.on_behalf_of, item.speaker_role) == (
            "joint statement", title, "delegation")
        assert item.aligned_states == ["Australia", "Canada", "New Zealand"]
        assert item.date == "2022-03-30"


def test_stakeholder_statement():
    item = only(statement("OEWG_2021-2025/Session_3", "ONCSC_remarks",
                          "Open Networks Civil Society Coalition",
                          type_label="Stakeholder statement"))
    assert (item.speaker, item.speaker_role, item.on_behalf_of) == (
        "Open Networks Civil Society Coalition", "stakeholder", None)


def test_two_column_pdf_reads_in_column_order():
    item = only(statement("OEWG_2019-2021/Second_session", "200211_statement", "Statement by Estonia",
                          date="2020-02-11", forum="OEWG 2019-2021"))
    assert (item.speaker, item.forum, item.language) == ("Estonia", "OEWG 2019-2021", "en")
    text = item.text
    assert text.index("Sovereignty is a rule") < text.index("due diligence obligation") < text.index(
        "collective countermeasures") < text.index("humanity, necessity") < text.index("eleven norms")
    assert "not the words of any state." in text  # the marker line, rejoined across the column


@pytest.mark.parametrize(("name", "reason"), [
    ("RF_statement_scan", "pdf_no_text"),
    ("IR_statement_protected", "pdf_encrypted"),
])
def test_unreadable_pdfs_become_fetch_errors(name, reason):
    (error,) = statement("OEWG_2021-2025/Session_3", name, "Russian Federation")
    assert isinstance(error, FetchErrorItem)
    assert (error.url, error.reason, error.status) == (
        f"{DOCS}/OEWG_2021-2025/Session_3/{name}.pdf", reason, 200)


def test_html_where_a_pdf_was_expected_is_not_pdf():
    response = HtmlResponse(url=f"{DOCS}/x.pdf", body=b"<html><body>Moved</body></html>", encoding="utf-8")
    entry = ListingEntry("Brazil", response.url, "Statements", None)

    async def collect() -> list:
        return [item async for item in UnodaOewgSpider().parse_statement(response, entry, None)]

    (error,) = asyncio.run(collect())
    assert (error.reason, error.status) == ("not_pdf", 200)


# --- a real crawl of the sample site --------------------------------------------------


def crawl(db_path, base_url: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "pipeline.py", "--db", str(db_path), "crawl", "unoda_oewg",
        "--set", f"UNODA_BASE_URL={base_url}",
        "--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False",
    ]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=90)


@pytest.mark.slow
def test_crawl_stores_every_statement_and_records_every_failure(tmp_path, sample_site):
    base = sample_site["unoda"]
    db_path = tmp_path / "crawl.db"
    first = crawl(db_path, base)
    assert first.returncode == 0, first.stderr
    db = sqlite_utils.Database(db_path)
    rows = list(db.query(
        "SELECT state, speaker, speaker_role, on_behalf_of, doc_type, forum, date, language, url, provenance"
        " FROM documents ORDER BY forum, state, speaker"
    ))
    found = {(r["state"], r["speaker"]): r for r in rows}
    assert sorted(found, key=str) == sorted([
        ("EST", "Estonia"), ("CUB", "Cuba"),
        ("BRA", "Brazil"), ("FRA", "France"), ("MEX", "Mexico"), ("EUN", "European Union"),
        ("IDN", "Indonesia"), ("AUS", "Australia"), ("CAN", "Canada"), ("NZL", "New Zealand"),
        (None, "Open Networks Civil Society Coalition"),
    ], key=str)
    assert len(rows) == 11
    assert {r["forum"] for r in rows if r["state"] in ("EST", "CUB")} == {"OEWG 2019-2021"}
    assert {r["forum"] for r in rows if r["state"] not in ("EST", "CUB")} == {"OEWG 2021-2025"}
    assert found[("FRA", "France")]["language"] == "fr" and found[("CUB", "Cuba")]["language"] == "es"
    assert found[("EST", "Estonia")]["date"] == "2020-02-11"
    assert found[("IDN", "Indonesia")]["on_behalf_of"] == "Non-Aligned Movement"
    joint = [found[key] for key in [("AUS", "Australia"), ("CAN", "Canada"), ("NZL", "New Zealand")]]
    assert {r["doc_type"] for r in joint} == {"joint statement"}
    assert len({r["url"] for r in joint}) == 1
    assert found[(None, "Open Networks Civil Society Coalition")]["speaker_role"] == "stakeholder"
    assert all(r["provenance"] == "synthetic-sample" and r["url"].startswith(base) for r in rows)

    errors = sorted((r["url"].removeprefix(base), r["reason"], r["status"])
                    for r in db.query("SELECT url, reason, status FROM fetch_errors"))
    assert errors == [
        ("/OEWG_2021-2025/Session_3/IR_statement_protected.pdf", "pdf_encrypted", 200),
        ("/OEWG_2021-2025/Session_3/KEN_statement_item5.pdf", "http_404", 404),
        ("/OEWG_2021-2025/Session_3/RF_statement_scan.pdf", "pdf_no_text", 200),
    ]  # nothing for the skipped agenda, programme, participants, nor the empty meeting's pager
    run = db["crawl_runs"].get(1)
    assert (run["finish_reason"], run["documents_new"], run["errors"]) == ("finished", 11, 3)

    second = crawl(db_path, base)
    assert second.returncode == 0, second.stderr
    run = db["crawl_runs"].get(2)
    assert (run["documents_new"], run["documents_seen"], run["errors"]) == (0, 11, 3)
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 11
