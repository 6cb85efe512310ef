"""The loss family beyond the seeds: keras_rs's pairwise losses and ListMLE, ListNet,
lambda weights. Hand-computed values per loss and reduction, keras_rs's numbers."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import gbrank
from gbrank.losses import HESSIAN_FLOOR

from . import _oracles
from ._cases import make_case

# keras_rs's unit-test inputs (keras_rs/src/losses/*_test.py) ...
Y5 = np.array([[1.0, 0.0, 1.0, 3.0, 2.0], [0.0, 1.0, 2.0, 3.0, 1.5]])
S5 = np.array([[1.0, 3.0, 2.0, 4.0, 0.8], [1.0, 1.8, 2.0, 3.0, 2.0]])
MASK5 = np.array([[True] * 5, [True, True, True, False, False]])
W5 = np.array([[1.0] * 5, [1.0, 1.0, 1.0, 0.0, 0.0]])
# ... and its docstring inputs
Y4 = np.array([[1.0, 0.0, 1.0, 3.0], [0.0, 1.0, 2.0, 3.0]])
S4 = np.array([[1.0, 3.0, 2.0, 4.0], [1.0, 1.8, 2.0, 3.0]])
MASK4 = np.array([[True, True, True, True], [True, True, False, False]])
W4 = np.array([[2.0, 3.0, 1.0, 1.0], [2.0, 1.0, 0.0, 0.0]])
KERAS = 1e-5  # keras_rs computes in float32

KERAS_UNIT_TESTS = {
    "pairwise_logistic": {
        "none": [
            [2.126928, 0.0, 1.313262, 0.52873, 4.566504],
            [0.0, 0.371101, 1.604548, 1.016734, 0.9114],
        ],
        "temperature": [
            [4.01815, 0.0, 2.126928, 0.149214, 7.812055],
            [0.0, 0.183901, 1.333091, 0.358842, 0.639943],
        ],
        "masked_second_row": [0.0, 0.371101, 0.9114, 0.0, 0.0],
        "sum_over_batch_size": 1.243921,
    },
    "pairwise_soft_zero_one": {
        "none": [
            [0.880797, 0.0, 0.731059, 0.474736, 2.218608],
            [0.0, 0.310025, 1.219108, 0.888561, 0.719108],
        ],
        "temperature": [
            [0.982014, 0.0, 0.880797, 0.141321, 2.503386],
            [0.0, 0.167982, 1.020515, 0.339565, 0.520515],
        ],
        "masked_second_row": [0.0, 0.310025, 0.719108, 0.0, 0.0],
        "sum_over_batch_size": 0.744200,
    },
    "pairwise_mse": {
        "none": [[12.44, 34.64, 9.84, 9.84, 28.76], [2.29, 1.41, 1.89, 1.89, 0.84]],
        # keras_rs's PairwiseMeanSquaredError ignores its temperature
        "temperature": [
            [12.44, 34.64, 9.84, 9.84, 28.76],
            [2.29, 1.41, 1.89, 1.89, 0.84],
        ],
        "masked_second_row": [1.04, 0.68, 1.64, 0.0, 0.0],
        "sum_over_batch_size": 10.384,
    },
}

# keras_rs docstrings: unbatched, batched, masked, weighted, (reduction none)
KERAS_DOCS = {
    "pairwise_logistic": (1.70708, 0.73936, 0.53751, 0.80337),
    "pairwise_soft_zero_one": (0.86103, 0.46202, 0.29468, 0.40478),
    "pairwise_mse": (19.10400, 5.57999, 4.76000, 11.0500),
}
DOCS_NONE = {
    # keras_rs's PairwiseLogisticLoss docstring prints the hinge's second row
    # ([0, 0.2, 0.8, 0]) by mistake; its batched 0.73936 agrees with these values.
    "pairwise_logistic": [
        [2.126928, 0.0, 1.313262, 0.488777],
        [0, 0.371101, 0.911401, 0.703472],
    ],
    "pairwise_soft_zero_one": [
        [0.8807971, 0.0, 0.73105854, 0.43557024],
        [0.0, 0.31002545, 0.7191075, 0.61961967],
    ],
    "pairwise_mse": [[11.0, 17.0, 5.0, 5.0], [2.04, 1.3199998, 1.6399999, 1.6399999]],
}
KERAS_PAIRWISE = sorted(KERAS_UNIT_TESTS)


def _new(name, **params):
    if name == "pairwise_mse":
        params.pop("temperature", None)
    return gbrank.get_loss(name, **params)


# -- keras_rs numbers ----------------------------------------------------------------


@pytest.mark.parametrize("name", KERAS_PAIRWISE)
def test_keras_unit_test_values(name):
    expected = KERAS_UNIT_TESTS[name]
    loss = gbrank.get_loss(name)
    np.testing.assert_allclose(
        loss.loss(Y5, S5, reduction="none"), expected["none"], atol=KERAS
    )
    np.testing.assert_allclose(
        loss.loss(Y5[0], S5[0], reduction="none"), [expected["none"][0]], atol=KERAS
    )
    hot = _new(name, temperature=0.5)
    np.testing.assert_allclose(
        hot.loss(Y5, S5, reduction="none"), expected["temperature"], atol=KERAS
    )
    masked = loss.loss({"labels": Y5, "mask": MASK5}, S5, reduction="none")
    np.testing.assert_allclose(masked[1], expected["masked_second_row"], atol=KERAS)
    assert loss.loss(Y5, S5) == pytest.approx(
        expected["sum_over_batch_size"], abs=KERAS
    )
    np.testing.assert_allclose(
        loss.loss(Y5, S5, sample_weight=5.0, reduction="none"),
        5 * np.array(expected["none"]),
        atol=5 * KERAS,
    )
    np.testing.assert_allclose(
        loss.loss(Y5, S5, sample_weight=W5, reduction="none"),
        W5 * np.array(expected["none"]),
        atol=KERAS,
    )


@pytest.mark.parametrize("name", KERAS_PAIRWISE)
def test_keras_docstring_values(name):
    unbatched, batched, masked, weighted = KERAS_DOCS[name]
    loss = gbrank.get_loss(name)
    # keras prints 5 truncated decimals of a float32
    assert loss.loss([*Y4[0], 2.0], [*S4[0], 0.8]) == pytest.approx(unbatched, abs=2e-5)
    assert loss.loss(Y4, S4) == pytest.approx(batched, abs=2e-5)
    assert loss.loss(Y4, S4, mask=MASK4) == pytest.approx(masked, abs=2e-5)
    assert loss.loss(Y4, S4, sample_weight=W4) == pytest.approx(weighted, abs=2e-5)
    np.testing.assert_allclose(
        loss.loss(Y4, S4, reduction="none"), DOCS_NONE[name], atol=KERAS
    )


def test_keras_listmle_values():
    loss = gbrank.ListMLELoss()
    np.testing.assert_allclose(
        loss.loss(Y5, S5, reduction="none"), [6.865693, 3.088192], atol=KERAS
    )
    assert loss.loss(Y5[0], S5[0], reduction="none").shape == (1,)
    assert loss.loss(Y5, S5) == pytest.approx(4.9769425, abs=KERAS)
    hot = gbrank.ListMLELoss(temperature=0.5)
    np.testing.assert_allclose(
        hot.loss(Y5, S5, reduction="none"), [10.969891, 2.1283305], atol=KERAS
    )
    np.testing.assert_allclose(
        loss.loss(Y5, S5, sample_weight=5.0, reduction="none"),
        [5 * 6.865693, 5 * 3.088192],
        atol=5 * KERAS,
    )


# -- hand-computed values, every reduction ---------------------------------------------

# one list of three rows (labels 2, 0, 1) and a padded list (labels 1, 0, masked)
Y_SMALL = np.array([[2.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
S_SMALL = np.array([[0.0, 1.0, 2.0], [0.5, 0.0, 3.0]])
M_SMALL = np.array([[True, True, True], [True, True, False]])
W_SMALL = np.array([[2.0, 1.0, 3.0], [0.5, 1.0, 4.0]])


def _softplus(x):
    return math.log1p(math.exp(x))


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


def _per_row_pairwise(name):
    """reduction="none" by hand for Y_SMALL, S_SMALL, M_SMALL (unweighted)."""
    if name == "pairwise_logistic":
        f = {d: _softplus(-d) for d in (-1.0, -2.0, 1.0, 0.5)}
    elif name == "pairwise_soft_zero_one":
        f = {d: _sigmoid(-d) for d in (-1.0, -2.0, 1.0, 0.5)}
    else:  # pairs of list 1: (0,1) yd 2 sd -1; (0,2) yd 1 sd -2; (1,2) yd -1 sd -1
        first = [(2 + 1) ** 2 + (1 + 2) ** 2, (-2 - 1) ** 2 + (-1 + 1) ** 2]
        first.append((-1 - 2) ** 2 + (1 - 1) ** 2)
        return np.array([first, [(1 - 0.5) ** 2, (-1 + 0.5) ** 2, 0.0]])
    # list 1: pairs (0,1) d=-1, (0,2) d=-2, (2,1) d=1; list 2: (0,1) d=0.5
    return np.array([[f[-1.0] + f[-2.0], 0.0, f[1.0]], [f[0.5], 0.0, 0.0]])


@pytest.mark.parametrize("name", KERAS_PAIRWISE)
def test_pairwise_reductions_by_hand(name):
    loss = gbrank.get_loss(name)
    per_row = _per_row_pairwise(name)
    kwargs = {"mask": M_SMALL, "sample_weight": W_SMALL}
    np.testing.assert_allclose(
        loss.loss(Y_SMALL, S_SMALL, mask=M_SMALL, reduction="none"), per_row, rtol=1e-12
    )
    weighted = W_SMALL * per_row
    np.testing.assert_allclose(
        loss.loss(Y_SMALL, S_SMALL, reduction="none", **kwargs), weighted, rtol=1e-12
    )
    total = weighted.sum()
    assert loss.loss(Y_SMALL, S_SMALL, reduction="sum", **kwargs) == pytest.approx(
        total, rel=1e-12
    )
    for reduction in ("sum_over_batch_size", "mean", "auto"):
        value = loss.loss(Y_SMALL, S_SMALL, reduction=reduction, **kwargs)
        assert value == pytest.approx(total / 6, rel=1e-12)  # masked slot counted
    mean_w = loss.loss(Y_SMALL, S_SMALL, reduction="mean_with_sample_weight", **kwargs)
    assert mean_w == pytest.approx(total / W_SMALL.sum(), rel=1e-12)
    assert loss.loss(Y_SMALL, S_SMALL, reduction="mean_over_valid", **kwargs) == (
        pytest.approx(total / 5, rel=1e-12)
    )


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
    with pytest.raises(TypeError, match="temperature"):
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


# -- ListMLE ---------------------------------------------------------------------------


def _plackett_luce(t):
    """-log P(order 0, 1, 2, ...) by hand."""
    return sum(math.log(sum(math.exp(x) for x in t[k:])) - t[k] for k in range(len(t)))


def test_listmle_by_hand_with_every_reduction():
    loss = gbrank.ListMLELoss()
    first = _plackett_luce([0.0, 2.0, 1.0])  # labels 2, 1, 0 -> rows 0, 2, 1
    second = _plackett_luce([0.5, 0.0])
    values = loss.loss(Y_SMALL, S_SMALL, mask=M_SMALL, reduction="none")
    np.testing.assert_allclose(values, [first, second], rtol=1e-12)
    list_weights = np.array([[2.0], [0.5]])
    kwargs = {"mask": M_SMALL, "sample_weight": list_weights}
    total = 2 * first + 0.5 * second
    assert loss.loss(Y_SMALL, S_SMALL, reduction="sum", **kwargs) == pytest.approx(
        total
    )
    for reduction in ("sum_over_batch_size", "mean", "auto"):
        assert loss.loss(Y_SMALL, S_SMALL, reduction=reduction, **kwargs) == (
            pytest.approx(total / 2)  # divided by the number of lists
        )
    assert loss.loss(
        Y_SMALL, S_SMALL, reduction="mean_with_sample_weight", **kwargs
    ) == pytest.approx(total / 2.5)
    assert loss.loss(
        Y_SMALL,
        S_SMALL,
        mask=M_SMALL,
        sample_weight=list_weights.ravel(),
        reduction="none",
    ) == pytest.approx([2 * first, 0.5 * second])


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


def test_listmle_activation_is_the_tempered_top_one_probability():
    p = gbrank.ListMLELoss(temperature=2.0).activation([0.0, 2.0])
    np.testing.assert_allclose(p, np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum())


# -- ListNet ---------------------------------------------------------------------------


@pytest.mark.parametrize("normalization", ["sum", "softmax"])
def test_listnet_by_hand_with_every_reduction(normalization):
    loss = gbrank.ListNetLoss(label_normalization=normalization)
    y, s = np.array([2.0, 0.0, 1.0]), np.array([0.0, 1.0, 2.0])
    q = y / y.sum() if normalization == "sum" else np.exp(y) / np.exp(y).sum()
    log_p = s - np.log(np.exp(s).sum())
    first = -float(q @ log_p)
    labels = np.array([[2.0, 0.0, 1.0], [0.0, 0.0, 0.0]])  # no positive: 0
    scores = np.array([s, [0.5, 0.0, 3.0]])
    np.testing.assert_allclose(
        loss.loss(labels, scores, reduction="none"), [first, 0.0], rtol=1e-12
    )
    assert loss.loss(labels, scores) == pytest.approx(first / 2, rel=1e-12)
    w = np.array([[2.0, 1.0, 3.0], [0.5, 1.0, 4.0]])
    list_weight = float(w[0] @ q)
    assert loss.loss(labels, scores, sample_weight=w, reduction="sum") == pytest.approx(
        list_weight * first, rel=1e-12
    )
    assert loss.loss(
        labels, scores, sample_weight=w, reduction="mean_with_sample_weight"
    ) == (pytest.approx(list_weight * first / w.sum(), rel=1e-12))
    grad, hess = loss.grad_hess(labels, scores, sample_weight=w)
    p = np.exp(log_p)
    np.testing.assert_allclose(grad[0], list_weight * (p - q), rtol=1e-12)
    np.testing.assert_allclose(hess[0], list_weight * p * (1 - p), rtol=1e-12)
    np.testing.assert_array_equal(grad[1], 0.0)


def test_listnet_sum_normalisation_is_softmax_over_label_mass():
    labels, scores = np.array([3.0, 1.0, 0.0]), np.array([0.2, -0.4, 1.0])
    listnet = gbrank.ListNetLoss().loss(labels, scores, reduction="sum")
    softmax = gbrank.SoftmaxLoss().loss(labels, scores, reduction="sum")
    assert listnet == pytest.approx(softmax / 4, rel=1e-12)


# -- lambda weights --------------------------------------------------------------------

PAIRWISE = [
    "pairwise_hinge",
    "pairwise_logistic",
    "pairwise_soft_zero_one",
    "pairwise_mse",
]
LAMBDA_WEIGHTS = [
    "label_diff",
    "dcg",
    "ndcg",
    gbrank.NDCGLambdaWeight(topn=3),
    gbrank.NDCGLambdaWeight(topn=2, gain="linear"),
    gbrank.DCGLambdaWeight(gain="linear"),
]


@pytest.mark.parametrize("lambda_weight", LAMBDA_WEIGHTS, ids=repr)
@pytest.mark.parametrize("name", PAIRWISE)
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
        "PairwiseLogisticLoss(lambda_weight=NDCGLambdaWeight(topn=10, gain='exp2'))"
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


# -- parameter validation -------------------------------------------------------------


@pytest.mark.parametrize("name", PAIRWISE)
@pytest.mark.parametrize("bad", ["lambdarank", 1.0, gbrank.PairwiseLogisticLoss])
def test_bad_lambda_weight(name, bad):
    loss = gbrank.get_loss(name, lambda_weight=bad)
    with pytest.raises(ValueError, match=r"lambda_weight=.* is not supported"):
        loss.loss([1.0, 0.0], [0.0, 1.0])


@pytest.mark.parametrize("topn", [0, -3, 2.5, True, "10"])
def test_bad_topn(topn):
    with pytest.raises(ValueError, match=r"topn must be None or an int >= 1"):
        gbrank.NDCGLambdaWeight(topn=topn)


def test_bad_gain():
    with pytest.raises(ValueError, match=r"gain='log' is not supported"):
        gbrank.DCGLambdaWeight(gain="log")


def test_bad_label_normalization():
    loss = gbrank.ListNetLoss(label_normalization="max")
    with pytest.raises(ValueError, match=r"label_normalization='max' is not supported"):
        loss.loss([1.0, 0.0], [0.0, 1.0])


@pytest.mark.parametrize(
    "name", ["pairwise_logistic", "pairwise_soft_zero_one", "listmle"]
)
@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan")])
def test_bad_temperature(name, temperature):
    loss = gbrank.get_loss(name, temperature=temperature)
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        loss.loss([1.0, 0.0], [0.0, 1.0])


def test_registry_holds_the_family():
    assert set(gbrank.available_losses()) >= {
        "pairwise_logistic",
        "pairwise_soft_zero_one",
        "pairwise_mse",
        "listmle",
        "listnet",
    }
