"""The un_press spider (UN Meetings Coverage, First Committee) on its saved sample pages,
field by field, then one real crawl of the sample site on 127.0.0.1."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import urllib.robotparser

import pytest
import scrapy
import sqlite_utils
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.items import DocumentItem, FetchErrorItem
from crawler.pipelines import document_from_item
from crawler.sample_server import SAMPLE_ROOT
from crawler.spiders.un_press import UnPressSpider
from crawler.un_press_names import canonical_group, french_state_code
from crawler.un_press_parsing import mentions_topic, parse_listing_page, parse_press_page
from crawler.un_press_speakers import Block, split_statements
from tests.conftest import REPO

SITE = SAMPLE_ROOT / "un_press"
REAL = "https://press.un.org"
PAGE_2021 = "en/2021/gadis3673.doc.htm"
PAGE_2021_FR = "fr/2021/agdsi3673.doc.htm"
PAGE_2019 = "en/2019/gadis3643.doc.htm"
PAGE_2008 = "en/2008/gadis3372.doc.htm"


def make_spider(base: str | None = None, **arguments) -> UnPressSpider:
    settings = {"UN_PRESS_BASE_URL": base} if base else {}
    return UnPressSpider.from_crawler(get_crawler(UnPressSpider, settings), **arguments)


def response(path: str, url: str | None = None, body: bytes | None = None) -> HtmlResponse:
    """A saved sample file as Scrapy would receive it from the real site."""
    file_name = path if (SITE / path).is_file() else f"{path}.html"
    return HtmlResponse(
        url=url or f"{REAL}/{path}",
        body=body if body is not None else (SITE / file_name).read_bytes(),
        encoding="utf-8",
    )


def documents(path: str, url: str | None = None, body: bytes | None = None) -> list[DocumentItem]:
    results = list(make_spider().parse_document(response(path, url, body), listing={}))
    return [item for item in results if isinstance(item, DocumentItem)]


def summary(items: list[DocumentItem]) -> list[tuple]:
    return [(i.speaker, i.doc_type, i.speaker_role, i.on_behalf_of) for i in items]


# --- listing -----------------------------------------------------------------------------


def test_first_listing_page_follows_the_ict_meeting_and_the_next_page():
    spider = make_spider()
    requests = list(spider.parse_listing(response("en/first-committee")))
    assert [r.url for r in requests] == [f"{REAL}/{PAGE_2021}", f"{REAL}/en/first-committee?page=1"]
    document, next_page = requests
    assert document.callback == spider.parse_document and document.errback == spider.record_failure
    assert document.cb_kwargs["listing"]["date"] == "2021-10-20"
    assert document.cb_kwargs["listing"]["title"].startswith("Delegates Divided over Need")
    assert next_page.callback == spider.parse_listing  # the outer-space meeting was skipped


def test_last_listing_page_keeps_the_teaser_match_and_stops():
    requests = list(make_spider().parse_listing(response("en/first-committee?page=1")))
    # The 2019 title names no ICT topic, its teaser does; small arms is skipped; no next link.
    assert [r.url for r in requests] == [f"{REAL}/{PAGE_2019}"]


def test_empty_listing_page_ends_the_walk_even_with_a_pager():
    html = (
        '<html><body><div class="view-content"></div><ul class="pager__items">'
        '<li class="pager__item pager__item--next"><a href="?page=9">Next</a></li></ul></body></html>'
    )
    assert parse_listing_page(html).entries == []
    page = HtmlResponse(url=f"{REAL}/en/first-committee?page=8", body=html.encode(), encoding="utf-8")
    assert list(make_spider().parse_listing(page)) == []


def test_listing_links_are_kept_on_the_mirror_in_use():
    spider = make_spider("http://127.0.0.1:9999")
    page = response("en/first-committee", url="http://127.0.0.1:9999/en/first-committee")
    urls = [r.url for r in spider.parse_listing(page)]
    assert urls == ["http://127.0.0.1:9999/" + PAGE_2021, "http://127.0.0.1:9999/en/first-committee?page=1"]
    assert spider.on_mirror(f"{REAL}/fr/2021/x.doc.htm") == "http://127.0.0.1:9999/fr/2021/x.doc.htm"
    assert spider.on_mirror("https://www.un.org/press/en/x") == "https://www.un.org/press/en/x"


def test_start_fetches_the_listing_the_archive_and_extra_urls():
    spider = make_spider(urls="https://www.un.org/press/en/2008/gadis3372.doc.htm, ")

    async def collect() -> list[scrapy.Request]:
        return [request async for request in spider.start()]

    assert [r.url for r in asyncio.run(collect())] == [
        f"{REAL}/en/first-committee",
        f"{REAL}/{PAGE_2008}",
        "https://www.un.org/press/en/2008/gadis3372.doc.htm",
    ]


# --- the 2021 English meeting --------------------------------------------------------------


def test_2021_meeting_is_split_into_one_document_per_delegation():
    assert summary(documents(PAGE_2021)) == [
        ("Indonesia", "statement", "group", "Non-Aligned Movement"),
        ("European Union", "statement", "group", "European Union"),
        ("Pakistan", "statement", "delegation", None),
        ("Azerbaijan", "statement", "delegation", None),
        ("Russian Federation", "statement", "delegation", None),
        ("United States", "statement", "delegation", None),
        ("Iran (Islamic Republic of)", "statement", "delegation", None),
        ("International Committee of the Red Cross", "statement", "observer", None),
        ("Cuba", "explanation of vote", "delegation", None),  # phrase under "Action on Draft"
        ("Brazil", "explanation of vote", "delegation", None),  # under "Explanations of Vote"
        ("Russian Federation", "right of reply", "delegation", None),
        ("United States", "right of reply", "delegation", None),
        ("Russian Federation", "right of reply", "delegation", None),  # a second reply
    ]


def test_2021_meeting_first_document_field_by_field():
    page = parse_press_page((SITE / PAGE_2021).read_text(), f"{REAL}/{PAGE_2021}")
    item = documents(PAGE_2021)[0]
    assert item.url == f"{REAL}/{PAGE_2021}"
    assert item.speaker == "Indonesia" and item.state is None  # the pipeline resolves it
    assert item.text.startswith("Indonesia's representative, speaking for the Non-Aligned Movement,")
    assert item.text.endswith("rather than merely endorse them.")  # the "He added" paragraph
    assert item.text.count("\n\n") == 1
    assert item.date == "2021-10-20"
    assert item.title == (
        "Delegates Divided over Need for New Binding Rules on Information and Communications "
        "Technologies, as First Committee Continues Thematic Debate — Indonesia"
    )
    assert item.forum == "UN General Assembly First Committee"
    assert item.language == "en"
    assert item.provenance == "synthetic-sample"
    assert item.symbol == "GA/DIS/3673"
    assert page.body_text[item.source_char_start : item.source_char_end] == item.text
    assert item.sections == [] and item.aligned_states == []


def test_2021_meeting_continuations_stay_with_their_speaker_and_the_rest_is_left_out():
    items = {(i.speaker, i.doc_type): i.text for i in documents(PAGE_2021)}
    assert "The speaker went on to stress" in items[("European Union", "statement")]
    assert "He also said that the principle of non-intervention" in items[("Azerbaijan", "statement")]
    assert "She agreed with the representative of the European Union" in items[("United States", "statement")]
    everything = "\n".join(items.values())
    assert "took centre stage" not in everything  # staff summary
    assert "was among those who warned" not in everything  # summary names speakers too
    assert "High Representative" not in everything  # an official, not a delegation
    assert "recorded vote of 150" not in everything and "will reconvene" not in everything
    assert "For information media" not in everything


def test_2021_meeting_text_quirks_are_normalised():
    for item in documents(PAGE_2021):
        assert "\u2011" not in item.text and "\u2019" not in item.text and "  " not in item.text
    europe = documents(PAGE_2021)[1]
    assert "open-ended" not in europe.text and "due diligence" in europe.text


def test_every_span_slices_the_page_body():
    for path in (PAGE_2021, PAGE_2021_FR, PAGE_2019, PAGE_2008):
        page = parse_press_page((SITE / path).read_text(), f"{REAL}/{path}")
        items = documents(path)
        assert items, path
        for item in items:
            assert page.body_text[item.source_char_start : item.source_char_end] == item.text


def test_english_page_asks_for_its_french_version_on_the_same_site():
    spider = make_spider("http://127.0.0.1:9999")
    page = response(PAGE_2021, url=f"http://127.0.0.1:9999/{PAGE_2021}")
    requests = [r for r in spider.parse_document(page, listing={}) if isinstance(r, scrapy.Request)]
    assert [r.url for r in requests] == [f"http://127.0.0.1:9999/{PAGE_2021_FR}"]
    assert requests[0].callback == spider.parse_document


def test_real_page_without_the_sample_marker_is_a_secretariat_summary():
    body = (SITE / PAGE_2021).read_bytes().replace(b'name="normwatch:provenance"', b'name="x"')
    assert {i.provenance for i in documents(PAGE_2021, body=body)} == {"secretariat summary"}


# --- French, 2019 and pre-2010 pages ---------------------------------------------------------


def test_french_meeting_fields():
    items = documents(PAGE_2021_FR)
    assert summary(items) == [
        ("Indonésie", "statement", "group", "Non-Aligned Movement"),
        ("France", "statement", "delegation", None),
        ("Pakistan", "statement", "delegation", None),  # "a estimé le représentant du Pakistan"
        ("Fédération de Russie", "statement", "delegation", None),
        ("États-Unis", "right of reply", "delegation", None),
    ]
    assert [i.state for i in items] == ["IDN", "FRA", "PAK", "RUS", "USA"]
    assert {i.language for i in items} == {"fr"}
    assert {i.symbol for i in items} == {"AG/DSI/3673"}
    assert {i.url for i in items} == {f"{REAL}/{PAGE_2021_FR}"}
    assert items[1].text.startswith("La déléguée de la France a insisté")
    assert "Elle a également souligné" in items[1].text
    assert all("organes d'information" not in i.text and "se réunira" not in i.text for i in items)
    results = list(make_spider().parse_document(response(PAGE_2021_FR), listing={}))
    assert not any(isinstance(r, scrapy.Request) for r in results)  # no link back to English


def test_2019_meeting_group_possessive_and_inverted_forms():
    items = documents(PAGE_2019)
    assert summary(items) == [
        ("Egypt", "statement", "group", "Arab Group"),
        ("Netherlands", "statement", "delegation", None),
        ("China", "statement", "delegation", None),
        ("Brazil", "statement", "delegation", None),
    ]
    assert "Turning to the norms agreed in 2015, she said" in items[1].text  # a cue, not an opener
    assert all("Also speaking were" not in i.text and "time limit" not in i.text for i in items)


def test_2008_page_in_the_older_layout():
    items = documents(PAGE_2008)
    assert summary(items) == [
        ("Russian Federation", "statement", "delegation", None),
        ("Cuba", "statement", "group", "Non-Aligned Movement"),
        ("United States", "explanation of vote", "delegation", None),
    ]
    first = items[0]
    assert (first.date, first.symbol, first.language) == ("2008-10-30", "GA/DIS/3372", "en")
    assert first.title == (
        "First Committee Approves Text on Information Security after Recorded Vote — Russian Federation"
    )
    assert "He said the text was deliberately balanced" in first.text
    assert all("* *** *" not in i.text and "recorded vote of 170" not in i.text for i in items)


def test_old_www_un_org_copy_is_the_same_meeting_as_press_un_org():
    old = documents(PAGE_2008, url="https://www.un.org/press/en/2008/gadis3372.doc.htm")
    new = documents(PAGE_2008)
    assert {i.url for i in old} == {f"{REAL}/{PAGE_2008}"}
    ids = [[document_from_item(i, "un_press", None).id for i in items] for items in (old, new)]
    assert ids[0] == ids[1] and len(set(ids[0])) == 3


# --- pages that give no statements ----------------------------------------------------------


def _drupal_page(body: str, doctype: str = "Meetings Coverage", title: str = "A meeting") -> bytes:
    return (
        f'<html><body><article><div class="field--name-field-symbol">GA/DIS/3999</div><h1>{title}</h1>'
        f'<div class="field--name-field-dated"><time datetime="2022-10-10T12:00:00Z">x</time></div>'
        f'<div class="field--name-field-doctype">{doctype}</div>'
        f'<div class="field--name-body">{body}</div></article></body></html>'
    ).encode()


@pytest.mark.parametrize(
    ("body", "doctype", "reason"),
    [
        (
            "<p>Summary on nuclear tests.</p><h2>Debate</h2>"
            "<p>The representative of Chile said test sites must close.</p>",
            "Meetings Coverage",
            "not_ict",
        ),
        ("<p>Summary on cyber threats.</p><h2>Debate</h2><p>The Committee then adjourned.</p>",
         "Meetings Coverage", "no_statements"),
        ("<p>The Secretary-General welcomed progress on cyber norms.</p>", "Press Release", "not_meeting"),
        ("<p>For information media. Not an official record.</p>", "Meetings Coverage", "empty_text"),
    ],
)
def test_pages_without_statements_are_recorded_errors(body, doctype, reason):
    url = f"{REAL}/en/2022/gadis3999.doc.htm"
    results = list(make_spider().parse_document(response("", url, _drupal_page(body, doctype)), listing={}))
    assert results == [FetchErrorItem(url=url, reason=reason, status=200)]


# --- the splitting rules ----------------------------------------------------------------------


def split(paragraphs: list[str], language: str = "en"):
    blocks, offset = [Block("Staff summary.", 0, 14), Block("Debate", 16, 22, is_heading=True)], 24
    for text in paragraphs:
        blocks.append(Block(text, offset, offset + len(text)))
        offset += len(text) + 2
    return split_statements(blocks, language)


@pytest.mark.parametrize(
    ("paragraph", "speaker", "behalf"),
    [
        (
            "Indonesia's representative, speaking for the Non-Aligned Movement, said no.",
            "Indonesia",
            "Non-Aligned Movement",
        ),
        ("The representative of Azerbaijan urged restraint.", "Azerbaijan", None),
        ("Norms matter, said Pakistan's representative.", "Pakistan", None),
        (
            "Also questioning it was the representative of the Russian Federation, who objected.",
            "Russian Federation",
            None,
        ),
        ("Responding to the representative of Mexico, the representative of Chile said no.", "Chile", None),
        ("On behalf of the African Group, Kenya's representative said yes.", "Kenya", "African Group"),
        ("The representative of Côte d'Ivoire said yes.", "Côte d'Ivoire", None),
        ("The representative of the European Union said yes.", "European Union", "European Union"),
    ],
)
def test_english_attribution_forms(paragraph, speaker, behalf):
    statements = split([paragraph]).statements
    assert [(s.speaker, s.on_behalf_of) for s in statements] == [(speaker, behalf)]


@pytest.mark.parametrize(
    ("paragraph", "speaker", "behalf"),
    [
        (
            "Le représentant de l'Indonésie, au nom du Mouvement des pays non alignés, a dit non.",
            "Indonésie",
            "Non-Aligned Movement",
        ),
        ("La déléguée de la France a dit oui.", "France", None),
        ("Selon le délégué du Brésil, les normes suffisent.", "Brésil", None),
        ("Le droit s'applique, a estimé la représentante des États-Unis.", "États-Unis", None),
        (
            "Le représentant de l'Union européenne, au nom de ses États membres, a dit oui.",
            "Union européenne",
            "European Union",
        ),
    ],
)
def test_french_attribution_forms(paragraph, speaker, behalf):
    statements = split([paragraph], "fr").statements
    assert [(s.speaker, s.on_behalf_of) for s in statements] == [(speaker, behalf)]


def test_a_delegation_named_as_object_does_not_open_a_statement():
    result = split([
        "The representative of Chile said yes.",
        "Unlike the representative of Mexico, his delegation saw no gap in the law.",
        "It agreed with the representative of Peru on most points.",
    ])
    assert [(s.speaker, len(s.blocks)) for s in result.statements] == [("Chile", 2)]
    assert [b.text[:8] for b in result.unattributed] == ["It agree"]  # no cue: procedural


def test_official_ends_the_previous_statement_and_a_page_without_headings_has_one_summary_paragraph():
    blocks = [Block("Summary.", 0, 8), Block("The representative of Chile said yes.", 10, 47),
              Block("The Chair said time was up.", 49, 76), Block("He thanked delegations.", 78, 101)]
    result = split_statements(blocks, "en")
    assert [b.text for b in result.summary] == ["Summary."]
    assert [(s.speaker, s.role, len(s.blocks)) for s in result.statements] == [
        ("Chile", "delegation", 1), ("Chair", "official", 2)]


def test_topic_keywords():
    keywords = UnPressSpider.topic_keywords
    assert mentions_topic("Norms for ICTs and due diligence", keywords)
    assert mentions_topic("la cybersécurité des États", keywords)
    assert mentions_topic("les TIC et la paix", keywords)
    assert mentions_topic("technologies de l\u2019information et des communications", keywords)
    assert not mentions_topic("a strict verdict on nuclear testing", keywords)  # "ict" inside words
    assert not mentions_topic("Landmines and small arms", keywords)


def test_names():
    assert french_state_code("Indonésie") == "IDN"
    assert french_state_code("Fédération de Russie") == "RUS"
    assert french_state_code("République islamique d'Iran") == "IRN"
    assert french_state_code("Mordor") is None  # never guessed
    assert canonical_group("Group of Arab States") == "Arab Group"
    assert canonical_group("Groupe des États arabes") == "Arab Group"


# --- the sample site ----------------------------------------------------------------------


def test_sample_pages_are_marked_synthetic_and_robots_allow_the_walk():
    pages = [p for p in SITE.rglob("*") if p.is_file() and p.name != "robots.txt"]
    assert len(pages) == 6
    for page in pages:
        text = page.read_text()
        assert "SYNTHETIC SAMPLE" in text
        assert 'name="normwatch:provenance" content="synthetic-sample"' in text
    robots = urllib.robotparser.RobotFileParser()
    robots.parse((SITE / "robots.txt").read_text().splitlines())
    for path in ("/en/first-committee", "/en/first-committee?page=1", "/" + PAGE_2021, "/" + PAGE_2021_FR):
        assert robots.can_fetch("NormWatch", REAL + path)
    assert not robots.can_fetch("NormWatch", REAL + "/en/sitesearch?query=cyber")


# --- a real crawl -----------------------------------------------------------------------------


def crawl(db_path, base_url: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "pipeline.py", "--db", str(db_path), "crawl", "un_press",
        "--set", f"UN_PRESS_BASE_URL={base_url}",
        "--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False",
    ]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.slow
def test_crawl_stores_each_delegation_once_and_a_recrawl_adds_nothing(tmp_path, sample_site):
    base = sample_site["un_press"]
    db_path = tmp_path / "crawl.db"
    first = crawl(db_path, base)
    assert first.returncode == 0, first.stderr
    db = sqlite_utils.Database(db_path)
    assert list(db.query("SELECT url, reason FROM fetch_errors")) == []  # no skipped page was fetched
    rows = list(db.query("SELECT * FROM documents"))
    per_page = {}
    for row in rows:
        per_page.setdefault(row["url"].removeprefix(base), []).append(row)
    assert {page: len(found) for page, found in per_page.items()} == {
        "/" + PAGE_2021: 13, "/" + PAGE_2021_FR: 5, "/" + PAGE_2019: 4, "/" + PAGE_2008: 3}
    states = {(r["symbol"], r["state"]) for r in rows}
    assert {("GA/DIS/3673", "IDN"), ("GA/DIS/3673", "EUN"), ("GA/DIS/3673", "RUS"),
            ("AG/DSI/3673", "IDN"), ("AG/DSI/3673", "USA"), ("GA/DIS/3643", "EGY"),
            ("GA/DIS/3372", "CUB")} <= states
    red_cross = [r for r in rows if r["speaker"] == "International Committee of the Red Cross"]
    assert [(r["state"], r["speaker_role"]) for r in red_cross] == [(None, "observer")]
    assert all(r["state"] for r in rows if r["speaker_role"] != "observer")
    assert {r["provenance"] for r in rows} == {"synthetic-sample"}
    assert {r["forum"] for r in rows} == {"UN General Assembly First Committee"}
    assert {r["spider"] for r in rows} == {"un_press"}
    replies = [(r["symbol"], r["state"]) for r in rows if r["doc_type"] == "right of reply"]
    assert sorted(replies) == [("AG/DSI/3673", "USA"), ("GA/DIS/3673", "RUS"),
                               ("GA/DIS/3673", "RUS"), ("GA/DIS/3673", "USA")]
    run = db["crawl_runs"].get(1)
    assert (run["finish_reason"], run["documents_new"], run["errors"]) == ("finished", 25, 0)

    second = crawl(db_path, base)
    assert second.returncode == 0, second.stderr
    run = db["crawl_runs"].get(2)
    assert (run["documents_new"], run["documents_seen"], run["errors"]) == (0, 25, 0)
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == len(rows)
