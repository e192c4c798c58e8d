"""Checks on the hand-labelled sentence sets in nlp/data/labelled/ (train and held-out)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
LABELLED = REPO / "nlp" / "data" / "labelled"
FILES = {"train": LABELLED / "train.jsonl", "heldout": LABELLED / "heldout.jsonl"}
ID_PREFIX = {"train": "t", "heldout": "h"}

STANCES = {"support", "oppose", "qualified", "mention"}
TAGS = {
    "negation", "double-negation", "not-only-but-also", "reported-view", "conditional", "hedge",
    "multi-norm", "mention-only", "rhetorical-question", "implicit", "paraphrase", "contrast",
    "section-hint", "negative",
}
HARD_TAGS = [
    "double-negation", "not-only-but-also", "reported-view", "conditional", "multi-norm",
    "mention-only", "rhetorical-question", "implicit", "paraphrase",
]
CORE_FAMILIES = {"international-law", "un-debate"}
ALL_STANCES_NORMS = [
    "law.sovereignty-rule", "law.due-diligence-binding", "law.non-intervention", "law.ihl-applies",
    "law.countermeasures", "law.collective-countermeasures", "law.attribution-evidence",
    "debate.new-treaty", "debate.programme-of-action",
]
MIN_TOTAL = 360
MIN_TRAIN, MIN_HELDOUT = 3, 1
MIN_TRAIN_CORE, MIN_HELDOUT_CORE = 10, 3
MIN_HARD = 10
MAX_JACCARD = 0.8
# "negation" marks any negator except the fixed frame "not only ... but also" (its own tag).
NEGATOR = re.compile(r"\b(?:not(?! only\b)|never|no|cannot|nor|neither|nothing|none|nobody)\b(?!-)|n't\b", re.I)


def _norms() -> dict[str, str]:
    entries = yaml.safe_load((REPO / "nlp" / "norms.yml").read_text(encoding="utf-8"))
    return {entry["id"]: entry["family"] for entry in entries}


def _load(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            assert line.strip(), f"{path.name}:{number} is blank"
            rows.append(json.loads(line))
    return rows


NORMS = _norms()
DATA = {name: _load(path) for name, path in FILES.items()}
ALL_ROWS = DATA["train"] + DATA["heldout"]


def _normalise(text: str) -> str:
    return " ".join(text.casefold().split())


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def _norm_counts(rows: list[dict]) -> Counter:
    return Counter(norm for row in rows for norm in row["labels"])


def test_taxonomy_has_47_norms():
    assert len(NORMS) == 47


@pytest.mark.parametrize("name", sorted(FILES))
def test_rows_are_well_formed(name):
    rows = DATA[name]
    assert rows, f"{name} is empty"
    for row in rows:
        assert set(row) == {"id", "text", "speaker", "labels", "tags"}, row
        assert re.fullmatch(ID_PREFIX[name] + r"\d{4}", row["id"]), row["id"]
        assert isinstance(row["text"], str) and row["text"].strip() == row["text"] and len(row["text"]) > 10
        assert row["speaker"] is None or re.fullmatch(r"[A-Z]{3}", row["speaker"]), row["speaker"]
        assert isinstance(row["labels"], dict)
        assert isinstance(row["tags"], list) and len(set(row["tags"])) == len(row["tags"])


def test_ids_unique():
    ids = [row["id"] for row in ALL_ROWS]
    assert len(ids) == len(set(ids))


def test_labels_use_known_norms_and_stances():
    for row in ALL_ROWS:
        for norm, stance in row["labels"].items():
            assert norm in NORMS, (row["id"], norm)
            assert stance in STANCES, (row["id"], stance)


def test_tags_are_known_and_consistent():
    for row in ALL_ROWS:
        tags, labels = set(row["tags"]), row["labels"]
        assert tags <= TAGS, (row["id"], tags - TAGS)
        assert ("negative" in tags) == (not labels), row["id"]
        assert ("multi-norm" in tags) == (len(labels) >= 2), row["id"]
        all_mention = bool(labels) and all(stance == "mention" for stance in labels.values())
        assert ("mention-only" in tags) == all_mention, row["id"]
        assert ("negation" in tags) == bool(NEGATOR.search(row["text"])), row["id"]
        if "double-negation" in tags:
            assert "negation" in tags, row["id"]


def test_total_size():
    assert len(ALL_ROWS) >= MIN_TOTAL


@pytest.mark.parametrize("norm", sorted(NORMS))
def test_every_norm_is_covered(norm):
    core = NORMS[norm] in CORE_FAMILIES
    train, heldout = _norm_counts(DATA["train"])[norm], _norm_counts(DATA["heldout"])[norm]
    assert train >= (MIN_TRAIN_CORE if core else MIN_TRAIN), (norm, train)
    assert heldout >= (MIN_HELDOUT_CORE if core else MIN_HELDOUT), (norm, heldout)


@pytest.mark.parametrize("norm", ALL_STANCES_NORMS)
def test_contested_norms_have_all_four_stances_in_train(norm):
    stances = {row["labels"][norm] for row in DATA["train"] if norm in row["labels"]}
    assert stances == STANCES, (norm, stances)


@pytest.mark.parametrize("tag", HARD_TAGS)
def test_hard_cases_present_in_both_files(tag):
    counts = {name: sum(tag in row["tags"] for row in rows) for name, rows in DATA.items()}
    assert sum(counts.values()) >= MIN_HARD, (tag, counts)
    assert all(counts.values()), (tag, counts)


def test_negatives_share():
    share = sum(not row["labels"] for row in ALL_ROWS) / len(ALL_ROWS)
    assert 0.08 <= share <= 0.16, share


def test_stance_balance_is_rough():
    stances = Counter(stance for row in ALL_ROWS for stance in row["labels"].values())
    total = sum(stances.values())
    assert 0.30 <= stances["support"] / total <= 0.50, stances
    for stance in ("oppose", "qualified", "mention"):
        assert stances[stance] / total >= 0.12, stances


@pytest.mark.parametrize("name", sorted(FILES))
def test_no_duplicates_within_a_file(name):
    texts = [_normalise(row["text"]) for row in DATA[name]]
    assert len(texts) == len(set(texts))


def test_no_text_shared_between_train_and_heldout():
    train = {_normalise(row["text"]) for row in DATA["train"]}
    shared = [row["id"] for row in DATA["heldout"] if _normalise(row["text"]) in train]
    assert not shared


def test_no_near_duplicates_between_train_and_heldout():
    train = [(row["id"], _tokens(row["text"])) for row in DATA["train"]]
    offenders = []
    for row in DATA["heldout"]:
        tokens = _tokens(row["text"])
        for train_id, other in train:
            similarity = len(tokens & other) / len(tokens | other)
            if similarity > MAX_JACCARD:
                offenders.append((row["id"], train_id, round(similarity, 2)))
    assert not offenders


def test_readme_counts_are_generated_from_the_current_files():
    from nlp.labelled_counts import BLOCK, README, counts_markdown

    block = BLOCK.search(README.read_text(encoding="utf-8"))
    assert block, "the counts markers are missing from nlp/data/labelled/README.md"
    assert README.read_text(encoding="utf-8")[block.end(1):block.start(2)] == counts_markdown(), (
        "run `python -m nlp.labelled_counts`"
    )


# --- passages.jsonl: document-level labels for measuring aggregation (bench/eval_aggregation.py) ---

PASSAGES = LABELLED / "passages.jsonl"
PASSAGE_ROWS = _load(PASSAGES)
PASSAGE_TAGS = {
    "plain", "hedged-support", "hedge-not-retraction", "reservations", "leaning", "mixed",
    "reported-then-own", "mention-then-position", "support-then-retract", "paraphrase",
    "oppose-with-openness", "procedural", "long", "multi-norm", "mention-only",
}
SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z])")


def _sentences(text: str) -> list[str]:
    return SENTENCE_END.split(text)


def test_passages_are_well_formed():
    assert len(PASSAGE_ROWS) >= 60
    for row in PASSAGE_ROWS:
        assert set(row) == {"id", "text", "speaker", "labels", "tags"}, row
        assert re.fullmatch(r"p\d{3}", row["id"]), row["id"]
        assert isinstance(row["text"], str) and row["text"].strip() == row["text"]
        assert 2 <= len(_sentences(row["text"])) <= 7, row["id"]
        assert row["speaker"] is None or re.fullmatch(r"[A-Z]{3}", row["speaker"]), row["speaker"]
        assert isinstance(row["labels"], dict) and row["labels"], row["id"]
        assert isinstance(row["tags"], list) and len(set(row["tags"])) == len(row["tags"])


def test_passage_ids_and_texts_unique():
    ids = [row["id"] for row in PASSAGE_ROWS]
    assert len(ids) == len(set(ids))
    assert not set(ids) & {row["id"] for row in ALL_ROWS}
    texts = [_normalise(row["text"]) for row in PASSAGE_ROWS]
    assert len(texts) == len(set(texts))


def test_passage_labels_use_known_norms_and_stances():
    for row in PASSAGE_ROWS:
        for norm, stance in row["labels"].items():
            assert norm in NORMS, (row["id"], norm)
            assert stance in STANCES, (row["id"], stance)


def test_passage_tags_are_known_and_consistent():
    for row in PASSAGE_ROWS:
        tags, labels = set(row["tags"]), row["labels"]
        assert tags <= PASSAGE_TAGS, (row["id"], tags - PASSAGE_TAGS)
        assert ("multi-norm" in tags) == (len(labels) >= 2), row["id"]
        assert ("mention-only" in tags) == all(stance == "mention" for stance in labels.values()), row["id"]


def test_passages_cover_every_stance():
    stances = Counter(stance for row in PASSAGE_ROWS for stance in row["labels"].values())
    assert set(stances) == STANCES, stances


def test_no_passage_sentence_near_duplicates_a_labelled_sentence():
    """A passage, or any sentence of one, copied or varied from train or held-out would leak."""
    labelled = [(row["id"], _tokens(row["text"])) for row in ALL_ROWS]
    offenders = []
    for row in PASSAGE_ROWS:
        for piece in [row["text"], *_sentences(row["text"])]:
            tokens = _tokens(piece)
            for other_id, other in labelled:
                similarity = len(tokens & other) / len(tokens | other)
                if similarity > MAX_JACCARD:
                    offenders.append((row["id"], other_id, round(similarity, 2)))
    assert not offenders
