"""Sentences of a statement, the norms each addresses, and the stance taken.

A blank English spaCy pipeline: the sentencizer (no trained model needed),
one SpanRuler for norm patterns and one for stance cues, both read from
nlp/patterns/*.jsonl. Overlapping matches live in `doc.spans`, so a sentence
naming two norms carries both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import spacy
from spacy.language import Language

from nlp import stance as stance_rules
from nlp.stance_model import METHOD as MODEL_METHOD
from nlp.stance_model import TRAIN, StanceModel, labelled_rows, train_from_rows, training_fingerprint
from nlp.rules import (
    CUE_PATTERNS,
    NORM_PATTERNS,
    cue_rules,
    read_patterns,
    rules_fingerprint,
    ruler_patterns,
)

NLP_VERSION = "0.1"
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class NormStance:
    norm_id: str
    stance: str
    confidence: float
    method: str
    cue: str | None
    pattern_id: str


@dataclass
class AnalysedSentence:
    position: int
    text: str
    char_start: int
    char_end: int
    section: str | None
    stances: list[NormStance] = field(default_factory=list)


class Analyzer:
    """Turns statement text into analysed sentences. Build once; reuse for many documents.

    With `learned=True` (the default) stances come from the learned layer
    (nlp.stance_model) trained on the labelled sentences over the rules' cue
    features; with `learned=False`, from the rules alone.
    """

    def __init__(self, learned: bool = True) -> None:
        norm_patterns = read_patterns(NORM_PATTERNS)
        cue_patterns = read_patterns(CUE_PATTERNS)
        self.cue_rules = cue_rules(cue_patterns)
        self.nlp = build_pipeline(ruler_patterns(norm_patterns), ruler_patterns(cue_patterns))
        self.model: StanceModel | None = None
        if learned and TRAIN.exists():
            self.model = train_from_rows(labelled_rows(TRAIN), self._features_by_norm)
        learned_part = f"+lr{training_fingerprint(TRAIN)}" if self.model else ""
        self.version = f"{NLP_VERSION}+{rules_fingerprint(NORM_PATTERNS, CUE_PATTERNS)}{learned_part}"

    def analyse(self, text: str, sections: Iterable[dict] = ()) -> list[AnalysedSentence]:
        paragraphs = list(_paragraphs(text))
        headings = _SectionIndex(sections)
        sentences: list[AnalysedSentence] = []
        docs = self.nlp.pipe(paragraph for _, paragraph in paragraphs)
        for (offset, _), doc in zip(paragraphs, docs, strict=True):
            for sent in doc.sents:
                sent_text = sent.text.strip()
                if not sent_text:
                    continue
                start = offset + sent.start_char
                sentences.append(
                    AnalysedSentence(
                        position=len(sentences),
                        text=sent_text,
                        char_start=start,
                        char_end=start + len(sent.text.rstrip()),
                        section=headings.at(start),
                        stances=self._stances(doc, sent),
                    )
                )
        return sentences

    def _stances(self, doc, sent) -> list[NormStance]:
        found = []
        for norm, rule, features in self._mentions(doc, sent):
            stance, confidence, method = rule.stance, rule.confidence, rule.method
            # A cue written for this very proposition ("a voluntary norm" against binding
            # due diligence) is the most precise evidence there is; elsewhere the learned
            # layer weighs the generic cues better than fixed rules do.
            if self.model is not None and not rule.proposition_cue:
                stance, confidence = self.model.predict(features)
                method = MODEL_METHOD
            found.append(
                NormStance(
                    norm_id=norm.label_,
                    stance=stance,
                    confidence=round(confidence, 3),
                    method=method,
                    cue=rule.cue,
                    pattern_id=norm.id_,
                )
            )
        return found

    def _mentions(self, doc, sent):
        """(norm span, rule stance, cue features) for each norm the sentence addresses."""
        norms = [span for span in doc.spans["norms"] if sent.start <= span.start < sent.end]
        if not norms:
            return []
        cues = [
            (span, self.cue_rules[span.id_])
            for span in doc.spans["cues"]
            if sent.start <= span.start < sent.end
        ]
        mentions, seen = [], set()
        for norm in sorted(norms, key=lambda span: (span.id_.endswith("/bare"), -len(span))):
            if norm.label_ in seen:
                continue  # keep the most specific pattern for each norm
            seen.add(norm.label_)
            rule = stance_rules.classify(sent, norm, cues)
            mentions.append((norm, rule, stance_rules.cue_features(sent, norm, cues, rule)))
        return mentions

    def _features_by_norm(self, text: str) -> dict[str, dict[str, float]]:
        """Cue features per norm for a labelled sentence (its first mention of each norm)."""
        features: dict[str, dict[str, float]] = {}
        for _, paragraph in _paragraphs(text):
            doc = self.nlp(paragraph)
            for sent in doc.sents:
                for norm, _, found in self._mentions(doc, sent):
                    features.setdefault(norm.label_, found)
        return features


def build_pipeline(norm_patterns: list[dict], cue_patterns: list[dict]) -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    norm_ruler = nlp.add_pipe(
        "span_ruler",
        name="norm_ruler",
        config={"spans_key": "norms", "phrase_matcher_attr": "LOWER", "validate": True},
    )
    norm_ruler.add_patterns(norm_patterns)
    cue_ruler = nlp.add_pipe(
        "span_ruler",
        name="cue_ruler",
        config={"spans_key": "cues", "phrase_matcher_attr": "LOWER", "validate": True},
    )
    cue_ruler.add_patterns(cue_patterns)
    return nlp


def _paragraphs(text: str) -> Iterator[tuple[int, str]]:
    """(offset, paragraph) pairs; a sentence never spans a blank line."""
    position = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        if text[position : match.start()].strip():
            yield position, text[position : match.start()]
        position = match.end()
    if text[position:].strip():
        yield position, text[position:]


class _SectionIndex:
    """The source's section heading at a character offset (a topic hint)."""

    def __init__(self, sections: Iterable[dict]) -> None:
        self.sections = sorted(
            (s for s in sections if s.get("char_end", 0) > s.get("char_start", 0)),
            key=lambda s: (s["char_start"], -s["char_end"]),
        )

    def at(self, offset: int) -> str | None:
        found = None
        for section in self.sections:
            if section["char_start"] <= offset < section["char_end"]:
                found = section["heading"]  # later starts are deeper subsections
        return found
