"""Document-level aggregation of sentence stances, against hand-labelled passages.

    python bench/eval_aggregation.py [--embedder KIND]

Every passage of nlp/data/labelled/passages.jsonl (2-7 sentences, labelled with the
passage's stance on each norm it addresses; README there) is ingested as a statement
through the normal `pipeline.py ingest` command and analysed once by nlp.process.process
with the analyzer `pipeline.py process` builds. Several aggregations of the same
`stances` rows into one stance per (document, norm) are then scored against the gold
labels: detection recall of the gold norms (the same for every aggregation: they all
read the same rows), stance macro-F1 over support/oppose/qualified/mention on the
detected gold pairs, end-to-end accuracy (a missed norm counts as wrong), a confusion
matrix and accuracy per passage tag.

Every aggregation is one SQL query over the `stances`,
`sentences` and `documents` tables returning (title, norm_id, stance, confidence),
so the winner can replace the `document_stances` view as it is.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

from eval_stance import STANCES, Scores, analysed_statements, confusion  # noqa: E402

from db.schema import MIXED_EVIDENCE_FLOOR, MIXED_EVIDENCE_SHARE, _DOCUMENT_STANCES_V1, document_stances_sql  # noqa: E402
from nlp.analyzer import default_analyzer  # noqa: E402
from nlp.embedder import DEFAULT_EMBEDDER, EMBEDDER_KINDS, default_embedder  # noqa: E402

PASSAGES = REPO / "nlp" / "data" / "labelled" / "passages.jsonl"
# The passages are fictional and most have no speaker; ingest needs a known State and
# the analysis never reads it.
PLACEHOLDER_STATE = "EUN"

# The current sentence stances of current documents, with each sentence's position.
_ROWS = """
rows AS (
  SELECT st.document_id, st.norm_id, st.stance, st.confidence, s.position,
         -- the sentence's stance cues include a first-person marker: the speaker's own view
         (' ' || lower(replace(coalesce(st.cue, ''), ';', ' ')) || ' ') GLOB '* we *'
           OR (' ' || lower(replace(coalesce(st.cue, ''), ';', ' ')) || ' ') GLOB '* our *' AS own
  FROM stances st
  JOIN sentences s ON s.id = st.sentence_id
  JOIN documents d ON d.id = st.document_id
  WHERE d.superseded_in_run IS NULL
)"""

# (a) The current view: the most confident position-taking sentence, qualified when a large
# enough share of the confident evidence disagrees (db.schema.DOCUMENT_STANCES); a mention
# only when no sentence takes a position.
VIEW_SQL = """
SELECT d.title, ds.norm_id, ds.stance, ds.confidence
FROM document_stances ds JOIN documents d ON d.id = ds.document_id
"""

# (b) A vote: every position-taking sentence votes for its stance with its confidence, and
# the stance with the largest total wins (confidence: its share of the total); a passage
# with positions only in mentions stays a mention.
VOTE_SQL = """
WITH totals AS (
  SELECT st.document_id, st.norm_id, st.stance, sum(st.confidence) AS weight
  FROM stances st
  WHERE st.stance <> 'mention'
  GROUP BY st.document_id, st.norm_id, st.stance
),
ranked AS (
  SELECT document_id, norm_id, stance, weight / sum(weight) OVER w AS confidence,
         row_number() OVER (w ORDER BY weight DESC, stance) AS rank
  FROM totals
  WINDOW w AS (PARTITION BY document_id, norm_id)
)
SELECT d.title, r.norm_id, r.stance, r.confidence FROM ranked r
JOIN documents d ON d.id = r.document_id WHERE r.rank = 1
"""

# (c) Mixed evidence is qualified: when the position-taking sentences on a norm disagree
# (support and oppose, or either with a qualified sentence of confidence at least
# :qualified_min), the passage's stance is qualified; otherwise the view's choice.
# Confidence: the decisive sentence's.
MIXED_SQL = f"""
WITH {_ROWS},
best AS (
  SELECT document_id, norm_id, stance, confidence,
         row_number() OVER (PARTITION BY document_id, norm_id
                            ORDER BY stance <> 'mention' DESC, confidence DESC, position) AS rank
  FROM rows
),
evidence AS (
  SELECT document_id, norm_id,
         max(stance = 'support') + max(stance = 'oppose')
           + max(stance = 'qualified' AND confidence >= :qualified_min) AS polarities
  FROM rows WHERE stance <> 'mention'
  GROUP BY document_id, norm_id
)
SELECT d.title, b.norm_id,
       CASE WHEN coalesce(e.polarities, 0) >= 2 THEN 'qualified' ELSE b.stance END AS stance,
       b.confidence
