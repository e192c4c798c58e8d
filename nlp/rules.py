"""Rule files as data: JSONL patterns with ids, loaded into spaCy SpanRulers.

Each line is a SpanRuler pattern (`id`, `label`, `pattern`) plus optional
fields the ruler does not know: `norms` scopes a stance cue to the listed
propositions. Those extras stay here, looked up by pattern id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PATTERNS_DIR = Path(__file__).with_name("patterns")
NORM_PATTERNS = PATTERNS_DIR / "norms.jsonl"
CUE_PATTERNS = PATTERNS_DIR / "cues.jsonl"
_RULER_KEYS = ("id", "label", "pattern")


@dataclass(frozen=True)
class CueRule:
    id: str
    # NEGATION, HEDGE, CONDITION, CONTRAST, REPORTED, UNDECIDED ("deserves further study"),
    # LEANING ("we are inclined to the view", "we do not exclude": tentative support),
    # RHETORICAL ("why should", "how could", "really" in a question: asked to deny),
    # PRINCIPLE (scoped: the principle a contested proposition is about is named, as
    # "sovereignty" for law.sovereignty-rule; affirming it alone leaves the proposition open),
    # SUPPORT, OPPOSE, QUALIFIED, PSEUDO (looks like a negation but is not: "whether or not",
    # or the wording of a norm that is itself a prohibition: "must not knowingly allow").
    label: str
    norms: frozenset[str]  # empty: applies to every norm


def read_patterns(path: Path) -> list[dict]:
    patterns = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                patterns.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: {error}") from error
    ids = [pattern["id"] for pattern in patterns]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path}: duplicate pattern ids")
    return patterns


def ruler_patterns(patterns: list[dict]) -> list[dict]:
    """The ruler's view of the patterns, each token pattern split where the tokenizer splits
    its words: "stand-alone" and "cannot" are three and two tokens, and a slot waiting for
    one such word would never match."""
    return [
        {"id": pattern["id"], "label": pattern["label"], "pattern": tokens}
        for pattern in patterns
        for tokens in (_split_words(pattern["pattern"]) if isinstance(pattern["pattern"], list) else [pattern["pattern"]])
    ]


def _split_words(pattern: list[dict]) -> list[list[dict]]:
    """`pattern` with each multi-token word of a LOWER slot spelled out token by token,
    as one extra pattern per such word (the slot keeps the one-token words)."""
    for index, slot in enumerate(pattern):
        value = slot.get("LOWER")
        words = value.get("IN") if isinstance(value, dict) else [value] if isinstance(value, str) else None
        if not words:
            continue
        pieces = {word: [token.text for token in _tokenizer()(word)] for word in words}
        split = [word for word in words if len(pieces[word]) > 1]
        if not split:
            continue
        if set(slot) != {"LOWER"} or (isinstance(value, dict) and set(value) != {"IN"}):
            raise ValueError(f"cannot split {split} in a slot with other attributes or operators: {slot}")
        head, tail = pattern[:index], _split_words(pattern[index + 1 :])
        kept = [word for word in words if len(pieces[word]) == 1]
        slots = ([[{"LOWER": {"IN": kept}}]] if kept else []) + [
            [{"LOWER": piece} for piece in pieces[word]] for word in split
        ]
        return [head + middle + rest for middle in slots for rest in tail]
    return [pattern]


@cache
def _tokenizer():
    import spacy

    return spacy.blank("en").tokenizer


def cue_rules(patterns: list[dict]) -> dict[str, CueRule]:
    return {
        pattern["id"]: CueRule(pattern["id"], pattern["label"], frozenset(pattern.get("norms", ())))
        for pattern in patterns
    }


def rules_fingerprint(*paths: Path) -> str:
    """A short hash of the rule files: analyses made with other rules are redone."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
