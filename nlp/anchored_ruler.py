"""A SpanRuler that runs each token pattern only on docs holding one of its anchor words.

spaCy's Matcher tries every token pattern at every token, and a pattern token with
an IN or REGEX predicate is a Python call each time: with our few hundred patterns
that was most of the analysis time (~85 µs a token). Most patterns cannot match
unless some word of theirs is in the doc, so each pattern gets an anchor: the word
set of one token it requires (LOWER or TEXT, exact or IN), or failing that the
regex of one it requires; the pattern runs, in a matcher of its own, only on docs
holding such a word. The spans are the same as SpanRuler's, in the same order
(tests/test_anchored_ruler.py compares them on every labelled sentence).
Phrase patterns go to SpanRuler's PhraseMatcher as before.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.pipeline import SpanRuler
from spacy.tokens import Doc, Span

_OPTIONAL_OPS = {"?", "*", "!"}
_CONTENT_WORD_LENGTH = 4  # a shorter anchor ("of", "and") is in nearly every doc


@dataclass
class _AnchorIndex:
    matchers: list[Matcher] = field(default_factory=list)
    by_word: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_regex: list[tuple[re.Pattern, int]] = field(default_factory=list)
    always: list[int] = field(default_factory=list)

    def add(self, matcher: Matcher, pattern: list[dict]) -> None:
        index = len(self.matchers)
        self.matchers.append(matcher)
        words, regex = anchor(pattern)
        if words:
            for word in words:
                self.by_word[word].append(index)
        elif regex is not None:
            self.by_regex.append((regex, index))
        else:
            self.always.append(index)

    def candidates(self, doc: Doc) -> list[int]:
        words = {token.lower_ for token in doc}
        found = set(self.always)
        for word in words & self.by_word.keys():
            found.update(self.by_word[word])
        if self.by_regex:
            lines = "\n".join(words)  # one search per regex, each word on a line of its own
            found.update(index for regex, index in self.by_regex if regex.search(lines))
        return sorted(found)


def anchor(pattern: list[dict]) -> tuple[frozenset[str], re.Pattern | None]:
    """(words, regex): a token of the pattern that must match, as the set of lower-case
    words it accepts, or else as its regex; (empty, None) when no token qualifies."""
    word_sets, regexes = [], []
    for token in pattern:
        if not _required(token):
            continue
        for attribute in ("LOWER", "TEXT"):
            value = token.get(attribute)
            if isinstance(value, str):
                word_sets.append(frozenset({value.lower()}))
            elif isinstance(value, dict) and set(value) == {"IN"}:
                word_sets.append(frozenset(str(word).lower() for word in value["IN"]))
            elif isinstance(value, dict) and set(value) == {"REGEX"} and attribute == "LOWER":
                # MULTILINE: ^ and $ hold at each word of a newline-joined list, as at a lone word.
                regexes.append(re.compile(value["REGEX"], re.MULTILINE))
    if word_sets:
        # Prefer a token of content words, then the fewest words: the most selective anchor.
        return min(word_sets, key=lambda words: (min(map(len, words)) < _CONTENT_WORD_LENGTH, len(words))), None
    return frozenset(), regexes[0] if regexes else None


def _required(token: dict) -> bool:
    op = token.get("OP")
    if op is None or op == "+":
        return True
    minimum = re.fullmatch(r"\{(\d*),?\d*\}", op)
    return bool(minimum and minimum.group(1) and int(minimum.group(1)) > 0)


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
        index = self._anchor_index()
        matches = [match for i in index.candidates(doc) for match in index.matchers[i](doc)]
        matches += self.phrase_matcher(doc)
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
