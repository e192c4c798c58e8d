"""Is the int8 ONNX embedder good enough to be the default? Its vectors and results against the float model.

    python bench/compare_embedders.py [--ilit PATH] [--tune]

On the labelled sentences (nlp/data/labelled/*.jsonl), int8 (onnx-int8) against
float (torch) vectors:
  cosine between the two vectors of each sentence (mean, min, 1st percentile);
  top-10 nearest-neighbour overlap (each sentence's 10 nearest others, |A & B| / 10).
Then the analyzer `pipeline.py process` builds, Analyzer(embedder=...), with each
embedder, scored as bench/eval_stance.py scores it: held-out norm detection and
stance, and the iLIT human-coded passages when present. nlp/data/semantic.json was
tuned on float vectors; --tune reruns that cross-validation (nlp.semantic_tune)
with each embedder to show whether int8 would pick other settings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import eval_stance  # noqa: E402
from ilit import DEFAULT_DIR, available  # noqa: E402

from nlp.analyzer import Analyzer  # noqa: E402
from nlp.embedder import default_embedder  # noqa: E402
from nlp.stance_model import labelled_rows  # noqa: E402

LABELLED = sorted((REPO / "nlp" / "data" / "labelled").glob("*.jsonl"))
KINDS = ("torch", "onnx-int8")
NEIGHBOURS = 10


def neighbours(vectors: np.ndarray, k: int) -> np.ndarray:
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1)[:, :k]


def vector_agreement(float_vectors: np.ndarray, int8_vectors: np.ndarray) -> None:
    cosine = (float_vectors * int8_vectors).sum(axis=1)
    print(f"cosine float vs int8 over {len(cosine)} sentences: mean {cosine.mean():.4f} "
          f"min {cosine.min():.4f} p1 {np.percentile(cosine, 1):.4f}")
    a, b = neighbours(float_vectors, NEIGHBOURS), neighbours(int8_vectors, NEIGHBOURS)
    overlap = np.array([len(set(x) & set(y)) / NEIGHBOURS for x, y in zip(a, b, strict=True)])
    print(f"nearest-neighbour overlap@{NEIGHBOURS}: mean {overlap.mean():.3f} min {overlap.min():.1f}; "
          f"same nearest neighbour {np.mean(a[:, 0] == b[:, 0]):.3f}")


def stance_quality(kind: str, embedder, ilit: Path | None) -> list[str]:
    analyzer = Analyzer(embedder=embedder)
    own = eval_stance.evaluate_heldout(analyzer)
    precision, recall, f1 = own.detection()
    print(f"\n{kind}: held-out norm detection P {precision:.3f} R {recall:.3f} F1 {f1:.3f} "
          f"(tp {own.tp}, fp {own.fp}, fn {own.fn}); stance macro-F1 "
          f"{own.macro_f1(eval_stance.STANCES):.3f} over {len(own.pairs)} pairs")
    print(eval_stance.confusion(own))
    row = [kind, f"{precision:.3f}", f"{recall:.3f}", f"{f1:.3f}", f"{own.macro_f1(eval_stance.STANCES):.3f}"]
    if ilit:
        coded = eval_stance.evaluate_ilit(ilit, analyzer)
        coded = coded[0] if isinstance(coded, tuple) else coded  # document_stances, not the view it replaced
        _, recall_b, _ = coded.detection()
        labels = tuple(sorted({g for g, _, _ in coded.pairs}, key=eval_stance.STANCES.index))
        print(f"{kind}: iLIT recall {recall_b:.3f} ({coded.tp} of {coded.tp + coded.fn}); "
              f"stance macro-F1 {coded.macro_f1(labels):.3f} over {', '.join(labels)}")
        row += [f"{recall_b:.3f}", f"{coded.macro_f1(labels):.3f}"]
    return row


def semantic_settings(kind: str, embedder) -> None:
    """The settings the cross-validation picks with this embedder, and its score at the stored ones."""
    from unittest import mock

    from nlp import semantic_tune
    from nlp.semantic import SemanticSettings
    from nlp.stance_model import TRAIN

    rows = labelled_rows(TRAIN)
    found = semantic_tune.rule_findings(rows)
    stored = SemanticSettings.load()
    best = semantic_tune.choose(embedder, rows, found)
    with mock.patch.object(semantic_tune, "C_GRID", (stored.c,)), \
            mock.patch.object(semantic_tune, "THRESHOLD_GRID", (stored.threshold,)):
        at_stored = semantic_tune.choose(embedder, rows, found)
    for label, choice in (("picks", best), ("at stored", at_stored)):
        print(f"{kind}: semantic_tune {label} C {choice.c} threshold {choice.threshold}: cross-validated "
              f"detection F1 {choice.f1} (rules only {choice.rules_f1}; added {choice.added_true} true, "
              f"{choice.added_false} false)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ilit", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--tune", action="store_true", help="rerun the semantic layer's cross-validation")
    args = parser.parse_args()
    embedders = {kind: default_embedder(kind) for kind in KINDS}
    texts = [row["text"] for path in LABELLED for row in labelled_rows(path)]
    vector_agreement(embedders["torch"].embed(texts), embedders["onnx-int8"].embed(texts))
    ilit = args.ilit if available(args.ilit) else None
    rows = [stance_quality(kind, embedder, ilit) for kind, embedder in embedders.items()]
    print("\nsummary: embedder | held-out P R F1 stance-macro-F1 | iLIT recall stance-macro-F1")
    for row in rows:
        print(" | ".join([row[0], " ".join(row[1:5]), " ".join(row[5:])]))
    if args.tune:
        for kind, embedder in embedders.items():
            semantic_settings(kind, embedder)


if __name__ == "__main__":
    main()
