"""Choose and fit the keep/drop decision (nlp.detect) by cross-validation on train.jsonl.

    python -m nlp.detect_tune [--write] [--errors]

5 folds by line number modulo 5, as nlp.semantic_tune. For each held-back fold
the decision is fitted on the other folds' candidates and decides the held-back
ones. Every semantic probability it sees comes from a classifier that did not
see the held-back fold: the held-back lines are scored by a classifier fitted on
the other four folds, and each training line (fold m) by one fitted without
folds m and the held-back one. The semantic layer's C is the stored one
(nlp/data/semantic.json). Over the grid of candidate cut-off, C of the decision
and keep threshold, the best detection F1 over the whole file wins (ties: the
higher cut-off, the smaller C, the higher threshold). The stored weights are
then fitted on every line's candidates, scored out of fold. The 15 fits of the
semantic layer (one per held-back fold, one per pair of folds) take most of the
few minutes it runs. With --errors, the out-of-fold errors of the chosen decision
follow: each missed gold norm (fn) and kept wrong norm (fp) of a line, with the
pattern that found it (- for none), its semantic and keep probabilities.
Never reads heldout.jsonl or iLIT.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from nlp.analyzer import Analyzer
from nlp.detect import SETTINGS, RuleHit, candidates, features
from nlp.embedder import DEFAULT_EMBEDDER, EMBEDDER_KINDS, default_embedder
from nlp.semantic import NONE, SemanticSettings
from nlp.semantic_tune import FOLDS, EmbeddedPrototypes, f1, fold_of, rows_in, rows_outside
from nlp.stance_model import TRAIN, labelled_rows

CUTOFF_GRID = (0.05, 0.1, 0.2, 0.3)
C_GRID = (0.1, 1.0, 10.0)
THRESHOLD_GRID = tuple(round(float(t), 2) for t in np.arange(0.2, 0.81, 0.05))


@dataclass(frozen=True)
class Counts:
    tp: int
    fp: int
    fn: int

    @property
    def f1(self) -> float:
        return round(f1(self.tp, self.fp, self.fn), 4)

    def figures(self) -> dict[str, float]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": self.f1,
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


def count(gold: list[set[str]], found: list[set[str]]) -> Counts:
    return Counts(sum(len(g & f) for g, f in zip(gold, found, strict=True)),
                  sum(len(f - g) for g, f in zip(gold, found, strict=True)),
                  sum(len(g - f) for g, f in zip(gold, found, strict=True)))


@dataclass
class Probabilities:
    """Semantic probabilities per line (dicts norm -> p), scored out of fold."""

    held: list[dict[str, float]]  # each line by a classifier that did not see its fold
    # training_for[k][i], for a line i outside fold k: by a classifier that saw neither fold k nor i's fold
    training_for: list[dict[int, dict[str, float]]]


def out_of_fold_probabilities(embedded: EmbeddedPrototypes, c: float) -> Probabilities:
    count_rows = len(embedded.rows)
    columns = sorted(set(embedded.norm_labels)) + [NONE]

    def scored(fit: list[int], predict: list[int]) -> list[dict[str, float]]:
        matrix = embedded.probabilities(fit, predict, c, columns)
        return [dict(zip(columns, map(float, row), strict=True)) for row in matrix]

    held: list[dict[str, float]] = [{} for _ in range(count_rows)]
    for fold in range(FOLDS):
        predict = rows_in(count_rows, fold)
        for i, probabilities in zip(predict, scored(rows_outside(count_rows, {fold}), predict), strict=True):
            held[i] = probabilities
    training_for: list[dict[int, dict[str, float]]] = [{} for _ in range(FOLDS)]
    for one, other in combinations(range(FOLDS), 2):
        # one fit serves both: fold `other` as training lines when `one` is held back, and vice versa
        predict = rows_in(count_rows, one) + rows_in(count_rows, other)
        for i, probabilities in zip(predict, scored(rows_outside(count_rows, {one, other}), predict), strict=True):
            training_for[other if fold_of(i) == one else one][i] = probabilities
    return Probabilities(held, training_for)


def above(probabilities: dict[str, float], threshold: float) -> set[str]:
    """The norms the semantic layer alone adds at its own threshold (the decision it replaces)."""
    return {norm for norm, p in probabilities.items() if norm != NONE and p >= threshold}


def fit_decision(examples: list[tuple[dict[str, float], bool]], c: float) -> tuple[DictVectorizer, LogisticRegression]:
    vectorizer = DictVectorizer(sparse=False).fit([x for x, _ in examples])
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit(vectorizer.transform([x for x, _ in examples]), [y for _, y in examples])
    return vectorizer, model


def line_candidates(hits: dict[str, RuleHit], probabilities: dict[str, float], gold: set[str],
                    cutoff: float) -> list[tuple[str, dict[str, float], bool]]:
    return [(cand.norm_id, features(cand), cand.norm_id in gold)
            for cand in candidates(hits, probabilities, cutoff)]


def cross_validated_keep(hits: list[dict[str, RuleHit]], gold: list[set[str]], probabilities: Probabilities,
                         cutoff: float, c: float) -> list[list[tuple[str, float]]]:
    """(norm, keep probability) of each line's candidates, from a decision fitted without its fold."""
    out: list[list[tuple[str, float]]] = [[] for _ in hits]
    for fold in range(FOLDS):
        examples = [(x, y) for i in rows_outside(len(hits), {fold})
                    for _, x, y in line_candidates(hits[i], probabilities.training_for[fold][i], gold[i], cutoff)]
        vectorizer, model = fit_decision(examples, c)
        for i in rows_in(len(hits), fold):
            found = line_candidates(hits[i], probabilities.held[i], gold[i], cutoff)
            if found:
                keep = model.predict_proba(vectorizer.transform([x for _, x, _ in found]))[:, 1]
                out[i] = [(norm, float(p)) for (norm, _, _), p in zip(found, keep, strict=True)]
    return out


