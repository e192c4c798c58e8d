"""The un_documents spider: documents.un.org PDFs by symbol, split per state (no network).

Sample PDFs are rendered from the specs in crawler/sample_site/un_documents/api/symbol/.
Symbols A/99/9xx are fixtures for failures (encrypted, HTML, tiny, unknown) and are
reached only by overriding the symbol list.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from functools import cache

import pytest
import sqlite_utils
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.items import DocumentItem, FetchErrorItem
from crawler.pdf import extract_pdf
from crawler.sample_pdf import render_spec
from crawler.sample_server import SAMPLE_ROOT
from crawler.spiders.un_documents import UnDocumentsSpider
from crawler.un_documents_parsing import (
    EMPTY_BODY,
    NOT_PDF,
    access_url,
    body_problem,
    parse_symbols,
    parse_un_document,
    reflow,
)
from db.states import registry
from tests.conftest import REPO

REAL = "https://documents.un.org"
SYMBOL_DIR = SAMPLE_ROOT / "un_documents" / "api" / "symbol"
ERROR_SYMBOLS = {
    "A/66/152": "pdf_no_text",  # a scan (image-only)
    "A/99/902": "pdf_encrypted",
    "A/99/903": NOT_PDF,  # an HTML page where a PDF was expected
    "A/99/904": NOT_PDF,  # "%PDF-" but 15 bytes
    "A/99/999": EMPTY_BODY,  # unknown symbol: 200 with an empty body
}
FURNITURE = re.compile(r"^(?:A/\d+/\d+|\d{2}-\d{5} \d+/\d+)$", re.M)


def fixture_body(symbol: str) -> bytes:
    stem = f"access?s={symbol.replace('/', '%2F')}&l=en&t=pdf"
    spec = SYMBOL_DIR / f"{stem}.pdf.txt"
    if spec.exists():
        return render_spec(spec)
    (path,) = SYMBOL_DIR.glob(f"{glob_escape(stem)}.*")
    return path.read_bytes()


def glob_escape(text: str) -> str:
    return re.sub(r"([?*\[])", r"[\1]", text)


async def _collect(generator) -> list:
    return [item async for item in generator]


@cache
def parse(symbol: str) -> tuple[DocumentItem | FetchErrorItem, ...]:
    """The spider's callback on a sample PDF as received from the real site."""
    url = access_url(REAL, symbol)
    response = Response(url=url, body=fixture_body(symbol), status=200)
    spider = UnDocumentsSpider()
    return tuple(asyncio.run(_collect(spider.parse_document(response, symbol=symbol, url=url))))


@cache
def source_text(symbol: str) -> str:
    return parse_un_document(extract_pdf(fixture_body(symbol)).text, symbol).source_text


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def by_speaker(symbol: str) -> dict[str, DocumentItem]:
    return {item.speaker: item for item in parse(symbol)}


# --- addresses and arguments ---------------------------------------------------------------


def test_access_url_percent_encodes_the_whole_symbol():
    assert access_url(REAL, "A/76/136") == f"{REAL}/api/symbol/access?s=A%2F76%2F136&l=en&t=pdf"
    assert access_url(REAL + "/", "A/C.1/76/PV.5", "fr") == (
        f"{REAL}/api/symbol/access?s=A%2FC.1%2F76%2FPV.5&l=fr&t=pdf"
    )


def start_urls(spider_kwargs: dict, settings: dict | None = None) -> list[str]:
    crawler = get_crawler(UnDocumentsSpider, settings or {})
    spider = UnDocumentsSpider.from_crawler(crawler, **spider_kwargs)

    async def urls() -> list[str]:
        return [request.url async for request in spider.start()]

    return asyncio.run(urls())


def test_default_symbols_then_argument_then_setting():
    defaults = start_urls({})
    assert len(defaults) == len(UnDocumentsSpider.symbols) == 8
    assert f"{REAL}/api/symbol/access?s=A%2F70%2F174&l=en&t=pdf" in defaults
    assert start_urls({"symbols": "A/76/136, A/78/265,A/76/136"}) == [
        access_url(REAL, "A/76/136"), access_url(REAL, "A/78/265"),
    ]
    setting = {"UN_DOCUMENTS_SYMBOLS": "A/75/816", "UN_DOCUMENTS_BASE_URL": "http://127.0.0.1:9/"}
    assert start_urls({}, setting) == ["http://127.0.0.1:9/api/symbol/access?s=A%2F75%2F816&l=en&t=pdf"]
    assert start_urls({"symbols": "A/77/275"}, setting) == [
        "http://127.0.0.1:9/api/symbol/access?s=A%2F77%2F275&l=en&t=pdf"
    ]
    assert parse_symbols("  ") == ()


