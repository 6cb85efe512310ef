"""The lambda weights (label difference, DCG, NDCG, NDCG-Loss2, precision, MRR,
MAP, ERR) with every pairwise loss and booster step, against the
plain-definition oracles (brute-force swaps of two rows); the gradient while
ranks hold; by-hand cases; objects and parameters. The references' numbers are
in test_references_pairwise.py."""

from __future__ import annotations

import itertools
import math
import pickle

import numpy as np
import pytest

import gbrank
from gbrank._kernels.lambdaweights import LambdaKind
from gbrank.losses import HESSIAN_FLOOR
from gbrank.losses.lambdaweights import (
    SHORTCUTS,
    LambdaWeight,
    resolve_lambda_weight,
)
from gbrank.losses.steps import PairStep

from . import _oracles
from ._cases import (
    LAMBDA_WEIGHTS,
    PAIRWISE_LOSSES,
    SMOOTH_PAIRWISE_LOSSES,
    make_case,
)


def _softplus(x):
    return math.log1p(math.exp(x))


# -- with every pairwise loss ----------------------------------------------------------


@pytest.mark.parametrize("lambda_weight", LAMBDA_WEIGHTS, ids=repr)
@pytest.mark.parametrize("name", PAIRWISE_LOSSES)
@pytest.mark.parametrize("seed", [0, 1])
def test_lambda_weights_match_the_oracle(name, lambda_weight, seed):
    """The kernels (O(1) per pair from prefix sums for the swap weights)
    against the plain definitions (brute-force swaps of two rows)."""
    loss = gbrank.get_loss(name, lambda_weight=lambda_weight)
    # tiny ERR weights deep in a list: the brute force's differences of two
    # ERRs near 0.5 keep about 1e-16 absolute precision
    err = isinstance(resolve_lambda_weight(lambda_weight), gbrank.ERRLambdaWeight)
    _oracles.assert_matches_oracle(
        loss, make_case(loss, seed=seed), hess_atol=1e-14 if err else 0.0
    )


