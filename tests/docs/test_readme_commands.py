"""The shell blocks of README.md and docs/*.md are meant to be copied and run, so each must be well formed.

A block fenced as ```bash or ```sh runs as written; one that needs a network, a secret or software the
repository does not install is fenced as ```console instead and is not checked here. For every runnable
block:

- ``bash -n`` parses it;
- every command word is a real command: a shell builtin, a program in the venv (``.venv/bin/...``), a
  program on PATH or a common tool (not a macOS-only one such as ``pbpaste``), so a ``|`` that bash reads
  as a pipe (``--format chat-jsonl|alpaca``) is caught;
- every ``assistant <subcommand...>`` is a real subcommand and its ``--options`` exist, checked by running
  ``<venv>/bin/assistant <subcommand...> --help``; every ``make`` target is in the Makefile;
- every repository path it names exists (or was shown being written by an earlier block of the same page,
  e.g. the draft that ``labels import`` reports), and there are no placeholder file names.

Nothing here runs a documented command itself, so no test touches the network.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
VENV_BIN = Path(sys.executable).parent
ASSISTANT = VENV_BIN / "assistant"
RUNNABLE = {"bash", "sh", "shell"}
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<info>[\w+-]*)")
OPERATORS = {"|", "||", "&", "&&", ";", ";;", "(", ")", "|&"}
BUILTINS = set(
    "cd export set unset echo printf test [ true false source . "
    "if then else elif fi for while until do done case esac { }".split()
)
# Tools a reader on Linux or macOS has (or installs for that step); other words are looked up on PATH.
COMMON_TOOLS = set(
    "make python3 git curl sed perl grep cat ls rm mkdir cp mv head tail wc find sort jq "
    "docker kubectl".split()
)
PLATFORM_ONLY = {"pbpaste", "pbcopy", "open", "xclip", "xsel", "wl-paste", "wl-copy", "clip.exe"}
FILE_SUFFIXES = set(".md .json .jsonl .txt .html .yaml .yml .toml .py .j2 .gguf .sqlite3 .csv .sql".split())
WRITES = {"--out", "--output", "-o", "--save-answers"}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
WORDLIKE = re.compile(r"^[a-z][a-z0-9-]*$")
PATHLIKE = re.compile(r"[\w.-]+(?:/[\w.-]+)+|[\w-]+\.[A-Za-z0-9]+")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the first line inside the fence
    lang: str
    text: str

    @property
    def where(self) -> str:
        return self.at(0)

    def at(self, index: int) -> str:
        """``page:line`` of the block's line ``index`` (0 = its first)."""
        return f"{self.page.relative_to(ROOT)}:{self.line + index}"


def blocks_of(page: Path) -> list[Block]:
    """Every fenced block of a Markdown page, with its info string and its text un-indented."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not re.match(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[j]):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        found.append(Block(page, i + 2, opening["info"].lower(), "\n".join(body) + "\n"))
        i = j + 1
    return found


RUNNABLE_BLOCKS = [b for page in PAGES for b in blocks_of(page) if b.lang in RUNNABLE]


def logical_lines(text: str) -> Iterator[tuple[int, str, bool]]:
    """(index of its first line, line, is_comment) with backslash continuations joined; a quote left
    open takes the next line too."""
    pending, first = "", 0
    for index, raw in enumerate(text.splitlines()):
        if not pending and raw.lstrip().startswith("#"):
            yield index, raw.lstrip(), True
            continue
        if not pending:
            first = index
        pending = f"{pending}\n{raw}" if pending else raw
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:
            continue
        yield first, pending, False
        pending = ""
    if pending:
        yield first, pending, False


def simple_commands(line: str) -> list[list[str]]:
    """The simple commands of one logical line: its words, split at pipes and lists (``|``, ``&&``, ``;``)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in OPERATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def shown(line: str) -> str:
    return " ".join(line.split())


def command_words(words: list[str]) -> list[str]:
    """Words without leading VAR=value assignments."""
    i = 0
    while i < len(words) and ASSIGNMENT.match(words[i]):
        i += 1
    return words[i:]