@pytest.mark.parametrize(
    "body, reason",
    [(b"", EMPTY_BODY), (b" \r\n", EMPTY_BODY), (b"<html>not found</html>", NOT_PDF),
     (b"%PDF-1.4\n%%EOF\n", NOT_PDF), (b"%PDF-1.4\n" + b"0" * 400, None)],
)
def test_body_problem(body, reason):
    problem = body_problem(body)
    assert (problem[0] if problem else None) == reason


# --- the compendium of national contributions (two-column PDF) -----------------------------


def test_compendium_one_document_per_state_and_the_note():
    items = parse("A/76/136")
    assert [item.speaker for item in items] == [
        "Group of Governmental Experts", "Kenya", "Switzerland", "Mexico",
        "United Kingdom of Great Britain and Northern Ireland",  # heading wrapped onto two lines
    ]
    assert [item.doc_type for item in items] == ["report"] + ["national contribution"] * 4
    assert [item.language for item in items] == ["en", "en", "fr", "es", "en"]
    assert [item.speaker_role for item in items] == ["UN body"] + ["government"] * 4
    url = f"{REAL}/api/symbol/access?s=A%2F76%2F136&l=en&t=pdf"
    for item in items:
        assert isinstance(item, DocumentItem)
        assert item.url == url
        assert item.symbol == "A/76/136"
        assert item.date == "2021-07-13"
        assert item.forum == "UN General Assembly"
        assert item.provenance == "synthetic-sample"
        assert item.state is None and item.on_behalf_of is None and item.aligned_states == []
    assert items[0].title.startswith("Official compendium of voluntary national contributions")
    assert items[0].title.endswith("participating experts of the Group of Governmental Experts")
    assert items[2].title == "A/76/136 national contribution: Switzerland"
    assert [registry().resolve(item.speaker) for item in items[1:]] == ["KEN", "CHE", "MEX", "GBR"]


def test_compendium_texts_and_spans():
    items = by_speaker("A/76/136")
    kenya = items["Kenya"].text
    assert kenya.startswith("1. Kenya holds that the Charter")
    assert kenya.endswith("the evidence on which it relies.")
    assert kenya.count("\n\n") == 3  # four numbered paragraphs, wrapped lines rejoined
    assert "capacity-building is what makes" in kenya
    swiss = items["Switzerland"]
    assert swiss.text.startswith("1. La Suisse estime")
    assert "intégralité" in swiss.text and "Kenya" not in swiss.text
    assert [s["heading"] for s in swiss.sections] == ["Souveraineté", "Droit international humanitaire"]
    bodies = [swiss.text[s["char_start"] : s["char_end"]] for s in swiss.sections]
    assert bodies[0].startswith("2. La souveraineté") and bodies[0].endswith("de la souveraineté.")
    assert bodies[1].startswith("3. Le droit") and bodies[1].endswith("reconnues à ce jour.")
    mexico = items["Mexico"].text
    assert mexico.startswith("1. México considera") and "A/76/136" not in mexico  # page header dropped
    uk = items["United Kingdom of Great Britain and Northern Ireland"].text
    assert uk.startswith("1. The United Kingdom considers") and "21-09876" not in uk  # footer dropped
    assert "Northern Ireland" not in uk


@pytest.mark.parametrize("symbol", ["A/76/136", "A/68/156", "A/70/174"])
def test_spans_cover_exactly_each_text_in_order(symbol):
    source = source_text(symbol)
    items = parse(symbol)
    previous_end = 0
    for item in sorted(items, key=lambda i: i.source_char_start):
        assert previous_end <= item.source_char_start < item.source_char_end <= len(source)
        span = FURNITURE.sub("", source[item.source_char_start : item.source_char_end])
        assert words(span) == words(item.text), item.speaker
        previous_end = item.source_char_end


# --- a Secretary-General report with replies from Governments ----------------------------


def test_replies_one_document_per_government():
    items = parse("A/68/156")
    assert [item.speaker for item in items] == [
        "Secretary-General", "Cuba", "Japan", "Qatar", "Russian Federation"
    ]
    assert [item.doc_type for item in items] == ["report"] + ["reply to the Secretary-General"] * 4
    # The reply's own date; Japan gave none, so the report's date.
    assert [item.date for item in items] == [
        "2013-07-16", "2013-05-30", "2013-07-16", "2013-06-12", "2013-06-04"
    ]
    # The English edition translates: the text is English, the original is in the title.
    assert {item.language for item in items} == {"en"}
    assert [item.title for item in items[1:]] == [
        "A/68/156 reply to the Secretary-General: Cuba (original: Spanish)",
        "A/68/156 reply to the Secretary-General: Japan (original: English)",
        "A/68/156 reply to the Secretary-General: Qatar (original: Arabic)",
        "A/68/156 reply to the Secretary-General: Russian Federation (original: Russian)",
    ]
    assert items[0].title == (
        "Developments in the field of information and telecommunications in the context of "
        "international security: Report of the Secretary-General"
    )
    assert items[0].speaker_role == "secretariat" and items[1].speaker_role == "government"
    assert all(item.symbol == "A/68/156" and item.provenance == "synthetic-sample" for item in items)


