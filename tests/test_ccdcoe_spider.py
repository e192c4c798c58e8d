"""The CCDCOE spider on saved sample pages, field by field (no network)."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from crawler.items import DocumentItem, FetchErrorItem
from crawler.spiders.ccdcoe_positions import CcdcoePositionsSpider, publication_date
from tests.conftest import CCDCOE_PAGES, SAMPLE_BASE, position_pages, sample_response


def parse(filename: str) -> DocumentItem:
    items = list(CcdcoePositionsSpider().parse_document(sample_response(filename), listing={}))
    assert len(items) == 1
    return items[0]


def test_listing_follows_every_position_and_nothing_else():
    spider = CcdcoePositionsSpider()
    requests = list(spider.parse_listing(sample_response("Category:National_position.html")))
    urls = sorted(request.url for request in requests)
    expected = sorted(f"{SAMPLE_BASE}/wiki/{page.stem}" for page in position_pages())
    assert urls == expected
    assert all(request.callback == spider.parse_document for request in requests)
    assert all(request.errback == spider.record_failure for request in requests)
    france = next(r for r in requests if "France" in r.url)
    assert france.cb_kwargs == {"listing": {"kind": "National", "speaker": "France", "year": "2019"}}


def test_old_style_headings_page_fields():
    item = parse("National_position_of_France_(2019).html")
    assert item.url == f"{SAMPLE_BASE}/wiki/National_position_of_France_(2019)"
    assert item.speaker == "France"
    assert item.title == "National position of France (2019)"
    assert item.date == "2019-09-09"
    assert item.forum == "national position"
    assert item.doc_type == "national position"
    assert item.language == "en"
    assert item.provenance == "synthetic-sample"
    assert item.text.startswith("Synthetic sample page.")
    headings = [section["heading"] for section in item.sections]
    assert headings[0] == "Introduction"
    assert "Sovereignty" in headings and "References" not in headings
    assert "[1]" not in item.text  # footnote markers dropped
    assert "[edit]" not in item.text and "Contents" not in item.text
    assert "Synthetic reference" not in item.text  # the reference list is not the position


def test_new_style_headings_page_fields():
    item = parse("Common_position_of_the_African_Union_(2024).html")
    assert item.speaker == "the African Union"
    assert item.doc_type == "common position"
    assert item.date == "2024-01-29"
    assert "edit" not in item.text.split()
    headings = [section["heading"] for section in item.sections]
    assert "Due diligence" in headings


@pytest.mark.parametrize("page", [p.name for p in position_pages()])
def test_every_page_sections_slice_the_text(page):
    item = parse(page)
    assert item.text == item.text.strip()
    assert "\u2019" not in item.text and "\u2011" not in item.text and "\u00a0" not in item.text
    for section in item.sections:
        body = item.text[section["char_start"] : section["char_end"]]
        assert body == body.strip()
        assert section["char_start"] <= section["char_end"]
    intro = next(s for s in item.sections if s["heading"] == "Introduction")
    assert intro["char_end"] > intro["char_start"]


def test_subsection_is_kept_with_its_level():
    item = parse("National_position_of_Japan_(2021).html")
    levels = {section["heading"]: section["level"] for section in item.sections}
    assert levels["Use of force"] == 2
    assert levels["Armed attack and self-defence"] == 3
    use_of_force = next(s for s in item.sections if s["heading"] == "Use of force")
    assert use_of_force["char_start"] == use_of_force["char_end"]  # no text of its own


def test_page_without_content_is_an_error_not_a_document():
    response = HtmlResponse(
        url=f"{SAMPLE_BASE}/wiki/National_position_of_Nowhere_(2020)",
        body=b"<html><body><h1 id='firstHeading'>National position of Nowhere (2020)</h1>"
        b"<div id='mw-content-text'><div class='mw-parser-output'></div></div></body></html>",
        encoding="utf-8",
    )
    items = list(CcdcoePositionsSpider().parse_document(response, listing={}))
    assert items == [FetchErrorItem(url=response.url, reason="empty_text", status=200)]


@pytest.mark.parametrize(
    ("introduction", "year", "expected"),
    [
        ("It was published on 9 September 2019 by the ministry.", "2019", "2019-09-09"),
        ("Presented on March 5, 2021 in Berlin.", "2021", "2021-03-05"),
        ("It revised a paper of 1 May 2018 and appeared on 2 June 2022.", "2022", "2022-06-02"),
        ("No date is given.", "2020", "2020"),
    ],
)
def test_publication_date(introduction, year, expected):
    assert publication_date(introduction, year) == expected


def test_sample_pages_exist():
    assert len(position_pages()) >= 6
    assert (CCDCOE_PAGES.parent / "robots.txt").is_file()
