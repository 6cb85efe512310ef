"""Query structure: group sizes and qid, validated and converted once."""

from __future__ import annotations

import numpy as np
import pytest

import gbrank
from gbrank import metrics
from gbrank._groups import (
    MissingQueryError,
    as_query_ids,
    groups_from_qid,
    groups_from_sizes,
    make_groups,
    one_group,
    query_folds,
)


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


def test_neither_raises_and_one_group_is_explicit():
    with pytest.raises(
        MissingQueryError,
        match=r"the query structure of y_true is missing .* pass group=\[4\]",
    ):
        make_groups(4)
    np.testing.assert_array_equal(one_group(4).offsets, [0, 4])
    np.testing.assert_array_equal(make_groups(4, group=[4]).offsets, [0, 4])
    assert issubclass(MissingQueryError, ValueError)


# -- hostile query structure -----------------------------------------------------------

WRAPPING_SIZES = [2**62] * 3 + [2**62 + 6]  # sums to 6 in int64 arithmetic


@pytest.mark.parametrize("dtype", [np.int64, np.uint64, np.float64])
def test_group_sizes_whose_int64_sum_wraps_are_refused(dtype):
    with pytest.raises(
        ValueError, match=r"group sizes sum to 18446744073709551\d+ but there are 6"
    ):
        groups_from_sizes(np.array(WRAPPING_SIZES, dtype=dtype), 6)


@pytest.mark.parametrize(
    "call",
    [
        lambda y, s, g: gbrank.SoftmaxLoss().grad_hess(y, s, group=g),
        lambda y, s, g: gbrank.PairwiseHingeLoss().grad_hess(y, s, group=g),
        lambda y, s, g: gbrank.ListMLELoss().grad_hess(y, s, group=g),
        lambda y, s, g: metrics.ndcg(y, s, group=g),
    ],
    ids=["softmax", "pairwise_hinge", "listmle", "metrics.ndcg"],
)
def test_wrapping_group_sizes_never_reach_a_kernel(call):
    """These crashed the process (segfault) or raised SystemError."""
    with pytest.raises(ValueError, match="group sizes sum to"):
        call(np.arange(6.0), np.arange(6.0), WRAPPING_SIZES)


@pytest.mark.parametrize(
    ("qid", "offsets"),
    [
        (np.array(["b", "b", "a"], dtype=object), [0, 2, 3]),  # a pandas str column
        (np.array([7, 7, 2.0], dtype=object), [0, 2, 3]),
        ([1, "a", "a"], [0, 1, 3]),  # NumPy reads a mixed list as strings
    ],
)
def test_object_query_ids_of_one_kind_are_accepted(qid, offsets):
    np.testing.assert_array_equal(groups_from_qid(qid, 3).offsets, offsets)


@pytest.mark.parametrize(
    ("qid", "error", "message"),
    [
        (
            np.array([1, 1, "a"], dtype=object),
            TypeError,
            r"qid must hold numbers or strings of one kind; qid\[0\] is int 1 but "
            r"qid\[2\] is str 'a'",
        ),
        (np.array([None, 1, 1], dtype=object), TypeError, r"qid\[0\] is NoneType"),
        (np.array([10**20, 1, 1], dtype=object), ValueError, "beyond int64"),
        (np.array([1.0, np.nan, 2.0]), ValueError, r"NaN or inf at row 1; every row"),
        (np.array([1, 2, 3], dtype="datetime64[s]"), TypeError, "numbers or strings"),
    ],
)
def test_bad_query_ids_name_the_row_and_the_fix(qid, error, message):
    with pytest.raises(error, match=message):
        as_query_ids(qid, 3)


@pytest.mark.parametrize("shuffle", [True, False])
def test_query_folds_keep_queries_whole_and_balance_rows(shuffle):
    sizes = np.random.default_rng(0).integers(1, 30, size=40)
    folds = query_folds(sizes, 4, shuffle=shuffle, random_state=1)
    query = np.repeat(np.arange(sizes.size), sizes)
    seen = np.zeros(sizes.sum(), dtype=int)
    for train, valid in folds:
        assert np.intersect1d(query[train], query[valid]).size == 0
        np.testing.assert_array_equal(np.union1d(train, valid), np.arange(sizes.sum()))
        assert valid.size > 0.5 * sizes.sum() / 4
        seen[valid] += 1
    np.testing.assert_array_equal(seen, 1)  # every row validated exactly once


@pytest.mark.parametrize(
    ("sizes", "n_splits", "message"),
    [
        ([5], 2, "needs at least 2 queries"),
        ([2, 3], 3, r"n_splits=3 folds of whole queries need at least 3 queries"),
        ([2, 3, 4], 1, r"n_splits must be an integer >= 2"),
        ([100, 1, 1], 3, "the largest query holds 100 of the 102 rows"),
    ],
)
def test_query_folds_errors(sizes, n_splits, message):
    with pytest.raises(ValueError, match=message):
        query_folds(sizes, n_splits, shuffle=False)
