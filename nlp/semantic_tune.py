"""Choose the semantic layer's settings by cross-validation on train.jsonl and store them.

    python -m nlp.semantic_tune [--write]

5 folds by line number (modulo 5). In each fold the norm classifier is fitted on
the norms.yml prototypes and the other folds' sentences, and predicts the held-back
sentences; a norm the rules did not find and whose probability reaches the threshold
is added. The TF-IDF features' weight (LEXICAL_WEIGHT) is fixed here, chosen on the
whole detection's cross-validated F1. Over the whole file, the (C, threshold) pair with the best detection F1 of
rules + semantic wins (ties: the higher threshold, then the smaller C).
Never reads heldout.jsonl or iLIT.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field

import numpy as np

from nlp.analyzer import Analyzer
from nlp.embedder import DEFAULT_EMBEDDER, EMBEDDER_KINDS, Embedder, default_embedder
from nlp.semantic import NONE, SETTINGS, NormClassifier, prototypes
from nlp.stance_model import TRAIN, labelled_rows

FOLDS = 5
C_GRID = (1.0, 10.0, 100.0)
# The TF-IDF features' scale, chosen by the cross-validated F1 of the whole detection
# (nlp.detect_tune's decision over these probabilities; 2,772 training lines, C 10, the
# vocabulary of that trial fitted once on all lines): 0 -> 0.869, 1 -> 0.896, 2 -> 0.904,
# 4 -> 0.899.
LEXICAL_WEIGHT = 2.0
THRESHOLD_GRID = tuple(round(t, 2) for t in np.arange(0.05, 0.96, 0.05))


@dataclass(frozen=True)
class Choice:
    c: float
    threshold: float
    f1: float
    rules_f1: float
    added_true: int
    added_false: int


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def fold_of(index: int) -> int:
    """The fold of the training line at `index` (0-based): its line number modulo FOLDS."""
    return index % FOLDS


def rows_outside(count: int, folds: set[int]) -> list[int]:
    """Indexes of the training lines in none of `folds` (what a classifier may be fitted on)."""
    return [i for i in range(count) if fold_of(i) not in folds]


def rows_in(count: int, fold: int) -> list[int]:
    return [i for i in range(count) if fold_of(i) == fold]


def folds(count: int) -> list[tuple[list[int], list[int]]]:
    """(fitted, held-back) row indices per fold."""
    return [(rows_outside(count, {fold}), rows_in(count, fold)) for fold in range(FOLDS)]


@dataclass(frozen=True)
class EmbeddedPrototypes:
    """The norms.yml prototypes and the training sentences, embedded once for every fit."""

    norm_vectors: np.ndarray
    norm_labels: list[str]
    row_vectors: np.ndarray
    rows: list[dict]
    norm_texts: list[str] = field(default_factory=list)
    lexical_weight: float = 0.0  # as SemanticSettings: the TF-IDF is fitted on each fit's own prototypes

    @classmethod
    def of(cls, embedder: Embedder, rows: list[dict], lexical_weight: float = 0.0) -> EmbeddedPrototypes:
        norm_texts, norm_labels = prototypes([])
        return cls(embedder.embed(norm_texts), norm_labels, embedder.embed([row["text"] for row in rows]), rows,
                   norm_texts, lexical_weight)

    def probabilities(self, fit: list[int], predict: list[int], c: float, columns: list[str]) -> np.ndarray:
        """Probabilities (predict x columns) from a classifier fitted on the norm prototypes
        and the training lines `fit` only; a column the classifier never saw is 0."""
        labels, index = list(self.norm_labels), []
        for i in fit:
            for label in sorted(self.rows[i]["labels"]) or [NONE]:
                labels.append(label)
                index.append(i)
        texts = [*self.norm_texts, *(self.rows[i]["text"] for i in index)]
        model = NormClassifier(np.vstack([self.norm_vectors, self.row_vectors[index]]), labels, c,
                               texts=texts, lexical_weight=self.lexical_weight)
        probabilities = model.probabilities(self.row_vectors[predict], [self.rows[i]["text"] for i in predict])
        out = np.zeros((len(predict), len(columns)))
        for column, norm in enumerate(columns):
            if norm in model.norms:
                out[:, column] = probabilities[:, model.norms.index(norm)]
        return out


def cross_validated_probabilities(embedder: Embedder, rows: list[dict], c: float) -> tuple[list[str], np.ndarray]:
    """Out-of-fold probabilities (rows x norms) for every training sentence."""
    embedded = EmbeddedPrototypes.of(embedder, rows, LEXICAL_WEIGHT)
    norms = sorted(set(embedded.norm_labels))
    out = np.zeros((len(rows), len(norms)))
    for fold in range(FOLDS):
        held = rows_in(len(rows), fold)
        out[held] = embedded.probabilities(rows_outside(len(rows), {fold}), held, c, norms)
    return norms, out


def choose(embedder: Embedder, rows: list[dict], rule_found: list[set[str]]) -> Choice:
    gold = [set(row["labels"]) for row in rows]
    tp = sum(len(g & f) for g, f in zip(gold, rule_found, strict=True))
    fp = sum(len(f - g) for g, f in zip(gold, rule_found, strict=True))
    fn = sum(len(g - f) for g, f in zip(gold, rule_found, strict=True))
    best: Choice | None = None
    for c in C_GRID:
        norms, probabilities = cross_validated_probabilities(embedder, rows, c)
        for threshold in THRESHOLD_GRID:
            added_true = added_false = 0
            for i, found in enumerate(rule_found):
                for column in np.flatnonzero(probabilities[i] >= threshold):
                    if norms[column] not in found:
                        if norms[column] in gold[i]:
                            added_true += 1
                        else:
                            added_false += 1
            score = f1(tp + added_true, fp + added_false, fn - added_true)
            choice = Choice(c, threshold, round(score, 4), round(f1(tp, fp, fn), 4), added_true, added_false)
            if best is None or (score, threshold, -c) > (best.f1, best.threshold, -best.c):
                best = choice
    assert best is not None
    return best


def rule_findings(rows: list[dict]) -> list[set[str]]:
    analyzer = Analyzer(learned=False)
    return [{found.norm_id for sentence in analyzer.analyse(row["text"]) for found in sentence.stances}
            for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"store the choice in {SETTINGS}")
    parser.add_argument("--embedder", choices=EMBEDDER_KINDS, default=DEFAULT_EMBEDDER)
    args = parser.parse_args()
    rows = labelled_rows(TRAIN)
    embedder = default_embedder(args.embedder)
    choice = choose(embedder, rows, rule_findings(rows))
    data = {"c": choice.c, "threshold": choice.threshold, "lexical_weight": LEXICAL_WEIGHT,
            "model": embedder.model_name,
            "chosen_by": f"{FOLDS}-fold cross-validation on train.jsonl (python -m nlp.semantic_tune)",
            "cv_detection_f1": choice.f1, "cv_rules_only_f1": choice.rules_f1,
            "cv_added_true": choice.added_true, "cv_added_false": choice.added_false}
    print(json.dumps(data, indent=2))
    if args.write:
        SETTINGS.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
