"""The keep/drop decision over detection candidates (nlp.detect) and its tuner (nlp.detect_tune)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from nlp import detect_tune, semantic_tune
from nlp.analyzer import Analyzer, default_analyzer
from nlp.detect import (
    FEATURES,
    SETTINGS,
    Candidate,
    DetectSettings,
    RuleHit,
    candidates,
    features,
    norm_families,
)
from nlp.embedder import default_embedder
from nlp.semantic import NONE
from nlp.semantic_tune import EmbeddedPrototypes, fold_of, rows_in, rows_outside

TOKEN_HIT = RuleHit("un13f/damage-hospitals-grids", phrase=False, patterns=1)
BARE_HIT = RuleHit("law.sovereignty-rule/sovereignty/bare", phrase=False, patterns=1)

# A hand-made decision: the semantic probability decides, a rule hit is worth 0.3 of it.
HAND_MADE = DetectSettings(cutoff=0.1, threshold=0.5, weights={"probability": 10.0, "rule": 3.0}, intercept=-5.0)


def test_candidates_are_rule_hits_and_norms_above_the_cutoff():
    probabilities = {"un13a": 0.5, "un13b": 0.2, "un13f": 0.01, "gcsc.1": 0.09, NONE: 0.2}
    found = {c.norm_id: c for c in candidates({"un13f": TOKEN_HIT}, probabilities, cutoff=0.1)}
    assert set(found) == {"un13a", "un13b", "un13f"}  # gcsc.1 is below the cut-off, un13f has a rule
    assert (found["un13a"].rank, found["un13b"].rank, found["un13f"].rank) == (1, 2, 4)
    assert found["un13a"].max_other == 0.2 and found["un13b"].max_other == 0.5
    assert all(c.none == 0.2 and c.rule_norms == 1 for c in found.values())
    assert found["un13f"].rule == TOKEN_HIT and found["un13a"].rule is None
    assert found["un13a"].family == "un-gge-2015" == norm_families()["un13f"]
    # a norm the rules found but the classifier does not know ranks last, with probability 0
    (unknown,) = candidates({"un13k": TOKEN_HIT}, {"un13a": 0.01, NONE: 0.99}, cutoff=0.1)
    assert unknown.probability == 0.0 and unknown.rank == 2


def test_features_are_named_and_describe_the_evidence():
    probabilities = {"law.sovereignty-rule": 0.3, "un13a": 0.6, NONE: 0.1}
    found = {c.norm_id: features(c) for c in candidates({"law.sovereignty-rule": BARE_HIT}, probabilities, 0.1)}
    rule, semantic = found["law.sovereignty-rule"], found["un13a"]
    assert set(rule) == set(FEATURES) | {"family=international-law"}
    assert rule["rule"] == rule["rule_bare_keyword"] == 1.0 and rule["rule_phrase_pattern"] == 0.0
    assert rule["probability"] == rule["rule_probability"] == 0.3 and rule["reciprocal_rank"] == 0.5
    assert rule["max_other_probability"] == 0.6 and rule["none_probability"] == 0.1
    assert semantic["rule"] == semantic["rule_probability"] == semantic["rule_patterns_matched"] == 0.0
    assert semantic["reciprocal_rank"] == 1.0 and semantic["rule_norms_in_sentence"] == 1.0
    assert semantic["family=un-gge-2015"] == 1.0


def test_decision_keeps_candidates_at_the_threshold_only():
    hits = {"un13f": TOKEN_HIT, "law.sovereignty-rule": BARE_HIT}
    probabilities = {"un13f": 0.02, "law.sovereignty-rule": 0.25, "un13a": 0.6, "un13b": 0.3, "un13c": 0.05}
    kept = HAND_MADE.decide(hits, probabilities)
    # rule hit without resemblance dropped; rule hit with some kept; paraphrase kept; un13b too weak
    assert set(kept) == {"law.sovereignty-rule", "un13a"}
    assert kept["law.sovereignty-rule"] == pytest.approx(1 / (1 + math.exp(-0.5)))
    assert kept["un13a"] == pytest.approx(0.7310586, abs=1e-6)


def test_version_changes_with_every_setting():
    version = HAND_MADE.version
    assert version == DetectSettings(0.1, 0.5, {"rule": 3.0, "probability": 10.0}, -5.0).version
    assert version != DetectSettings(0.1, 0.55, HAND_MADE.weights, -5.0).version
    assert version != DetectSettings(0.2, 0.5, HAND_MADE.weights, -5.0).version
    assert version != DetectSettings(0.1, 0.5, {"probability": 10.0, "rule": 3.5}, -5.0).version
    assert version != DetectSettings(0.1, 0.5, HAND_MADE.weights, -4.0).version


def test_stored_decision_is_sane_and_matches_the_features():
    data = json.loads(SETTINGS.read_text(encoding="utf-8"))
    stored = DetectSettings.load()
    assert 0 < stored.cutoff < 1 and 0 < stored.threshold < 1 and data["c"] > 0
    families = {f"family={family}" for family in norm_families().values()}
    # stale weights (a feature renamed or added without re-running the tuner) would fail here
    assert set(FEATURES) <= set(stored.weights) <= set(FEATURES) | families
    # both are evidence: a match of the norm's own wording, and resemblance, each raise the keep
    # probability (the weight of "rule" alone may be negative: "rule_probability" and
    # "rule_patterns_matched" share its part)
    for resemblance in (0.1, 0.5):
        alone = Candidate("law.applies", "international-law", resemblance, 1, 0.1, 0.2, None, 0)
        matched = replace(alone, rule=RuleHit("law.applies/own-wording", True, 1), rule_norms=1)
        assert stored.keep_probability(matched) > stored.keep_probability(alone)
        for candidate in (alone, matched):
            more_alike = replace(candidate, probability=resemblance + 0.3)
            assert stored.keep_probability(more_alike) > stored.keep_probability(candidate)
    assert "train.jsonl" in data["chosen_by"]
    cv, before = data["cv_detection"], data["cv_rules_and_semantic"]
    assert cv["f1"] > before["f1"] and cv["f1"] > data["cv_rules_only"]["f1"]
    gold_pairs = {figures["tp"] + figures["fn"] for figures in (cv, before, data["cv_rules_only"])}
    assert len(gold_pairs) == 1  # the three were counted on the same gold pairs


class StubMatcher:
    """Stands in for the fitted semantic layer with fixed probabilities."""

    version = "semstub"

    def __init__(self, probabilities: dict[str, float]) -> None:
        self.fixed = probabilities

    def probabilities(self, vectors, texts):
        assert all(vector is not None for vector in vectors) and len(vectors) == len(texts)
        return [self.fixed for _ in texts]

    def matches(self, probabilities):
        raise AssertionError("with the decision, the semantic threshold is not used")


@pytest.fixture
def decided(fake_embedder):
    analyzer = Analyzer(embedder=fake_embedder)
    analyzer.detection = HAND_MADE
    return analyzer


def test_analyzer_drops_a_rule_hit_the_decision_rejects(decided):
    text = "The sovereignty of the committee over its agenda was never in doubt."
    assert {f.norm_id for s in Analyzer().analyse(text) for f in s.stances} == {"law.sovereignty-rule"}
    decided.semantic = StubMatcher({"law.sovereignty-rule": 0.01, NONE: 0.99})
    (sentence,) = decided.analyse(text)
    assert sentence.stances == []


def test_analyzer_keeps_rule_hits_with_their_method_and_adds_paraphrases(decided):
    text = "Sovereignty is a rule of international law in its own right."
    (rules_alone,) = Analyzer(embedder=decided.embedder, decide=False, semantic=False).analyse(text)
    decided.semantic = StubMatcher({"law.sovereignty-rule": 0.3, "law.non-intervention": 0.6, NONE: 0.1})
    (sentence,) = decided.analyse(text)
    found = {f.norm_id: f for f in sentence.stances}
    assert set(found) == {"law.sovereignty-rule", "law.non-intervention"}
    assert found["law.sovereignty-rule"] == rules_alone.stances[0]  # untouched, method included
    added = found["law.non-intervention"]
    assert added.method.endswith("+semantic") and added.pattern_id == "semantic:law.non-intervention"


def test_analyzer_uses_the_decision_only_with_the_semantic_layer(fake_embedder):
    with_decision = Analyzer(embedder=fake_embedder)
    assert with_decision.detection == DetectSettings.load()
    assert f"+{with_decision.detection.version}" in with_decision.version
    without = Analyzer(embedder=fake_embedder, decide=False)
    assert without.detection is None and "+det" not in without.version
    assert Analyzer().detection is None and Analyzer(embedder=fake_embedder, semantic=False).detection is None


def test_folds_partition_the_lines_by_line_number():
    count = 23
    assert [fold_of(i) for i in range(7)] == [0, 1, 2, 3, 4, 0, 1]
    held = [rows_in(count, fold) for fold in range(semantic_tune.FOLDS)]
    assert sorted(i for fold in held for i in fold) == list(range(count))
    for fold in range(semantic_tune.FOLDS):
        assert set(rows_outside(count, {fold})) == set(range(count)) - set(held[fold])
        assert not {fold_of(i) for i in rows_outside(count, {fold, (fold + 1) % 5})} & {fold, (fold + 1) % 5}


class RecordingClassifier:
    """Records which training lines each fit saw, by vector and by text (the TF-IDF is fitted
    on the texts); its 'none' probability is the fit's number."""

    fits: list[set[int]] = []

    def __init__(self, vectors, labels, c, texts=None, lexical_weight=0.0) -> None:
        self.fit = len(self.fits)
        # prototype vectors are zero; line i's vector is the unit vector e_i and its text "line i"
        seen = {int(np.argmax(vector)) for vector in vectors if vector.any()}
        assert {text for text in texts if text.startswith("line")} == {f"line {i}" for i in seen}
        self.fits.append(seen)
        self.norms = [NONE, "un13a"]

    def probabilities(self, vectors, texts=None):
        return np.array([[float(self.fit), 0.0]] * len(vectors))


