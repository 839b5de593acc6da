"""The FAISS index of a build's passage vectors: which kind (exact or approximate) and how it searches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import faiss
import numpy as np


@dataclass(frozen=True)
class IndexType:
    """Which FAISS index a build writes. ``flat`` is exact; ``hnsw`` and ``ivf`` trade a little recall
    for search time that grows slower than the passage count (bench/retrieval.py measures both)."""

    kind: Literal["flat", "hnsw", "ivf"] = "flat"
    hnsw_m: int = 32
    ivf_lists: int = 0
    """0: 4·√passages cells."""


@dataclass(frozen=True)
class SearchParams:
    hnsw_ef_search: int = 64
    ivf_probe: int = 16


def dense_index(matrix: np.ndarray, *, dim: int, index_type: IndexType) -> Any:
    """A FAISS inner-product index over the unit rows of ``matrix``, able to return stored vectors."""
    dense: Any
    if index_type.kind == "hnsw":
        dense = faiss.IndexHNSWFlat(dim, index_type.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        dense.hnsw.efConstruction = 80
    elif index_type.kind == "ivf":
        lists = index_type.ivf_lists or round(4 * len(matrix) ** 0.5)
        lists = max(1, min(lists, len(matrix)))
        dense = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        if len(matrix):
            dense.train(matrix)
        dense.make_direct_map()  # reconstruct() by row, for cosine() and vector reuse
    else:
        dense = faiss.IndexFlatIP(dim)
    if len(matrix):
        dense.add(matrix)
    return dense
