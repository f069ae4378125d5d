from datetime import UTC, datetime

from benchmarks.search import CONFUSIONS, KINDS, queries

END = datetime(2026, 11, 1, tzinfo=UTC)
PLATES = ["51F12345", "30A98765", "29B112345"]


def test_a_workload_holds_each_kind_it_was_asked_for_and_no_other() -> None:
    every = queries(PLATES, END, per_kind=3, seed=2)
    assert sorted({kind for kind, _ in every}) == sorted(KINDS.values())
    assert len(every) == 3 * len(KINDS)
    exact = queries(PLATES, END, per_kind=3, seed=2, kinds=["exact"])
    assert [q for q in every if q[0] == "exact"] == exact
    assert all(body["plate"] in PLATES for _, body in exact)


def test_a_fuzzy_query_misreads_one_look_alike_character_of_a_real_plate() -> None:
    # ACD3479 has no character with a look-alike: only 51F12345 can be misread.
    fuzzy = queries(["ACD3479", "51F12345"], END, per_kind=20, seed=2, kinds=["fuzzy"])
    assert len(fuzzy) == 20
    for _, body in fuzzy:
        changed = [(a, b) for a, b in zip("51F12345", body["plate"], strict=True) if a != b]
        assert len(changed) == 1 and CONFUSIONS[changed[0][0]] == changed[0][1]
        assert body["max_distance"] == 1
