from __future__ import annotations

import math
from itertools import pairwise

import networkx as nx
import pytest

from tracing.graph import routing_index
from tracing.search import search, tolled, via_edge_paths, walk


@pytest.fixture(scope="module")
def ends(monaco: nx.MultiDiGraph) -> tuple[int, int]:
    nodes = sorted(monaco.nodes)
    return nodes[3], nodes[700]


def _cost(monaco: nx.MultiDiGraph, positions: list[int]) -> float:
    index = routing_index(monaco)
    return sum(index.cost[edge] for edge in pairwise(positions))


def test_search_and_walk_agree_with_networkx(
    monaco: nx.MultiDiGraph, ends: tuple[int, int]
) -> None:
    index = routing_index(monaco)
    a, b = ends
    expected, path = nx.single_source_dijkstra(monaco, a, b, weight="travel_time")
    tree = search(index.forward, index.position[a], math.inf)
    assert tree.dist[index.position[b]] == pytest.approx(expected)
    found = walk(tree, index.position[b])
    assert found[0] == index.position[a]
    assert _cost(monaco, found) == pytest.approx(expected)
    assert [int(index.nodes[p]) for p in found] == path or len(found) == len(path)


def test_a_limited_search_stops_at_its_limit(
    monaco: nx.MultiDiGraph, ends: tuple[int, int]
) -> None:
    index = routing_index(monaco)
    tree = search(index.forward, index.position[ends[0]], 30.0)
    reached = tree.dist[tree.dist < math.inf]
    assert 1 < len(reached) < len(index.nodes) and reached.max() <= 30.0
    assert tree.limit == 30.0


def test_tolls_land_on_the_given_edges_only(monaco: nx.MultiDiGraph) -> None:
    index = routing_index(monaco)
    u, v = next(iter(monaco.edges()))
    matrix = tolled(index, [(u, v), (-1, v)], 100.0)
    i, j = index.position[u], index.position[v]
    assert matrix[i, j] == pytest.approx(index.cost[i, j] + 100.0)
    assert (matrix - index.forward).sum() == pytest.approx(100.0)
    assert index.forward[i, j] == pytest.approx(index.cost[i, j])  # the index is untouched


def test_via_edge_paths_are_distinct_simple_and_bounded(
    monaco: nx.MultiDiGraph, ends: tuple[int, int]
) -> None:
    index = routing_index(monaco)
    a, b = (index.position[n] for n in ends)
    tree = search(index.forward, a, math.inf)
    bound = float(tree.dist[b]) * 1.3
    paths = via_edge_paths(index, index.forward, index.backward, tree, b, bound=bound, count=6)
    assert 2 <= len(paths) <= 6
    assert paths[0] == walk(tree, b)
    assert len({tuple(p) for p in paths}) == len(paths)
    for path in paths:
        assert path[0] == a and path[-1] == b
        assert len(set(path)) == len(path)
        assert _cost(monaco, path) <= bound + 1e-6
