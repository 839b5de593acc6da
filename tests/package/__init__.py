"""Tests of the built distribution: the wheel installed into a fresh environment, used as a user would.

Shared with tests/test_dockerfile.py: which requirements apply, and what they pull in transitively.
"""

from __future__ import annotations

from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

HEAVY = ("torch", "sentence-transformers", "matplotlib", "scikit-learn")
"""Distributions a serving install (core plus openai/slack) must not contain: the export and eval extras."""


def wanted(req: Requirement, extras: tuple[str, ...] | frozenset[str] = ()) -> bool:
    """Whether ``req`` applies to an install with ``extras`` on this platform."""
    return req.marker is None or any(req.marker.evaluate({"extra": e}) for e in ("", *extras))


def unconditional(req: Requirement) -> bool:
    """A requirement of the bare install, no extra asked for."""
    return req.marker is None or req.marker.evaluate({"extra": ""})


def dependency_paths(roots: list[Requirement]) -> dict[str, list[str]]:
    """Every distribution the roots need, transitively, with one chain that pulls it in; followed through
    this dev environment's installed metadata (it holds the dependencies of every extra)."""
    paths: dict[str, list[str]] = {}
    todo = [(r, [canonicalize_name(r.name)]) for r in roots]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        req, chain = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        paths.setdefault(key[0], chain)
        try:
            below = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            continue
        for sub in map(Requirement, below):
            if wanted(sub, key[1]):
                todo.append((sub, [*chain, canonicalize_name(sub.name)]))
    return paths
