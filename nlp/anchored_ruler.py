"""A SpanRuler that runs each token pattern only around the words it cannot match without.

spaCy's Matcher tries every token pattern at every token, and a pattern token with
an IN or REGEX predicate is a Python call each time: with our few hundred patterns
that was most of the analysis time (~85 µs a token). But a pattern cannot match
unless the token it requires is there, so each pattern gets an anchor: one token it
requires (exact or IN word set on LOWER or TEXT; failing that, a LOWER regex). The
pattern runs, in a matcher of its own, only on docs holding an anchor word, and only
on the tokens within its reach of them (as many before and after as the pattern can
span around its anchor; the whole doc when a `*` or `+` makes that unbounded).
Every match holds its anchor, so the spans are SpanRuler's, in the same order
(tests/test_anchored_ruler.py compares them on every labelled sentence and sample
paragraph). Phrase patterns go to SpanRuler's PhraseMatcher as before.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.pipeline import SpanRuler
from spacy.tokens import Doc, Span

_CONTENT_WORD_LENGTH = 4  # a shorter anchor ("of", "and") is in nearly every doc
_REPEAT = re.compile(r"\{(\d*)(,?)(\d*)\}")


@dataclass(frozen=True)
class Anchor:
    """The token a pattern requires: its position, and what it accepts."""

    position: int
    words: frozenset[str] = frozenset()
    regex: re.Pattern | None = None


@dataclass(frozen=True)
class _AnchoredPattern:
    matcher: Matcher
    anchor: Anchor | None  # None: runs on every doc, whole
    before: float  # how many tokens a match can hold before its anchor (inf: unbounded)
    after: float


def anchor(pattern: list[dict]) -> Anchor | None:
    """The most selective token the pattern requires, or None when it requires none
    we can look up (only wildcards, or attributes other than LOWER and TEXT)."""
    words, regexes = [], []
    for position, token in enumerate(pattern):
        if _repeats(token)[0] < 1:
            continue
        for attribute in ("LOWER", "TEXT"):
            value = token.get(attribute)
            if isinstance(value, str):
                words.append(Anchor(position, frozenset({value.lower()})))
            elif isinstance(value, dict) and set(value) == {"IN"}:
                words.append(Anchor(position, frozenset(str(word).lower() for word in value["IN"])))
            elif isinstance(value, dict) and set(value) == {"REGEX"} and attribute == "LOWER":
                # MULTILINE: ^ and $ hold at each word of a newline-joined list, as at a lone word.
                regexes.append(Anchor(position, regex=re.compile(value["REGEX"], re.MULTILINE)))
    if words:
        # Prefer a token of content words, then the fewest words.
        return min(words, key=lambda a: (min(map(len, a.words)) < _CONTENT_WORD_LENGTH, len(a.words)))
    return regexes[0] if regexes else None


def _repeats(token: dict) -> tuple[float, float]:
    """(fewest, most) tokens one pattern token matches; most is inf when unbounded."""
    op = token.get("OP")
    if op is None or op == "!":
        return (0, 0) if op == "!" else (1, 1)  # "!" asserts a token is absent: it consumes none
    if op in ("?", "*", "+"):
        return {"?": (0, 1), "*": (0, math.inf), "+": (1, math.inf)}[op]
    fewest, comma, most = _REPEAT.fullmatch(op).groups()
    if not comma:  # {n}
        return int(fewest), int(fewest)
    return int(fewest or 0), int(most) if most else math.inf


def reach(pattern: list[dict], position: int) -> tuple[float, float]:
    """(before, after): how far from an anchor word a match can reach. A repeated
    anchor token may have more of its words on either side of the one we saw."""
    repeated = _repeats(pattern[position])[1] - 1
    before = sum(_repeats(token)[1] for token in pattern[:position]) + repeated
    after = sum(_repeats(token)[1] for token in pattern[position + 1:]) + repeated
    return before, after


class _AnchorIndex:
    def __init__(self) -> None:
        self.patterns: list[_AnchoredPattern] = []
        self.by_word: dict[str, list[int]] = defaultdict(list)
        self.by_regex: list[int] = []
        self.always: list[int] = []

    def add(self, matcher: Matcher, pattern: list[dict]) -> None:
        found = anchor(pattern)
        before, after = reach(pattern, found.position) if found else (math.inf, math.inf)
        index = len(self.patterns)
        self.patterns.append(_AnchoredPattern(matcher, found, before, after))
        if found is not None and found.words:
            for word in found.words:
                self.by_word[word].append(index)
        elif found is not None:
            self.by_regex.append(index)
        else:
            self.always.append(index)

    def matches(self, doc: Doc) -> list[tuple[int, int, int]]:
        """(match id, start, end) of every token pattern, as one Matcher over the doc gives."""
        positions: dict[str, list[int]] = defaultdict(list)
        for token in doc:
            positions[token.lower_].append(token.i)
        where: dict[int, list[int]] = defaultdict(list)  # pattern -> positions of its anchor
        for word in positions.keys() & self.by_word.keys():
            for index in self.by_word[word]:
                where[index] += positions[word]
        if self.by_regex:
            lines = "\n".join(positions)  # one search per regex, each word on a line of its own
            for index in self.by_regex:
                regex = self.patterns[index].anchor.regex
                if regex.search(lines):
                    where[index] = [i for word, found in positions.items() if regex.search(word) for i in found]
        found = [match for index in self.always for match in self.patterns[index].matcher(doc)]
        for index, anchors in where.items():
            pattern = self.patterns[index]
            start = int(max(0, min(anchors) - pattern.before))
            end = int(min(len(doc), max(anchors) + 1 + pattern.after))
            found += [(key, start + s, start + e) for key, s, e in pattern.matcher(doc[start:end])]
        return found


class AnchoredSpanRuler(SpanRuler):
    """SpanRuler whose token patterns run only where their anchor is (see the module doc)."""

    _index: _AnchorIndex | None = None

    def add_patterns(self, patterns: list[dict]) -> None:
        super().add_patterns(patterns)
        self._index = None  # rebuilt from all patterns on the next doc

    def clear(self) -> None:
        super().clear()
        self._index = None

    def match(self, doc: Doc) -> list[Span]:
        self._require_patterns()
        matches = self._anchor_index().matches(doc) + list(self.phrase_matcher(doc))
        # As SpanRuler.match: one span per (label, id, start, end), sorted.
        return sorted({
            Span(doc, start, end, label=self._match_label_id_map[key]["label"],
                 span_id=self._match_label_id_map[key]["id"])
            for key, start, end in matches if start != end
        })

    def _anchor_index(self) -> _AnchorIndex:
        if self._index is None:
            index = _AnchorIndex()
            for entry in self.patterns:
                if isinstance(entry["pattern"], list):
                    matcher = Matcher(self.nlp.vocab, validate=self.validate)
                    matcher.add(repr((entry["label"], entry.get("id", ""))), [entry["pattern"]])
                    index.add(matcher, entry["pattern"])
            self._index = index
        return self._index


@Language.factory(
    "anchored_span_ruler",
    default_config={"spans_key": "ruler", "phrase_matcher_attr": None, "validate": False},
)
def make_anchored_span_ruler(
    nlp: Language, name: str, spans_key: str, phrase_matcher_attr: str | None, validate: bool
) -> AnchoredSpanRuler:
    return AnchoredSpanRuler(
        nlp, name, spans_key=spans_key, phrase_matcher_attr=phrase_matcher_attr, validate=validate)
