"""Semantic norm detection: the norms a sentence addresses in other words than the rules know.

Each norm's prototypes are its description and examples in nlp/norms.yml plus the
training sentences labelled with it (nlp/data/labelled/train.jsonl; the held-out
file and the iLIT passages are never read here). Unlabelled training sentences
are prototypes of "none". A multinomial logistic regression over the sentence
embeddings (unit vectors, so each class score is a dot product with a learned
prototype direction) turns a sentence into a probability per norm.

How the analyzer uses them: the learned keep/drop decision (nlp.detect) reads the
whole probability vector, proposes every norm at or above its low cut-off next to
the rules' findings, and keeps or drops each. Without that decision (no
nlp/data/detect.json, or `Analyzer(decide=False)`) a norm whose probability
reaches this layer's threshold is a match and is added to the rules' findings.

How the settings were chosen: `python -m nlp.semantic_tune` runs 5-fold
cross-validation over train.jsonl (folds by line number modulo 5): for each
regularisation C and probability threshold on a grid, the norms the semantic
layer would add to the rules' findings in the held-back fold are scored, and the
pair (C, threshold) that maximises detection F1 (rules + semantic) over the whole
training file wins. The result is stored as data in nlp/data/semantic.json (with
the cross-validated figures); its hash is part of the NLP version, so changing it
re-analyses documents. The classifier itself is fitted deterministically (lbfgs)
on first use, from the prototypes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from sklearn.linear_model import LogisticRegression

from nlp.embedder import Embedder
from nlp.stance_model import TRAIN, labelled_rows, linear_probabilities

logger = logging.getLogger(__name__)
NORMS_YML = Path(__file__).with_name("norms.yml")
SETTINGS = Path(__file__).with_name("data") / "semantic.json"
NONE = "none"  # the class of training sentences that address no norm
METHOD_SUFFIX = "+semantic"


@dataclass(frozen=True)
class SemanticSettings:
    c: float  # inverse regularisation of the logistic regression
    threshold: float  # probability a norm needs to be a match

    @classmethod
    def load(cls, path: Path = SETTINGS) -> SemanticSettings:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(c=float(data["c"]), threshold=float(data["threshold"]))


def prototypes(rows: list[dict], norms_path: Path = NORMS_YML) -> tuple[list[str], list[str]]:
    """(texts, labels): norm descriptions and examples, then labelled rows (one per label)."""
    texts, labels = [], []
    for norm in yaml.safe_load(norms_path.read_text(encoding="utf-8")):
        for text in (norm["description"], *norm.get("examples", ())):
            texts.append(text)
            labels.append(norm["id"])
    for row in rows:
        for label in sorted(row["labels"]) or [NONE]:
            texts.append(row["text"])
            labels.append(label)
    return texts, labels


class NormClassifier:
    """Probabilities per norm for sentence embeddings, fitted on prototype embeddings."""

    def __init__(self, vectors: np.ndarray, labels: list[str], c: float) -> None:
        self.classifier = LogisticRegression(C=c, max_iter=5000)
        self.classifier.fit(vectors, labels)
        self.norms = [str(label) for label in self.classifier.classes_]

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return self.classifier.predict_proba(np.atleast_2d(vectors))

    def matches(self, vector: np.ndarray, threshold: float) -> list[tuple[str, float]]:
        """(norm id, probability) of every norm at or above the threshold, most probable first."""
        probabilities = linear_probabilities(self.classifier, np.asarray(vector, dtype=np.float64))
        found = [(norm, float(p)) for norm, p in zip(self.norms, probabilities, strict=True)
                 if norm != NONE and p >= threshold]
        return sorted(found, key=lambda item: -item[1])


class SemanticMatcher:
    """The semantic layer of the analyzer: fitted lazily, on the first sentence it sees."""

    def __init__(
        self,
        embedder: Embedder,
        settings: SemanticSettings | None = None,
        train: Path = TRAIN,
        norms_path: Path = NORMS_YML,
    ) -> None:
        self.embedder = embedder
        self.settings = settings or SemanticSettings.load()
        self.train = train
        self.norms_path = norms_path
        self._classifier: NormClassifier | None = None

    @property
    def version(self) -> str:
        """Changes with the settings, the prototypes and the embedding model."""
        digest = hashlib.sha256(json.dumps([self.settings.c, self.settings.threshold]).encode())
        for path in (self.train, self.norms_path):
            digest.update(path.read_bytes())
        digest.update(self.embedder.model_name.encode())
        return "sem" + digest.hexdigest()[:8]

    @property
    def classifier(self) -> NormClassifier:
        if self._classifier is None:
            texts, labels = prototypes(labelled_rows(self.train), self.norms_path)
            self._classifier = NormClassifier(self.embedder.embed(texts), labels, self.settings.c)
            logger.info("semantic layer fitted prototypes=%d norms=%d", len(texts), len(set(labels)) - 1)
        return self._classifier

    def matches(self, vector: np.ndarray) -> list[tuple[str, float]]:
        return self.classifier.matches(vector, self.settings.threshold)

    def probabilities(self, vector: np.ndarray) -> dict[str, float]:
        """Probability of every norm (and of "none") for one sentence embedding."""
        row = linear_probabilities(self.classifier.classifier, np.asarray(vector, dtype=np.float64))
        return {norm: float(p) for norm, p in zip(self.classifier.norms, row, strict=True)}
