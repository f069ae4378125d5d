"""The Monaco road graph, built once per session into a private cache directory."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from tests.conftest import require_shared_data
from tracing.graph import load_graph


@pytest.fixture(scope="session")
def monaco_pbf() -> Path:
    return require_shared_data(require_shared_data() / "osm" / "monaco.osm.pbf")


@pytest.fixture(scope="session")
def graph_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("graph-cache")


@pytest.fixture(scope="session")
def monaco(monaco_pbf: Path, graph_cache: Path) -> nx.MultiDiGraph:
    return load_graph(monaco_pbf, cache_dir=graph_cache)
