from __future__ import annotations

import socket

from benchmarks.common import free_port, percentile


def test_percentile_picks_the_value_at_the_share() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)) == (
        51.0,
        100.0,
        100.0,
    )
    assert percentile([7.0], 0.99) == 7.0


def test_free_port_can_be_bound() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", free_port()))
