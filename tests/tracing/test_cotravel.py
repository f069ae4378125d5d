from __future__ import annotations

import pytest
from sqlalchemy import Connection

from store.cotravel import CameraWindow
from store.errors import InvalidInput
from tests.store.cotravel_world import at, make_cameras, seen
from tracing.cotravel import stakeout, travelling_with


@pytest.fixture
def cams(conn: Connection) -> list[int]:
    return make_cameras(conn, 3)


def test_a_convoy_is_found_and_the_plates_own_misreads_are_not(
    conn: Connection, cams: list[int]
) -> None:
    a = cams[0]
    seen(
        conn,
        *[("51F12345", cam, at(10 * i)) for i, cam in enumerate(cams)],
        *[("51G67890", cam, at(10 * i + 0.2)) for i, cam in enumerate(cams)],
        # The target itself, misread (5 → S) at every camera: the same car, not a companion.
        *[("51F1234S", cam, at(10 * i)) for i, cam in enumerate(cams)],
        ("59X200001", a, at(0.1)),  # once: chance, not company
    )
    found = travelling_with(conn, "51F12345", at(-1), at(60))
    assert [(c.plate, c.together, c.cameras) for c in found] == [("51G67890", 3, 3)]
    assert found[0].share == 1.0
    assert found[0].mean_offset_s == pytest.approx(12.0)
    assert travelling_with(conn, "51F12345", at(-1), at(60), min_cameras=4) == []
    assert travelling_with(conn, "30A99999", at(-1), at(60)) == []


def test_stakeout_shows_look_alike_reads_side_by_side(conn: Connection, cams: list[int]) -> None:
    a, b, _ = cams
    seen(
        conn,
        ("51F12345", a, at(5)),
        ("51F12345", b, at(25)),
        ("51F1234S", b, at(26)),
        ("51F1234S", a, at(6)),
        ("51G67890", a, at(7)),
        ("51G67890", b, at(27)),
    )
    windows = [CameraWindow((a,), at(0), at(15)), CameraWindow((b,), at(20), at(40))]
    hits = {h.row.plate: h.look_alikes for h in stakeout(conn, windows)}
    assert hits == {"51F12345": ("51F1234S",), "51F1234S": ("51F12345",), "51G67890": ()}
    assert stakeout(conn, [CameraWindow((a,), at(100), at(110))]) == []


def test_bad_windows_are_refused(conn: Connection, cams: list[int]) -> None:
    with pytest.raises(InvalidInput):
        stakeout(conn, [])
    with pytest.raises(InvalidInput):
        stakeout(conn, [CameraWindow((cams[0],), at(5), at(5))])
    with pytest.raises(InvalidInput):
        travelling_with(conn, "51F12345", at(5), at(0))
