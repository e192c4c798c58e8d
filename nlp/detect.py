"""Which candidate norms a sentence really addresses: a learned keep/drop decision.

The rules fire on a keyword in a sentence that is about something else; the
semantic layer (nlp.semantic) misses paraphrases whose probability stays below
its threshold. So both only propose. The candidates of a sentence are the norms a
norm pattern matched and the norms whose semantic probability reaches a low
cut-off; for each (sentence, candidate) a logistic regression over the few named
features in FEATURES gives the probability that the sentence addresses the norm,
and a candidate at or above the threshold is kept.

Cut-off, threshold and the weights themselves are data in nlp/data/detect.json,
written by `python -m nlp.detect_tune --write` (5-fold cross-validation on
train.jsonl only). The weights are fitted there rather than at start-up because
they must be learned from probabilities of semantic classifiers that did not see
the sentence, which takes five more fits of the semantic layer; stored, they can
also be read. Section-heading hints are not candidates: the labelled sentences
carry no headings, so nothing can be learned about them and they stay as the
rules decide.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from spacy.tokens import Span

from nlp.semantic import NONE, NORMS_YML

SETTINGS = Path(__file__).with_name("data") / "detect.json"


@dataclass(frozen=True)
class RuleHit:
    pattern_id: str  # the most specific norm pattern that matched (the one the stance rules use)
    phrase: bool  # a phrase pattern (the norm's own wording), not a token pattern
    patterns: int  # distinct patterns of this norm that matched the sentence


@dataclass(frozen=True)
class Candidate:
    norm_id: str
    family: str  # from norms.yml
    probability: float  # the semantic layer's probability of this norm
    rank: int  # 1: the most probable norm of the sentence ("none" does not count)
    max_other: float  # the highest probability of any other norm
    none: float  # the probability that the sentence addresses no norm
    rule: RuleHit | None  # None: a candidate of the semantic layer alone
    rule_norms: int  # how many norms the rules found in the sentence


def _rule(candidate: Candidate, value: Callable[[RuleHit], float]) -> float:
    return value(candidate.rule) if candidate.rule is not None else 0.0


# Named features of a candidate; a family indicator ("family=gcsc") is added to them.
# Counts are capped so that one unusual sentence cannot dominate a weight.
FEATURES: dict[str, Callable[[Candidate], float]] = {
    "probability": lambda c: c.probability,
    "reciprocal_rank": lambda c: 1.0 / c.rank,
    "max_other_probability": lambda c: c.max_other,
    "none_probability": lambda c: c.none,
    "rule": lambda c: _rule(c, lambda hit: 1.0),
    "rule_phrase_pattern": lambda c: _rule(c, lambda hit: float(hit.phrase)),
    "rule_bare_keyword": lambda c: _rule(c, lambda hit: float(is_bare(hit.pattern_id))),
    "rule_patterns_matched": lambda c: _rule(c, lambda hit: float(min(hit.patterns, 3))),
    "rule_probability": lambda c: _rule(c, lambda hit: c.probability),  # rules need less resemblance
    "rule_norms_in_sentence": lambda c: float(min(c.rule_norms, 3)),
}


def features(candidate: Candidate) -> dict[str, float]:
    values = {name: feature(candidate) for name, feature in FEATURES.items()}
    values[f"family={candidate.family}"] = 1.0
    return values


def is_bare(pattern_id: str) -> bool:
    """A bare keyword pattern ("sovereignty"): weaker evidence of the norm than a phrase."""
    return pattern_id.endswith("/bare")


def specificity(span: Span) -> tuple[bool, int]:
    """Sort key putting a norm's most specific match first: not bare, then longest."""
    return is_bare(span.id_), -len(span)


def phrase_pattern_ids(patterns: Iterable[dict]) -> frozenset[str]:
    """Ids of the phrase patterns (a string, matched as wording) among norm patterns."""
    return frozenset(pattern["id"] for pattern in patterns if isinstance(pattern["pattern"], str))


def rule_hits(spans: Iterable[Span], phrase_ids: frozenset[str]) -> dict[str, RuleHit]:
    """The rules' finding per norm among the norm spans of one sentence."""
    by_norm: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_norm[span.label_].append(span)
    hits = {}
    for norm_id, found in by_norm.items():
        best = min(found, key=specificity)
        hits[norm_id] = RuleHit(best.id_, best.id_ in phrase_ids, len({span.id_ for span in found}))
    return hits


@cache
def norm_families(path: Path = NORMS_YML) -> dict[str, str]:
    return {norm["id"]: norm["family"] for norm in yaml.safe_load(path.read_text(encoding="utf-8"))}


def candidates(hits: dict[str, RuleHit], probabilities: dict[str, float], cutoff: float) -> list[Candidate]:
    """The rules' norms and the norms at or above the cut-off, in norm id order."""
    families = norm_families()
    norms = {norm: p for norm, p in probabilities.items() if norm != NONE}
    ranked = sorted(norms, key=lambda norm: (-norms[norm], norm))
    proposed = set(hits) | {norm for norm, p in norms.items() if p >= cutoff}
    found = []
    for norm_id in sorted(proposed):
        found.append(Candidate(
            norm_id=norm_id,
            family=families.get(norm_id, "unknown"),
            probability=norms.get(norm_id, 0.0),
            rank=ranked.index(norm_id) + 1 if norm_id in norms else len(ranked) + 1,
            max_other=max((p for norm, p in norms.items() if norm != norm_id), default=0.0),
            none=probabilities.get(NONE, 0.0),
            rule=hits.get(norm_id),
            rule_norms=len(hits),
        ))
    return found


@dataclass(frozen=True)
class DetectSettings:
    cutoff: float  # semantic probability that makes a norm a candidate without a rule
    threshold: float  # keep probability a candidate needs
    weights: dict[str, float]  # of the logistic regression, by feature name
    intercept: float

    @classmethod
    def load(cls, path: Path = SETTINGS) -> DetectSettings:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(float(data["cutoff"]), float(data["threshold"]),
                   {name: float(w) for name, w in data["weights"].items()}, float(data["intercept"]))

    @property
    def version(self) -> str:
        """Changes with any setting or weight: analyses made with others are redone."""
        payload = json.dumps([self.cutoff, self.threshold, sorted(self.weights.items()), self.intercept])
        return "det" + hashlib.sha256(payload.encode()).hexdigest()[:8]

    def keep_probability(self, candidate: Candidate) -> float:
        score = self.intercept + sum(self.weights.get(name, 0.0) * value
                                     for name, value in features(candidate).items())
        return 1.0 / (1.0 + math.exp(-score))

    def decide(self, hits: dict[str, RuleHit], probabilities: dict[str, float]) -> dict[str, float]:
        """The kept norms of a sentence, with their keep probability."""
        kept = {}
        for candidate in candidates(hits, probabilities, self.cutoff):
            probability = self.keep_probability(candidate)
            if probability >= self.threshold:
                kept[candidate.norm_id] = probability
        return kept
