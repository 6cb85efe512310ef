"""Kernels at scale: big groups against the oracles, the sorted and O(n) pairwise
algorithms against the all-pairs kernel, kink and tie conventions, the log-domain
fallbacks, ``need_loss`` and a single 20k-row query for every ranking loss."""

from __future__ import annotations

import itertools
import math

import numba
import numpy as np
import pytest

import gbrank
from gbrank import _kernels, _pair_kernels
from gbrank.losses import HESSIAN_FLOOR

from . import _oracles
from ._cases import labels_for, make_case, ranking_losses

PAIRWISE = [name for name in ranking_losses() if name.startswith("pairwise")]
LISTWISE = [name for name in ranking_losses() if not name.startswith("pairwise")]


def big_case(loss, sizes, seed=0, grid=0.5):
    """Groups of the given sizes; scores on a grid (ties, pairs at the hinge's
    kink d = 1 exactly), labels with ties, ~15 % ignored rows, an all-ignored
    group of 5 rows."""
    rng = np.random.default_rng(seed)
    sizes = np.array([*sizes, 5])
    n = int(sizes.sum())
    labels = labels_for(loss, n, rng)
    labels[-5:] = -1.0
    scores = rng.integers(-8, 9, size=n) * grid
    return labels, scores, rng.uniform(0.5, 2.0, size=n), sizes


def oracle(loss, labels, scores, weights, sizes):
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    if not loss.name.startswith("pairwise"):
        return _oracles.apply(loss, labels, scores, weights, offsets)
    parts = [
        _oracles.pairwise_dense(loss, labels[a:b], scores[a:b], weights[a:b])
        for a, b in itertools.pairwise(offsets)
    ]
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))


def check(loss, labels, scores, weights, sizes):
    values, grad, hess = oracle(loss, labels, scores, weights, sizes)
    kwargs = {"group": sizes, "sample_weight": weights}
    got = loss.loss(labels, scores, reduction="none", **kwargs)
    got_grad, got_hess = loss.grad_hess(labels, scores, **kwargs)
    np.testing.assert_allclose(got, values, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(got_grad, grad, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(got_hess, np.maximum(hess, HESSIAN_FLOOR), rtol=1e-10)


@pytest.mark.parametrize("name", PAIRWISE)
def test_dense_oracle_equals_loop_oracle(name):
    loss = gbrank.get_loss(name)
    case = make_case(loss, seed=4)
    check(loss, case.y_true, case.y_pred, case.sample_weight, case.group)


@pytest.mark.parametrize("name", ranking_losses())
def test_groups_of_hundreds_of_rows_match_the_oracle(name):
    loss = gbrank.get_loss(name)
    check(loss, *big_case(loss, [300, 1, 2, 700]))


HINGES = [
    gbrank.PairwiseHingeLoss(),
    gbrank.PairwiseHingeLoss(temperature=0.5),
    gbrank.PairwiseHingeLoss(temperature=0.3, hessian="constant"),
    gbrank.PairwiseHingeLoss(temperature=1.5),
]


@pytest.mark.parametrize("loss", HINGES, ids=repr)
@pytest.mark.parametrize("step", [0.5, 0.1, 1 / 3])
def test_sorted_hinge_keeps_the_kink_and_tie_conventions(loss, step):
    """Score ties, label ties and pairs with d = 1 up to rounding, on both sides:
    the O(n log n) hinge must count exactly the pairs with d < 1."""
    grid = step * loss.temperature
    labels, scores, weights, sizes = big_case(loss, [400, 3, 1200], seed=1, grid=grid)
    d = np.subtract.outer(scores[:400], scores[:400]) / loss.temperature
    assert (np.abs(d - 1.0) < 1e-12).any()
    check(loss, labels, scores, weights, sizes)


@pytest.mark.parametrize(
    ("name", "lambda_weight"),
    [
        ("pairwise_logistic", None),
        ("pairwise_soft_zero_one", "label_diff"),
        ("pairwise_hinge", "label_diff"),
        ("pairwise_mse", "label_diff"),
    ],
)
def test_groups_split_over_threads_match_the_oracle(name, lambda_weight):
    """Groups of LARGE_GROUP rows or more are split over the threads."""
    loss = gbrank.get_loss(name, lambda_weight=lambda_weight)
    size = _pair_kernels.LARGE_GROUP + 37
    check(loss, *big_case(loss, [size, 40]))


def _kernel_outputs(n_rows):
    return np.zeros(n_rows), np.zeros(n_rows), np.zeros(n_rows)


@pytest.mark.parametrize("temperature", [1.0, 0.7])
@pytest.mark.parametrize("hessian_mode", [0, 1])
def test_sorted_hinge_equals_all_pairs_on_a_20k_row_query(temperature, hessian_mode):
    loss = gbrank.PairwiseHingeLoss()
    labels, scores, weights, sizes = big_case(loss, [20_000], grid=0.01)
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    data = (labels, scores, weights, offsets)
    fast, slow = _kernel_outputs(labels.size), _kernel_outputs(labels.size)
    _pair_kernels.hinge_sorted(*data, temperature, hessian_mode, True, *fast)
    _pair_kernels.all_pairs(
        *data, _kernels.HINGE, temperature, hessian_mode, 0, 0, 0, True,
        numba.get_num_threads(), *slow,
    )  # fmt: skip
    for got, expected in zip(fast, slow, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-8)


def test_squared_error_sums_equal_all_pairs_on_a_20k_row_query():
    loss = gbrank.PairwiseMeanSquaredError()
    labels, scores, weights, sizes = big_case(loss, [20_000, 7], grid=0.01)
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    data = (labels, scores, weights, offsets)
    fast, slow = _kernel_outputs(labels.size), _kernel_outputs(labels.size)
    _pair_kernels.squared_error_sums(*data, True, *fast)
    _pair_kernels.all_pairs(
        *data, _kernels.SQUARED_ERROR, 1.0, 0, 0, 0, 0, True,
        numba.get_num_threads(), *slow,
    )  # fmt: skip
    for got, expected in zip(fast, slow, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-6)


@pytest.mark.parametrize("name", ranking_losses())
def test_a_single_20k_row_query_works(name):
    """Every ranking loss on one 20,000-row query (the benchmark runs 100,000)."""
    loss = gbrank.get_loss(name)
    rng = np.random.default_rng(2)
    labels = labels_for(loss, 20_000, rng)
    scores = rng.normal(size=20_000)
    grad, hess = loss.grad_hess(labels, scores, group=[20_000])
    value = loss.loss(labels, scores, group=[20_000])
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad))
    assert np.all(hess >= HESSIAN_FLOOR)
    assert np.all(np.isfinite(hess))


