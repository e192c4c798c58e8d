"""Stance engine quality: norm detection and stance, against our held-out sentences and human coding.

    python bench/eval_stance.py [--ilit PATH]

(a) nlp/data/labelled/heldout.jsonl (never used for training or rule tuning):
    norm-detection precision / recall / F1 over (sentence, norm) pairs, stance
    macro-F1 and confusion matrix over the gold pairs that were detected, and a
    reliability table (confidence bins against accuracy).
(b) the iLIT human-coded passages (../shared/data/ilit, skipped when absent):
    each passage is ingested as a statement of its entity through the normal
    `ingest` command, analysed by nlp.process.process with each analyzer variant,
    and `document_stances` is compared with the coded answer (Yes = support,
    No = oppose, Ambiguous = qualified). The variant marked as the default is
    what `pipeline.py process` builds.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The repository first: bench/nlp.py must not shadow the nlp package.
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

from ilit import DEFAULT_DIR, available, coded_passages  # noqa: E402

from db.connection import open_db  # noqa: E402
from db.schema import _DOCUMENT_STANCES_V1  # noqa: E402
from nlp.analyzer import Analyzer, default_analyzer  # noqa: E402
from nlp.embedder import DEFAULT_EMBEDDER, EMBEDDER_KINDS, default_embedder  # noqa: E402
from nlp.process import process  # noqa: E402

HELDOUT = REPO / "nlp" / "data" / "labelled" / "heldout.jsonl"
STANCES = ("support", "oppose", "qualified", "mention")


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    pairs: list[tuple[str, str, float]] = field(default_factory=list)  # gold, predicted, confidence

    def detection(self) -> tuple[float, float, float]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    def macro_f1(self, labels: tuple[str, ...]) -> float:
        scores = []
        for label in labels:
            tp = sum(1 for g, p, _ in self.pairs if g == label and p == label)
            fp = sum(1 for g, p, _ in self.pairs if g != label and p == label)
            fn = sum(1 for g, p, _ in self.pairs if g == label and p != label)
            scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
        return sum(scores) / len(scores)


def predict(analyzer: Analyzer, text: str) -> dict[str, tuple[str, float]]:
    """The decisive stance per norm over the sentences of `text` (as document_stances does)."""
    best: dict[str, tuple[str, float]] = {}
    for sentence in analyzer.analyse(text):
        for found in sentence.stances:
            key = (found.stance != "mention", found.confidence)
            current = best.get(found.norm_id)
            if current is None or key > (current[0] != "mention", current[1]):
                best[found.norm_id] = (found.stance, found.confidence)
    return best


def evaluate_heldout(analyzer: Analyzer, path: Path = HELDOUT) -> Scores:
    scores = Scores()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        gold, predicted = row["labels"], predict(analyzer, row["text"])
        scores.tp += len(set(gold) & set(predicted))
        scores.fp += len(set(predicted) - set(gold))
        scores.fn += len(set(gold) - set(predicted))
        scores.pairs += [(gold[n], predicted[n][0], predicted[n][1]) for n in gold if n in predicted]
    return scores


@contextmanager
def analysed_statements(
    statements: list[dict], analyzer: Analyzer, strict: bool = False
) -> Iterator[sqlite3.Connection]:
    """A connection to a temporary database holding `statements` (ingest manifest lines:
    text, state, date, title, provenance), ingested through the normal `pipeline.py
    ingest` command (`strict`: fail when a line is skipped) and analysed by
    nlp.process.process with `analyzer` (no embeddings stored). The database is deleted
    when the block ends."""
    with tempfile.TemporaryDirectory() as tmp:
        manifest, db_path = Path(tmp) / "statements.jsonl", Path(tmp) / "statements.db"
        with manifest.open("w", encoding="utf-8") as handle:
            for statement in statements:
                handle.write(json.dumps(statement) + "\n")
        command = [sys.executable, "pipeline.py", "--db", str(db_path), "ingest", str(manifest)]
        subprocess.run(command + (["--strict"] if strict else []), cwd=REPO, check=True, capture_output=True)
        db = open_db(db_path)
        try:
            process(db, analyzer, None)
        finally:
            db.close()
        conn = sqlite3.connect(db_path)
        try:
            yield conn
        finally:
            conn.close()


def evaluate_ilit(folder: Path, analyzer: Analyzer) -> tuple[Scores, Scores]:
    """Scores of `document_stances` and of the view it replaced (the most confident sentence,
    without the mixed-evidence rule), to show what that rule changes."""
    passages = coded_passages(folder)
    statements = [{"text": passage.text, "state": passage.entity, "date": "2000-01-01",
                   "title": f"iLIT passage {number} ({passage.norm_id})", "provenance": "human-coded passage"}
                  for number, passage in enumerate(passages)]
    with analysed_statements(statements, analyzer) as conn:
        found = {
            (title, norm): (stance, confidence)
            for title, norm, stance, confidence in conn.execute(
                "select d.title, ds.norm_id, ds.stance, ds.confidence from document_stances ds "
                "join documents d on d.id = ds.document_id")
        }
        before = {(title, norm): (stance, confidence)
                  for title, norm, stance, confidence in conn.execute(
                      f"select d.title, ds.norm_id, ds.stance, ds.confidence from ({_DOCUMENT_STANCES_V1}) ds "
                      "join documents d on d.id = ds.document_id")}
    return _coded_scores(passages, found), _coded_scores(passages, before)


def _coded_scores(passages: list, found: dict[tuple[str, str], tuple[str, float]]) -> Scores:
    scores = Scores()
    for number, passage in enumerate(passages):
        predicted = found.get((f"iLIT passage {number} ({passage.norm_id})", passage.norm_id))
        if predicted is None:
            scores.fn += 1
        else:
            scores.tp += 1
            scores.pairs.append((passage.stance, predicted[0], predicted[1]))
    return scores


def confusion(scores: Scores) -> str:
    lines = ["gold \\ predicted " + " ".join(f"{s:>9}" for s in STANCES)]
    counts = Counter((g, p) for g, p, _ in scores.pairs)
    for gold in STANCES:
        lines.append(f"{gold:>17} " + " ".join(f"{counts[(gold, p)]:>9}" for p in STANCES))
    return "\n".join(lines)


def reliability(scores: Scores, bins: int = 5) -> str:
    lines = ["confidence     n  accuracy"]
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [g == p for g, p, c in scores.pairs if low <= c < high or (b == bins - 1 and c == 1)]
        if inside:
            lines.append(f"{low:.1f}-{high:.1f}  {len(inside):>5}  {sum(inside) / len(inside):.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Stance engine quality.")
    parser.add_argument("--ilit", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--embedder", choices=EMBEDDER_KINDS, default=DEFAULT_EMBEDDER,
                        help="the vectors of every variant that uses them")
    args = parser.parse_args()
    embedder = default_embedder(args.embedder)
    print(f"embedder: {embedder.model_name}")
    variants = {
        "rules only": lambda: Analyzer(learned=False),
        "learned layer, cue features, no semantic layer (`process --no-embed`)":
            lambda: default_analyzer(None),
        "learned layer, cues + embeddings, no semantic layer":
            lambda: Analyzer(embedder=embedder, semantic=False, stance_vectors=True),
        "semantic layer + learned layer, cue features":
            lambda: Analyzer(embedder=embedder),
        "semantic layer + learned layer, cues + embeddings (the default of `process`)":
            lambda: default_analyzer(embedder),
    }
    ilit = available(args.ilit)
    summary = []
    for name, build in variants.items():
        analyzer = build()
        own = evaluate_heldout(analyzer)
        precision, recall, f1 = own.detection()
        print(f"(a) held-out sentences, {name} (NLP version {analyzer.version})")
        print(f"norm detection: precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f} "
              f"(tp {own.tp}, fp {own.fp}, fn {own.fn})")
        print(f"stance macro-F1 {own.macro_f1(STANCES):.3f} over {len(own.pairs)} detected gold pairs")
        print(confusion(own))
        print(reliability(own))
        print()
        row = [name, f"{precision:.3f}", f"{recall:.3f}", f"{f1:.3f}", f"{own.macro_f1(STANCES):.3f}"]
        if ilit:
            coded, before = evaluate_ilit(args.ilit, analyzer)
            _, recall_b, _ = coded.detection()
            labels = tuple(sorted({g for g, _, _ in coded.pairs}, key=STANCES.index))
            print(f"(b) iLIT human-coded passages, {name}")
            print(f"norm detection recall {recall_b:.3f} ({coded.tp} of {coded.tp + coded.fn})")
            print(f"stance macro-F1 {coded.macro_f1(labels):.3f} over classes {', '.join(labels)}")
            print(confusion(coded))
            print(f"without the mixed-evidence rule (most confident sentence): stance macro-F1 "
                  f"{before.macro_f1(labels):.3f}")
            print(confusion(before))
            print()
            row += [f"{recall_b:.3f}", f"{coded.macro_f1(labels):.3f}",
                    f"(most confident sentence {before.macro_f1(labels):.3f})"]
        summary.append(row)
    if not ilit:
        print(f"(b) skipped: no iLIT data at {args.ilit}")
    print("summary: variant | held-out P R F1 stance-macro-F1 | iLIT recall stance-macro-F1 "
          "(without the mixed-evidence rule)")
    for row in summary:
        print(" | ".join([row[0], " ".join(row[1:5]), " ".join(row[5:])]))


if __name__ == "__main__":
    main()
