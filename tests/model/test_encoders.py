"""Encoder runtimes: the ONNX exports against sentence-transformers, the export cache, the index's record
of its encoder, and the query path that never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.corpus.loading import load_labels
from assistant.corpus.passages import build_passages
from assistant.errors import BackendUnavailable, IndexMismatch
from assistant.search.encoders import INT8, Encoder, EncoderSpec, encoder_spec, make_encoder
from assistant.search.index import read_manifest
from assistant.service import Assistant, build
from assistant.settings import Settings
from tests.conftest import LABELS, ROOT, ExportRace, run_cli

HEAVY = ("torch", "transformers", "sentence_transformers", "matplotlib", "langchain", "langchain_core")


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Real passages of the corpus (short and long, some past 128 tokens) and real eval queries."""
    labels = load_labels(LABELS).labels
    passages = [p.text for x in labels[::8] for p in build_passages(x.label, x.raw)]
    queries = [json.loads(line)["query"] for line in (ROOT / "eval" / "queries.jsonl").open()][::10]
    return passages + queries


@pytest.fixture(scope="module")
def reference(minilm_torch: Encoder, texts: list[str]) -> np.ndarray:
    return minilm_torch.encode(texts)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(axis=1))


def test_onnx_fp32_matches_sentence_transformers(
    models_dir: Path, texts: list[str], reference: np.ndarray
) -> None:
    fp32 = make_encoder("minilm", runtime="onnx", cache_dir=models_dir)
    assert (fp32.runtime, fp32.quantization, fp32.dim) == ("onnx", "none", 384)
    assert cosines(fp32.encode(texts), reference).min() >= 0.9999


def test_onnx_int8_stays_close_to_sentence_transformers(
    minilm: Encoder, texts: list[str], reference: np.ndarray
) -> None:
    assert (minilm.runtime, minilm.quantization) == ("onnx-int8", INT8)
    got = cosines(minilm.encode(texts), reference)
    assert got.min() >= 0.98 and got.mean() >= 0.985


def test_one_text_and_a_batch_give_the_same_vectors(minilm: Encoder, texts: list[str]) -> None:
    batch = minilm.encode(texts[:6])
    one = np.vstack([minilm.encode([t]) for t in texts[:6]])
    assert cosines(batch, one).min() >= 0.99999
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)


def test_window_is_the_models_256_tokens_not_the_tokenizer_files_128(minilm: Encoder) -> None:
    from tokenizers import Tokenizer

    from assistant.search.encoders.weights import bundled_path

    words = [f"service{i} latency" for i in range(120)]  # about 240 tokens
    tokenizer = Tokenizer.from_file(str(bundled_path() / "tokenizer.json"))
    tokenizer.no_truncation()
    first_128 = tokenizer.decode(tokenizer.encode(" ".join(words)).ids[1:127])
    whole, prefix = minilm.encode([" ".join(words), first_128])
    assert float(whole @ prefix) < 0.999, "tokens past 128 must change the vector"