@pytest.mark.parametrize(
    "loss", [gbrank.get_loss(n) for n in ranking_losses()], ids=repr
)
def test_grad_hess_skips_the_loss_and_changes_nothing_else(loss):
    case = make_case(loss, seed=3)
    batch = loss._batch(case.y_true, case.y_pred, case.group, None, None, None)
    values, grad, hess = loss._compute(batch, need_loss=True)
    no_values, no_grad, no_hess = loss._compute(batch, need_loss=False)
    assert values.any()
    np.testing.assert_array_equal(grad, no_grad)
    np.testing.assert_array_equal(hess, no_hess)
    if loss.name != "sigmoid_cross_entropy":
        assert not no_values.any()


@pytest.mark.parametrize("spread", [250.0, 299.0, 301.0, 2000.0])
@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_listmle_linear_and_log_domains_agree_with_the_oracle(spread, temperature):
    """Groups whose tempered scores spread more than LINEAR_DOMAIN_SPREAD take the
    log domain; both sides of the switch match the oracle."""
    loss = gbrank.ListMLELoss(temperature=temperature)
    rng = np.random.default_rng(0)
    labels = rng.permutation(40) / 4.0
    scores = np.linspace(0.0, spread * temperature, 40)[rng.permutation(40)]
    check(loss, labels, scores, rng.uniform(0.5, 2.0, 40), np.array([40]))


def test_rank_one_listnet_top_row_far_ahead():
    """The others' probability mass underflows: log(1 - p_top) comes from the
    second-largest score, not from log(0)."""
    loss = gbrank.RankOneListNetLoss()
    labels, scores = np.array([0.0, 1.0, 0.0]), np.array([800.0, 0.0, 0.5])
    expected = (800.0 - math.log1p(math.exp(0.5))) + 800.0  # rows 0 and 1
    assert loss.loss(labels, scores, reduction="sum") == pytest.approx(expected)
    grad, hess = loss.grad_hess(labels, scores)
    share = 1.0 / (1.0 + math.exp(0.5))  # row 1's share of the others' mass
    np.testing.assert_allclose(grad, [2.0, -1.0 - share, share - 1.0], atol=1e-12)
    assert np.all(np.isfinite(hess))
