"""The seed losses' documented semantics: keras_rs PairwiseHingeLoss and ml4ir."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gbrank

Y_BATCH = np.array([[1.0, 0.0, 1.0, 3.0], [0.0, 1.0, 2.0, 3.0]])
S_BATCH = np.array([[1.0, 3.0, 2.0, 4.0], [1.0, 1.8, 2.0, 3.0]])
MASK = np.array([[True, True, True, True], [True, True, False, False]])
# keras_rs computes in float32 and its docs print 5 truncated decimals (0.65 -> 0.64999)
FLOAT32_PRINT = 2e-5


# -- keras_rs PairwiseHingeLoss: the five numbers of its documentation ---------------


def test_keras_unbatched():
    loss = gbrank.PairwiseHingeLoss()
    value = loss.loss([1.0, 0.0, 1.0, 3.0, 2.0], [1.0, 3.0, 2.0, 4.0, 0.8])
    assert value == pytest.approx(2.32, abs=FLOAT32_PRINT)


def test_keras_batched_default_reduction():
    assert gbrank.PairwiseHingeLoss().loss(Y_BATCH, S_BATCH) == pytest.approx(0.75)


def test_keras_mask():
    loss = gbrank.PairwiseHingeLoss()
    value = loss.loss({"labels": Y_BATCH, "mask": MASK}, S_BATCH)
    assert value == pytest.approx(0.64999, abs=FLOAT32_PRINT)
    assert loss.loss(Y_BATCH, S_BATCH, mask=MASK) == value


def test_keras_sample_weight():
    weights = np.array([[2.0, 3.0, 1.0, 1.0], [2.0, 1.0, 0.0, 0.0]])
    value = gbrank.PairwiseHingeLoss().loss(Y_BATCH, S_BATCH, sample_weight=weights)
    assert value == pytest.approx(1.02499, abs=FLOAT32_PRINT)


def test_keras_reduction_none():
    values = gbrank.PairwiseHingeLoss().loss(Y_BATCH, S_BATCH, reduction="none")
    np.testing.assert_allclose(values, [[3, 0, 2, 0], [0, 0.2, 0.8, 0]], atol=1e-6)
    assert gbrank.PairwiseHingeLoss().loss(Y_BATCH, S_BATCH, reduction=None).shape == (
        2,
        4,
    )


# -- keras_rs semantics in detail ----------------------------------------------------


def test_reductions_and_their_divisors():
    loss = gbrank.PairwiseHingeLoss()
    weights = np.array([[2.0, 3.0, 1.0, 1.0], [2.0, 1.0, 0.0, 0.0]])
    total = loss.loss(Y_BATCH, S_BATCH, sample_weight=weights, reduction="sum")
    assert total == pytest.approx(8.2)
    assert loss.loss(Y_BATCH, S_BATCH, sample_weight=weights, reduction="mean") == (
        pytest.approx(8.2 / 8)
    )
    with_weights = loss.loss(
        Y_BATCH, S_BATCH, sample_weight=weights, reduction="mean_with_sample_weight"
    )
    assert with_weights == pytest.approx(8.2 / weights.sum())
    # without weights it falls back to the element count
    assert loss.loss(Y_BATCH, S_BATCH, reduction="mean_with_sample_weight") == 0.75
    # a zero divisor gives 0
    zero = loss.loss(
        Y_BATCH, S_BATCH, sample_weight=0.0, reduction="mean_with_sample_weight"
    )
    assert zero == 0.0


def test_per_list_and_scalar_weights():
    loss = gbrank.PairwiseHingeLoss()
    per_list = np.array([[2.0], [0.5]])
    broadcast = np.repeat(per_list, 4, axis=1)
    expected = loss.loss(Y_BATCH, S_BATCH, sample_weight=broadcast)
    assert loss.loss(Y_BATCH, S_BATCH, sample_weight=per_list) == expected
    assert loss.loss(Y_BATCH, S_BATCH, sample_weight=per_list.ravel()) == expected
    assert expected == pytest.approx((2 * 5 + 0.5 * 1) / 8)
    # "as passed": the divisor is the sum of the two list weights, not of 8 items
    assert loss.loss(
        Y_BATCH, S_BATCH, sample_weight=per_list, reduction="mean_with_sample_weight"
    ) == pytest.approx((2 * 5 + 0.5 * 1) / 2.5)
    assert loss.loss(Y_BATCH, S_BATCH, sample_weight=3.0) == pytest.approx(3 * 0.75)


def test_weights_act_on_both_ends_of_a_pair():
    loss = gbrank.PairwiseHingeLoss()
    grad, _ = loss.grad_hess([1.0, 0.0], [0.0, 0.0], sample_weight=[3.0, 0.0])
    np.testing.assert_allclose(grad, [-3.0, 3.0])


def test_temperature_divides_score_differences():
    hot = gbrank.PairwiseHingeLoss(temperature=2.0)
    plain = gbrank.PairwiseHingeLoss()
    assert hot.loss(Y_BATCH, S_BATCH) == plain.loss(Y_BATCH, S_BATCH / 2)
    np.testing.assert_allclose(
        hot.grad_hess(Y_BATCH, S_BATCH)[0], plain.grad_hess(Y_BATCH, S_BATCH / 2)[0] / 2
    )


def test_ignored_labels_minus_one():
    loss = gbrank.PairwiseHingeLoss()
    labels = np.array([[1.0, 0.0, -1.0, 3.0]])
    scores = np.array([[1.0, 3.0, 2.0, 4.0]])
    assert loss.loss(labels, scores, reduction="sum") == loss.loss(
        labels, scores, mask=labels >= 0, reduction="sum"
    )
    assert loss.loss(labels, scores, reduction="none")[0, 2] == 0


def test_unbatched_input_keeps_a_batch_axis():
    loss = gbrank.PairwiseHingeLoss()
    values = loss.loss(
        [1.0, 0.0, 1.0, 3.0, 2.0], [1.0, 3.0, 2.0, 4.0, 0.8], reduction="none"
    )
    assert values.shape == (1, 5)
    grad, hess = loss.grad_hess([1.0, 0.0, 1.0, 3.0, 2.0], [1.0, 3.0, 2.0, 4.0, 0.8])
    assert grad.shape == hess.shape == (5,)


def test_flat_rows_with_groups_equal_the_padded_batch():
    loss = gbrank.PairwiseHingeLoss()
    flat = loss.loss(Y_BATCH.ravel(), S_BATCH.ravel(), group=[4, 4], reduction="none")
    np.testing.assert_array_equal(
        flat, loss.loss(Y_BATCH, S_BATCH, reduction="none").ravel()
    )
    assert loss.loss(Y_BATCH.ravel(), S_BATCH.ravel(), group=[4, 4]) == 0.75


def test_hinge_hessian_surrogates():
    labels, scores = np.array([2.0, 1.0, 0.0]), np.array([0.0, 0.5, 3.0])
    active = gbrank.PairwiseHingeLoss().grad_hess(labels, scores)[1]
    # pairs (0,1) d=-0.5 active, (0,2) d=-3 active, (1,2) d=-2.5 active
    np.testing.assert_allclose(active, [2.0, 2.0, 2.0])
    constant = gbrank.PairwiseHingeLoss(hessian="constant", temperature=2.0)
    np.testing.assert_allclose(constant.grad_hess(labels, scores)[1], [0.25] * 3)


# -- ml4ir ---------------------------------------------------------------------------


def test_sigmoid_cross_entropy_is_a_mean_over_valid_records():
    loss = gbrank.SigmoidCrossEntropyLoss()
    labels = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    scores = np.array([[0.5, -1.0, 2.0, 0.0], [1.0, 0.3, 0.0, 0.0]])
    values = loss.loss(labels, scores, mask=MASK, reduction="none")
    assert np.all(values[~MASK] == 0)
    assert loss.loss(labels, scores, mask=MASK) == pytest.approx(values.sum() / 6)
    by_hand = sum(
        math.log1p(math.exp(-s)) if y else math.log1p(math.exp(s))
        for y, s in zip(labels[MASK], scores[MASK], strict=True)
    )
    assert values.sum() == pytest.approx(by_hand)


def test_rank_one_listnet_reduction_counts_every_list():
    loss = gbrank.RankOneListNetLoss()
    labels = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    scores = np.array([[2.0, 0.0, -1.0], [0.5, 0.0, 1.0]])
    per_list = loss.loss(labels, scores, reduction="none")
    assert per_list.shape == (2,)
    assert per_list[1] > 0  # a list without clicks is not ignored
    assert loss.loss(labels, scores) == pytest.approx(per_list.sum() / 2)
    p = np.exp(scores[0]) / np.exp(scores[0]).sum()
    expected = -math.log(p[0]) - math.log(1 - p[1]) - math.log(1 - p[2])
    assert per_list[0] == pytest.approx(expected)


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


def test_softmax_is_a_mean_over_lists_of_unnormalised_cross_entropy():
    loss = gbrank.SoftmaxLoss()
    labels = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    scores = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 2.0]])
    log_p = scores[0] - np.log(np.exp(scores[0]).sum())
    expected = -(2 * log_p[0] + log_p[1])
    assert loss.loss(labels, scores) == pytest.approx(expected / 2)


def test_categorical_cross_entropy():
    loss = gbrank.CategoricalCrossEntropyLoss()
    scores = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    classes = np.array([0, 2])
    log_p = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    expected = -(log_p[0, 0] + log_p[1, 2]) / 2
    assert loss.loss(classes, scores) == pytest.approx(expected)
    assert loss.loss(np.eye(3)[classes], scores) == pytest.approx(expected)
    proba = loss.activation(scores)
    np.testing.assert_allclose(proba, np.exp(log_p))


@pytest.mark.parametrize(
    ("factor", "expected"),
    [(None, 1.0), ("exact", 1.0), ("lightgbm", 1.5), ("xgboost", 2.0), (0.5, 0.5)],
)
def test_categorical_hessian_factor(factor, expected):
    loss = gbrank.CategoricalCrossEntropyLoss(hessian_factor=factor)
    scores = np.array([[2.0, 0.0, -1.0]])
    p = np.exp(scores) / np.exp(scores).sum()
    np.testing.assert_allclose(loss.grad_hess([1], scores)[1], expected * p * (1 - p))


def test_categorical_engine_defaults():
    loss = gbrank.CategoricalCrossEntropyLoss()
    assert loss.for_engine("lightgbm").hessian_factor == "lightgbm"
    assert loss.for_engine("xgboost").hessian_factor == "xgboost"
    fixed = gbrank.CategoricalCrossEntropyLoss(hessian_factor=3.0)
    assert fixed.for_engine("lightgbm") is fixed
