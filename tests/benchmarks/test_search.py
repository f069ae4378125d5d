from datetime import UTC, datetime

from benchmarks.search import KINDS, queries

END = datetime(2026, 11, 1, tzinfo=UTC)
PLATES = ["51F12345", "30A98765", "29B112345"]


def test_a_workload_holds_each_kind_it_was_asked_for_and_no_other() -> None:
    every = queries(PLATES, END, per_kind=3, seed=2)
    assert sorted({kind for kind, _ in every}) == sorted(KINDS.values())
    assert len(every) == 3 * len(KINDS)
    exact = queries(PLATES, END, per_kind=3, seed=2, kinds=["exact"])
    assert [q for q in every if q[0] == "exact"] == exact
    assert all(body["plate"] in PLATES for _, body in exact)