def test_a_short_query_runs_on_its_own_tokens_not_padded_to_128(minilm: Encoder, models_dir: Path) -> None:
    """tokenizer.json pads every text to 128 tokens; padding made query encoding four times slower and
    moves int8's activation scale, so the encoder turns it off."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from assistant.search.encoders.onnx_runtime import ensure_exported
    from assistant.search.encoders.weights import bundled_path

    query = "checkout p99 went from 150 ms to 2.5 s after the deploy, pods OOMKilled"
    tokenizer = Tokenizer.from_file(str(bundled_path() / "tokenizer.json"))
    folder = ensure_exported(bundled_path(), cache_dir=models_dir)  # the export the encoder runs
    session = ort.InferenceSession(str(folder / "model-int8.onnx"), providers=["CPUExecutionProvider"])

    def run(encoding: Any) -> np.ndarray:
        feed = {
            "input_ids": np.array([encoding.ids], dtype=np.int64),
            "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
        }
        (out,) = session.run(["sentence_embedding"], feed)
        return np.asarray(out[0] / np.linalg.norm(out[0]))

    padded = tokenizer.encode(query)
    assert len(padded.ids) == 128, "the bundled tokenizer pads"
    tokenizer.no_padding()
    unpadded = run(tokenizer.encode(query))
    got = minilm.encode([query])[0]
    assert float(got @ unpadded) >= 0.99999
    assert float(got @ run(padded)) < 0.99999, "padding changes the int8 vector, so this test can tell"


def test_two_processes_exporting_at_once_leave_one_complete_model(export_race: ExportRace) -> None:
    assert [run.returncode for run in export_race.runs] == [0, 0], [r.stderr for r in export_race.runs]
    paths = {run.stdout.strip() for run in export_race.runs}
    assert len(paths) == 1
    built = [p for p in export_race.cache_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert [p.name for p in built] == [Path(paths.pop()).name]
    assert not [p for p in export_race.cache_dir.iterdir() if p.name.startswith(".staging")]
    meta = json.loads((built[0] / "meta.json").read_text())
    assert meta["max_seq_length"] == 256 and meta["dim"] == 384
    assert {p.name for p in built[0].iterdir()} >= {"model.onnx", "model-int8.onnx", "meta.json"}


def test_a_hub_name_on_onnx_says_to_use_a_folder_or_torch(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable) as info:
        make_encoder("some-org/some-model", runtime="onnx-int8", cache_dir=tmp_path)
    assert "ASSISTANT_ENCODER_RUNTIME=torch" in str(info.value)


def test_spec_compatibility_rule() -> None:
    torch_spec = encoder_spec("minilm", runtime="torch")
    assert torch_spec.compatible_with(encoder_spec("minilm", runtime="onnx"))
    assert not torch_spec.compatible_with(encoder_spec("minilm", runtime="onnx-int8"))
    assert not EncoderSpec("a", "torch", "none").compatible_with(EncoderSpec("b", "torch", "none"))


def test_manifest_records_runtime_and_a_different_runtime_is_refused(corpus: Assistant) -> None:
    manifest = read_manifest(corpus.index.path)
    assert (manifest.encoder, manifest.runtime, manifest.quantization) == (
        "sentence-transformers/all-MiniLM-L6-v2",
        "onnx-int8",
        INT8,
    )
    for runtime in ("torch", "onnx"):
        settings = corpus.settings.model_copy(update={"encoder_runtime": runtime})
        with pytest.raises(IndexMismatch) as info:
            Assistant.from_settings(settings)
        message = str(info.value)
        assert "onnx-int8" in message and runtime in message and "assistant index build" in message


def test_torch_built_index_serves_onnx_fp32_queries_alike(
    tmp_path: Path, seed_dir: Path, models_dir: Path, minilm_torch: Encoder
) -> None:
    settings = Settings(
        labels_dir=seed_dir, index_dir=tmp_path / "index", encoder="minilm", model_cache_dir=models_dir
    )
    build(settings, encoder=minilm_torch)
    by_torch = Assistant.from_settings(settings, encoder=minilm_torch)
    by_onnx = Assistant.from_settings(settings.model_copy(update={"encoder_runtime": "onnx"}))
    assert by_onnx.encoder.runtime == "onnx"
    for query in ("heap keeps growing, pods OOMKilled", "etcd fsync slow, kubectl hangs", "alert storm"):
        a, b = by_torch.similar(query), by_onnx.similar(query)
        assert [m.id for m in a.matches] == [m.id for m in b.matches]
        assert abs(a.matches[0].similarity - b.matches[0].similarity) < 1e-3


QUERY_PROBE = """
import atexit, json, sys
HEAVY = {heavy!r}
atexit.register(lambda: print("LOADED=" + json.dumps(sorted(
    m for m in sys.modules if m.split(".")[0] in HEAVY)), file=sys.stderr))
from assistant.surfaces.cli import main
main()
"""


def test_cli_similar_never_imports_torch_or_langchain(corpus: Assistant, models_dir: Path) -> None:
    env = {
        "ASSISTANT_INDEX_DIR": str(corpus.settings.index_dir),
        "ASSISTANT_LABELS_DIR": str(LABELS),
        "ASSISTANT_MODEL_CACHE_DIR": str(models_dir),
    }
    unused = (*HEAVY, "markdown_it")  # the post-mortem importer's parser loads only for `labels import`
    done = subprocess.run(
        [sys.executable, "-c", QUERY_PROBE.format(heavy=unused), "similar", "pods OOMKilled", "--json"],
        env={**__import__("os").environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["matches"], "a real query ran"
    loaded = json.loads(done.stderr.rsplit("LOADED=", 1)[1])
    assert loaded == []
    assert run_cli(["similar", "pods OOMKilled", "--json"], env).returncode == 0


SERVER_PROBE = """
import json, sys
import httpx
from assistant.surfaces.server import create_app
from assistant.settings import Settings
from tests.fakes.live_server import serve
settings = Settings(index_dir={index!r}, labels_dir={labels!r}, model_cache_dir={models!r})
with serve(create_app(settings)) as server:
    server.wait_loaded()
    response = httpx.post(server.url + "/v1/similar", json={{"query": "etcd fsync slow", "k": 3}})
    response.raise_for_status()
    print(json.dumps({{"matches": len(response.json()["matches"]),
                      "loaded": sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})}}))
"""


def test_service_similar_never_imports_torch_or_langchain(corpus: Assistant, models_dir: Path) -> None:
    script = SERVER_PROBE.format(
        index=str(corpus.settings.index_dir), labels=str(LABELS), models=str(models_dir), heavy=HEAVY
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["matches"] == 3
    assert out["loaded"] == []


def test_exported_graph_masks_padding_by_addition_not_a_nan_guard(export_race: ExportRace) -> None:
    """SDPA attention exports an IsNaN/Where guard over every attention score, a fifth of an int8 run;
    the eager export masks padding with an addition and gives the same vectors."""
    import onnx

    (folder,) = [p for p in export_race.cache_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    for name in ("model.onnx", "model-int8.onnx"):
        ops = {node.op_type for node in onnx.load(str(folder / name)).graph.node}
        assert "IsNaN" not in ops, name
        assert {"MatMul", "Softmax"} <= ops or {"MatMulInteger", "Softmax"} <= ops, sorted(ops)
