"""Export a sentence-transformers model (transformer + mean pooling) to ONNX, fp32 and dynamic int8.

    python -m assistant.search.encoders.export                     # the bundled MiniLM into the cache
    python -m assistant.search.encoders.export --bundled CACHE_DIR # ... into another cache folder
    python -m assistant.search.encoders.export MODEL_FOLDER TARGET_FOLDER

This is the one place that needs torch; the ONNX runtimes call it in a child process on first use, and
``make install`` calls it for the bundled model. The target folder is written aside and renamed into place.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

from assistant.errors import BackendUnavailable
from assistant.search.encoders.onnx_runtime import (
    FP32_FILE,
    INT8_FILE,
    META_FILE,
    ensure_exported,
    weights_checksum,
)
from assistant.search.encoders.weights import bundled_path

OPSET = 17


EXPORTED_WITH = ("torch", "transformers", "onnx", "onnxruntime")


def _pooling(folder: Path) -> None:
    """Refuse models whose sentence-transformers pooling is not plain mean pooling."""
    modules = folder / "modules.json"
    if not modules.exists():
        return
    for module in json.loads(modules.read_text()):
        if module.get("type", "").endswith("Pooling"):
            config = json.loads((folder / module["path"] / "config.json").read_text())
            modes = {k for k, v in config.items() if k.startswith("pooling_mode_") and v is True}
            if modes != {"pooling_mode_mean_tokens"}:
                raise BackendUnavailable(
                    f"{folder} pools with {sorted(modes)}; the ONNX export supports mean pooling only",
                    hint="set ASSISTANT_ENCODER_RUNTIME=torch for this model",
                )


def _max_seq_length(folder: Path, config: Any) -> int:
    limit = int(getattr(config, "max_position_embeddings", 512))
    st_config = folder / "sentence_bert_config.json"
    if st_config.exists():
        value = json.loads(st_config.read_text()).get("max_seq_length")
        if value:
            return min(int(value), limit)
    return limit


def export(folder: Path, target: Path) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    _pooling(folder)
    # Eager attention exports the padding mask as an addition; the SDPA export guards fully masked rows
    # with IsNaN and Where over every score, which slows an int8 run, for the same vectors (docs/evaluation.md
    # "Encoders").
    model = AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager").eval()
    inputs, pad_id, pad_token = _sample_inputs(folder)

    staging = target.parent / f".staging-{target.name}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        with torch.no_grad():
            _export_fp32(_mean_pooled(model), inputs, staging / FP32_FILE)
        quantize_dynamic(
            str(staging / FP32_FILE),
            str(staging / INT8_FILE),
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
        )
        meta = {
            "source": folder.name,
            "weights_sha256": weights_checksum(folder),
            "dim": int(model.config.hidden_size),
            "max_seq_length": _max_seq_length(folder, model.config),
            "pad_id": pad_id,
            "pad_token": pad_token,
            "opset": OPSET,
            "quantization": "dynamic int8: QInt8 weights per channel, reduce_range, uint8 activations",
            "exported_with": {name: metadata.version(name) for name in EXPORTED_WITH},
        }
        (staging / META_FILE).write_text(json.dumps(meta, indent=2))
        try:
            os.rename(staging, target)
        except OSError:
            if not (target / META_FILE).exists():  # another process won the race: keep its copy
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _mean_pooled(model: Any) -> Any:
    """``model`` with mean pooling over its last hidden state, as one module to trace."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled: torch.Tensor = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return pooled

    return MeanPooled()


def _sample_inputs(folder: Path) -> tuple[tuple[Any, ...], int, str]:
    """A padded batch of two texts to trace the export with, and the tokenizer's pad id and token."""
    import torch
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    padding = tokenizer.padding or {}
    pad_token = str(padding.get("pad_token", "[PAD]"))
    pad_id = int(padding.get("pad_id", tokenizer.token_to_id(pad_token) or 0))
    tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
    sample = tokenizer.encode_batch(["a short query", "a longer passage of text for the export trace"])
    inputs = tuple(
        torch.tensor([getattr(e, field) for e in sample], dtype=torch.int64)
        for field in ("ids", "attention_mask", "type_ids")
    )
    return inputs, pad_id, pad_token


def _export_fp32(module: Any, inputs: tuple[Any, ...], path: Path) -> None:
    """The fp32 ONNX graph, with batch size and token count left dynamic."""
    import torch

    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        module,
        inputs,
        str(path),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["sentence_embedding"],
        dynamic_axes={
            "input_ids": axes,
            "attention_mask": axes,
            "token_type_ids": axes,
            "sentence_embedding": {0: "batch"},
        },
        opset_version=OPSET,
        dynamo=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bundled", metavar="CACHE_DIR", type=Path, help="export the bundled MiniLM")
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("target", nargs="?", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.folder is None and args.target is None:
            if args.bundled is None:
                from assistant.settings import Settings

                args.bundled = Settings().models_dir
            print(ensure_exported(bundled_path(), cache_dir=args.bundled))
            return 0
        if args.folder is None or args.target is None or args.bundled is not None:
            parser.error("give MODEL_FOLDER TARGET_FOLDER, or --bundled CACHE_DIR, or nothing")
        export(args.folder, args.target)
    except BackendUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
