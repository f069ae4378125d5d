from __future__ import annotations

import pytest

from models.split import split_of


def test_split_is_fixed_by_file_name_alone() -> None:
    names = [f"{i}.jpg" for i in range(2000)]
    splits = [split_of(n) for n in names]
    assert splits == [split_of(f"some/other/folder/{n}") for n in names]
    assert 0.15 < splits.count("test") / len(splits) < 0.25


def test_a_path_without_a_file_name_is_refused() -> None:
    with pytest.raises(ValueError, match="no file name"):
        split_of("")
