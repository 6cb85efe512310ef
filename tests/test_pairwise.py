"""Pairwise losses: the hinge's kink and surrogate, logistic and soft zero-one by
hand, the squared error's pairs, lambda weights, and the fast algorithms (sorted
hinge, O(n) squared error) against the all-pairs kernel."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import gbrank
from gbrank.losses import HESSIAN_FLOOR

from . import _oracles
from ._cases import PAIRWISE_LOSSES, make_case


def _softplus(x):
    return math.log1p(math.exp(x))


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_hinge_hessian_surrogates():
    labels, scores = np.array([2.0, 1.0, 0.0]), np.array([0.0, 0.5, 3.0])
    active = gbrank.PairwiseHingeLoss().grad_hess(labels, scores)[1]
    # pairs (0,1) d=-0.5 active, (0,2) d=-3 active, (1,2) d=-2.5 active
    np.testing.assert_allclose(active, [2.0, 2.0, 2.0])
    constant = gbrank.PairwiseHingeLoss(hessian="constant", temperature=2.0)
    np.testing.assert_allclose(constant.grad_hess(labels, scores)[1], [0.25] * 3)


def test_pairwise_mse_pairs_include_label_ties_and_carry_the_first_rows_weight():
    loss = gbrank.PairwiseMeanSquaredError()
    values = loss.loss(
        [1.0, 1.0], [0.0, 2.0], sample_weight=[3.0, 0.5], reduction="none"
    )
    np.testing.assert_allclose(values, [[3.0 * 4.0, 0.5 * 4.0]])
    grad, hess = loss.grad_hess([1.0, 1.0], [0.0, 2.0], sample_weight=[3.0, 0.5])
    # d/ds_0 of 3 (0 - (s0 - s1))^2 + 0.5 (0 - (s1 - s0))^2 = 2 (3 + 0.5)(s0 - s1)
    np.testing.assert_allclose(grad, [2 * 3.5 * -2.0, 2 * 3.5 * 2.0])
    np.testing.assert_allclose(hess, [7.0, 7.0])


def test_pairwise_mse_has_no_temperature():
    with pytest.raises(ValueError, match="has no parameter 'temperature'"):
        gbrank.get_loss("pairwise_mse", temperature=2.0)


def test_logistic_is_stable_for_extreme_differences():
    loss = gbrank.PairwiseLogisticLoss()
    assert loss.loss([1.0, 0.0], [-800.0, 800.0], reduction="sum") == pytest.approx(
        1600.0
    )
    assert loss.loss([1.0, 0.0], [800.0, -800.0], reduction="sum") == 0.0
    grad, hess = loss.grad_hess([1.0, 0.0], [-800.0, 800.0])
    np.testing.assert_allclose(grad, [-1.0, 1.0])
    assert np.all(hess == HESSIAN_FLOOR)


def test_logistic_gradient_and_hessian_by_hand():
    loss = gbrank.PairwiseLogisticLoss(temperature=2.0)
    grad, hess = loss.grad_hess([1.0, 0.0], [1.0, 0.0], sample_weight=[3.0, 7.0])
    d = 0.5
    np.testing.assert_allclose(grad, [-3 * _sigmoid(-d) / 2, 3 * _sigmoid(-d) / 2])
    np.testing.assert_allclose(hess, [3 * _sigmoid(d) * _sigmoid(-d) / 4] * 2)


def test_soft_zero_one_surrogate_bounds_the_exact_hessian():
    loss = gbrank.PairwiseSoftZeroOneLoss()
    case = make_case(loss, seed=4)
    _, hess = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    h = 1e-5
    exact = np.zeros(case.y_pred.size)
    for k in range(case.y_pred.size):
        up, down = case.y_pred.copy(), case.y_pred.copy()
        up[k] += h
        down[k] -= h
        exact[k] = (
            loss.grad_hess(case.y_true, up, **case.kwargs())[0][k]
            - loss.grad_hess(case.y_true, down, **case.kwargs())[0][k]
        ) / (2 * h)
    assert np.any(exact < -1e-3)  # the exact diagonal does go negative
    assert np.all(hess > 0)
    assert np.all(hess >= np.abs(exact) - 1e-6)
    # a lone pair at d = 0: exact curvature 0, surrogate 1/4
    np.testing.assert_allclose(loss.grad_hess([1.0, 0.0], [0.0, 0.0])[1], [0.25, 0.25])


# -- lambda weights --------------------------------------------------------------------

LAMBDA_WEIGHTS = [
    "label_diff",
    "dcg",
    "ndcg",
    gbrank.NDCGLambdaWeight(topn=3),
    gbrank.NDCGLambdaWeight(topn=2, gain="linear"),
    gbrank.DCGLambdaWeight(gain="linear"),
]


@pytest.mark.parametrize("lambda_weight", LAMBDA_WEIGHTS, ids=repr)
@pytest.mark.parametrize("name", PAIRWISE_LOSSES)
@pytest.mark.parametrize("seed", [0, 1])
def test_lambda_weights_match_the_oracle(name, lambda_weight, seed):
    loss = gbrank.get_loss(name, lambda_weight=lambda_weight)
    case = make_case(loss, seed=seed)
    values, grad, hess = _oracles.apply(
        loss, case.y_true, case.y_pred, case.sample_weight, case.offsets
    )
    got = loss.loss(case.y_true, case.y_pred, reduction="none", **case.kwargs())
    got_grad, got_hess = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    np.testing.assert_allclose(got, values, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_grad, grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_hess, np.maximum(hess, HESSIAN_FLOOR), rtol=1e-10)


@pytest.mark.parametrize("lambda_weight", LAMBDA_WEIGHTS, ids=repr)
@pytest.mark.parametrize(
    "name", ["pairwise_logistic", "pairwise_soft_zero_one", "pairwise_mse"]
)
def test_lambda_weighted_gradient_is_exact_while_ranks_hold(name, lambda_weight):
    """Distinct, well-separated scores: no rank changes within the step, so the
    frozen-weight gradient is the derivative of the loss (and of the gradient)."""
    loss = gbrank.get_loss(name, lambda_weight=lambda_weight)
    rng = np.random.default_rng(7)
    sizes = np.array([6, 9, 1, 7])
    labels = rng.integers(0, 4, sizes.sum()).astype(float)
    labels[rng.random(labels.size) < 0.15] = -1.0
    scores = rng.permutation(sizes.sum()) * 0.37 - 4.0
    weights = rng.uniform(0.5, 2.0, labels.size)
    kwargs = {"group": sizes, "sample_weight": weights}
    grad, hess = loss.grad_hess(labels, scores, **kwargs)
    h = 1e-5
    numeric_grad, numeric_hess = np.zeros(labels.size), np.zeros(labels.size)
    for k in range(labels.size):
        up, down = scores.copy(), scores.copy()
        up[k] += h
        down[k] -= h
        numeric_grad[k] = (
            loss.loss(labels, up, reduction="sum", **kwargs)
            - loss.loss(labels, down, reduction="sum", **kwargs)
        ) / (2 * h)
        numeric_hess[k] = (
            loss.grad_hess(labels, up, **kwargs)[0][k]
            - loss.grad_hess(labels, down, **kwargs)[0][k]
        ) / (2 * h)
    np.testing.assert_allclose(grad, numeric_grad, rtol=1e-6, atol=1e-8)
    if not loss.approx_hessian:
        np.testing.assert_allclose(
            hess, np.maximum(numeric_hess, HESSIAN_FLOOR), rtol=1e-5, atol=1e-7
        )


def test_ndcg_lambda_weights_by_hand():
    labels, scores = np.array([2.0, 0.0, 1.0]), np.array([0.0, 1.0, 2.0])
    # ranks by score: row 2 first, row 1 second, row 0 third; exp2 gains 3, 0, 1
    disc = {0: 1 / math.log2(4), 1: 1 / math.log2(3), 2: 1.0}
    ideal = 3 * 1.0 + 1 / math.log2(3)
    lam = {
        (0, 1): 3 * abs(disc[0] - disc[1]) / ideal,
        (0, 2): 2 * abs(disc[0] - disc[2]) / ideal,
        (2, 1): 1 * abs(disc[2] - disc[1]) / ideal,
    }
    expected = [
        lam[0, 1] * _softplus(1.0) + lam[0, 2] * _softplus(2.0),
        0.0,
        lam[2, 1] * _softplus(-1.0),
    ]
    loss = gbrank.PairwiseLogisticLoss(lambda_weight="ndcg")
    np.testing.assert_allclose(
        loss.loss(labels, scores, reduction="none")[0], expected, rtol=1e-12
    )
    dcg = gbrank.PairwiseLogisticLoss(lambda_weight="dcg")
    np.testing.assert_allclose(
        dcg.loss(labels, scores, reduction="none")[0],
        np.array(expected) * ideal,
        rtol=1e-12,
    )
    # topn=1: only the top row keeps a discount; the ideal DCG@1 is 3
    top1 = gbrank.PairwiseLogisticLoss(lambda_weight=gbrank.NDCGLambdaWeight(topn=1))
    np.testing.assert_allclose(
        top1.loss(labels, scores, reduction="none")[0],
        [2 / 3 * _softplus(2.0), 0.0, 1 / 3 * _softplus(-1.0)],
        rtol=1e-12,
    )


def test_lambda_weight_ranks_break_score_ties_by_row_order():
    loss = gbrank.PairwiseLogisticLoss(lambda_weight="dcg")
    # equal scores: row 0 is ranked first, row 1 second
    value = loss.loss([0.0, 1.0], [0.0, 0.0], reduction="sum")
    assert value == pytest.approx(1 * (1 - 1 / math.log2(3)) * math.log(2), rel=1e-12)


def test_lambda_weights_are_zero_without_gain():
    loss = gbrank.PairwiseLogisticLoss(lambda_weight="ndcg")
    grad, hess = loss.grad_hess(
        [0.0, 0.0, 0.0, 1.0], [1.0, 2.0, 3.0, 0.0], group=[3, 1]
    )
    np.testing.assert_array_equal(grad, 0.0)
    assert np.all(hess == HESSIAN_FLOOR)


def test_label_diff_weights_scale_pairs_by_label_gap():
    plain = gbrank.PairwiseLogisticLoss()
    weighted = gbrank.PairwiseLogisticLoss(lambda_weight="label_diff")
    labels, scores = [3.0, 1.0], [0.2, 0.7]
    assert weighted.loss(labels, scores, reduction="sum") == pytest.approx(
        2 * plain.loss(labels, scores, reduction="sum"), rel=1e-12
    )


@pytest.mark.parametrize(
    ("lambda_weight", "differentiable"),
    [
        (None, True),
        ("label_diff", True),
        ("dcg", False),
        (gbrank.NDCGLambdaWeight(topn=5), False),
    ],
)
def test_differentiable_flag(lambda_weight, differentiable):
    assert (
        gbrank.PairwiseLogisticLoss(lambda_weight=lambda_weight).differentiable
        is differentiable
    )
    assert gbrank.PairwiseHingeLoss(lambda_weight=lambda_weight).differentiable is False


def test_lambda_weighted_losses_pickle_compare_and_repr():
    loss = gbrank.get_loss(
        "pairwise_logistic", lambda_weight=gbrank.NDCGLambdaWeight(topn=10)
    )
    clone = pickle.loads(pickle.dumps(loss))
    assert clone == loss
    assert hash(clone) == hash(loss)
    assert repr(loss) == (
        "PairwiseLogisticLoss(lambda_weight=NDCGLambdaWeight(topn=10))"
    )
    assert loss != gbrank.PairwiseLogisticLoss(lambda_weight=gbrank.NDCGLambdaWeight())
    assert gbrank.NDCGLambdaWeight() != gbrank.DCGLambdaWeight()
    assert gbrank.DCGLambdaWeight(topn=3) == pickle.loads(
        pickle.dumps(gbrank.DCGLambdaWeight(topn=3))
    )
    assert repr(gbrank.LabelDiffLambdaWeight()) == "LabelDiffLambdaWeight()"
    ndcg = gbrank.get_loss("pairwise_logistic", lambda_weight="ndcg")
    assert ndcg.loss([1.0, 0.0], [0.0, 0.0], reduction="sum") == pytest.approx(
        gbrank.PairwiseLogisticLoss(lambda_weight=gbrank.NDCGLambdaWeight()).loss(
            [1.0, 0.0], [0.0, 0.0], reduction="sum"
        )
    )
