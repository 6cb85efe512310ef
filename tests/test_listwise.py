"""Listwise losses: ListMLE's ties, weights and epsilon, ListNet's targets,
rank-one ListNet's semantics and surrogate."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gbrank


def _plackett_luce(t):
    """-log P(order 0, 1, 2, ...) by hand."""
    return sum(math.log(sum(math.exp(x) for x in t[k:])) - t[k] for k in range(len(t)))


def test_listmle_breaks_label_ties_by_row_order():
    loss = gbrank.ListMLELoss()
    value = loss.loss([1.0, 1.0, 0.0], [0.0, 3.0, 1.0], reduction="sum")
    assert value == pytest.approx(_plackett_luce([0.0, 3.0, 1.0]), rel=1e-12)
    swapped = loss.loss([1.0, 1.0, 0.0], [3.0, 0.0, 1.0], reduction="sum")
    assert swapped == pytest.approx(_plackett_luce([3.0, 0.0, 1.0]), rel=1e-12)
    assert swapped != pytest.approx(value)


def test_listmle_per_row_weights_weight_their_stage():
    loss = gbrank.ListMLELoss()
    value = loss.loss(
        [2.0, 1.0, 0.0],
        [0.3, -1.0, 2.0],
        sample_weight=[2.0, 5.0, 9.0],
        reduction="sum",
    )
    t = [0.3, -1.0, 2.0]
    by_hand = 2.0 * (math.log(sum(math.exp(x) for x in t)) - t[0]) + 5.0 * (
        math.log(math.exp(t[1]) + math.exp(t[2])) - t[1]
    )  # the last stage costs 0 whatever its weight
    assert value == pytest.approx(by_hand, rel=1e-12)


def _keras_listmle(labels, scores):
    """keras_rs's formula: max shift, then log(cumsum + 1e-10)."""
    t = scores[np.argsort(-labels, kind="stable")]
    t = t - t.max()
    suffix = np.cumsum(np.exp(t)[::-1])[::-1]
    return -np.sum(t - np.log(suffix + 1e-10))


def test_listmle_drops_kerass_epsilon():
    loss = gbrank.ListMLELoss()
    labels = np.array([2.0, 1.0, 0.0])
    close = np.array([0.5, 1.0, -0.3])
    assert loss.loss(labels, close) == pytest.approx(
        _keras_listmle(labels, close), rel=1e-9
    )
    spread = np.array([0.0, 30.0, 10.0])  # the last stage's sum is e^-20 < 1e-8
    exact = _plackett_luce(list(spread))
    assert loss.loss(labels, spread) == pytest.approx(exact, rel=1e-12)
    assert abs(_keras_listmle(labels, spread) - exact) > 1e-3


def test_listmle_singletons_and_empty_lists_give_zero():
    loss = gbrank.ListMLELoss()
    values = loss.loss(
        [1.0, -1.0, -1.0], [5.0, 1.0, 2.0], group=[1, 2], reduction="none"
    )
    np.testing.assert_array_equal(values, [0.0, 0.0])
    grad, _ = loss.grad_hess([1.0, -1.0, -1.0], [5.0, 1.0, 2.0], group=[1, 2])
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.0])


def test_listnet_sum_normalisation_is_softmax_over_label_mass():
    labels, scores = np.array([3.0, 1.0, 0.0]), np.array([0.2, -0.4, 1.0])
    listnet = gbrank.ListNetLoss(label_normalization="sum").loss(
        labels, scores, reduction="sum"
    )
    softmax = gbrank.SoftmaxLoss().loss(labels, scores, reduction="sum")
    assert listnet == pytest.approx(softmax / 4, rel=1e-12)


def test_rank_one_listnet_infimum_is_m_log_m():
    loss = gbrank.RankOneListNetLoss()
    labels = [1.0, 1.0, 1.0, 0.0, 0.0]
    value = loss.loss(labels, [30.0, 30.0, 30.0, -30.0, -30.0], reduction="sum")
    assert value == pytest.approx(3 * math.log(3), rel=1e-12)


def test_rank_one_listnet_no_click_list_pulls_scores_together():
    grad, _ = gbrank.RankOneListNetLoss().grad_hess([0.0, 0.0, 0.0], [2.0, 0.0, -1.0])
    assert grad[0] > 0 > grad[2]


def test_rank_one_listnet_single_record_list_has_zero_gradient():
    loss = gbrank.RankOneListNetLoss()
    grad, _ = loss.grad_hess([0.0, 1.0, -1.0], [3.0, 1.0, 2.0], group=[1, 2])
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.0])
    assert loss.loss([0.0], [3.0], reduction="sum") == 0.0


def test_rank_one_listnet_exact_hessian_is_often_negative():
    """Why the surrogate exists: the exact diagonal (finite differences of the
    gradient) is negative on a good share of one-click rows; Gauss-Newton is not."""
    rng = np.random.default_rng(0)
    loss = gbrank.RankOneListNetLoss()
    sizes = np.full(200, 10)
    labels = np.zeros(2000)
    labels[np.arange(200) * 10 + rng.integers(0, 10, 200)] = 1.0
    scores = rng.normal(scale=2.0, size=2000)  # a spread typical after training
    h = 1e-5
    up = loss.grad_hess(labels, scores + h, group=sizes)[0]
    down = loss.grad_hess(labels, scores - h, group=sizes)[0]
    # shifting a whole list changes nothing, so use per-row perturbations
    exact = np.empty(2000)
    for k in range(10):
        step = np.zeros(2000)
        step[k::10] = h
        exact[k::10] = (
            loss.grad_hess(labels, scores + step, group=sizes)[0][k::10]
            - loss.grad_hess(labels, scores - step, group=sizes)[0][k::10]
        ) / (2 * h)
    np.testing.assert_allclose(up, down, atol=1e-9)
    negative_share = np.mean(exact < 0)
    assert 0.15 < negative_share < 0.6
    assert np.all(loss.grad_hess(labels, scores, group=sizes)[1] > 0)
