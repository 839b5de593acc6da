"""Text encoders: ``encode(texts) -> float32 array of unit rows``.

The model comes from ``Settings.encoder`` and the runtime that runs it from ``Settings.encoder_runtime``,
one module each: ``onnx_runtime`` (ONNX Runtime, int8 or fp32; the default) and ``torch_runtime``
(sentence-transformers). Runtime modules are imported only when chosen, so a query served by ONNX Runtime
never imports torch.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, get_args

import numpy as np

from assistant.search.encoders.torch_runtime import one_torch_thread, set_torch_threads
from assistant.search.encoders.weights import BUNDLED, MINILM_ID

FAKE = "fake"

Runtime = Literal["onnx-int8", "onnx", "torch"]
RUNTIMES: tuple[str, ...] = get_args(Runtime)
FP32 = "none"
# Dynamic int8: weights int8 per channel on 7 bits (reduce_range), activations uint8 per batch. The 7-bit
# weights keep the u8s8 products from saturating on x86-64 CPUs without VNNI (AVX2, AVX-512F); on VNNI
# and arm64 they cost a little precision and nothing else, so one model file is right on every CPU.
# Texts run unpadded: padding enters the activation scale, so padded and unpadded vectors differ a little.
INT8 = "int8-dynamic-qint8-per-channel-reduce-range-unpadded"

__all__ = [
    "BUNDLED",
    "FAKE",
    "INT8",
    "MINILM_ID",
    "RUNTIMES",
    "Encoder",
    "EncoderSpec",
    "FakeEncoder",
    "Runtime",
    "encoder_spec",
    "make_encoder",
    "normalise",
    "one_torch_thread",
    "set_torch_threads",
]


class Encoder(Protocol):
    id: str
    dim: int
    runtime: str
    quantization: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class EncoderSpec:
    """What an index records about the encoder that embedded it, and what a query encoder must match."""

    id: str
    runtime: str
    quantization: str

    def compatible_with(self, other: EncoderSpec) -> bool:
        """Same model and same quantization. torch and ONNX fp32 give the same vectors (cosine
        ≥ 0.99999 on the corpus), so either serves the other's index; int8 vectors differ (cosine about
        0.99) and are kept apart."""
        return self.id == other.id and self.quantization == other.quantization

    def describe(self) -> str:
        quant = "" if self.quantization == FP32 else f", {self.quantization}"
        return f"{self.id} ({self.runtime}{quant})"


def spec_of(encoder: Encoder) -> EncoderSpec:
    return EncoderSpec(id=encoder.id, runtime=encoder.runtime, quantization=encoder.quantization)


def encoder_spec(name: str, *, runtime: str) -> EncoderSpec:
    """The spec an encoder will have, known without loading a model."""
    if name == FAKE:
        return spec_of(FakeEncoder())
    model_id = MINILM_ID if name == BUNDLED else name
    return EncoderSpec(id=model_id, runtime=runtime, quantization=INT8 if runtime == "onnx-int8" else FP32)


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))


_TOKEN = re.compile(r"[a-z0-9]+")


class FakeEncoder:
    """Deterministic hashing encoder (bag of words and bigrams): no model, for tests and demos."""

    runtime = FAKE
    quantization = FP32

    def __init__(self, dim: int = 256) -> None:
        self.id = f"fake-hashing-{dim}"
        self.dim = dim

    def _bucket(self, token: str) -> tuple[int, float]:
        digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dim, 1.0 if (value >> 32) & 1 else -1.0

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _TOKEN.findall(text.lower())
            for token in [*words, *(f"{a}_{b}" for a, b in itertools.pairwise(words))]:
                col, sign = self._bucket(token)
                out[row, col] += sign
        return normalise(out)


def make_encoder(
    name: str, *, runtime: str = "onnx-int8", cache_dir: Path = Path("data/models"), threads: int = 1
) -> Encoder:
    """The encoder ``name`` (``minilm``, ``fake``, or a model name or folder) on ``runtime``.

    ``cache_dir`` holds the ONNX models exported from the weights; ``threads``: texts of one batch
    encoded in parallel (ONNX Runtime; torch's thread count is process-wide, see ``set_torch_threads``).
    """
    if name == FAKE:
        return FakeEncoder()
    if runtime == "torch":
        from assistant.search.encoders.torch_runtime import SentenceTransformerEncoder

        return SentenceTransformerEncoder(name)
    if runtime in ("onnx", "onnx-int8"):
        from assistant.search.encoders.onnx_runtime import OnnxEncoder

        return OnnxEncoder(name, quantized=runtime == "onnx-int8", cache_dir=cache_dir, threads=threads)
    from assistant.errors import BackendUnavailable

    raise BackendUnavailable(
        f"unknown encoder runtime {runtime!r}", hint=f"set ASSISTANT_ENCODER_RUNTIME to one of {RUNTIMES}"
    )
