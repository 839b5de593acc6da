"""Shared fixtures. Tests own their state: every index and label folder lives under tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.core import Assistant, build
from assistant.encoders import Encoder, SentenceTransformerEncoder
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "labels"
SEED_IDS = [f"perf-202503160{i}" for i in range(1, 7)]


def seed_files() -> list[Path]:
    return sorted(p for p in LABELS.rglob("*.json") if p.stem in SEED_IDS)


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A labels folder with the six seed examples, laid out by category as in labels/."""
    root = tmp_path / "labels"
    for path in seed_files():
        target = root / path.relative_to(LABELS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return root


@pytest.fixture
def settings(tmp_path: Path, seed_dir: Path) -> Settings:
    """Settings with the fake encoder, over the seed labels, index in tmp_path."""
    return Settings(labels_dir=seed_dir, index_dir=tmp_path / "index", encoder="fake")


@pytest.fixture(scope="session")
def minilm() -> Encoder:
    """The real bundled sentence-transformers encoder, loaded once per session."""
    return SentenceTransformerEncoder("minilm")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory, minilm: Encoder) -> Assistant:
    """The committed labels/ indexed once per session with the real MiniLM encoder."""
    settings = Settings(
        labels_dir=LABELS, index_dir=tmp_path_factory.mktemp("corpus") / "index", encoder="minilm"
    )
    build(settings, encoder=minilm)
    return Assistant.from_settings(settings, encoder=minilm)


def run_cli(
    args: list[str], env: dict[str, str], *, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The ``assistant`` command in a subprocess, as a user runs it, with ``env`` added."""
    return subprocess.run(
        [sys.executable, "-c", "from assistant.cli import main; main()", *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
