"""The torch runtime: any sentence-transformers model, by name (already cached) or local folder.

Importing this module does not import torch; building the encoder does.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from assistant.errors import BackendUnavailable
from assistant.search.encoders.weights import resolve


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local path or name, on the CPU, never downloading."""

    runtime = "torch"
    quantization = "none"

    def __init__(self, model: str) -> None:
        self.id, folder = resolve(model)
        path = str(folder) if folder is not None else model
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
        from assistant.search.encoders import normalise

        vectors = self._model.encode(
            texts, batch_size=max(1, len(texts)), normalize_embeddings=True, show_progress_bar=False
        )
        return normalise(vectors)


def set_torch_threads(count: int) -> int | None:
    """Set torch's intra-op thread count, if torch is loaded (the torch runtime loads it, the ONNX
    runtimes and ``fake`` do not); return the previous count.

    Queries are encoded one short text at a time. On a busy machine more than one thread makes an encode
    many times slower (OpenMP threads spin while descheduled), so the service and the eval query loops
    use one. Threads that have not run torch code yet pick the setting up.
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
