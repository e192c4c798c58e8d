"""Rule files as data: JSONL patterns with ids, loaded into spaCy SpanRulers.

Each line is a SpanRuler pattern (`id`, `label`, `pattern`) plus optional
fields the ruler does not know: `norms` scopes a stance cue to the listed
propositions. Those extras stay here, looked up by pattern id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

PATTERNS_DIR = Path(__file__).with_name("patterns")
NORM_PATTERNS = PATTERNS_DIR / "norms.jsonl"
CUE_PATTERNS = PATTERNS_DIR / "cues.jsonl"
_RULER_KEYS = ("id", "label", "pattern")


@dataclass(frozen=True)
class CueRule:
    id: str
    # NEGATION, HEDGE, CONDITION, CONTRAST, REPORTED, UNDECIDED ("deserves further study"),
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
    return [{key: pattern[key] for key in _RULER_KEYS} for pattern in patterns]


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
