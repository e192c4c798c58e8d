"""The semantic norm-detection layer (nlp.semantic): prototypes, classifier, analyzer wiring."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from nlp.analyzer import Analyzer
from nlp.semantic import NONE, SETTINGS, NormClassifier, SemanticMatcher, SemanticSettings, prototypes
from nlp.stance_model import TRAIN, labelled_rows, probabilities_from_scores


class StubMatcher:
    """Stands in for the fitted layer: always 'finds' the given norms."""

    version = "semstub"

    def __init__(self, found: list[tuple[str, float]]) -> None:
        self.found = found

    def probabilities(self, vectors, texts):
        assert all(vector is not None for vector in vectors)  # the sentences' own embeddings
        assert len(vectors) == len(texts)
        return [{} for _ in texts]

    def matches(self, probabilities):
        return self.found


def test_prototypes_are_norm_texts_and_training_sentences_only(tmp_path):
    rows = [{"text": "A negative.", "labels": {}}, {"text": "Two norms.", "labels": {"un13c": "support",
                                                                                     "law.applies": "oppose"}}]
    texts, labels = prototypes(rows)
    assert labels[-3:] == [NONE, "law.applies", "un13c"] and texts[-3:] == ["A negative.", "Two norms.", "Two norms."]
    assert {"un13a", "paris.9"} <= set(labels)
    full_texts, _ = prototypes(labelled_rows(TRAIN))
    heldout = (TRAIN.parent / "heldout.jsonl").read_text(encoding="utf-8")
    assert not any(json.loads(line)["text"] in full_texts for line in heldout.splitlines() if line.strip())


def test_classifier_matches_norms_above_the_threshold_and_never_none():
    directions = {"un13a": [1, 0, 0], "un13b": [0, 1, 0], NONE: [0, 0, 1]}
    vectors, labels = [], []
    for label, direction in directions.items():
        for noise in (0.0, 0.1, -0.1):
            vector = np.array(direction, dtype=float) + noise
            vectors.append(vector / np.linalg.norm(vector))
            labels.append(label)
    classifier = NormClassifier(np.vstack(vectors), labels, c=100.0)
    (norm, probability), = classifier.matches(np.array([1.0, 0.05, 0.0]), threshold=0.5)
    assert norm == "un13a" and probability > 0.5
    assert classifier.matches(np.array([0.0, 0.0, 1.0]), threshold=0.3) == []  # closest to "none"
    assert len(classifier.matches(np.array([0.7, 0.7, 0.0]), threshold=0.01)) == 2


def test_words_tell_apart_norms_whose_sentences_embed_alike():
    same = np.array([1.0, 0.0, 0.0])
    texts = ["States must not attack critical infrastructure", "never attack the infrastructure of others",
             "States should protect their own critical infrastructure", "protect our infrastructure at home",
             "the weather was pleasant", "the weather today"]
    labels = ["un13f", "un13f", "un13g", "un13g", NONE, NONE]
    vectors = np.vstack([same] * 4 + [np.array([0.0, 0.0, 1.0])] * 2)
    lexical = NormClassifier(vectors, labels, c=100.0, texts=texts, lexical_weight=2.0)
    (norm, _), *_ = lexical.matches(same, threshold=0.0, text="attack critical infrastructure")
    assert norm == "un13f"
    (norm, _), *_ = lexical.matches(same, threshold=0.0, text="protect critical infrastructure")
    assert norm == "un13g"
    # one sentence scored in numpy is the same as sklearn's batch
    batch = lexical.probabilities(same, ["protect critical infrastructure"])[0]
    assert np.allclose(lexical.probability_row(same, "protect critical infrastructure"), batch)
    embedding_only = NormClassifier(vectors, labels, c=100.0)
    first, second = embedding_only.matches(same, threshold=0.0)
    assert abs(first[1] - second[1]) < 1e-3  # the vectors alone cannot choose


def test_settings_are_data_chosen_on_train():
    data = json.loads(SETTINGS.read_text(encoding="utf-8"))
    settings = SemanticSettings.load()
    assert 0 < settings.threshold < 1 and settings.c > 0
    assert "train.jsonl" in data["chosen_by"] and data["cv_detection_f1"] > data["cv_rules_only_f1"]


def test_version_changes_with_settings_and_model(fake_embedder):
    one = SemanticMatcher(fake_embedder, SemanticSettings(c=10.0, threshold=0.4)).version
    assert one == SemanticMatcher(fake_embedder, SemanticSettings(c=10.0, threshold=0.4)).version
    assert one != SemanticMatcher(fake_embedder, SemanticSettings(c=10.0, threshold=0.5)).version
    assert one != SemanticMatcher(fake_embedder, SemanticSettings(c=1.0, threshold=0.4)).version
    fake_embedder.model_name = "another-model"
    assert one != SemanticMatcher(fake_embedder, SemanticSettings(c=10.0, threshold=0.4)).version


def test_analyzer_version_names_the_semantic_layer(fake_embedder):
    with_layer = Analyzer(embedder=fake_embedder)
    assert with_layer.semantic is not None and f"+{with_layer.semantic.version}+" in with_layer.version
    without = Analyzer(embedder=fake_embedder, semantic=False)
    assert without.semantic is None and "+sem" not in without.version
    assert with_layer.version != without.version
    assert without.version == Analyzer().version  # the same analysis: vectors alone change nothing
    assert fake_embedder.calls == []  # nothing embedded before the first sentence


@pytest.fixture
def stubbed(fake_embedder):
    # the semantic layer's own threshold decides (tests/test_detect.py: the keep/drop decision)
    analyzer = Analyzer(embedder=fake_embedder, decide=False)
    analyzer.semantic = StubMatcher([("un13f", 0.9), ("law.sovereignty-rule", 0.5)])
    return analyzer


def test_semantic_matches_add_norms_the_rules_missed(stubbed):
    (sentence,) = stubbed.analyse("Our delegation will keep working on this with every partner.")
    found = {f.norm_id: f for f in sentence.stances}
    assert set(found) == {"un13f", "law.sovereignty-rule"}
    for norm_stance in found.values():
        assert norm_stance.method.endswith("+semantic")
        assert norm_stance.pattern_id == f"semantic:{norm_stance.norm_id}"
        assert norm_stance.stance in {"support", "oppose", "qualified", "mention"}
    # a weaker resemblance gives a lower confidence, and both are below a rule match's ceiling
    assert found["law.sovereignty-rule"].confidence < found["un13f"].confidence < 0.7


def test_semantic_layer_never_duplicates_a_rule_finding(stubbed):
    (sentence,) = stubbed.analyse("Sovereignty is a rule of international law in its own right.")
    sovereignty = [f for f in sentence.stances if f.norm_id == "law.sovereignty-rule"]
    assert len(sovereignty) == 1 and not sovereignty[0].method.endswith("+semantic")


def test_without_embedder_there_is_no_semantic_layer():
    analyzer = Analyzer()
    (sentence,) = analyzer.analyse("We will not tolerate attacks on the hospitals our citizens rely on.")
    assert analyzer.semantic is None
    assert all(not f.method.endswith("+semantic") for f in sentence.stances)


@pytest.mark.parametrize("classes", [2, 4])
def test_probabilities_from_scores_equal_sklearns(classes):
    rng = np.random.default_rng(7)
    features = rng.normal(size=(60, 5))
    labels = [f"c{i % classes}" for i in range(60)]
    classifier = LogisticRegression(max_iter=1000).fit(features, labels)
    for row in rng.normal(size=(10, 5)):
        scores = classifier.coef_ @ row + classifier.intercept_
        assert np.allclose(probabilities_from_scores(scores), classifier.predict_proba(row[None, :])[0])