def test_reply_texts_leave_out_markers_and_cross_the_page_break():
    items = by_speaker("A/68/156")
    cuba = items["Cuba"].text
    assert cuba.startswith("1. Cuba is concerned") and "[Original" not in cuba and "2013" not in cuba
    assert "legally binding instrument" in cuba
    qatar = items["Qatar"].text.split("\n\n")
    assert len(qatar) == 2 and qatar[1].startswith("2. Qatar supports")  # across the page break
    assert "A/68/156" not in items["Qatar"].text and "Russian" not in items["Qatar"].text
    report = items["Secretary-General"]
    assert "Cuba" not in report.text and report.text.startswith("SYNTHETIC SAMPLE")
    assert [s["heading"] for s in report.sections] == [
        "I. Introduction", "II. Replies received from Governments"
    ]
    intro = report.sections[0]
    assert report.text[intro["char_start"] : intro["char_end"]].startswith("1. In its resolution 67/27")
    assert report.sections[1]["char_start"] == report.sections[1]["char_end"] == len(report.text)


# --- reports that are one document ------------------------------------------------------------


@pytest.mark.parametrize(
    "symbol, speaker, date, title_start",
    [
        ("A/70/174", "Group of Governmental Experts", "2015-07-22", "Report of the Group of Governmental"),
        ("A/76/135", "Group of Governmental Experts", "2021-07-14", "Report of the Group of Governmental"),
        ("A/75/816", "Open-ended Working Group", "2021-03-18", "Final report of the Open-ended"),
        ("A/77/275", "Open-ended Working Group", "2022-08-08", "Annual progress report of the Open"),
        ("A/78/265", "Open-ended Working Group", "2023-08-01", "Second annual progress report"),
    ],
)
def test_reports_are_one_document_by_the_issuing_body(symbol, speaker, date, title_start):
    (item,) = parse(symbol)
    assert (item.speaker, item.date, item.doc_type, item.symbol) == (speaker, date, "report", symbol)
    assert item.title.startswith(title_start)
    assert item.language == "en" and item.speaker_role == "UN body"
    assert item.provenance == "synthetic-sample" and item.state is None
    source = source_text(symbol)
    assert item.source_char_start == 0
    assert source[item.source_char_end :].strip() == source.rsplit("\n", 1)[1]  # only the footer after
    assert FURNITURE.fullmatch(source.rsplit("\n", 1)[1])
    assert not FURNITURE.search(item.text)  # running header and footers dropped
    headings = [section["heading"] for section in item.sections]
    assert headings and all(re.match(r"^[IVX]+\. ", heading) for heading in headings)
    for section in item.sections:
        body = item.text[section["char_start"] : section["char_end"]]
        assert body == body.strip() and body.startswith(tuple("12345678"))


def test_gge_report_keeps_the_norms_as_paragraphs():
    (item,) = parse("A/70/174")
    paragraphs = item.text.split("\n\n")
    assert "(b) refrain from ICT activity that deliberately damages critical infrastructure which " \
        "serves the public, and not knowingly support such activity by others;" in paragraphs
    assert paragraphs[-1].startswith("8. The Group recommends")


# --- failures: every symbol ends as exactly one recorded error ---------------------------------


@pytest.mark.parametrize("symbol, reason", sorted(ERROR_SYMBOLS.items()))
def test_unusable_bodies_are_fetch_errors(symbol, reason):
    (item,) = parse(symbol)
    assert isinstance(item, FetchErrorItem)
    assert (item.url, item.reason, item.status) == (access_url(REAL, symbol), reason, 200)


# --- the splitter on awkward text ----------------------------------------------------------------

REPLIES = """United Nations A/99/1
General Assembly Distr.: General
2 May 2030
Agenda item 9
Developments in the field of ICTs
Report of the Secretary-General
I. Introduction
1. Views were invited.
II. Replies received from Governments
Atlantis
[Original: Klingon]
[1 April 2030]
1. Atlantis supports the norms.
Bolivarian Republic of Venezuela
[Original: Spanish]
1. Venezuela opposes unilateral coercive measures in cyberspace.
III. Replies received from intergovernmental organizations
2. None had been received."""


