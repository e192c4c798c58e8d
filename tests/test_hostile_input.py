"""Hostile input: extractors fuzzed with hypothesis never raise past the recorded-error path."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse

from crawler.ingest import ManifestError, parse_line
from crawler.items import DocumentItem, FetchErrorItem
from crawler.mediawiki import parse_article
from crawler.pdf import extract_pdf
from crawler.sample_pdf import text_pdf
from crawler.spiders.ccdcoe_positions import CcdcoePositionsSpider
from crawler.text import html_to_text, normalise_text

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TAGS = ["p", "div", "h2", "h3", "span", "blockquote", "ul", "li", "sup", "table", "script", "b"]


@st.composite
def messy_html(draw) -> str:
    """Fragments of MediaWiki-like markup, often unbalanced, with arbitrary text."""
    parts = ['<div id="mw-content-text"><div class="mw-parser-output">']
    for _ in range(draw(st.integers(0, 30))):
        tag = draw(st.sampled_from(TAGS))
        attrs = draw(st.sampled_from(["", ' class="mw-headline"', ' class="reference"',
                                      ' class="mw-heading mw-heading2"', ' id="toc"', ' class="reflist"']))
        text = draw(st.text(max_size=40))
        parts.append(draw(st.sampled_from([f"<{tag}{attrs}>{text}</{tag}>", f"<{tag}{attrs}>{text}",
                                           f"{text}</{tag}>", text])))
    if draw(st.booleans()):
        parts.append("</div></div>")
    return "".join(parts)


@FUZZ
@given(messy_html())
def test_mediawiki_parser_survives_malformed_markup(html):
    article = parse_article(html)
    assert isinstance(article.text, str)
    for section in article.sections:
        assert 0 <= section["char_start"] <= section["char_end"] <= len(article.text)


@FUZZ
@given(st.one_of(messy_html(), st.text(max_size=500)))
def test_spider_turns_any_page_into_a_document_or_an_error(html):
    response = HtmlResponse("https://cyberlaw.ccdcoe.org/wiki/National_position_of_Chile_(2022)",
                            body=html.encode("utf-8", "surrogatepass"), encoding="utf-8")
    items = list(CcdcoePositionsSpider().parse_document(response, listing={"kind": "National", "speaker": "Chile", "year": "2022"}))
    assert len(items) == 1 and isinstance(items[0], (DocumentItem, FetchErrorItem))


@FUZZ
@given(st.one_of(messy_html(), st.text(max_size=500), st.binary(max_size=500).map(lambda b: b.decode("latin-1"))))
def test_html_to_text_and_normalisation_never_raise(html):
    text = html_to_text(html)
    assert text == normalise_text(text)  # idempotent


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2000), st.integers(0, 2000))
def test_pdf_extraction_of_damaged_files_ends_with_a_reason(noise, cut):
    base = text_pdf(["SYNTHETIC SAMPLE. Sovereignty is a rule of international law."])
    damaged = base[:cut] + noise + base[cut + len(noise):]
    result = extract_pdf(damaged, timeout=20)
    assert result.ok or result.reason in {"not_pdf", "pdf_damaged", "pdf_no_text", "pdf_encrypted",
                                          "pdf_timeout", "pdf_memory"}
    if result.ok:
        assert isinstance(result.text, str)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["path", "text", "state", "date", "title", "url", "x"]),
                       st.one_of(st.text(max_size=20), st.integers(), st.none(), st.lists(st.integers()))))
def test_manifest_lines_parse_or_explain(entry):
    try:
        parse_line(json.dumps(entry), Path("/nonexistent"))
    except ManifestError:
        pass


def test_escaped_markup_is_text_and_scripts_are_dropped():
    html = ('<div id="mw-content-text"><div class="mw-parser-output"><p>Sovereignty &lt;script&gt;'
            "alert(1)&lt;/script&gt; is a rule.</p><script>alert(2)</script></div></div>")
    article = parse_article(html)
    assert "<script>alert(1)</script>" in article.text  # kept as the words it is
    assert "alert(2)" not in article.text