def path_candidates(words: list[str]) -> Iterator[str]:
    """Words (or parts of NAME=value and a:b words) that name a file or folder of the repository."""
    top = {p.name for p in ROOT.iterdir() if not p.name.startswith(".")}
    for word in words:
        for part in re.split(r"[=:]", word.removeprefix("@")):
            part = part.removeprefix("$PWD/").removeprefix("./").removeprefix("@")
            if not part or part.startswith(("-", "/", "$", "~")) or re.search(r"\s|://", part):
                continue
            first = part.split("/", 1)[0]
            if ("/" in part and first in top) or Path(part).suffix in FILE_SUFFIXES:
                yield part


def written_by(words: list[str]) -> set[str]:
    """Paths a command writes: --out/-o targets and > redirections."""
    out = set()
    for before, word in itertools.pairwise(words):
        if before in WRITES or before in {">", ">>"}:
            out.add(word.removeprefix("./"))
    return out


# --- the checks --------------------------------------------------------------------------------------


def test_the_pages_have_runnable_blocks() -> None:
    assert (ROOT / "README.md").exists()
    pages = {b.page.name for b in RUNNABLE_BLOCKS}
    assert "README.md" in pages, "README.md has no ```bash block"
    assert len(RUNNABLE_BLOCKS) >= 10, [b.where for b in RUNNABLE_BLOCKS]


@pytest.mark.parametrize("block", RUNNABLE_BLOCKS, ids=lambda b: b.where)
def test_bash_parses_the_block(block: Block) -> None:
    done = subprocess.run(["bash", "-n"], input=block.text, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"{block.where}: bash -n: {done.stderr}\n{block.text}"


@pytest.mark.parametrize(
    "page", [p for p in PAGES if any(b.page == p for b in RUNNABLE_BLOCKS)], ids=lambda p: p.name
)
def test_paths_in_blocks_exist(page: Path) -> None:
    created: set[str] = set()
    missing = []
    for block in (b for b in RUNNABLE_BLOCKS if b.page == page):
        for index, line, is_comment in logical_lines(block.text):
            if is_comment:  # shown output, e.g. "# drafted labels/network/<id>.json"
                created.update(m.removesuffix(".") for m in PATHLIKE.findall(line))
                continue
            for words in simple_commands(line):
                for path in path_candidates(words):
                    if path not in created and not (ROOT / path).exists():
                        missing.append(f"{block.at(index)}: {path!r} in: {shown(line)}")
                created |= written_by(words)
    assert not missing, "paths that are not in the repository (use real files):\n" + "\n".join(missing)


def test_commands_in_blocks_are_real() -> None:
    problems: list[str] = []
    invocations: list[tuple[str, str, list[str]]] = []
    targets = makefile_targets()
    for block in RUNNABLE_BLOCKS:
        for index, line, is_comment in logical_lines(block.text):
            if is_comment:
                continue
            for words in map(command_words, simple_commands(line)):
                if not words:
                    continue
                problem = check_command_word(words[0])
                if problem:
                    problems.append(f"{block.at(index)}: {problem} in: {shown(line)}")
                if words[0] == "make":
                    problems += [
                        f"{block.at(index)}: no make target {t!r}"
                        for t in words[1:]
                        if not t.startswith("-") and "=" not in t and t not in targets
                    ]
                at = next((i for i, w in enumerate(words) if is_assistant(w)), None)
                if at is not None:
                    invocations.append((block.at(index), shown(line), words[at + 1 :]))
    problems += check_assistant_invocations(invocations)
    assert not problems, "\n".join(problems)


def check_command_word(word: str) -> str | None:
    name = Path(word).name
    if name in PLATFORM_ONLY:
        return f"{word!r} is not available on every platform"
    if word == "assistant" or word.startswith(".venv/bin/"):
        return None if (VENV_BIN / name).exists() else f"{word!r} is not installed in the venv"
    if "/" in word:
        return None if (ROOT / word).exists() else f"{word!r} does not exist"
    if word in BUILTINS or word in COMMON_TOOLS or shutil.which(word):
        return None
    return f"{word!r} is not a command (a '|' read as a pipe, or a placeholder?)"


def is_assistant(word: str) -> bool:
    return word == "assistant" or word.endswith("/assistant")


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {m for m in re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, flags=re.MULTILINE)}


# --- assistant subcommands and options, from `assistant ... --help` -----------------------------------


