from __future__ import annotations

import pytest
from sqlalchemy import Connection

from store.cotravel import CameraWindow, companions, plates_in_windows
from store.errors import InvalidInput
from tests.store.cotravel_world import at, make_cameras, seen


@pytest.fixture
def cams(conn: Connection) -> list[int]:
    return make_cameras(conn, 4)


def test_stakeout_finds_plates_in_every_window(conn: Connection, cams: list[int]) -> None:
    a, b, c, _ = cams
    seen(
        conn,
        ("51F11111", a, at(5)),
        ("51F11111", b, at(25)),
        ("51F22222", a, at(10)),
        ("51F33333", a, at(-10)),  # before A's window
        ("51F33333", b, at(30)),
        ("51F44444", a, at(14.99)),
        ("51F44444", b, at(40)),  # windows end exclusive
        ("51F55555", c, at(6)),  # another camera
    )
    windows = [CameraWindow((a,), at(0), at(15)), CameraWindow((b,), at(20), at(40))]
    both = plates_in_windows(conn, windows)
    assert [(r.plate, r.windows, r.sightings) for r in both] == [("51F11111", (0, 1), 2)]
    assert (both[0].first_seen, both[0].last_seen) == (at(5), at(25))
    either = plates_in_windows(conn, windows, min_windows=1)
    assert [r.plate for r in either] == ["51F11111", "51F22222", "51F33333", "51F44444"]
    wider = [CameraWindow((a, c), at(0), at(15))]
    assert {r.plate for r in plates_in_windows(conn, wider)} == {
        "51F11111",
        "51F22222",
        "51F44444",
        "51F55555",
    }


def test_companions_are_seen_with_the_plate_at_several_cameras(
    conn: Connection, cams: list[int]
) -> None:
    a, b, c, d = cams
    seen(
        conn,
        ("51F12345", a, at(0)),
        ("51F12345", b, at(10)),
        ("51F12345", c, at(20)),
        ("51F12345", d, at(30)),
        ("51G67890", a, at(0.1)),  # follows at a few seconds, at three cameras
        ("51G67890", b, at(9.95)),
        ("51G67890", c, at(20.2)),
        ("51H00001", a, at(0.3)),  # once only
        ("51H00002", a, at(2)),  # minutes later: not together
        ("51H00002", b, at(12)),
        ("51H00003", a, at(0.2)),  # twice, same camera only
        ("51H00003", a, at(0.25)),
    )
    found = companions(conn, "51F12345", at(-5), at(60), within_s=30, min_together=2, min_cameras=2)
    assert [(r.plate, r.together, r.cameras) for r in found] == [("51G67890", 3, 3)]
    assert found[0].mean_offset_s == pytest.approx((6 + 3 + 12) / 3)
    assert (found[0].first_together, found[0].last_together) == (at(0), at(20))
    once = companions(conn, "51F12345", at(-5), at(60), within_s=30, min_together=1, min_cameras=1)
    assert [r.plate for r in once] == ["51G67890", "51H00003", "51H00001"]  # nearer first
    assert (
        companions(conn, "51F12345", at(15), at(60), within_s=30, min_together=2, min_cameras=2)
        == []
    )


def test_bad_queries_are_refused(conn: Connection, cams: list[int]) -> None:
    a = cams[0]
    bad: list[list[CameraWindow]] = [
        [],
        [CameraWindow((), at(0), at(1))],
        [CameraWindow((a,), at(1), at(0))],
        [CameraWindow((a,), at(0), at(60 * 25))],
        [CameraWindow((a,), at(0).replace(tzinfo=None), at(1).replace(tzinfo=None))],
        [CameraWindow((a,), at(0), at(1))] * 21,
    ]
    for windows in bad:
        with pytest.raises(InvalidInput):
            plates_in_windows(conn, windows)
    with pytest.raises(InvalidInput, match="min_windows"):
        plates_in_windows(conn, [CameraWindow((a,), at(0), at(1))], min_windows=2)
    with pytest.raises(InvalidInput, match="plate"):
        companions(conn, "", at(0), at(1), within_s=30, min_together=1, min_cameras=1)
    with pytest.raises(InvalidInput, match="within_s"):
        companions(conn, "51F12345", at(0), at(1), within_s=0, min_together=1, min_cameras=1)
    with pytest.raises(InvalidInput, match="longer"):
        companions(
            conn, "51F12345", at(0), at(60 * 24 * 40), within_s=30, min_together=1, min_cameras=1
        )
