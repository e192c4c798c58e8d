"""The anchored ruler finds exactly the spans spaCy's SpanRuler finds, faster."""

from __future__ import annotations

import json
import math

import pytest

from nlp.anchored_ruler import Anchor, reach, anchor
from nlp.analyzer import build_pipeline
from nlp.rules import CUE_PATTERNS, NORM_PATTERNS, read_patterns, ruler_patterns
from nlp.stance_model import TRAIN
from crawler.spiders.ccdcoe_positions import CcdcoePositionsSpider
from tests.conftest import position_pages, sample_response


def sample_paragraphs() -> list[str]:
    spider = CcdcoePositionsSpider()
    items = [item for page in position_pages()
             for item in spider.parse_document(sample_response(page.name), listing={})]
    return [paragraph for item in items for paragraph in item.text.split("\n\n")]


def spans(doc, key):
    return [(span.start, span.end, span.label_, span.id_) for span in doc.spans[key]]


@pytest.fixture(scope="module")
def pipelines():
    norms, cues = (ruler_patterns(read_patterns(path)) for path in (NORM_PATTERNS, CUE_PATTERNS))
    return build_pipeline(norms, cues), build_pipeline(norms, cues, ruler="span_ruler")


def test_same_spans_in_the_same_order_as_spacys_ruler(pipelines):
    anchored, plain = pipelines
    texts = [json.loads(line)["text"] for line in TRAIN.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts += sample_paragraphs()
    assert len(texts) > 500
    found = 0
    for fast, reference in zip(anchored.pipe(texts), plain.pipe(texts), strict=True):
        for key in ("norms", "cues"):
            assert spans(fast, key) == spans(reference, key), fast.text
            found += len(reference.spans[key])
    assert found > 1000


def test_anchor_is_a_required_token_preferring_content_words():
    pattern = [{"LOWER": "and"}, {"OP": "{0,3}"}, {"LOWER": {"IN": ["sovereignty", "sovereign"]}}]
    assert anchor(pattern) == Anchor(2, frozenset({"sovereignty", "sovereign"}))
    assert reach(pattern, 2) == (4, 0)
    optional_first = [{"LOWER": "cyber", "OP": "?"}, {"LOWER": {"REGEX": "^attack\\w*$"}}, {"OP": "*"}]
    found = anchor(optional_first)
    assert found.position == 1 and not found.words and found.regex.search("attacks")
    assert reach(optional_first, 1) == (1, math.inf)
    assert anchor([{"LOWER": "due", "OP": "*"}, {"OP": "{1,2}"}]) is None
    assert anchor([{"TEXT": "UN", "OP": "{2}"}]).words == {"un"}
    assert reach([{"TEXT": "UN", "OP": "{2,3}"}, {"OP": "!", "LOWER": "x"}], 0) == (2, 2)


def test_a_match_far_from_the_doc_start_keeps_its_offsets():
    wide = [{"id": "far/x", "label": "far",
             "pattern": [{"LOWER": "not"}, {"OP": "{0,2}"}, {"LOWER": {"IN": ["rule", "rules"]}}]}]
    text = "One two three four five six. Sovereignty is not a rule in itself, nor are rules."
    fast, plain = (build_pipeline(wide, wide, ruler=ruler)(text) for ruler in ("anchored_span_ruler", "span_ruler"))
    assert spans(fast, "norms") == spans(plain, "norms")
    assert [fast[start:end].text for start, end, _, _ in spans(fast, "norms")] == ["not a rule"]


def test_a_pattern_without_anchor_still_runs():
    digits = [{"id": "any/number", "label": "any", "pattern": [{"IS_DIGIT": True}]}]
    doc = build_pipeline(digits, digits)("Resolution 73 of the Assembly")
    assert [span.text for span in doc.spans["norms"]] == ["73"]