FROM best b
LEFT JOIN evidence e ON e.document_id = b.document_id AND e.norm_id = b.norm_id
JOIN documents d ON d.id = b.document_id
WHERE b.rank = 1
"""

# (d1) The last word: the last position-taking sentence of the passage (a later
# "however, we do not consider ..." overrides an earlier sentence); a mention only when
# no sentence takes a position.
LAST_SQL = f"""
WITH {_ROWS},
ranked AS (
  SELECT document_id, norm_id, stance, confidence,
         row_number() OVER (PARTITION BY document_id, norm_id
                            ORDER BY stance <> 'mention' DESC, position DESC) AS rank
  FROM rows
)
SELECT d.title, r.norm_id, r.stance, r.confidence
FROM ranked r JOIN documents d ON d.id = r.document_id WHERE r.rank = 1
"""

# (d2) A vote in which mentions count too: every sentence votes for its stance with its
# confidence (a passage that mostly talks about a norm without taking a side stays a
# mention); confidence is the winner's share.
VOTE_MENTIONS_SQL = f"""
WITH {_ROWS},
totals AS (
  SELECT document_id, norm_id, stance, sum(confidence) AS weight
  FROM rows GROUP BY document_id, norm_id, stance
),
ranked AS (
  SELECT document_id, norm_id, stance, weight / sum(weight) OVER w AS confidence,
         row_number() OVER (w ORDER BY weight DESC, stance <> 'mention' DESC, stance) AS rank
  FROM totals
  WINDOW w AS (PARTITION BY document_id, norm_id)
)
SELECT d.title, r.norm_id, r.stance, r.confidence
FROM ranked r JOIN documents d ON d.id = r.document_id WHERE r.rank = 1
"""

# (d3) Mixed evidence is qualified, otherwise the last word: (c) with (d1) as the fallback.
MIXED_LAST_SQL = f"""
WITH {_ROWS},
last AS (
  SELECT document_id, norm_id, stance, confidence,
         row_number() OVER (PARTITION BY document_id, norm_id
                            ORDER BY stance <> 'mention' DESC, position DESC) AS rank
  FROM rows
),
evidence AS (
  SELECT document_id, norm_id,
         max(stance = 'support') + max(stance = 'oppose')
           + max(stance = 'qualified' AND confidence >= :qualified_min) AS polarities
  FROM rows WHERE stance <> 'mention'
  GROUP BY document_id, norm_id
)
SELECT d.title, l.norm_id,
       CASE WHEN coalesce(e.polarities, 0) >= 2 THEN 'qualified' ELSE l.stance END AS stance,
       l.confidence