@pytest.mark.parametrize("lambda_weight", LAMBDA_WEIGHTS, ids=repr)
@pytest.mark.parametrize("name", SMOOTH_PAIRWISE_LOSSES)
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
    np.testing.assert_allclose(grad, numeric_grad, rtol=1e-6, atol=1e-9)
    if not loss.approx_hessian:
        np.testing.assert_allclose(
            hess, np.maximum(numeric_hess, HESSIAN_FLOOR), rtol=1e-5, atol=1e-8
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


def test_weights_on_long_lists_with_ties_match_the_oracle():
    """200-row lists, scores on a grid (ties), labels 0-4, every weight."""
    rng = np.random.default_rng(11)
    sizes = np.array([200, 150])
    labels = rng.integers(0, 5, sizes.sum()).astype(float)
    labels[rng.random(labels.size) < 0.1] = -1.0
    scores = rng.integers(-20, 20, labels.size) * 0.25
    weights = rng.uniform(0.5, 2.0, labels.size)
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    for weight in LAMBDA_WEIGHTS:
        loss = gbrank.PairwiseLogisticLoss(lambda_weight=weight)
        _, grad, hess = _oracles.apply(loss, labels, scores, weights, offsets)
        got_grad, got_hess = loss.grad_hess(
            labels, scores, group=sizes, sample_weight=weights
        )
        np.testing.assert_allclose(got_grad, grad, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            got_hess, np.maximum(hess, HESSIAN_FLOOR), rtol=1e-9, atol=1e-13
        )


STEPS = [
    PairStep(topk=3),
    PairStep(topk=5, score_normalization=True, query_normalization=True),
    PairStep(pairs_per_row=2, seed=4),
]


@pytest.mark.parametrize("step", STEPS, ids=repr)
@pytest.mark.parametrize("lambda_weight", list(SHORTCUTS), ids=repr)
@pytest.mark.parametrize("name", PAIRWISE_LOSSES)
def test_weights_with_booster_steps_match_the_oracle(name, lambda_weight, step):
    loss = gbrank.get_loss(name, lambda_weight=lambda_weight, step=step)
    case = make_case(loss, seed=5)
    grad, hess = loss.booster_grad_hess(case.y_true, case.y_pred, **case.kwargs())
    for g, (start, stop) in enumerate(itertools.pairwise(case.offsets)):
        part = slice(start, stop)
        expected = _oracles.booster_step(
            loss, case.y_true[part], case.y_pred[part], case.sample_weight[part], g
        )
        # atol: tiny ERR weights deep in a list (both sides cancel ~1e-16)
        np.testing.assert_allclose(grad[part], expected[0], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(
            hess[part], np.maximum(expected[1], HESSIAN_FLOOR), rtol=1e-10, atol=1e-14
        )


# -- by hand --------------------------------------------------------------------------


def _log1pexp(x):
    return math.log1p(math.exp(x))


def test_mrr_weights_by_hand():
    # ranks by score: row 2 (irrelevant), row 0 (relevant, first), row 3
    # (relevant, second), row 1 (irrelevant); RR = 1/2
    labels = np.array([1.0, 0.0, 0.0, 2.0])
    scores = np.array([2.0, 0.0, 3.0, 1.0])
    loss = gbrank.PairwiseLogisticLoss(lambda_weight="mrr")
    per_row = loss.loss(labels, scores, reduction="none")[0]
    expected = [
        # (0, 1): row 0 to rank 4 makes row 3 first: 1/2 - 1/3; (0, 2): 1 - 1/2
        (1 / 2 - 1 / 3) * _log1pexp(-2.0) + (1 - 1 / 2) * _log1pexp(1.0),
        0.0,
        0.0,
        # (3, 1): row 3 is not first, moving down changes nothing: 0;
        # (3, 2): row 3 to rank 1: 1 - 1/2
        0.0 * _log1pexp(-1.0) + (1 - 1 / 2) * _log1pexp(2.0),
    ]
    np.testing.assert_allclose(per_row, expected, rtol=1e-12)


def test_map_weights_by_hand():
    # ranking: rows 0 (rel), 1 (irr), 2 (rel); AP = (1 + 2/3) / 2
    labels = np.array([1.0, 0.0, 1.0])
    scores = np.array([3.0, 2.0, 1.0])
    ap = (1 + 2 / 3) / 2
    swap_01 = (1 / 2 + 2 / 3) / 2  # irrelevant row first
    swap_12 = (1 + 1) / 2  # both relevant rows on top
    loss = gbrank.PairwiseLogisticLoss(lambda_weight="map")
    per_row = loss.loss(labels, scores, reduction="none")[0]
    expected = [
        abs(swap_01 - ap) * _log1pexp(-1.0),
        0.0,
        abs(swap_12 - ap) * _log1pexp(1.0),
    ]
    np.testing.assert_allclose(per_row, expected, rtol=1e-12)


def test_err_weights_by_hand():
    # labels 2 then 0 then 1 by score; top grade 2: R = 3/4, 0, 1/4
    labels = np.array([2.0, 0.0, 1.0])
    scores = np.array([3.0, 2.0, 1.0])

    def err(stops):
        value, still = 0.0, 1.0
        for r, stop in enumerate(stops, start=1):
            value += still * stop / r
            still *= 1 - stop
        return value

    now = err([0.75, 0.0, 0.25])
    loss = gbrank.PairwiseLogisticLoss(lambda_weight="err")
    per_row = loss.loss(labels, scores, reduction="none")[0]
    expected = [
        abs(err([0.0, 0.75, 0.25]) - now) * _log1pexp(-1.0)
        + abs(err([0.25, 0.0, 0.75]) - now) * _log1pexp(-2.0),
        0.0,
        abs(err([0.75, 0.25, 0.0]) - now) * _log1pexp(1.0),
    ]
    np.testing.assert_allclose(per_row, expected, rtol=1e-12)


def test_precision_weight_counts_moves_across_the_cutoff():
    labels = np.array([0.0, 1.0, 1.0, 0.0])
    scores = np.array([4.0, 3.0, 2.0, 1.0])  # top 2: rows 0 and 1
    loss = gbrank.PairwiseLogisticLoss(
        lambda_weight=gbrank.PrecisionLambdaWeight(topn=2)
    )
    per_row = loss.loss(labels, scores, reduction="none")[0]
    # (1, 0): both in the top 2, 0; (1, 3) and (2, 0) cross the cutoff: 1;
    # (2, 3): both below, 0
    np.testing.assert_allclose(
        per_row, [0.0, _log1pexp(-2.0), _log1pexp(2.0), 0.0], rtol=1e-12
    )


def test_ndcg2_rank_distance_discount_by_hand():
    labels = np.array([0.0, 1.0, 0.0])
    scores = np.array([3.0, 2.0, 1.0])  # the relevant row at rank 2, ideal DCG 1
    loss = gbrank.PairwiseLogisticLoss(lambda_weight="ndcg2")
    per_row = loss.loss(labels, scores, reduction="none")[0]
    one_apart = 1 - 1 / math.log2(3)  # D(1) - D(2), both pairs one rank apart
    expected = one_apart * (_log1pexp(1.0) + _log1pexp(-1.0))
    np.testing.assert_allclose(per_row, [0.0, expected, 0.0], rtol=1e-12)
    # with topn=1 both pairs reach past rank 1: the top-n factor
    # 1 / (1 - D(r)) of the lower row's rank r, 2 and 3
    top1 = gbrank.PairwiseLogisticLoss(lambda_weight=gbrank.NDCG2LambdaWeight(topn=1))
    factor_2, factor_3 = 1 / (1 - 1 / math.log2(3)), 1 / (1 - 1 / math.log2(4))
    expected = one_apart * (factor_2 * _log1pexp(1.0) + factor_3 * _log1pexp(-1.0))
    np.testing.assert_allclose(
        top1.loss(labels, scores, reduction="none")[0], [0.0, expected, 0.0], rtol=1e-12
    )


def test_swap_weights_vanish_without_relevant_rows():
    for weight in ("precision", "mrr", "map", "err", "ndcg2"):
        loss = gbrank.PairwiseLogisticLoss(lambda_weight=weight)
        grad, hess = loss.grad_hess([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])
        np.testing.assert_array_equal(grad, 0.0)
        assert np.all(hess == HESSIAN_FLOOR)


def test_err_top_grade_per_list_or_fixed():
    labels, scores = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    per_list = gbrank.PairwiseLogisticLoss(lambda_weight="err")
    fixed = gbrank.PairwiseLogisticLoss(
        lambda_weight=gbrank.ERRLambdaWeight(max_label=3)
    )
    # swapping the rows changes ERR by R/1 - R/2 = R/2: R = 1/2, or 1/8
    value = _log1pexp(1.0)
    assert per_list.loss(labels, scores, reduction="sum") == pytest.approx(value / 4)
    assert fixed.loss(labels, scores, reduction="sum") == pytest.approx(value / 16)
    with pytest.raises(ValueError, match=r"needs labels <= max_label=3.*\[1\] = 4"):
        fixed.grad_hess([0.0, 4.0], [0.0, 1.0])


def test_err_is_finite_for_huge_labels():
    loss = gbrank.PairwiseLogisticLoss(lambda_weight="err")
    grad, hess = loss.grad_hess([2000.0, 1999.0, 0.0], [0.0, 1.0, 2.0])
    assert np.all(np.isfinite(grad))
    assert np.all(np.isfinite(hess))


# -- objects and parameters -----------------------------------------------------------


def _defined_weights(cls=LambdaWeight):
    """The public lambda weight classes that gbrank defines."""
    for sub in cls.__subclasses__():
        if sub.__module__ == LambdaWeight.__module__ and not sub.__name__.startswith(
            "_"
        ):
            yield sub
        yield from _defined_weights(sub)


# kinds the pairwise losses do not take (LambdaLoss's own pair schemes)
LAMBDALOSS_KINDS = {LambdaKind.LAMBDALOSS, LambdaKind.LAMBDALOSS_ROW}


def test_every_lambda_weight_is_complete():
    """A lambda weight is a class with its kernel kind, a shortcut, an export and
    an oracle; each kernel kind has a class: leaving a piece out fails here (and
    a kind without its branches in the kernel fails the oracle tests above)."""
    defined = set(_defined_weights())
    assert set(SHORTCUTS.values()) == defined
    assert set(_oracles.LAMBDA_ORACLES) == defined
    for cls in defined:
        assert getattr(gbrank, cls.__name__) is cls
        assert cls.__name__ in gbrank.__all__
    kinds = sorted(cls._kind for cls in defined)
    assert kinds == sorted(set(LambdaKind) - LAMBDALOSS_KINDS - {LambdaKind.NONE})


def test_shortcuts_are_the_default_objects():
    shortcuts = gbrank.losses.lambdaweights.SHORTCUTS
    case = make_case(gbrank.PairwiseLogisticLoss(), seed=3)
    for name in ("ndcg2", "precision", "mrr", "map", "err"):
        by_name = gbrank.PairwiseLogisticLoss(lambda_weight=name)
        by_object = gbrank.PairwiseLogisticLoss(lambda_weight=shortcuts[name]())
        np.testing.assert_array_equal(
            by_name.grad_hess(case.y_true, case.y_pred, **case.kwargs())[0],
            by_object.grad_hess(case.y_true, case.y_pred, **case.kwargs())[0],
        )


@pytest.mark.parametrize(
    "weight",
    [
        gbrank.NDCG2LambdaWeight(topn=4, gain="linear"),
        gbrank.PrecisionLambdaWeight(topn=3),
        gbrank.MRRLambdaWeight(topn=2),
        gbrank.MAPLambdaWeight(topn=2),
        gbrank.ERRLambdaWeight(topn=2, max_label=4.0),
    ],
    ids=repr,
)
def test_weights_pickle_compare_and_repr(weight):
    clone = pickle.loads(pickle.dumps(weight))
    assert clone == weight
    assert hash(clone) == hash(weight)
    assert repr(clone) == repr(weight)
    assert type(weight)(**weight.get_params()) == weight
    assert weight.depends_on_scores


def test_map_and_mrr_weights_differ():
    assert gbrank.MAPLambdaWeight(topn=3) != gbrank.MRRLambdaWeight(topn=3)


@pytest.mark.parametrize(
    "cls",
    [
        gbrank.NDCG2LambdaWeight,
        gbrank.PrecisionLambdaWeight,
        gbrank.MRRLambdaWeight,
        gbrank.MAPLambdaWeight,
        gbrank.ERRLambdaWeight,
    ],
)
@pytest.mark.parametrize("topn", [0, -3, 2.5, True, "10"])
def test_bad_topn_names_the_range(cls, topn):
    with pytest.raises(ValueError, match=r"topn must be (None or )?an integer >= 1"):
        cls(topn=topn)


def test_precision_needs_a_cutoff():
    with pytest.raises(ValueError, match=r"topn must be an integer >= 1, got None"):
        gbrank.PrecisionLambdaWeight(topn=None)


@pytest.mark.parametrize("max_label", [-1.0, float("nan"), float("inf"), "4"])
def test_bad_max_label(max_label):
    with pytest.raises(ValueError, match=r"max_label must be None or a finite number"):
        gbrank.ERRLambdaWeight(max_label=max_label)
