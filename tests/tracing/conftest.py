from __future__ import annotations

import networkx as nx
import pytest


@pytest.fixture(scope="module")
def far_apart(monaco: nx.MultiDiGraph) -> tuple[int, int]:
    """Two nodes a few minutes' drive apart."""
    nodes = sorted(monaco.nodes)
    lengths = nx.single_source_dijkstra_path_length(monaco, nodes[0], weight="travel_time")
    far = max(lengths, key=lengths.__getitem__)
    return nodes[0], far


@pytest.fixture(scope="module")
def fastest_path(monaco: nx.MultiDiGraph, far_apart: tuple[int, int]) -> list[int]:
    path: list[int] = nx.shortest_path(monaco, *far_apart, weight="travel_time")
    return path
