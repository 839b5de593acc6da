"""deploy/kubernetes renders with `kubectl kustomize` (the base and every overlay) and every object is
valid against the Kubernetes schemas (kubernetes-validate, strict: unknown fields are errors)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

KUBECTL = shutil.which("kubectl")
DEPLOY = ROOT / "deploy" / "kubernetes"
TARGETS = [DEPLOY, *sorted(p for p in (DEPLOY / "overlays").iterdir() if p.is_dir())]
K8S_VERSION = "1.30.0"

pytestmark = pytest.mark.skipif(
    KUBECTL is None,
    reason="kubectl is not installed: apt-get install -y kubernetes-client (the .ci/run script does this)",
)


def render(target: Path) -> list[dict[str, Any]]:
    assert KUBECTL is not None
    done = subprocess.run([KUBECTL, "kustomize", str(target)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


@pytest.mark.parametrize("target", TARGETS, ids=lambda p: p.name)
def test_every_object_validates(target: Path) -> None:
    import kubernetes_validate

    objects = render(target)
    assert objects
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{target.name}: {obj['kind']}/{obj['metadata']['name']}: {exc.message}")


def api_deployment(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (found,) = [d for d in by_kind(objects, "Deployment") if d["metadata"]["name"] == "incident-assistant"]
    return found


def test_base_serves_safely_with_probes_and_an_autoscaler() -> None:
    objects = render(DEPLOY)
    assert {o["kind"] for o in objects} >= {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "ConfigMap",
        "Secret",
    }
    pod = api_deployment(objects)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (server,) = pod["containers"]
    assert server["securityContext"]["readOnlyRootFilesystem"] is True
    assert server["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert server["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert server["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert server["resources"]["requests"]["memory"] and server["resources"]["limits"]["memory"]
    # the index is built from the labels volume before the server starts, and mounted read-only
    (init,) = pod["initContainers"]
    assert init["command"] == ["assistant", "index", "build"]
    mounts = {m["name"]: m for m in server["volumeMounts"]}
    assert mounts["index"].get("readOnly") is True and mounts["labels"].get("readOnly") is True
    # settings come from the generated ConfigMap and Secret, which exist under the referenced names
    refs = {next(iter(e.values()))["name"] for e in server["envFrom"]}
    names = {o["metadata"]["name"] for o in by_kind(objects, "ConfigMap") + by_kind(objects, "Secret")}
    assert refs <= names
    settings = next(iter(by_kind(objects, "ConfigMap")))["data"]
    assert settings["ASSISTANT_INDEX_DIR"] == "/index" and settings["ASSISTANT_LABELS_DIR"] == "/labels"
    (hpa,) = by_kind(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    (service,) = by_kind(objects, "Service")
    labels = pod.get("labels") or api_deployment(objects)["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_slack_overlay_adds_one_stateful_bot_with_its_secret() -> None:
    objects = render(DEPLOY / "overlays" / "slack")
    (bot,) = [
        d for d in by_kind(objects, "Deployment") if d["metadata"]["name"] == "incident-assistant-slack"
    ]
    assert bot["spec"]["replicas"] == 1 and bot["spec"]["strategy"]["type"] == "Recreate"
    (server,) = bot["spec"]["template"]["spec"]["containers"]
    refs = [next(iter(e.values()))["name"] for e in server["envFrom"]]
    assert "incident-assistant-slack" in refs  # the Slack tokens' Secret, created by the user
    volumes = {v["name"]: v for v in bot["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == "incident-assistant-slack-data"
    names = {o["metadata"]["name"] for o in by_kind(objects, "ConfigMap") + by_kind(objects, "Secret")}
    assert set(refs) - names == {"incident-assistant-slack"}  # the generated ones exist
    slack_settings = next(
        o["data"]
        for o in by_kind(objects, "ConfigMap")
        if o["metadata"]["name"] in refs and "SLACK" in str(o)
    )
    assert slack_settings["ASSISTANT_ALERTS_SLACK_CHANNEL"]
    assert api_deployment(objects)["spec"]["replicas"] == 2  # the API still scales on its own


def test_openai_overlay_points_the_service_at_vllm() -> None:
    objects = render(DEPLOY / "overlays" / "openai-llm")
    settings = next(
        o["data"]
        for o in by_kind(objects, "ConfigMap")
        if o["metadata"]["name"].startswith("incident-assistant-settings")
    )
    assert settings["ASSISTANT_LLM"] == "openai"
    service = next(s for s in by_kind(objects, "Service") if s["metadata"]["name"] == "vllm")
    assert settings["ASSISTANT_OPENAI_BASE_URL"] == f"http://vllm:{service['spec']['ports'][0]['port']}/v1"
    vllm = next(d for d in by_kind(objects, "Deployment") if d["metadata"]["name"] == "vllm")
    assert vllm["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_published_index_overlay_shares_one_read_only_index() -> None:
    objects = render(DEPLOY / "overlays" / "published-index")
    pod = api_deployment(objects)["spec"]["template"]["spec"]
    assert not pod.get("initContainers")
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["index"] == {
        "name": "index",
        "persistentVolumeClaim": {"claimName": "incident-assistant-index", "readOnly": True},
    }
    (job,) = by_kind(objects, "Job")
    job_volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert job_volumes["index"]["persistentVolumeClaim"]["claimName"] == "incident-assistant-index"
    (claim,) = [
        c for c in by_kind(objects, "PersistentVolumeClaim") if c["metadata"]["name"].endswith("-index")
    ]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
