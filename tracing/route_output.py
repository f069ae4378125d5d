"""A reconstructed route as JSON: timed GeoJSON lines for map playback, and the compact form
the API serves (per segment, what was observed and what was inferred)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import networkx as nx

from tracing.graph import ODBL_CREDIT, path_geometry
from tracing.routes import Route, Segment


def _vertex_times(
    graph: nx.MultiDiGraph, segment: Segment
) -> list[tuple[tuple[float, float], datetime]]:
    """Every vertex of the segment's street geometry with an interpolated passage time."""
    out: list[tuple[tuple[float, float], datetime]] = []
    for (u, v), t0, t1 in zip(
        zip(segment.nodes, segment.nodes[1:], strict=False),
        segment.times,
        segment.times[1:],
        strict=False,
    ):
        points = path_geometry(graph, (u, v))
        steps = [0.0]
        for a, b in pairwise(points):
            steps.append(steps[-1] + math.dist(a, b))
        span = (t1 - t0).total_seconds()
        for point, walked in zip(points, steps, strict=True):
            if out and walked == 0.0:
                continue
            share = walked / steps[-1] if steps[-1] else 1.0
            out.append((point, t0 + timedelta(seconds=span * share)))
    return out


def route_geojson(graph: nx.MultiDiGraph, route: Route) -> dict[str, Any]:
    """A FeatureCollection for map playback: one timed LineString per trip, hits as points."""
    features: list[dict[str, Any]] = []
    for number, trip in enumerate(route.trips):
        vertices: list[tuple[tuple[float, float], datetime]] = []
        for segment in trip.segments:
            if segment.impossible or len(segment.nodes) < 2:
                continue
            timed = _vertex_times(graph, segment)
            vertices.extend(timed if not vertices else timed[1:])
        if len(vertices) >= 2:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[round(x, 7), round(y, 7)] for (x, y), _ in vertices],
                    },
                    "properties": {
                        "kind": "route",
                        "plate": route.plate,
                        "trip": number,
                        "times": [t.isoformat() for _, t in vertices],
                        "confidence": round(trip.confidence, 4),
                    },
                }
            )
        for hit in trip.hits:
            x, y = graph.nodes[hit.node]["x"], graph.nodes[hit.node]["y"]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [x, y]},
                    "properties": {
                        "kind": "hit",
                        "trip": number,
                        "camera_id": hit.camera_id,
                        "observed_at": hit.observed_at.isoformat(),
                    },
                }
            )
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {"plate": route.plate, "credit": ODBL_CREDIT},
    }


def route_json(route: Route) -> dict[str, Any]:
    """The compact form for the API: per segment, what was observed and what was inferred."""
    return {
        "plate": route.plate,
        "impossible_travel": len(route.impossible),
        "credit": ODBL_CREDIT,
        "trips": [
            {
                "start": trip.hits[0].observed_at.isoformat(),
                "end": trip.hits[-1].observed_at.isoformat(),
                "confidence": round(trip.confidence, 4),
                "segments": [
                    {
                        "from_camera": s.start.camera_id,
                        "to_camera": s.end.camera_id,
                        "observed_s": round(s.observed_s, 1),
                        "inferred_s": round(s.free_flow_s, 1),
                        "fastest_s": round(s.fastest_s, 1) if math.isfinite(s.fastest_s) else None,
                        "length_m": round(s.length_m, 1),
                        "confidence": round(s.confidence, 4),
                        "candidates": s.candidates,
                        "impossible": s.impossible,
                        "nodes": list(s.nodes),
                    }
                    for s in trip.segments
                ],
            }
            for trip in route.trips
        ],
    }
