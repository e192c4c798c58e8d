"""The learned layer: logistic regression over the stance rules' cue features, the
TF-IDF of the sentence's words and word pairs and, when an embedder is available, the
sentence embedding.

Trained at start-up on nlp/data/labelled/train.jsonl (sentences written by the
project; the held-out file is never read here), so no model file is shipped and
the training data in git is the model. Its probabilities are the confidences.
Hyper-parameters were chosen by 5-fold cross-validation on the training file
(bench/eval_stance.py reports held-out figures).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

TRAIN = Path(__file__).with_name("data") / "labelled" / "train.jsonl"
METHOD = "rules+lr-v2"  # v2: the sentence's words too
METHOD_WITH_EMBEDDINGS = "rules+lr+emb-v2"
# Chosen together by 5-fold CV on train (1,687 sentences, C 0.1-1 x weight 2.5-6): stance
# macro-F1 0.778 at C 1 / weight 3, 0.783 here, in the middle of a plateau (0.780-0.785 for C
# 0.2-0.5 with weight 4-5); more weight on the embedding wants more regularisation. Re-checked
# on 2,137 sentences: flat (0.774-0.779 over the same grid), so kept.
VECTOR_WEIGHT = 4.0  # scale of the embedding next to the 0/1 cue features
C_WITH_EMBEDDINGS = 0.3  # inverse regularisation strength of the logistic regression
C = 1.0  # the same over the cue features alone (`--no-embed`; CV 0.705 against 0.695 at 0.3)
# Scale of the TF-IDF word features next to the others: the words a stance is argued in
# ("would open the door to", "merely", "nothing prevents") that no cue names. CV stance
# macro-F1 on 2,772 lines, with embeddings (C 0.3), weights 0/1/2/4/6/8/12/16/24: 0.787,
# 0.791, 0.804, 0.820, 0.826, 0.829, 0.824, 0.825, 0.822; cue features alone (C 1),
# 0/1/2/4/6/8: 0.706, 0.777, 0.804, 0.819, 0.822, 0.823.
WORD_WEIGHT = 8.0
WORD_FEATURES = {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True}
# The same words once more, crossed with the proposition (a block of word features per norm
# id): "merely a principle" opposes law.sovereignty-rule, "voluntary" law.due-diligence-binding,
# "sufficient" debate.new-treaty, where the shared word weights must serve every norm at once.
# Relative to WORD_WEIGHT. CV stance macro-F1 on 3,024 lines, with embeddings, weights
# 0/0.5/1/1.5/2: 0.829, 0.834, 0.836, 0.831, 0.825; by blocks of 50 lines (sentences written
# together stay in one fold), 0/1/2: 0.812, 0.830, 0.825. Support read as oppose 144 -> 109.
NORM_WORD_WEIGHT = 1.0
# Stances that need a sign in the sentence, else the layer does not give them (unless the
# rules did). A mention: that the norm is talked about rather than asserted (a reported
# view, an open question, a topic such as "the question of", meeting procedure). Qualified:
# a hedge, condition, contrast, open question or a modal of possibility in the clause
# ("could reach the threshold"). Measured: CV on train, qualified precision 0.76 -> 0.81,
# recall 0.77 -> 0.75, macro-F1 0.773 -> 0.776; passages.jsonl, 0.616 -> 0.602 (noise either way).
# Also the naming of the principle a contested proposition is about (PRINCIPLE: "sovereignty
# applies in cyberspace" leaves open whether it is a rule): CV macro-F1 on 2,904 lines 0.815
# without that sign and 0.823 with four cues for affirming phrases ("sovereignty ...
# applies", "cornerstone", "sovereign equality"); on 3,024 lines those four 0.822, the word
# "sovereignty" alone 0.829, both 0.830; the one cue is kept.
NEEDS_EVIDENCE = {
    "mention": ("sentence=REPORTED", "sentence=UNDECIDED", "sentence=TOPIC", "sentence=PROCEDURAL"),
    "qualified": ("sentence=HEDGE", "sentence=CONDITION", "sentence=CONTRAST", "sentence=QUALIFIED",
                  "sentence=UNDECIDED", "sentence=LEANING", "cue=support/modal-possibility",
                  "sentence=PRINCIPLE"),
}


def fit_words(texts: list[str]) -> TfidfVectorizer:
    """The word features' vocabulary and weights, from the training sentences."""
    return TfidfVectorizer(**WORD_FEATURES).fit(texts)