FROM last l
LEFT JOIN evidence e ON e.document_id = l.document_id AND e.norm_id = l.norm_id
JOIN documents d ON d.id = l.document_id
WHERE l.rank = 1
"""

# (d4) The speaker's own view first: the most confident position-taking sentence whose
# cues carry a first-person marker ("we consider", "our view"), before sentences that
# report or assert without one; then as the view.
OWN_SQL = f"""
WITH {_ROWS},
ranked AS (
  SELECT document_id, norm_id, stance, confidence,
         row_number() OVER (PARTITION BY document_id, norm_id
                            ORDER BY stance <> 'mention' DESC, own DESC, confidence DESC, position) AS rank
  FROM rows
)
SELECT d.title, r.norm_id, r.stance, r.confidence
FROM ranked r JOIN documents d ON d.id = r.document_id WHERE r.rank = 1
"""

# (d5) Mixed evidence is qualified, otherwise the speaker's own view: (c) with (d4) as the fallback.
MIXED_OWN_SQL = MIXED_SQL.replace("ORDER BY stance <> 'mention' DESC, confidence DESC",
                                  "ORDER BY stance <> 'mention' DESC, own DESC, confidence DESC")

# (e) The share rule of the view with other settings (db.schema.document_stances_sql):
# qualified when confident sentences (>= floor) of the other polarity carry >= share of the
# confident evidence.
SHARE_SQL = """
SELECT d.title, ds.norm_id, ds.stance, ds.confidence
FROM ({query}) ds JOIN documents d ON d.id = ds.document_id
"""
POLAR_FIRST_SHARES = ((0.6, 0.5), (0.6, 0.3))
QUALIFIED_WEIGHTS = (0.0, 0.25, 1.0)
SHARES = ((0.5, 0.5), (0.7, 0.5), (0.6, 0.2), (0.6, 0.3), (0.6, 0.4), (0.6, 0.6), (0.0, 0.5))
QUALIFIED_MIN = (0.0, 0.6, 0.8)
Prediction = dict[tuple[str, str], tuple[str, float]]


def load_passages(path: Path = PASSAGES) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def statements(passages: list[dict]) -> list[dict]:
    """Ingest manifest lines, titled by passage id."""
    return [{"text": row["text"], "state": row["speaker"] or PLACEHOLDER_STATE, "date": "2000-01-01",
             "title": row["id"], "provenance": "hand-labelled passage"} for row in passages]


def aggregations(conn: sqlite3.Connection) -> dict[str, tuple[str, Prediction]]:
    """Key -> (description, (passage id, norm) -> (stance, confidence)), all over the same stances rows."""

    def run(sql: str, **params: float) -> Prediction:
        return {(title, norm): (stance, confidence) for title, norm, stance, confidence in conn.execute(sql, params)}

    view = run(VIEW_SQL)
    found = {"a": ("the view: most confident position-taking sentence, qualified if disagreeing share >= "
                   f"{MIXED_EVIDENCE_SHARE} of evidence >= {MIXED_EVIDENCE_FLOOR}", view),
             "a1": ("the view before m006: most confident position-taking sentence",
                    run(SHARE_SQL.format(query=_DOCUMENT_STANCES_V1))),
             # VOTE_SQL leaves out pairs with mentions only: the view's mention fills them in.
             "b": ("confidence-weighted vote of positions (VOTE_SQL)", {**view, **run(VOTE_SQL)})}
    for threshold in QUALIFIED_MIN:
        found[f"c{threshold:.1f}"] = (f"mixed evidence -> qualified (qualified >= {threshold:.1f}), "
                                      "else the most confident sentence",
                                      run(MIXED_SQL, qualified_min=threshold))
    found["d1"] = ("last position-taking sentence", run(LAST_SQL))
    found["d2"] = ("vote with mentions", run(VOTE_MENTIONS_SQL))
    for threshold in QUALIFIED_MIN:
        found[f"d3-{threshold:.1f}"] = (f"mixed evidence -> qualified (qualified >= {threshold:.1f}), else the last",
                                        run(MIXED_LAST_SQL, qualified_min=threshold))
    found["d4"] = ("the speaker's own view first (first-person cue), else the most confident sentence", run(OWN_SQL))
    found["d5-0.0"] = ("mixed evidence -> qualified (qualified >= 0.0), else the speaker's own view",
                       run(MIXED_OWN_SQL, qualified_min=0.0))
    for floor, share in SHARES:
        found[f"e{floor:.1f}-{share:.1f}"] = (
            f"disagreeing share >= {share:.1f} of evidence >= {floor:.1f} -> qualified, "
            "else the most confident sentence",
            run(SHARE_SQL.format(query=document_stances_sql(floor, share))))
    for floor, share in POLAR_FIRST_SHARES:
        found[f"f{floor:.1f}-{share:.1f}"] = (
            f"as e{floor:.1f}-{share:.1f}, but a support or oppose >= {floor:.1f} decides before a more "
            "confident qualified sentence",
            run(SHARE_SQL.format(query=document_stances_sql(floor, share, polar_first=True))))
    for weight in QUALIFIED_WEIGHTS:
        found[f"g{weight:.2f}"] = (
            f"as a, but a qualified sentence counts {weight:.2f} against a support or oppose",
            run(SHARE_SQL.format(query=document_stances_sql(qualified_weight=weight))))
    return found


def evidence_ceiling(conn: sqlite3.Connection, passages: list[dict]) -> dict[str, int]:
    """How many gold pairs some sentence of the passage gets right (or, for gold qualified,
    has sentences of two polarities): what choosing among sentence stances can reach."""
    stances: dict[tuple[str, str], set[str]] = defaultdict(set)
    for title, norm, stance in conn.execute(
            "select d.title, st.norm_id, st.stance from stances st join documents d on d.id = st.document_id"):
        stances[(title, norm)].add(stance)
    counts = {"gold pairs": 0, "detected": 0, "gold stance on some sentence": 0,
              "gold qualified reachable by the mixed rule": 0}
    for row in passages:
        for norm, gold in row["labels"].items():
            found = stances.get((row["id"], norm), set())
            counts["gold pairs"] += 1
            counts["detected"] += bool(found)
            counts["gold stance on some sentence"] += gold in found
            counts["gold qualified reachable by the mixed rule"] += (
                gold == "qualified" and gold not in found and len(found - {"mention"}) >= 2)
    return counts


def score(passages: list[dict], predicted: Prediction) -> Scores:
    scores = Scores()
    for row in passages:
        for norm, gold in row["labels"].items():
            found = predicted.get((row["id"], norm))
            if found is None:
                scores.fn += 1
            else:
                scores.tp += 1
                scores.pairs.append((gold, found[0], found[1]))
    return scores


def against_view(passages: list[dict], predicted: Prediction, view: Prediction) -> tuple[int, int]:
    """Gold pairs this aggregation gets right where the view is wrong, and the reverse."""
    gained = lost = 0
    for row in passages:
        for norm, gold in row["labels"].items():
            mine = predicted.get((row["id"], norm), ("",))[0] == gold
            theirs = view.get((row["id"], norm), ("",))[0] == gold
            gained += mine and not theirs
            lost += theirs and not mine
    return gained, lost


def accuracy_by_tag(passages: list[dict], predicted: Prediction) -> dict[str, tuple[int, int]]:
    """Tag -> (correct, gold pairs); a missed norm counts as wrong."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in passages:
        for norm, gold in row["labels"].items():
            correct = predicted.get((row["id"], norm), ("",))[0] == gold
            for tag in row["tags"]:
                counts[tag][0] += correct
                counts[tag][1] += 1
    return {tag: (right, total) for tag, (right, total) in sorted(counts.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description="Document-level aggregation against labelled passages.")
    parser.add_argument("--embedder", choices=EMBEDDER_KINDS, default=DEFAULT_EMBEDDER)
    parser.add_argument("--keep-db", type=Path, help="also save the analysed database here (to try other SQL)")
    args = parser.parse_args()
    started = time.monotonic()
    passages = load_passages()
    analyzer = default_analyzer(default_embedder(args.embedder))
    gold_pairs = sum(len(row["labels"]) for row in passages)
    print(f"{len(passages)} passages, {gold_pairs} gold (passage, norm) pairs; NLP version {analyzer.version}")
    with analysed_statements(statements(passages), analyzer, strict=True) as conn:
        sentences = conn.execute("select count(*) from sentences").fetchone()[0]
        found = aggregations(conn)
        ceiling = evidence_ceiling(conn, passages)
        if args.keep_db:
            with sqlite3.connect(args.keep_db) as kept:
                conn.backup(kept)
    print(f"{sentences} sentences analysed in {time.monotonic() - started:.0f} s")
    print("Ceiling for any aggregation that picks a sentence's stance (or calls mixed evidence qualified): "
          + ", ".join(f"{label} {count}" for label, count in ceiling.items()))
    summary, tags = [], {}
    for key, (name, predicted) in found.items():
        scores = score(passages, predicted)
        _, recall, _ = scores.detection()
        correct = sum(g == p for g, p, _ in scores.pairs)
        print(f"\n({key}) {name}")
        print(f"detection recall {recall:.3f} ({scores.tp} of {gold_pairs}); "
              f"stance macro-F1 {scores.macro_f1(STANCES):.3f}; accuracy on detected "
              f"{correct / len(scores.pairs):.3f}; end-to-end accuracy {correct / gold_pairs:.3f}")
        print(confusion(scores))
        gained, lost = against_view(passages, predicted, found["a"][1])
        summary.append((key, name, recall, scores.macro_f1(STANCES), correct / len(scores.pairs),
                        correct / gold_pairs, f"+{gained} / -{lost}"))
        tags[key] = accuracy_by_tag(passages, predicted)
    print("\n| | aggregation | recall | stance macro-F1 | accuracy (detected) | accuracy (end-to-end) "
          "| pairs right / wrong that (a) gets wrong / right |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for key, name, recall, f1, accuracy, overall, change in summary:
        print(f"| {key} | {name} | {recall:.3f} | {f1:.3f} | {accuracy:.3f} | {overall:.3f} | {change} |")
    print("\nEnd-to-end accuracy per passage tag (correct / gold pairs)")
    print("| tag | " + " | ".join(tags) + " |")
    print("|---|" + "---:|" * len(tags))
    for tag in sorted({tag for row in passages for tag in row["tags"]}):
        print(f"| {tag} | " + " | ".join(f"{counts[tag][0]}/{counts[tag][1]}" for counts in tags.values()) + " |")
    print(f"\ntotal run time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