@dataclass(frozen=True)
class Choice:
    cutoff: float
    c: float
    threshold: float
    counts: Counts


def choose(hits: list[dict[str, RuleHit]], gold: list[set[str]], probabilities: Probabilities) -> Choice:
    best: Choice | None = None
    for cutoff in CUTOFF_GRID:
        for c in C_GRID:
            keep = cross_validated_keep(hits, gold, probabilities, cutoff, c)
            for threshold in THRESHOLD_GRID:
                found = [{norm for norm, p in line if p >= threshold} for line in keep]
                choice = Choice(cutoff, c, threshold, count(gold, found))
                key = (choice.counts.f1, cutoff, -c, threshold)
                if best is None or key > (best.counts.f1, best.cutoff, -best.c, best.threshold):
                    best = choice
    assert best is not None
    return best


def final_weights(hits: list[dict[str, RuleHit]], gold: list[set[str]], probabilities: Probabilities,
                  choice: Choice) -> tuple[dict[str, float], float]:
    """The decision fitted on every line's candidates (probabilities scored out of fold)."""
    examples = [(x, y) for i in range(len(hits))
                for _, x, y in line_candidates(hits[i], probabilities.held[i], gold[i], choice.cutoff)]
    vectorizer, model = fit_decision(examples, choice.c)
    weights = {name: round(float(w), 4) for name, w in zip(vectorizer.feature_names_, model.coef_[0], strict=True)}
    return weights, round(float(model.intercept_[0]), 4)


@dataclass(frozen=True)
class DetectionError:
    line_id: str
    norm: str
    kind: str  # "fn": a gold norm not kept; "fp": a kept norm not in gold
    pattern_id: str | None  # the rules' most specific match of the norm; None: no rule found it
    probability: float  # semantic probability, out of fold
    keep: float | None  # the decision's keep probability; None: not a candidate
    text: str

    def __str__(self) -> str:
        keep = "-" if self.keep is None else f"{self.keep:.2f}"
        return (f"{self.line_id} {self.kind} {self.norm:<31} rule={self.pattern_id or '-'} "
                f"p={self.probability:.2f} keep={keep} | {self.text}")


def detection_errors(rows: list[dict], hits: list[dict[str, RuleHit]], probabilities: Probabilities,
                     keep: list[list[tuple[str, float]]], threshold: float) -> list[DetectionError]:
    """Each line's missed gold norms, then its kept wrong ones, from the cross-validated decision."""
    errors = []
    for row, line_hits, scored, line_keep in zip(rows, hits, probabilities.held, keep, strict=True):
        gold, keep_of = set(row["labels"]), dict(line_keep)
        kept = {norm for norm, p in line_keep if p >= threshold}
        for kind, norms in (("fn", gold - kept), ("fp", kept - gold)):
            for norm in sorted(norms):
                hit = line_hits.get(norm)
                errors.append(DetectionError(row["id"], norm, kind, hit.pattern_id if hit else None,
                                             scored.get(norm, 0.0), keep_of.get(norm), row["text"]))
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"store the choice in {SETTINGS}")
    parser.add_argument("--errors", action="store_true", help="print the out-of-fold errors of the chosen decision")
    parser.add_argument("--embedder", choices=EMBEDDER_KINDS, default=DEFAULT_EMBEDDER)
    args = parser.parse_args()
    rows = labelled_rows(TRAIN)
    gold = [set(row["labels"]) for row in rows]
    analyzer = Analyzer(learned=False)
    hits = [analyzer.rule_hits(row["text"]) for row in rows]
    embedder = default_embedder(args.embedder)
    semantic = SemanticSettings.load()
    embedded = EmbeddedPrototypes.of(embedder, rows, semantic.lexical_weight)
    probabilities = out_of_fold_probabilities(embedded, semantic.c)

    rules_only = count(gold, [set(h) for h in hits])
    current = count(gold, [set(h) | above(probabilities.held[i], semantic.threshold) for i, h in enumerate(hits)])
    choice = choose(hits, gold, probabilities)
    print(f"rules only:              {rules_only.figures()}")
    print(f"rules + semantic >= {semantic.threshold}: {current.figures()}")
    print(f"learned decision:        {choice.counts.figures()} "
          f"(cut-off {choice.cutoff}, C {choice.c}, threshold {choice.threshold})")
    weights, intercept = final_weights(hits, gold, probabilities, choice)
    data = {"cutoff": choice.cutoff, "c": choice.c, "threshold": choice.threshold,
            "weights": weights, "intercept": intercept, "model": embedder.model_name,
            "chosen_by": f"{FOLDS}-fold cross-validation on train.jsonl (python -m nlp.detect_tune)",
            "cv_detection": choice.counts.figures(), "cv_rules_and_semantic": current.figures(),
            "cv_rules_only": rules_only.figures()}
    print(json.dumps(data, indent=2))
    if args.errors:
        keep = cross_validated_keep(hits, gold, probabilities, choice.cutoff, choice.c)
        for error in detection_errors(rows, hits, probabilities, keep, choice.threshold):
            print(error)
    if args.write:
        SETTINGS.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