class StanceModel:
    def __init__(
        self, features: list[dict[str, float]], vectors: np.ndarray | None, labels: list[str],
        words: sparse.csr_matrix | None = None, norms: list[str] | None = None,
    ) -> None:
        """`words`: the TF-IDF rows (fit_words) of the pairs' sentences, or None for none.
        `norms`: each pair's norm id, for the words crossed with the norm (NORM_WORD_WEIGHT)."""
        self.vectorizer = DictVectorizer(sparse=False).fit(features)
        self.uses_vectors = vectors is not None
        self.uses_words = words is not None
        self.method = METHOD_WITH_EMBEDDINGS if self.uses_vectors else METHOD
        strength = C_WITH_EMBEDDINGS if self.uses_vectors else C
        self.classifier = LogisticRegression(C=strength, max_iter=3000, class_weight="balanced")
        dense = self._matrix(features, vectors)
        crossing = norms is not None and words is not None
        self.norm_blocks = {norm: block for block, norm in enumerate(sorted(set(norms)))} if crossing else {}
        if self.uses_words:
            blocks = [sparse.csr_matrix(dense), WORD_WEIGHT * words]
            if self.norm_blocks:
                # Only the (norm, word) columns some training pair has: most of the norms x
                # vocabulary grid is empty, and fitting over all of it took 8x as long.
                crossed = self._crossed(words, norms)
                used = np.unique(crossed.indices)
                blocks.append(WORD_WEIGHT * NORM_WORD_WEIGHT * crossed[:, used])
            self.classifier.fit(sparse.hstack(blocks, format="csr"), labels)
        else:
            self.classifier.fit(dense, labels)
        # Split so one pair is scored in numpy: the dense features' weights, the words' and,
        # per norm, the crossed words' (zero where no training pair had the word).
        vocabulary = words.shape[1] if self.uses_words else 0
        self._dense_weights = self.classifier.coef_[:, :dense.shape[1]]
        self._word_weights = self.classifier.coef_[:, dense.shape[1]:dense.shape[1] + vocabulary].T.copy()
        self._norm_word_weights = {}
        if self.norm_blocks:
            grid = np.zeros((self.classifier.coef_.shape[0], vocabulary * len(self.norm_blocks)))
            grid[:, used] = self.classifier.coef_[:, dense.shape[1] + vocabulary:]
            self._norm_word_weights = {norm: grid[:, block * vocabulary:(block + 1) * vocabulary].T.copy()
                                       for norm, block in self.norm_blocks.items()}

    def _crossed(self, words: sparse.csr_matrix, norms: list[str]) -> sparse.csr_matrix:
        """Each row's words moved into its norm's block of columns."""
        words = sparse.csr_matrix(words)
        vocabulary = words.shape[1]
        offsets = np.repeat([self.norm_blocks[norm] * vocabulary for norm in norms], np.diff(words.indptr))
        return sparse.csr_matrix((words.data, words.indices + offsets, words.indptr),
                                 shape=(words.shape[0], vocabulary * len(self.norm_blocks)))

    def predict(
        self, features: dict[str, float], vector: np.ndarray | None = None, words: sparse.csr_matrix | None = None,
        norm: str | None = None,
    ) -> tuple[str, float]:
        """`words`: the sentence's TF-IDF row (fit_words), when the model was trained with them;
        `norm`: the norm the stance is on (a norm not seen in training has no crossed words)."""
        scores = self._dense_weights @ self._row(features, vector) + self.classifier.intercept_
        if self.uses_words:
            if words is None:
                raise ValueError("this model was trained with the sentence's words: pass their TF-IDF row")
            scores = scores + WORD_WEIGHT * (words @ self._word_weights).ravel()
            if norm in self._norm_word_weights:
                scores = scores + WORD_WEIGHT * NORM_WORD_WEIGHT * (words @ self._norm_word_weights[norm]).ravel()
        probabilities = probabilities_from_scores(scores)
        for stance, evidence in NEEDS_EVIDENCE.items():
            if features.get(f"rule={stance}") != 1.0 and not any(features.get(key) for key in evidence):
                probabilities = np.where(self.classifier.classes_ == stance, 0.0, probabilities)
        probabilities = probabilities / probabilities.sum()
        best = int(probabilities.argmax())
        return str(self.classifier.classes_[best]), float(probabilities[best])

    def _row(self, features: dict[str, float], vector: np.ndarray | None) -> np.ndarray:
        """_matrix for one sentence, without sklearn's per-call checks (10x faster)."""
        columns = self.vectorizer.vocabulary_
        cues = np.zeros(len(columns))
        for name, value in features.items():
            if name in columns:
                cues[columns[name]] = value
        if not self.uses_vectors:
            return cues
        if vector is None:
            raise ValueError("this model was trained with sentence embeddings: pass the vector")
        return np.concatenate([cues, VECTOR_WEIGHT * np.asarray(vector, dtype=np.float64)])

    def _matrix(self, features: list[dict[str, float]], vectors: np.ndarray | None) -> np.ndarray:
        cues = self.vectorizer.transform(features)
        if not self.uses_vectors:
            return cues
        if vectors is None:
            raise ValueError("this model was trained with sentence embeddings: pass the vector")
        return np.hstack([cues, VECTOR_WEIGHT * vectors])


def probabilities_from_scores(scores: np.ndarray) -> np.ndarray:
    """A logistic regression's class probabilities from its decision scores, in numpy:
    per-sentence predict_proba calls spent most of their time in sklearn's input checks."""
    if len(scores) == 1:  # sklearn's binary case: one score, for the second class
        positive = 1 / (1 + np.exp(-scores[0]))
        return np.array([1 - positive, positive])
    scores = np.exp(scores - scores.max())
    return scores / scores.sum()


def labelled_rows(path: Path = TRAIN) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def training_fingerprint(path: Path = TRAIN) -> str:
    """Names the trained layer: the training file and the hyper-parameters, so that a
    change to either makes `process` re-analyse what it had analysed."""
    if not path.exists():
        return "none"
    settings = (f"C={C};C_WITH_EMBEDDINGS={C_WITH_EMBEDDINGS};W={VECTOR_WEIGHT};"
                f"WORDS={WORD_WEIGHT},{sorted(WORD_FEATURES.items())};NORM_WORDS={NORM_WORD_WEIGHT}")
    return hashlib.sha256(path.read_bytes() + settings.encode()).hexdigest()[:8]
