"""Drives on the Monaco graph for the route tests: hits along a path at realistic times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import networkx as nx

from tracing.graph import best_edge
from tracing.travel import Hit

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def drive(
    graph: nx.MultiDiGraph, path: list[int], *, every: int = 3, slowness: float = 1.4
) -> list[Hit]:
    """Hits of a camera on every ``every``-th approach along ``path``, at realistic times."""
    hits, t = [], T0
    for i, (u, v) in enumerate(pairwise(path)):
        t += timedelta(seconds=best_edge(graph, u, v)["travel_time"] * slowness)
        if i % every == 0 or i == len(path) - 2:
            hits.append(Hit(i, v, t, u))
    return hits
