"""Cross-validated stance figures on train.jsonl, and the training sentences the stance step gets wrong.

    python -m nlp.stance_tune [--errors] [--no-embed] [--first N] [--embedder KIND]

5 folds by line number (modulo 5, as nlp.semantic_tune). In each fold the learned
layer (nlp.stance_model) is fitted as the analyzer fits it, over the cue features, the
sentence's words and (unless --no-embed) the sentence embedding: one model on the other folds' gold
(sentence, norm) pairs that the rules detect, one (the semantic path's) on all their
gold pairs; then they classify the held-back sentences.

Scored: every gold (sentence, norm) pair, detected or not, so that the figure does
not move with detection. A norm the rules find is classified at its mention, as
Analyzer._stances does; one they miss is classified with a zero-width topic at the
sentence start, as the semantic layer does it (the path a norm found by resemblance
takes). As in the analyzer, a decisive rule stance (a cue written for the proposition
itself, a verdict on a reported view) is kept. The rules-only figure is the rules'
stance on the same pairs.

`--first N` scores only the pairs of the first N lines (e.g. the sentences an older,
shorter file had), while every fold is still fitted on all the other folds' lines.
Never reads heldout.jsonl; its figures are bench/eval_stance.py's.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from spacy.tokens import Span

from nlp import stance as stance_rules
from nlp.analyzer import Analyzer
from nlp.embedder import DEFAULT_EMBEDDER, EMBEDDER_KINDS, Embedder, default_embedder
from nlp.semantic_tune import FOLDS, f1, folds
from nlp.stance_model import TRAIN, StanceModel, fit_words, labelled_rows

STANCES = ("support", "oppose", "qualified", "mention")


@dataclass(frozen=True)
class Pair:
    """One gold (sentence, norm) pair with what the rules make of it."""

    row: int  # line index in the file (decides the fold)
    id: str
    norm: str
    gold: str
    features: dict[str, float]
    rule: stance_rules.Stance
    detected: bool  # the rules found the norm in the sentence
    topic_features: dict[str, float]  # as the semantic path sees the pair (a topic at the sentence start)
    topic_rule: stance_rules.Stance


@dataclass(frozen=True)
class Prediction:
    pair: Pair
    stance: str


def gold_pairs(analyzer: Analyzer, rows: list[dict]) -> list[Pair]:
    """Every gold (sentence, norm) pair, in file order, with its cue features and rule stance."""
    pairs = []
    for index, row in enumerate(rows):
        spans = analyzer._segment(row["text"], ()).spans
        found: dict[str, tuple[stance_rules.Stance, dict[str, float]]] = {}
        for _, doc, sent in spans:
            for norm, rule, features in analyzer._mentions(doc, sent):
                found.setdefault(norm.label_, (rule, features))  # the first mention, as training does
        _, doc, sent = spans[0]
        for norm_id, gold in row["labels"].items():
            topic_rule, topic_features = analyzer._topic_stance(doc, sent, norm_id)
            rule, features = found.get(norm_id, (topic_rule, topic_features))
            pairs.append(Pair(index, row["id"], norm_id, gold, features, rule, norm_id in found,
                              topic_features, topic_rule))
    return pairs


def cross_validate(pairs: list[Pair], texts: list[str], vectors: np.ndarray | None) -> list[Prediction]:
    """Out-of-fold stance of every pair (file order), from models fitted on the other folds,
    as the analyzer fits them: one on the detected pairs for the norms the rules find, one
    on every pair seen as the semantic path sees it for the norms they miss. The word
    features' vocabulary is fitted on the other folds' sentences too."""
    row_count = len(texts)
    predictions: dict[int, Prediction] = {}
    position = {id(pair): number for number, pair in enumerate(pairs)}

    def fit(train: list[Pair], topic: bool, words: sparse.csr_matrix) -> StanceModel:
        return StanceModel(
            [pair.topic_features if topic else pair.features for pair in train],
            vectors[[pair.row for pair in train]] if vectors is not None else None,
            [pair.gold for pair in train],
            words[[pair.row for pair in train]],
            [pair.norm for pair in train],
        )

    for fitted, held in folds(row_count):
        fitted_rows, held_rows = set(fitted), set(held)
        words = fit_words([texts[i] for i in fitted]).transform(texts)
        train = [pair for pair in pairs if pair.row in fitted_rows]
        model = fit([pair for pair in train if pair.detected], False, words)
        topic_model = fit(train, True, words)
        for pair in pairs:
            if pair.row not in held_rows:
                continue
            if pair.rule.decisive:
                stance = pair.rule.stance
            else:
                used = model if pair.detected else topic_model
                vector = vectors[pair.row] if vectors is not None else None
                stance, _ = used.predict(pair.features, vector, words[pair.row], pair.norm)
            predictions[position[id(pair)]] = Prediction(pair, stance)
    return [predictions[number] for number in range(len(pairs))]


def per_class(pairs: list[tuple[str, str]], labels: tuple[str, ...] = STANCES) -> dict[str, tuple[float, float, float]]:
    """(precision, recall, F1) per label over (gold, predicted) pairs."""
    scores = {}
    for label in labels:
        tp = sum(1 for gold, predicted in pairs if gold == label and predicted == label)
        fp = sum(1 for gold, predicted in pairs if gold != label and predicted == label)
        fn = sum(1 for gold, predicted in pairs if gold == label and predicted != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores[label] = (precision, recall, f1(tp, fp, fn))
    return scores


def macro_f1(pairs: list[tuple[str, str]], labels: tuple[str, ...] = STANCES) -> float:
    """Unweighted mean of the per-label F1 (a label never seen nor predicted scores 0, as in bench)."""
    return sum(score[2] for score in per_class(pairs, labels).values()) / len(labels)


def confusion(pairs: list[tuple[str, str]], labels: tuple[str, ...] = STANCES) -> str:
    counts = Counter(pairs)
    lines = ["gold \\ predicted " + " ".join(f"{label:>9}" for label in labels)]
    for gold in labels:
        lines.append(f"{gold:>17} " + " ".join(f"{counts[(gold, p)]:>9}" for p in labels))
    return "\n".join(lines)


def report(predictions: list[Prediction]) -> str:
    learned = [(p.pair.gold, p.stance) for p in predictions]
    rules = [(p.pair.gold, p.pair.rule.stance) for p in predictions]
    detected = [p for p in predictions if p.pair.detected]
    missed = [p for p in predictions if not p.pair.detected]
    lines = [
        f"{'':34}{'learned':>9}{'rules':>9}",
        f"{'stance macro-F1, all gold pairs':34}{macro_f1(learned):>9.3f}{macro_f1(rules):>9.3f}  n={len(learned)}",
    ]
    for name, subset in (("  pairs the rules detect", detected), ("  pairs they miss (semantic path)", missed)):
        if subset:
            lines.append(f"{name:34}{macro_f1([(p.pair.gold, p.stance) for p in subset]):>9.3f}"
                         f"{macro_f1([(p.pair.gold, p.pair.rule.stance) for p in subset]):>9.3f}  n={len(subset)}")
    accuracy = sum(g == p for g, p in learned) / len(learned)
    lines.append(f"{'accuracy':34}{accuracy:>9.3f}{sum(g == p for g, p in rules) / len(rules):>9.3f}")
    lines += ["", "per class (learned | rules)      P      R     F1 |     P      R     F1     n"]
    gold_counts = Counter(g for g, _ in learned)
    learned_scores, rule_scores = per_class(learned), per_class(rules)
    for label in STANCES:
        left = " ".join(f"{v:6.3f}" for v in learned_scores[label])
        right = " ".join(f"{v:6.3f}" for v in rule_scores[label])
        lines.append(f"{label:>27} {left} | {right} {gold_counts[label]:5}")
    lines += ["", "confusion, learned", confusion(learned), "", "confusion, rules only", confusion(rules)]
    return "\n".join(lines)


def errors(predictions: list[Prediction], rows: list[dict]) -> str:
    lines = ["id     norm                            gold      predicted rules     cue | text"]
    for p in predictions:
        if p.stance != p.pair.gold:
            lines.append(f"{p.pair.id:6} {p.pair.norm:31} {p.pair.gold:9} {p.stance:9} {p.pair.rule.stance:9} "
                         f"{p.pair.rule.cue or '-'}{'' if p.pair.detected else ' (not detected)'} | "
                         f"{rows[p.pair.row]['text']}")
    return "\n".join(lines)


def run(rows: list[dict], embedder: Embedder | None, first: int | None = None) -> list[Prediction]:
    """Out-of-fold predictions for the pairs of the first `first` lines (all lines by default)."""
    pairs = gold_pairs(Analyzer(learned=False), rows)
    vectors = embedder.embed([row["text"] for row in rows]) if embedder is not None else None
    predictions = cross_validate(pairs, [row["text"] for row in rows], vectors)
    return [p for p in predictions if first is None or p.pair.row < first]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the misclassified training pairs")
    parser.add_argument("--no-embed", action="store_true", help="cue features only (`process --no-embed`)")
    parser.add_argument("--embedder", choices=EMBEDDER_KINDS, default=DEFAULT_EMBEDDER)
    parser.add_argument("--first", type=int, help="score only the pairs of the first N lines")
    args = parser.parse_args()
    rows = labelled_rows(TRAIN)
    embedder = None if args.no_embed else default_embedder(args.embedder)
    predictions = run(rows, embedder, args.first)
    scored = args.first if args.first is not None else len(rows)
    print(f"{FOLDS}-fold CV on {TRAIN.name}: {len(rows)} sentences, scored on the first {min(scored, len(rows))}; "
          f"learned layer over cue features + words{' + ' + embedder.model_name + ' embeddings' if embedder else ''}")
    print(report(predictions))
    if args.errors:
        print()
        print(errors(predictions, rows))


if __name__ == "__main__":
    main()
