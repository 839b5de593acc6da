"""Docker cannot run here, so the image's own commands are run directly: the index build step, the
CMD that serves, and the HEALTHCHECK command, exactly as the Dockerfile writes them (port aside)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant.settings import Settings
from tests.conftest import ROOT
from tests.live_server import free_port

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instruction(name: str) -> list[str]:
    """Every instruction ``name`` with its continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line[len(name) :].strip() for line in joined.splitlines() if line.startswith(name + " ")]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for entry in instruction("ENV"):
        for pair in shlex.split(entry):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def venv_command(argv: list[str]) -> list[str]:
    """The image runs `assistant` and `python` from its PATH; here they are this environment's."""
    names = {"assistant": str(Path(sys.executable).with_name("assistant")), "python": sys.executable}
    return [names.get(argv[0], argv[0]), *argv[1:]]


def documented_build() -> list[str]:
    """The index build the header tells users to run in the image: the words after the image name."""
    (line,) = [line for line in DOCKERFILE.splitlines() if line.startswith("#") and "index build" in line]
    return shlex.split(line.split(" incident-assistant ", 1)[1])


def test_dockerfile_shape() -> None:
    assert DOCKERFILE.splitlines()[0].startswith("#")
    assert "torch==2.13.0" in instruction("RUN")[1] and "whl/cpu" in instruction("RUN")[1]
    assert instruction("USER") == ["assistant"]
    assert "python -m assistant.search.encoders.export" in instruction("RUN")  # the ONNX model, built in
    assert instruction("EXPOSE") == ["8000"]
    assert image_env()["HF_HUB_OFFLINE"] == "1"
    # labels and index are mounted, not baked into the image
    assert json.loads(instruction("VOLUME")[0]) == ["/app/labels", "/app/index", "/app/data"]
    assert not any("labels" in c for c in instruction("COPY"))
    assert not any("index build" in r for r in instruction("RUN"))
    assert documented_build() == ["assistant", "index", "build"]


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