# Every `assistant ... --help` a page needs, in one child process: it runs the venv's `assistant` script
# once per command line (argv set, stdout captured, SystemExit caught), so the package's imports are paid
# once instead of once per command. `assistant_runs` also starts the script as a process of its own.
HELP_DRIVER = r"""
import contextlib, io, json, runpy, sys
script, commands = sys.argv[1], json.loads(sys.stdin.read())
answers = []
for argv in commands:
    sys.argv = ["assistant", *argv, "--help"]
    out, code = io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            runpy.run_path(script, run_name="__main__")
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    answers.append([code, out.getvalue()])
print(json.dumps(answers))
"""
HELP_ENV = {**os.environ, "COLUMNS": "200", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
_helps: dict[tuple[str, ...], str | None] = {}


def own_help(path: tuple[str, ...], code: int, text: str) -> str | None:
    """The help text when it exited 0 and is the help of ``path`` itself (not of a parent command)."""
    usage = re.search(r"Usage: \S+((?: [a-z][\w-]*)*)", text)
    return text if code == 0 and usage and tuple(usage[1].split()) == path else None


def fetch_helps(paths: set[tuple[str, ...]]) -> None:
    todo = sorted(paths - _helps.keys())
    if not todo:
        return
    driver = subprocess.run(
        [sys.executable, "-c", HELP_DRIVER, str(ASSISTANT)],
        input=json.dumps(todo),
        capture_output=True,
        text=True,
        timeout=120,
        env=HELP_ENV,
        cwd=ROOT,
    )
    assert driver.returncode == 0, f"running {ASSISTANT} --help failed:\n{driver.stderr}"
    for path, (code, text) in zip(todo, json.loads(driver.stdout), strict=True):
        _helps[path] = own_help(path, code, text)


def help_of(path: tuple[str, ...]) -> str | None:
    """``assistant <path> --help`` when it exits 0 and is that command's own help, else None."""
    fetch_helps({path})
    return _helps[path]


def assistant_runs() -> None:
    """The script itself starts as a process and prints its help."""
    done = subprocess.run(
        [str(ASSISTANT), "--help"], capture_output=True, text=True, timeout=120, env=HELP_ENV, cwd=ROOT
    )
    if own_help((), done.returncode, done.stdout) is None:
        pytest.fail(f"`{ASSISTANT} --help` fails (is the package importable?):\n{done.stderr[-2000:]}")


def subcommands(help_text: str) -> set[str]:
    section = help_text.partition("Commands:")[2]
    return set(re.findall(r"^ {2}([a-z][\w-]*)", section, flags=re.MULTILINE))


def command_path(args: list[str]) -> tuple[tuple[str, ...], list[str], str | None]:
    """The subcommand path at the start of ``args``, the rest, and a problem if a word is not a command."""
    path: tuple[str, ...] = ()
    rest = list(args)
    while True:
        text = help_of(path)
        if text is None:
            return path, rest, f"`{' '.join(['assistant', *path])} --help` fails"
        names = subcommands(text)
        if not names or not rest or rest[0].startswith("-"):
            return path, rest, None
        if rest[0] not in names:
            return path, rest, f"{rest[0]!r} is not a subcommand of `{' '.join(['assistant', *path])}`"
        path, rest = (*path, rest[0]), rest[1:]


def check_assistant_invocations(invocations: list[tuple[str, str, list[str]]]) -> list[str]:
    if not ASSISTANT.exists():
        pytest.skip(f"no {ASSISTANT}: run make install")
    prefetch = {()} | {
        tuple(args[:n])
        for _, _, args in invocations
        for n in (1, 2)
        if len(args) >= n and all(WORDLIKE.match(a) for a in args[:n])
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        started = pool.submit(assistant_runs)
        pool.submit(fetch_helps, prefetch).result()
        started.result()
    problems = []
    for where, line, args in invocations:
        path, rest, problem = command_path(args)
        if problem:
            problems.append(f"{where}: {problem} in: {line}")
            continue
        text = help_of(path) or ""
        for word in rest:
            option = word.split("=", 1)[0]
            if re.fullmatch(r"--?[a-z][\w-]*", option) and not re.search(
                rf"(?<![\w-]){re.escape(option)}(?![\w-])", text
            ):
                problems.append(f"{where}: `assistant {' '.join(path)}` has no option {option} in: {line}")
    return problems