def test_unknown_heading_stays_a_speaker_and_a_later_section_ends_the_replies():
    document = parse_un_document(REPLIES, "A/99/1")
    assert not document.synthetic
    report, atlantis, venezuela = document.parts
    assert atlantis.speaker == "Atlantis" and registry().resolve("Atlantis") is None
    assert (atlantis.original_language, atlantis.date) == (None, "2030-04-01")  # unknown language
    assert (venezuela.original_language, venezuela.date) == ("es", None)
    assert venezuela.text == "1. Venezuela opposes unilateral coercive measures in cyberspace."
    # The next report section goes back to the report, not into the last reply.
    assert report.text.endswith(
        "III. Replies received from intergovernmental organizations\n\n2. None had been received."
    )
    assert report.source_char_start == 0 and report.source_char_end == len(document.source_text)
    spider = UnDocumentsSpider()
    item = spider.item("u", document, atlantis)
    assert item.provenance == "official"
    assert item.title == "A/99/1 reply to the Secretary-General: Atlantis"
    assert spider.item("u", document, venezuela).date == "2030-05-02"


def test_country_lines_split_only_a_compendium_and_only_after_a_sentence_end():
    body = """Report of the Group of Governmental Experts
I. Introduction
1. The experts came from the following States:
Brazil
Kenya
2. They met twice."""
    (report,) = parse_un_document(body, "A/99/2").parts  # not a compendium: a list stays text
    assert "Brazil" in report.text
    compendium = """Official compendium of national contributions
1. Contributions follow.
Norway
1. Norway sees sovereignty as a rule. In this view the position of
Brazil
is similar, as is that of
Ghana
2. Norway supports the Programme of Action.
Sovereignty
3. A subheading is not a state."""
    parts = parse_un_document(compendium, "A/99/3").parts
    assert [part.speaker for part in parts] == ["Secretary-General", "Norway"]
    assert "Brazil" in parts[1].text and "Ghana" in parts[1].text


def test_reflow_joins_wrapped_lines_and_hyphenated_words():
    lines = ["1. States should build confidence and share", "information on well-",
             "established threats.", "2. A second paragraph."]
    assert reflow(lines) == [
        "1. States should build confidence and share information on well-established threats.",
        "2. A second paragraph.",
    ]


# --- one real crawl of the sample site ---------------------------------------------------------


def crawl(db_path, base_url: str, symbols: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "pipeline.py", "--db", str(db_path), "crawl", "un_documents",
        "--set", f"UN_DOCUMENTS_BASE_URL={base_url}",
        "--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False",
        "--set", f"UN_DOCUMENTS_SYMBOLS={symbols}",
    ]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_crawl_stores_parts_and_errors_then_recrawl_adds_nothing(tmp_path, sample_site):
    base = sample_site["un_documents"]
    symbols = ",".join([*UnDocumentsSpider.symbols, *ERROR_SYMBOLS])
    db_path = tmp_path / "crawl.db"
    first = crawl(db_path, base, symbols)
    assert first.returncode == 0, first.stderr
    db = sqlite_utils.Database(db_path)
    rows = list(db.query("SELECT symbol, speaker, state, doc_type, language, provenance, url FROM documents"))
    assert len(rows) == 15  # 6 reports, compendium note + 4 states, SG report + 4 replies
    states = {(row["symbol"], row["state"]) for row in rows if row["state"]}
    assert states == {
        ("A/76/136", "KEN"), ("A/76/136", "CHE"), ("A/76/136", "MEX"), ("A/76/136", "GBR"),
        ("A/68/156", "CUB"), ("A/68/156", "JPN"), ("A/68/156", "QAT"), ("A/68/156", "RUS"),
    }
    reports = [row for row in rows if row["doc_type"] == "report"]
    assert len(reports) == 7 and all(row["state"] is None for row in reports)
    assert all(row["provenance"] == "synthetic-sample" for row in rows)
    assert all(row["url"].startswith(f"{base}/api/symbol/access?s=A%2F") for row in rows)
    assert {row["language"] for row in rows} == {"en", "fr", "es"}
    originals = dict(db.execute("SELECT state, original_language FROM documents WHERE symbol = 'A/68/156' "
                                "AND state IS NOT NULL").fetchall())
    assert originals["CUB"] == "es" and originals["QAT"] == "ar"
    errors = {row["url"]: row["reason"] for row in db.query("SELECT url, reason FROM fetch_errors")}
    assert errors == {access_url(base, symbol): reason for symbol, reason in ERROR_SYMBOLS.items()}
    run = db["crawl_runs"].get(1)
    assert (run["finish_reason"], run["documents_new"], run["errors"]) == ("finished", 15, 5)

    second = crawl(db_path, base, symbols)
    assert second.returncode == 0, second.stderr
    run = db["crawl_runs"].get(2)
    assert (run["documents_new"], run["documents_seen"]) == (0, 15)
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 15
