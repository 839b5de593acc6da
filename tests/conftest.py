"""Shared fixtures. Tests own their state: every index and label folder lives under tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.search.encoders import Encoder, make_encoder
from assistant.search.encoders.torch_runtime import SentenceTransformerEncoder
from assistant.service import Assistant, build
from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.fakes.live_server import LiveServer, serve

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "labels"
SEED_IDS = [f"perf-202503160{i}" for i in range(1, 7)]


def seed_files() -> list[Path]:
    return sorted(p for p in LABELS.rglob("*.json") if p.stem in SEED_IDS)


def copy_seed(root: Path) -> Path:
    """The six seed examples copied into ``root``, laid out by category as in labels/."""
    for path in seed_files():
        target = root / path.relative_to(LABELS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return root


def seeded(root: Path, **overrides: Any) -> Settings:
    """Settings over the seed labels copied under ``root``, fake encoder, the index built."""
    config = Settings(
        labels_dir=copy_seed(root / "labels"),
        index_dir=root / "index",
        encoder="fake",
        data_dir=root / "data",
        **overrides,
    )
    build(config)
    return config


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A labels folder with the six seed examples, laid out by category as in labels/."""
    return copy_seed(tmp_path / "labels")


@pytest.fixture
def settings(tmp_path: Path, seed_dir: Path) -> Settings:
    """Settings with the fake encoder, over the seed labels, index in tmp_path."""
    return Settings(labels_dir=seed_dir, index_dir=tmp_path / "index", encoder="fake")


@dataclass(frozen=True)
class ExportRace:
    cache_dir: Path
    runs: list[subprocess.CompletedProcess[str]]


@pytest.fixture
def built(settings: Settings, tmp_path: Path) -> Settings:
    """The seed labels indexed, with the bot and cache state in the test's own data folder."""
    settings = settings.model_copy(update={"data_dir": tmp_path / "data"})
    build(settings)
    return settings


@pytest.fixture
def server(built: Settings) -> Iterator[LiveServer]:
    """The real app over a real socket on 127.0.0.1, index loaded."""
    with serve(create_app(built)) as live:
        live.wait_loaded()
        yield live


@pytest.fixture(scope="session")
def export_race(tmp_path_factory: pytest.TempPathFactory) -> ExportRace:
    """The bundled MiniLM exported to ONNX once per session, by two processes started together into
    the same empty cache (as two services starting on one volume would)."""
    cache_dir = tmp_path_factory.mktemp("models")
    command = [sys.executable, "-m", "assistant.search.encoders.export", "--bundled", str(cache_dir)]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    runs = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        runs.append(subprocess.CompletedProcess(command, proc.returncode, out, err))
    return ExportRace(cache_dir=cache_dir, runs=runs)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ONNX model cache (ASSISTANT_MODEL_CACHE_DIR): the one `make install` exported into the default
    data folder (only read), or a fresh export under tmp when there is none."""
    installed = Settings().models_dir
    installed = installed if installed.is_absolute() else ROOT / installed
    if any(installed.glob("*/meta.json")):
        return installed
    cache_dir = tmp_path_factory.mktemp("models")
    command = [sys.executable, "-m", "assistant.search.encoders.export", "--bundled", str(cache_dir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return cache_dir


@pytest.fixture(scope="session")
def minilm(models_dir: Path) -> Encoder:
    """The real bundled MiniLM on the default runtime (ONNX Runtime int8), loaded once per session."""
    return make_encoder("minilm", runtime="onnx-int8", cache_dir=models_dir)


@pytest.fixture(scope="session")
def minilm_torch() -> Encoder:
    """The real bundled MiniLM on sentence-transformers (torch), the reference for the ONNX runtimes."""
    return SentenceTransformerEncoder("minilm")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory, minilm: Encoder, models_dir: Path) -> Assistant:
    """The committed labels/ indexed once per session with the real MiniLM encoder (int8)."""
    settings = Settings(
        labels_dir=LABELS,
        index_dir=tmp_path_factory.mktemp("corpus") / "index",
        encoder="minilm",
        model_cache_dir=models_dir,
    )
    build(settings, encoder=minilm)
    return Assistant.from_settings(settings, encoder=minilm)


def run_cli(
    args: list[str], env: dict[str, str], *, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The ``assistant`` command in a subprocess, as a user runs it, with ``env`` added."""
    return subprocess.run(
        [sys.executable, "-c", "from assistant.surfaces.cli import main; main()", *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


HEAVY_FIXTURES = {"corpus", "minilm_torch", "export_race"}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests over the real model's whole-corpus index, torch or a fresh export share one xdist worker
    (``--dist loadgroup``), so those session fixtures are built once, not once per worker."""
    for item in items:
        if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("model"))
