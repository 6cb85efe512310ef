"""Reference values: keras_rs's and ml4ir's documented numbers and semantics, and
values computed by hand for every reduction (one place for all of them)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gbrank
from gbrank.losses.base import REDUCTIONS
from gbrank.testing import make_case

from ._cases import ALL_LOSSES

Y_BATCH = np.array([[1.0, 0.0, 1.0, 3.0], [0.0, 1.0, 2.0, 3.0]])


S_BATCH = np.array([[1.0, 3.0, 2.0, 4.0], [1.0, 1.8, 2.0, 3.0]])


MASK = np.array([[True, True, True, True], [True, True, False, False]])


FLOAT32_PRINT = 2e-5
Y5 = np.array([[1.0, 0.0, 1.0, 3.0, 2.0], [0.0, 1.0, 2.0, 3.0, 1.5]])


S5 = np.array([[1.0, 3.0, 2.0, 4.0, 0.8], [1.0, 1.8, 2.0, 3.0, 2.0]])


MASK5 = np.array([[True] * 5, [True, True, True, False, False]])


W5 = np.array([[1.0] * 5, [1.0, 1.0, 1.0, 0.0, 0.0]])
# ... and its docstring inputs: Y_BATCH, S_BATCH, MASK and
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


def _softplus(x):
    return math.log1p(math.exp(x))


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


def _plackett_luce(t):
    """-log P(order 0, 1, 2, ...) by hand."""
    return sum(math.log(sum(math.exp(x) for x in t[k:])) - t[k] for k in range(len(t)))


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


# -- keras_rs's other losses: unit-test and docstring numbers -------------------------


def _new(name, **params):
    if name == "pairwise_mse":
        params.pop("temperature", None)
    return gbrank.get_loss(name, **params)


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
    assert loss.loss([*Y_BATCH[0], 2.0], [*S_BATCH[0], 0.8]) == pytest.approx(
        unbatched, abs=2e-5
    )
    assert loss.loss(Y_BATCH, S_BATCH) == pytest.approx(batched, abs=2e-5)
    assert loss.loss(Y_BATCH, S_BATCH, mask=MASK) == pytest.approx(masked, abs=2e-5)
    assert loss.loss(Y_BATCH, S_BATCH, sample_weight=W4) == pytest.approx(
        weighted, abs=2e-5
    )
    np.testing.assert_allclose(
        loss.loss(Y_BATCH, S_BATCH, reduction="none"), DOCS_NONE[name], atol=KERAS
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


@pytest.mark.parametrize("reduction", [r for r in REDUCTIONS if r != "none"])
@pytest.mark.parametrize("name", ALL_LOSSES)
def test_loss_parts_of_whole_lists_combine_to_the_loss(name, reduction):
    """Sum of totals / sum of divisors over parts = the loss (Dask eval sets)."""
    loss = gbrank.get_loss(name)
    case = make_case(loss, seed=1)
    group = case.group if loss.needs_groups else None
    cut = int(case.offsets[len(case.group) // 2]) if group is not None else 25
    parts = []
    for rows, sizes in (
        (slice(0, cut), None if group is None else group[: len(group) // 2]),
        (slice(cut, None), None if group is None else group[len(group) // 2 :]),
    ):
        parts.append(
            loss.loss_parts(
                case.y_true[rows],
                case.y_pred[rows],
                group=sizes,
                sample_weight=case.sample_weight[rows],
                reduction=reduction,
            )
        )
    whole = loss.loss(
        case.y_true,
        case.y_pred,
        group=group,
        sample_weight=case.sample_weight,
        reduction=reduction,
    )
    total = sum(part[0] for part in parts)
    if reduction == "sum":
        assert [part[1] for part in parts] == [None, None]
        assert total == pytest.approx(whole, rel=1e-12)
    else:
        divisor = sum(part[1] for part in parts)
        assert divisor > 0
        assert total / divisor == pytest.approx(whole, rel=1e-12)
    with pytest.raises(ValueError, match="loss_parts needs a reduction that sums"):
        loss.loss_parts(case.y_true, case.y_pred, group=group, reduction="none")


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


@pytest.mark.parametrize(
    "name", [n for n in gbrank.available_losses() if gbrank.LOSSES[n].needs_groups]
)
@pytest.mark.parametrize("shape", [(1,), (1, 1)])
def test_one_unbatched_list_takes_a_per_list_weight(name, shape):
    """keras_rs accepts ``sample_weight`` of shape (1,) with ``y_true`` of shape
    (list_size,): one weight for the one list, as (batch,) weights for a batch."""
    loss = gbrank.get_loss(name)
    y = np.array([1.0, 0.0, 1.0, 0.5, 0.0])
    s = S5[0]
    weight = np.full(shape, 2.0)
    batched = {"y_true": y[None], "y_pred": s[None], "sample_weight": np.array([2.0])}
    for reduction in ("sum_over_batch_size", "mean_with_sample_weight", "none"):
        np.testing.assert_array_equal(
            loss.loss(y, s, sample_weight=weight, reduction=reduction),
            loss.loss(**batched, reduction=reduction),
        )
    rows = loss.loss(y, s, sample_weight=np.full(y.shape, 2.0))
    assert loss.loss(y, s, sample_weight=weight) == pytest.approx(rows)
    if name != "poly1_softmax":  # rax's poly term weighs with normalised weights
        assert rows == pytest.approx(2 * loss.loss(y, s))
    grad, _ = loss.grad_hess(y, s, sample_weight=weight)
    np.testing.assert_array_equal(grad, loss.grad_hess(y, s, sample_weight=2.0)[0])
    with pytest.raises(ValueError, match=r"or one weight for the list \(1,\)"):
        loss.loss(y, s, sample_weight=np.ones(2))


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


# -- by hand, every reduction ---------------------------------------------------------

Y_SMALL = np.array([[2.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


S_SMALL = np.array([[0.0, 1.0, 2.0], [0.5, 0.0, 3.0]])


M_SMALL = np.array([[True, True, True], [True, True, False]])


W_SMALL = np.array([[2.0, 1.0, 3.0], [0.5, 1.0, 4.0]])


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
