"""Semantic norm detection: the norms a sentence addresses in other words than the rules know.

Each norm's prototypes are its description and examples in nlp/norms.yml plus the
training sentences labelled with it (nlp/data/labelled/train.jsonl; the held-out
file and the iLIT passages are never read here). Unlabelled training sentences
are prototypes of "none". A multinomial logistic regression over the sentence
embeddings (unit vectors, so each class score is a dot product with a learned
prototype direction) and, scaled by `lexical_weight`, the TF-IDF of the sentence's
words and word pairs (fitted on the same prototypes) turns a sentence into a
probability per norm. The embedding finds paraphrases; the words keep apart norms
whose sentences sound alike ("critical infrastructure" attacked or protected).

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
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlp.embedder import Embedder
from nlp.stance_model import TRAIN, labelled_rows, probabilities_from_scores

logger = logging.getLogger(__name__)
NORMS_YML = Path(__file__).with_name("norms.yml")
SETTINGS = Path(__file__).with_name("data") / "semantic.json"
NONE = "none"  # the class of training sentences that address no norm
METHOD_SUFFIX = "+semantic"
# Words and word pairs seen in at least two prototypes, log-scaled counts.
LEXICAL_FEATURES = {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True}


@dataclass(frozen=True)
class SemanticSettings:
    c: float  # inverse regularisation of the logistic regression
    threshold: float  # probability a norm needs to be a match
    lexical_weight: float = 0.0  # scale of the TF-IDF features next to the embedding; 0: none

    @classmethod
    def load(cls, path: Path = SETTINGS) -> SemanticSettings:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(c=float(data["c"]), threshold=float(data["threshold"]),
                   lexical_weight=float(data.get("lexical_weight", 0.0)))


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
    """Probabilities per norm for sentences (embedding, text), fitted on the prototypes'."""

    def __init__(self, vectors: np.ndarray, labels: list[str], c: float,
                 texts: list[str] | None = None, lexical_weight: float = 0.0) -> None:
        self.lexical = TfidfVectorizer(**LEXICAL_FEATURES).fit(texts) if lexical_weight and texts else None
        self.lexical_weight = lexical_weight
        self.classifier = LogisticRegression(C=c, max_iter=5000)
        self.classifier.fit(self._features(vectors, texts), labels)
        self.norms = [str(label) for label in self.classifier.classes_]
        # Split so one sentence is scored in numpy: the embedding's weights and the words'.
        dimensions = np.atleast_2d(vectors).shape[1]
        self._vector_weights = self.classifier.coef_[:, :dimensions]
        self._word_weights = self.classifier.coef_[:, dimensions:].T.copy()

    def _features(self, vectors: np.ndarray, texts: list[str] | None):
        vectors = np.atleast_2d(vectors)
        if self.lexical is None:
            return vectors
        words = self.lexical.transform(texts) * self.lexical_weight
        return sparse.hstack([sparse.csr_matrix(vectors), words], format="csr")

    def probabilities(self, vectors: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
        return self.classifier.predict_proba(self._features(vectors, texts))

    def probability_rows(self, vectors: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
        """`probabilities` in numpy, without sklearn's per-call checks; the texts' TF-IDF in one
        call (one sentence at a time costs 0.6 ms, a batch 0.04 ms a sentence)."""
        scores = np.atleast_2d(vectors).astype(np.float64) @ self._vector_weights.T + self.classifier.intercept_
        if self.lexical is not None:
            words = self.lexical.transform(texts if texts is not None else [""] * len(scores))
            scores = scores + self.lexical_weight * (words @ self._word_weights)
        return np.vstack([probabilities_from_scores(row) for row in scores])

    def probability_row(self, vector: np.ndarray, text: str | None = None) -> np.ndarray:
        return self.probability_rows(vector, [text or ""])[0]

    def matches(self, vector: np.ndarray, threshold: float, text: str | None = None) -> list[tuple[str, float]]:
        """(norm id, probability) of every norm at or above the threshold, most probable first."""
        probabilities = self.probability_row(vector, text)
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
        settings = [self.settings.c, self.settings.threshold, self.settings.lexical_weight]
        digest = hashlib.sha256(json.dumps(settings).encode())
        for path in (self.train, self.norms_path):
            digest.update(path.read_bytes())
        digest.update(self.embedder.model_name.encode())
        return "sem" + digest.hexdigest()[:8]

    @property
    def classifier(self) -> NormClassifier:
        if self._classifier is None:
            texts, labels = prototypes(labelled_rows(self.train), self.norms_path)
            self._classifier = NormClassifier(self.embedder.embed(texts), labels, self.settings.c,
                                              texts, self.settings.lexical_weight)
            logger.info("semantic layer fitted prototypes=%d norms=%d", len(texts), len(set(labels)) - 1)
        return self._classifier

    def probabilities(self, vectors: list[np.ndarray], texts: list[str]) -> list[dict[str, float]]:
        """Probability of every norm (and of "none") for each sentence (embedding, text)."""
        rows = self.classifier.probability_rows(np.vstack(vectors), texts)
        return [{norm: float(p) for norm, p in zip(self.classifier.norms, row, strict=True)} for row in rows]

    def matches(self, probabilities: dict[str, float]) -> list[tuple[str, float]]:
        """(norm id, probability) of the norms at or above the threshold, most probable first."""
        found = [(norm, p) for norm, p in probabilities.items() if norm != NONE and p >= self.settings.threshold]
        return sorted(found, key=lambda item: -item[1])
