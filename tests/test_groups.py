"""Query structure: group sizes and qid, validated and converted once."""

from __future__ import annotations

import numpy as np
import pytest

from gbrank._groups import groups_from_qid, groups_from_sizes, make_groups


def test_sizes_to_offsets():
    groups = groups_from_sizes([2, 1, 3], 6)
    np.testing.assert_array_equal(groups.offsets, [0, 2, 3, 6])
    assert groups.offsets.dtype == np.int64
    assert groups.n_groups == 3
    assert groups.n_rows == 6
    np.testing.assert_array_equal(groups.sizes, [2, 1, 3])
    np.testing.assert_array_equal(groups.row_group(), [0, 0, 1, 2, 2, 2])


def test_qid_runs_to_offsets_need_not_be_sorted():
    groups = groups_from_qid(np.array([7, 7, 2, 9, 9, 9]), 6)
    np.testing.assert_array_equal(groups.offsets, [0, 2, 3, 6])
    strings = groups_from_qid(np.array(["b", "b", "a"]), 3)
    np.testing.assert_array_equal(strings.offsets, [0, 2, 3])


def test_integer_valued_float_sizes_are_accepted():
    np.testing.assert_array_equal(
        groups_from_sizes(np.array([2.0, 1.0]), 3).offsets, [0, 2, 3]
    )


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ([2, 2], r"group sizes sum to 4 but there are 5 rows"),
        ([3, 0, 2], r"group sizes must be positive; group\[1\] = 0"),
        ([3, -1, 3], r"group sizes must be positive; group\[1\] = -1"),
        ([2.5, 2.5], r"group sizes must be integers; group\[0\] = 2.5"),
        ([[5]], r"group must be a 1-D array"),
        ([], r"group is empty"),
        ([np.nan, 5], r"group sizes must be integers"),
    ],
)
def test_bad_group_sizes(sizes, message):
    with pytest.raises(ValueError, match=message):
        groups_from_sizes(np.array(sizes), 5)


def test_string_group_sizes():
    with pytest.raises(TypeError, match="group must hold integer group sizes"):
        groups_from_sizes(np.array(["2", "3"]), 5)


def test_qid_not_contiguous():
    with pytest.raises(ValueError, match=r"query id 1 appears again at row 3"):
        groups_from_qid(np.array([1, 1, 2, 1]), 4)


@pytest.mark.parametrize(
    ("qid", "message"),
    [
        (np.array([1, 1, 2]), r"qid has 3 entries but there are 4 rows"),
        (np.array([[1, 1, 2, 2]]), r"qid must be 1-D"),
        (np.array([1.0, np.nan, 2.0, 2.0]), r"qid contains NaN or inf at row 1"),
    ],
)
def test_bad_qid(qid, message):
    with pytest.raises(ValueError, match=message):
        groups_from_qid(qid, 4)


def test_both_group_and_qid():
    with pytest.raises(ValueError, match=r"either group .* or qid .*, not both"):
        make_groups(2, group=[2], qid=[0, 0])


def test_neither_is_one_group():
    np.testing.assert_array_equal(make_groups(4).offsets, [0, 4])
