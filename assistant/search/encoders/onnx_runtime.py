"""The ONNX Runtime runtimes (``onnx`` fp32 and ``onnx-int8``): a sentence-transformers model with mean
pooling, exported once from its weights (``export.py``, in a child process, so this process never imports
torch) and run with onnxruntime and the model's own ``tokenizer.json``.

Exported models are cached in ``cache_dir/<model>-<weights checksum>-<versions>/``; the folder appears
complete or not at all (built aside, then renamed), and a lock file makes a second process that needs the
same model wait for the first one's export instead of repeating it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import BackendUnavailable
from assistant.search.encoders.weights import resolve

FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
META_FILE = "meta.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
EXPORT_FORMAT = 2
"""Bump when the export (graph, pooling, quantization) changes, so cached models are made anew."""


def weights_checksum(folder: Path) -> str:
    """SHA-256 over the model's config and weight files."""
    digest = hashlib.sha256()
    names = ["config.json", *(n for n in WEIGHT_FILES if (folder / n).exists())]
    if len(names) == 1:
        raise BackendUnavailable(
            f"no weights ({' or '.join(WEIGHT_FILES)}) in {folder}",
            hint="point ASSISTANT_ENCODER at a sentence-transformers model folder",
        )
    for name in names:
        digest.update(name.encode() + b"\0")
        with (folder / name).open("rb") as f:
            while chunk := f.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()


def _known_checksum(folder: Path, *, cache_dir: Path) -> str:
    """``weights_checksum``, remembered in ``cache_dir/checksums.json`` by file sizes and mtimes, so a
    start-up does not hash the weights again (hashing them costs CPU on every start)."""
    stamp = [
        [name, st.st_size, st.st_mtime_ns]
        for name in ("config.json", *WEIGHT_FILES)
        if (st := _stat(folder / name)) is not None
    ]
    memo_file = cache_dir / "checksums.json"
    try:
        memo = json.loads(memo_file.read_text())
    except (OSError, ValueError):
        memo = {}
    entry = memo.get(str(folder.resolve()))
    if isinstance(entry, dict) and entry.get("stamp") == stamp:
        return str(entry["sha256"])
    checksum = weights_checksum(folder)
    memo[str(folder.resolve())] = {"stamp": stamp, "sha256": checksum}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        staged = memo_file.with_name(f".checksums-{os.getpid()}.json")
        staged.write_text(json.dumps(memo))
        os.replace(staged, memo_file)
    except OSError:
        pass  # a read-only cache still works, it just hashes at every start
    return checksum


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def cache_key(folder: Path, *, cache_dir: Path) -> str:
    """The export's folder name: the weights, the export format and the ONNX Runtime that quantized and
    runs it. The exporting libraries (torch, transformers, onnx) are recorded in its ``meta.json``, not
    in the key, so a serving install without them finds an export made elsewhere (the image's build
    stage, ``python -m assistant.search.encoders.export``)."""
    runtime = metadata.version("onnxruntime")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", folder.name).strip("-") or "model"
    return f"{slug}-{_known_checksum(folder, cache_dir=cache_dir)[:16]}-onnxruntime{runtime}-f{EXPORT_FORMAT}"


def ensure_exported(folder: Path, *, cache_dir: Path) -> Path:
    """The cached export of the model in ``folder``, made first if missing."""
    target = cache_dir / cache_key(folder, cache_dir=cache_dir)
    if (target / META_FILE).exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / f".{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        if (target / META_FILE).exists():
            return target
        done = subprocess.run(
            [sys.executable, "-m", "assistant.search.encoders.export", str(folder), str(target)],
            capture_output=True,
            text=True,
            env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
        )
        if done.returncode != 0 or not (target / META_FILE).exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            hint = "set ASSISTANT_ENCODER_RUNTIME=torch to run the model with sentence-transformers"
            if "No module named" in tail[0]:
                hint = (
                    "the one-time ONNX export needs the export extra: pip install torch==2.13.0 "
                    "'incident-assistant[export]', then python -m assistant.search.encoders.export; "
                    f"or copy an export made elsewhere into {cache_dir} (ASSISTANT_MODEL_CACHE_DIR)"
                )
            raise BackendUnavailable(f"exporting {folder} to ONNX failed: {tail[0]}", hint=hint)
    return target


class OnnxEncoder:
    """Mean-pooled, normalised sentence embeddings from an exported model, on ONNX Runtime's CPU provider."""

    def __init__(self, name: str, *, quantized: bool, cache_dir: Path, threads: int = 1) -> None:
        from assistant.search.encoders import FP32, INT8

        self.id, folder = resolve(name)
        if folder is None:
            raise BackendUnavailable(
                f"the ONNX runtimes need a local model folder, and {name!r} is not one",
                hint="set ASSISTANT_ENCODER to a sentence-transformers model folder, "
                "or ASSISTANT_ENCODER_RUNTIME=torch",
            )
        self.runtime = "onnx-int8" if quantized else "onnx"
        self.quantization = INT8 if quantized else FP32
        exported = ensure_exported(folder, cache_dir=cache_dir)
        meta = json.loads((exported / META_FILE).read_text())
        self.dim = int(meta["dim"])

        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        # One intra-op thread per run; ``threads`` runs go in parallel (more than one only for batches).
        options.intra_op_num_threads = 1
        self._threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle pool threads sleep instead of spinning: on a shared machine spinning steals the cores
        # that other requests' encodes need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(exported / (INT8_FILE if quantized else FP32_FILE)),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json carries its own truncation and fixed padding (both 128 for MiniLM): use the
        # model's window, and no padding, since each text runs alone. Padding short queries to the fixed
        # length made encoding them much slower, and moved int8's activation scale (docs/evaluation.md,
        # "Encoders").
        self._tokenizer.enable_truncation(max_length=int(meta["max_seq_length"]))
        self._tokenizer.no_padding()

    def encode(self, texts: list[str]) -> np.ndarray:
        """One session run per text, ``threads`` texts at a time. Dynamic int8 scales activations per
        run, so a text batched with others would get a slightly different vector (cosine 0.994) than
        alone; one text per run keeps a passage's vector equal to its vector as a query, and wastes no
        padding."""
        from assistant.search.encoders import normalise

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1 or self._threads == 1:
            rows = [self._one(text) for text in texts]
        else:
            with ThreadPoolExecutor(self._threads) as pool:  # session.run releases the GIL
                rows = list(pool.map(self._one, texts))
        return normalise(np.vstack(rows))

    def _one(self, text: str) -> np.ndarray:
        encoding = self._tokenizer.encode(text)
        feed: dict[str, Any] = {
            "input_ids": np.array([encoding.ids], dtype=np.int64),
            "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
        }
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.array([encoding.type_ids], dtype=np.int64)
        (pooled,) = self._session.run(["sentence_embedding"], feed)
        return np.asarray(pooled)
