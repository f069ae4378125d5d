"""Bounded Dijkstra searches on a ``RoutingIndex`` and the via-edge alternatives they give.

Everything here works on matrix positions (``RoutingIndex.position``), not graph nodes, and on
matrices with the index's own sparsity structure (``index.forward`` or a re-weighted copy).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from tracing.graph import RoutingIndex


@dataclass(frozen=True, slots=True)
class Tree:
    """One bounded search: distances (``inf`` beyond ``limit``) and the predecessor tree."""

    dist: npt.NDArray[np.float64]
    pred: npt.NDArray[np.int32]
    limit: float


def search(matrix: Any, source: int, limit: float) -> Tree:
    """Fastest costs from ``source`` to every position within ``limit``."""
    from scipy.sparse.csgraph import dijkstra

    dist, pred = dijkstra(matrix, indices=source, limit=limit, return_predecessors=True)
    return Tree(dist, pred, limit)


def walk(tree: Tree, node: int) -> list[int]:
    """Positions from the search root to ``node`` (inclusive), following the predecessor tree."""
    out = [node]
    while (node := int(tree.pred[node])) >= 0:
        out.append(node)
    out.reverse()
    return out


def tolled(index: RoutingIndex, edges: Iterable[tuple[int, int]], toll_s: float) -> Any:
    """A copy of ``index.forward`` with ``toll_s`` added on each graph edge ``(u, v)`` given."""
    size = len(index.nodes)
    forward = index.forward.copy()
    keys = index.sources * size + forward.indices  # sorted: rows ascending, columns within
    wanted = np.asarray(
        [
            index.position[u] * size + index.position[v]
            for u, v in edges
            if u in index.position and v in index.position
        ],
        dtype=np.int64,
    )
    found = np.searchsorted(keys, wanted)
    hit = found < len(keys)
    hit[hit] = keys[found[hit]] == wanted[hit]
    forward.data[found[hit]] += toll_s
    return forward


def via_edge_paths(
    index: RoutingIndex,
    forward: Any,
    backward: Any,
    tree: Tree,
    target: int,
    *,
    bound: float,
    count: int,
) -> list[list[int]]:
    """Up to ``count`` distinct simple paths to ``target`` costing at most ``bound``, best first.

    A via-edge path is the best path from the root of ``tree`` to some edge ``a → b``, the edge,
    then the best path on from ``b`` (a search on ``backward``, the transpose of ``forward``).
    Unlike via-node paths it also finds the single slower street a driver took.
    """
    back = search(backward, target, bound)
    # Only edges leaving positions the forward search reached can be on a path: gather those.
    rows = np.flatnonzero(tree.dist <= bound)
    starts, counts = forward.indptr[rows], np.diff(forward.indptr)[rows]
    edges = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    heads = forward.indices[edges]
    total = np.repeat(tree.dist[rows], counts) + forward.data[edges] + back.dist[heads]
    keep = np.flatnonzero(total <= bound)
    keep = keep[np.argsort(total[keep], kind="stable")]
    paths = [walk(tree, target)]
    covered = set(pairwise(paths[0]))
    # Most vias lie on a path already taken; the cap bounds the work on huge plateaus.
    for via in keep[: 50 * count]:
        a, b = int(index.sources[edges[via]]), int(heads[via])
        if (a, b) in covered:
            continue
        path = walk(tree, a) + walk(back, b)[::-1]  # b … target on the forward graph
        covered.update(pairwise(path))
        if len(set(path)) != len(path):
            continue  # a detour that makes the driver loop back is no real alternative
        paths.append(path)
        if len(paths) == count:
            break
    return paths
