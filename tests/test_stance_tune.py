"""The stance cross-validation (nlp.stance_tune): folds, scores, and a run on a few sentences."""

from __future__ import annotations

import pytest

from nlp.semantic_tune import FOLDS, folds
from nlp.stance_tune import confusion, macro_f1, per_class, run


@pytest.mark.parametrize("count", [3, 5, 12])
def test_folds_are_disjoint_and_cover_every_row(count):
    split = folds(count)
    assert len(split) == FOLDS
    held = [row for _, back in split for row in back]
    assert sorted(held) == list(range(count))  # each row held back exactly once
    for fitted, back in split:
        assert not set(fitted) & set(back)
        assert sorted(fitted + back) == list(range(count))


def test_macro_f1_on_a_hand_made_case():
    pairs = [("support", "support"), ("support", "oppose"), ("oppose", "oppose"), ("mention", "support")]
    scores = per_class(pairs, ("support", "oppose", "mention"))
    assert scores["support"] == pytest.approx((0.5, 0.5, 0.5))
    assert scores["oppose"] == pytest.approx((0.5, 1.0, 2 / 3))
    assert scores["mention"] == (0.0, 0.0, 0.0)
    assert macro_f1(pairs, ("support", "oppose", "mention")) == pytest.approx((0.5 + 2 / 3) / 3)
    assert macro_f1([("support", "support")], ("support",)) == 1.0


def test_confusion_counts_gold_rows_against_predicted_columns():
    table = confusion([("support", "oppose"), ("support", "oppose")], ("support", "oppose"))
    assert table.splitlines()[1].split() == ["support", "0", "2"]


def _row(number: int, text: str, labels: dict[str, str]) -> dict:
    return {"id": f"t{number:04d}", "text": text, "speaker": None, "labels": labels, "tags": []}


def test_every_gold_pair_is_predicted_once_out_of_fold(fake_embedder):
    texts = [
        ("We support a Programme of Action as the permanent mechanism.", "debate.programme-of-action", "support"),
        ("We reject the idea of a Programme of Action.", "debate.programme-of-action", "oppose"),
        ("Some States argued that a new treaty is needed.", "debate.new-treaty", "mention"),
        ("A new legally binding instrument is needed.", "debate.new-treaty", "support"),
        ("We do not believe a new treaty is needed.", "debate.new-treaty", "oppose"),
    ]
    rows = [_row(n, text, {norm: stance}) for n, (text, norm, stance) in enumerate(texts * 3, start=1)]
    rows[0]["labels"]["law.applies"] = "support"  # a gold norm the rules do not find: the semantic path
    predictions = run(rows, fake_embedder)
    assert [(p.pair.id, p.pair.norm) for p in predictions] == [
        (row["id"], norm) for row in rows for norm in row["labels"]]
    assert not predictions[1].pair.detected and predictions[0].pair.detected
    assert {p.stance for p in predictions} <= {"support", "oppose", "qualified", "mention"}
    assert len(fake_embedder.calls) == len(rows)  # each sentence embedded once, for all folds
    assert all(p.pair.row < 5 for p in run(rows, None, first=5))