def test_no_semantic_probability_comes_from_a_fit_that_saw_the_held_back_fold(monkeypatch):
    count = 17
    rows = [{"text": f"line {i}", "labels": {"un13a": "support"} if i % 3 else {}} for i in range(count)]
    embedded = EmbeddedPrototypes(np.zeros((2, count)), ["un13a", "un13b"], np.eye(count), rows,
                                  ["norm a", "norm b"], lexical_weight=1.0)
    monkeypatch.setattr(semantic_tune, "NormClassifier", RecordingClassifier)
    monkeypatch.setattr(RecordingClassifier, "fits", [])
    probabilities = detect_tune.out_of_fold_probabilities(embedded, c=1.0)
    fits = RecordingClassifier.fits
    assert len(fits) == 5 + 10  # one per held-back fold, one per pair of folds
    for i, scored in enumerate(probabilities.held):
        assert set(fits[int(scored[NONE])]) == set(rows_outside(count, {fold_of(i)}))
    for held_back in range(5):
        training = probabilities.training_for[held_back]
        assert set(training) == set(rows_outside(count, {held_back}))
        for i, scored in training.items():
            seen_folds = {fold_of(j) for j in fits[int(scored[NONE])]}
            assert seen_folds == set(range(5)) - {held_back, fold_of(i)}


