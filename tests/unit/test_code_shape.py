"""The shape of the package: modules and functions short enough to read, and the layer contracts kept.

A module may hold at most ``MAX_MODULE_LINES`` lines and a function at most ``MAX_FUNCTION_LINES``
(decorators included). A longer function must say why in its docstring, on a line starting with
"Long because".
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "assistant"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
REASON = "Long because"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _says_why(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    doc = ast.get_docstring(node) or ""
    return any(line.strip().startswith(REASON) for line in doc.splitlines())


def test_the_package_is_found() -> None:
    assert len(_modules()) > 10, PACKAGE


def test_no_module_is_too_long() -> None:
    long = []
    for path in _modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them):\n" + "\n".join(long)


def test_no_function_is_too_long_without_a_reason() -> None:
    long = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lines = (node.end_lineno or node.lineno) - start + 1
            if lines > MAX_FUNCTION_LINES and not _says_why(node):
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {lines} lines")
    assert not long, (
        f"functions over {MAX_FUNCTION_LINES} lines (split them, or start a docstring line with "
        f"{REASON!r} and say why):\n" + "\n".join(long)
    )


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint_imports)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
