"""labels/vocabulary.toml: names a query carries get their meaning appended; a mistake in the file is
reported with its path and the file is then not used."""

from __future__ import annotations

from pathlib import Path

from assistant.corpus.vocabulary import load_vocabulary
from tests.conftest import LABELS


def test_the_committed_vocabulary_loads_without_problems() -> None:
    vocabulary, problems = load_vocabulary(LABELS)
    assert problems == [] and len(vocabulary.meanings) >= 100


def test_alert_metric_and_error_names_expand_case_insensitively_once(tmp_path: Path) -> None:
    (tmp_path / "vocabulary.toml").write_text(
        '[alerts]\nKubeHpaMaxedOut = "HPA at max replicas"\n'
        '[metrics]\netcd_disk_wal_fsync_duration_seconds = "etcd WAL fsync latency"\n'
        '[errors]\nOOMKilled = "killed for exceeding its memory limit"\n'
    )
    vocabulary, problems = load_vocabulary(tmp_path)
    assert problems == []
    text = "kubehpamaxedout, KubeHpaMaxedOut; etcd_disk_wal_fsync_duration_seconds_bucket; OOMKilled"
    assert vocabulary.named_in(text) == [
        "HPA at max replicas",
        "etcd WAL fsync latency",
        "killed for exceeding its memory limit",
    ]
    assert vocabulary.expand(text).startswith(text + "\n(HPA at max replicas; ")
    assert vocabulary.expand("nothing known here") == "nothing known here"


def test_a_bad_entry_is_reported_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "vocabulary.toml").write_text('[alerts]\n"Bad Name!" = "x y z"\nGood = "ok"\n[extra]\n')
    vocabulary, problems = load_vocabulary(tmp_path)
    assert not vocabulary
    assert [p.path for p in problems] == ["$.extra"]
    (tmp_path / "vocabulary.toml").write_text('[alerts]\n"Bad Name!" = "x y z"\nGoodName = "fine"\n')
    vocabulary, problems = load_vocabulary(tmp_path)
    assert [(p.path, p.message) for p in problems] == [("$.alerts.Bad Name!", "not an alert or metric name")]
    assert vocabulary.named_in("GoodName fired") == ["fine"]
