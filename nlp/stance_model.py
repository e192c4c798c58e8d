"""The learned layer: logistic regression over the cue features of the stance rules.

Trained at start-up on nlp/data/labelled/train.jsonl (a few hundred sentences
written by the project; the held-out file is never read here), so no model
file is shipped and the training data in git is the model. Its probabilities
are the stances' confidence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

TRAIN = Path(__file__).with_name("data") / "labelled" / "train.jsonl"
METHOD = "rules+lr-v1"


class StanceModel:
    def __init__(self, examples: list[tuple[dict[str, float], str]], c: float = 1.0) -> None:
        self.classes = sorted({label for _, label in examples})
        self.pipeline = make_pipeline(
            DictVectorizer(sparse=False),
            LogisticRegression(C=c, max_iter=2000, class_weight="balanced"),
        )
        self.pipeline.fit([features for features, _ in examples], [label for _, label in examples])

    def predict(self, features: dict[str, float]) -> tuple[str, float]:
        probabilities = self.pipeline.predict_proba([features])[0]
        best = int(probabilities.argmax())
        return str(self.pipeline.classes_[best]), float(probabilities[best])


def labelled_rows(path: Path = TRAIN) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def train_from_rows(
    rows: Iterable[dict], features_for: Callable[[str], dict[str, dict[str, float]]]
) -> StanceModel | None:
    """Fit on every gold (sentence, norm) pair the rules detect; None when there is nothing to learn."""
    examples = []
    for row in rows:
        found = features_for(row["text"])
        examples += [(found[norm], stance) for norm, stance in row["labels"].items() if norm in found]
    if len({label for _, label in examples}) < 2:
        return None
    return StanceModel(examples)


def training_fingerprint(path: Path = TRAIN) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8] if path.exists() else "none"