def test_cross_validated_decision_never_fits_on_the_held_back_fold(monkeypatch):
    count = 20
    gold = [{"un13a"} if i % 2 else set() for i in range(count)]
    hits = [{"un13a": TOKEN_HIT} for _ in range(count)]
    # each line's probability names the line, so a fit's examples tell which lines it saw
    scored = [{"un13a": i / 100, NONE: 0.0} for i in range(count)]
    probabilities = detect_tune.Probabilities(scored, [dict(enumerate(scored)) for _ in range(5)])
    seen: list[set[int]] = []
    fit = detect_tune.fit_decision

    def recording(examples, c):
        seen.append({round(x["probability"] * 100) for x, _ in examples})
        return fit(examples, c)

    monkeypatch.setattr(detect_tune, "fit_decision", recording)
    keep = detect_tune.cross_validated_keep(hits, gold, probabilities, cutoff=0.1, c=1.0)
    assert [set(lines) for lines in seen] == [set(rows_outside(count, {fold})) for fold in range(5)]
    assert all(len(line) == 1 and line[0][0] == "un13a" for line in keep)


def test_counts_are_pairs_of_sentence_and_norm():
    counts = detect_tune.count([{"a", "b"}, set(), {"c"}], [{"a", "x"}, {"y"}, {"c"}])
    assert (counts.tp, counts.fp, counts.fn) == (2, 2, 1)
    assert counts.figures()["precision"] == 0.5 and counts.f1 == round(4 / 7, 4)


@pytest.mark.slow
def test_real_model_drops_a_keyword_hit_and_keeps_the_norm():
    """With the stored decision and the default embedder: a keyword in a sentence about
    something else is dropped, the norm stated in the rules' own words is kept."""
    analyzer = default_analyzer(default_embedder())
    assert analyzer.detection is not None
    off_topic, = analyzer.analyse("The sovereignty of the committee over its agenda was never in doubt.")
    on_topic, = analyzer.analyse("Sovereignty is a rule of international law in its own right.")
    assert off_topic.stances == []
    assert [f.norm_id for f in on_topic.stances] == ["law.sovereignty-rule"]
    assert not on_topic.stances[0].method.endswith("+semantic")


def test_detection_errors_list_missed_and_wrongly_kept_norms():
    rows = [{"id": "t1", "text": "first", "labels": {"un13a": "support", "un13f": "support"}},
            {"id": "t2", "text": "second", "labels": {}}]
    hits = [{"un13f": TOKEN_HIT}, {"law.sovereignty-rule": BARE_HIT}]
    scored = [{"un13a": 0.7, "un13f": 0.02, NONE: 0.1}, {"law.sovereignty-rule": 0.4, NONE: 0.5}]
    probabilities = detect_tune.Probabilities(scored, [{} for _ in range(5)])
    keep = [[("un13a", 0.9), ("un13f", 0.3)], [("law.sovereignty-rule", 0.6)]]
    errors = detect_tune.detection_errors(rows, hits, probabilities, keep, threshold=0.5)
    assert [(e.line_id, e.norm, e.kind, e.pattern_id) for e in errors] == [
        ("t1", "un13f", "fn", TOKEN_HIT.pattern_id), ("t2", "law.sovereignty-rule", "fp", BARE_HIT.pattern_id)]
    assert errors[0].probability == 0.02 and errors[0].keep == 0.3
    assert str(errors[1]).startswith("t2 fp law.sovereignty-rule") and str(errors[1]).endswith("| second")
    # a gold norm that was not even a candidate: no rule, no keep probability
    (missed,) = detect_tune.detection_errors([rows[1] | {"labels": {"un13b": "mention"}}], [{}],
                                             detect_tune.Probabilities([{NONE: 1.0}], []), [[]], 0.5)
    assert (missed.kind, missed.pattern_id, missed.probability, missed.keep) == ("fn", None, 0.0, None)
    assert "rule=- p=0.00 keep=-" in str(missed)
