"""all-MiniLM-L6-v2 as int8 ONNX (built by nlp.export_onnx): about 1.6x the float model on CPU.

Same tokenizer, same mean pooling, same L2 normalisation as the sentence-transformers
model; the int8 weights move the vectors a little (cosine to the float ones >= 0.98),
so they are stored under their own model name.

Texts run one at a time, never batched: dynamic quantisation scales the activations
of the whole input tensor at once, so in a batch a text's vector would depend on its
neighbours and their padding (cosine down to 0.956 to the same text alone). Alone it
depends on the text only, as the vectors stored by text hash assume.
A sentence is too small a job to split across cores (one ONNX thread per run beat two
here, 409 against 336 sentences/s), so each run is single-threaded and `workers`
runs go at once, one per core: onnxruntime and tokenizers release the GIL.
onnxruntime and tokenizers are imported on the first embed, not at import.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from nlp.export_onnx import DEFAULT_DIR, GRAPH

MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"


class OnnxModelMissing(RuntimeError):
    pass


class OnnxMiniLMEmbedder:
    model_name = MODEL_NAME

    def __init__(self, model_dir: Path = DEFAULT_DIR, workers: int | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.workers = workers or os.cpu_count() or 1
        self._pool: ThreadPoolExecutor | None = None
        self._session = None
        self._tokenizer = None
        self._dimension = 0

    def _load(self) -> None:
        if not (self.model_dir / GRAPH).exists():
            raise OnnxModelMissing(
                f"{self.model_dir / GRAPH} is missing: run `make` (or "
                f"`python -m nlp.export_onnx {self.model_dir}`) to build it"
            )
        import onnxruntime
        from tokenizers import Tokenizer

        pooling = json.loads((self.model_dir / "1_Pooling" / "config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError(f"expected mean pooling in {self.model_dir}, found {pooling}")
        max_tokens = json.loads((self.model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        # The packaged tokenizer pads every text to 128 tokens and truncates there; texts run
        # alone, so no padding, and truncate where sentence-transformers does (max_seq_length).
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_tokens)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(self.model_dir / GRAPH), options, providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer
        if self.workers > 1:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="onnx")
        self._dimension = int(pooling["word_embedding_dimension"])

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._session is None:
            self._load()
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        run = self._pool.map if self._pool else map
        for row, vector in enumerate(run(self._embed_one, encodings)):
            vectors[row] = vector
        return vectors

    def _embed_one(self, encoding) -> np.ndarray:
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.array([encoding.attention_mask], dtype=np.int64)
        types = np.array([encoding.type_ids], dtype=np.int64)
        (tokens,) = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        pooled = tokens[0].mean(axis=0)  # mean pooling: no padding, every token counts
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)
