"""Pairwise losses: the hinge's kink and surrogate, logistic and soft zero-one by
hand, the squared error's pairs, lambda weights, and the fast algorithms (sorted
hinge, O(n) squared error) against the all-pairs kernel."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import gbrank
from gbrank._kernels.pairfunctions import PAIR_FUNCTIONS, pair_terms
from gbrank._kernels.pairwise import LARGE_GROUP
from gbrank.losses import HESSIAN_FLOOR
from gbrank.losses.steps import PairStep

from . import _oracles
from ._cases import PAIRWISE_LOSSES, make_case

# -- pair functions: one definition each (gbrank._kernels.pairfunctions) ------------

PAIR_LOSSES = [
    name for name in gbrank.available_losses() if hasattr(gbrank.LOSSES[name], "pair")
]
# every argument the terms take: d around the kinks, label differences, both
# need_loss, spans of score normalisation and parameter values
PAIR_ARGS = [
    (d, label_diff, need_loss, span, parameters)
    for d in (-40.0, -3.0, -1.0, -0.25, 0.0, 0.5, 1.0, 1.5, 2.0, 35.0)
    for label_diff in (0.0, 1.0, 2.5)
    for need_loss in (True, False)
    for span in (1.0, 0.37)
    for parameters in ((0.5, 0.0), (0.3, 1.0), (0.9, 0.0))
]


@pytest.mark.parametrize("pair", PAIR_FUNCTIONS, ids=lambda pair: pair.name)
def test_the_pair_dispatch_reaches_every_pair_function(pair):
    """pair_terms has one branch per entry of the table, in its order."""
    for d, label_diff, need_loss, span, parameters in PAIR_ARGS:
        args = (d, -1.0, label_diff, need_loss, span, parameters)
        assert pair_terms(pair.code, *args) == pair.terms(*args)


@pytest.mark.parametrize("pair", PAIR_FUNCTIONS, ids=lambda pair: pair.name)
def test_a_pair_function_reads_the_exponential_it_declares(pair):
    """With ``exponentials`` the kernels hand ``exp(-|d|)`` in; the function
    must give the same with it and without it, and read it (a wrong one
    changes the result); without the flag it must not read it."""
    reads = False
    for d, label_diff, need_loss, span, parameters in PAIR_ARGS:
        e = math.exp(-abs(d))
        without = pair.terms(d, -1.0, label_diff, need_loss, span, parameters)
        given = pair.terms(d, e, label_diff, need_loss, span, parameters)
        np.testing.assert_allclose(given, without, rtol=1e-15, atol=1e-300)
        wrong = pair.terms(d, 0.5 * e + 0.1, label_diff, need_loss, span, parameters)
        reads = reads or wrong != given
    assert reads is pair.exponentials


@pytest.mark.parametrize("pair", PAIR_FUNCTIONS, ids=lambda pair: pair.name)
def test_a_pair_functions_slope_is_the_derivative_of_its_value(pair):
    """Central differences of f away from its kinks (d = 1, d = label_diff);
    where f is smooth with an exact curvature (its hinge, soft zero-one and
    unsquared quantile curvatures are documented surrogates, tested below),
    the curvature is the derivative of the slope."""
    h = 1e-6
    for d, label_diff, _, _, parameters in PAIR_ARGS:
        if min(abs(d - 1.0), abs(d - label_diff)) < 1e-3 or abs(d) > 30:
            continue

        def terms(x, label_diff=label_diff, parameters=parameters):
            return pair.terms(x, -1.0, label_diff, True, 1.0, parameters)

        _, slope, curvature = terms(d)
        numeric = (terms(d + h)[0] - terms(d - h)[0]) / (2 * h)
        assert slope == pytest.approx(numeric, rel=1e-6, abs=1e-8), (pair.name, d)
        exact = pair.name in ("logistic", "squared_error") or (
            pair.name == "quantile" and parameters[1]
        )
        if exact:
            numeric = (terms(d + h)[1] - terms(d - h)[1]) / (2 * h)
            assert curvature == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def _sig(x):
    return 1 / (1 + math.exp(-x))


# each pair function by hand, independent of its definition: (d, y_i - y_j,
# parameters) -> (f, f', curvature); curvatures of kinks are the documented
# surrogates (hinge: 1 inside the margin; quantile: the slope of the pair's side)
PAIR_VALUES = {
    "hinge": [
        ((0.25, 1.0, (0.0, 0.0)), (0.75, -1.0, 1.0)),
        ((-2.0, 0.0, (0.0, 0.0)), (3.0, -1.0, 1.0)),
        ((1.0, 1.0, (0.0, 0.0)), (0.0, 0.0, 0.0)),
        ((1.5, 2.0, (0.0, 0.0)), (0.0, 0.0, 0.0)),
    ],
    "logistic": [
        ((0.0, 1.0, (0.0, 0.0)), (math.log(2), -0.5, 0.25)),
        ((2.0, 1.0, (0.0, 0.0)), (math.log1p(math.exp(-2)), -_sig(-2), 0.1049936)),
        ((-40.0, 2.0, (0.0, 0.0)), (40.0, -1.0, _sig(40) * _sig(-40))),
    ],
    "soft_zero_one": [
        ((0.0, 1.0, (0.0, 0.0)), (0.5, -0.25, 0.25)),
        ((-1.0, 1.0, (0.0, 0.0)), (_sig(1), -_sig(1) * _sig(-1), 0.1966119)),
    ],
    "squared_error": [
        ((0.5, 2.0, (0.0, 0.0)), (2.25, -3.0, 2.0)),
        ((1.0, 0.0, (0.0, 0.0)), (1.0, 2.0, 2.0)),
    ],
    "quantile": [
        ((0.5, 2.0, (0.3, 0.0)), (0.45, -0.3, 0.3)),
        ((3.0, 2.0, (0.3, 0.0)), (0.7, 0.7, 0.7)),
        ((2.0, 2.0, (0.3, 0.0)), (0.0, 0.0, 0.3)),
        ((0.5, 2.0, (0.3, 1.0)), (0.675, -0.9, 0.6)),
        ((3.0, 2.0, (0.3, 1.0)), (0.7, 1.4, 1.4)),
        ((2.0, 2.0, (0.3, 1.0)), (0.0, 0.0, 0.0)),
    ],
}


def test_every_pair_function_has_values_by_hand():
    assert set(PAIR_VALUES) == {pair.name for pair in PAIR_FUNCTIONS}


@pytest.mark.parametrize("pair", PAIR_FUNCTIONS, ids=lambda pair: pair.name)
def test_pair_functions_by_hand(pair):
    """Each definition against its math; span divides all three terms, and
    without need_loss the slope and curvature stay."""
    for (d, label_diff, parameters), expected in PAIR_VALUES.get(pair.name, []):
        got = pair.terms(d, -1.0, label_diff, True, 1.0, parameters)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)
        scaled = pair.terms(d, -1.0, label_diff, True, 4.0, parameters)
        np.testing.assert_allclose(scaled, np.divide(expected, 4), rtol=1e-6)
        no_loss = pair.terms(d, -1.0, label_diff, False, 1.0, parameters)
        np.testing.assert_allclose(no_loss[1:], expected[1:], rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name", PAIR_LOSSES)
def test_every_pairwise_loss_names_a_listed_pair_function(name):
    cls = gbrank.LOSSES[name]
    assert any(cls.pair is pair for pair in PAIR_FUNCTIONS)
    assert cls.pair.terms.__name__ == cls.pair.name
    assert set(cls.pair.parameters) <= set(cls._param_names())


def test_pairwise_losses_without_a_temperature_take_the_pair_function_unscaled():
    for name in PAIR_LOSSES:
        loss = gbrank.get_loss(name)
        has_temperature = "temperature" in loss._param_names()
        assert (loss.temperature is None) is not has_temperature
        assert loss._config(True).temperature == (loss.temperature or 1.0)


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
    np.testing.assert_allclose(grad, [-3 * _sig(-d) / 2, 3 * _sig(-d) / 2])
    np.testing.assert_allclose(hess, [3 * _sig(d) * _sig(-d) / 4] * 2)


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


# -- booster steps: pair selection and normalisation --------------------------------

STEPS = [
    PairStep(topk=3),
    PairStep(topk=1, score_normalization=True),
    PairStep(pairs_per_row=2, seed=4),
    PairStep(score_normalization=True, query_normalization=True),
    PairStep(topk=5, score_normalization=True, query_normalization=True),
    PairStep(pairs_per_row=3, query_normalization=True),
]


def assert_step_matches_the_oracle(loss, labels, scores, weights, sizes):
    grad, hess = loss.booster_grad_hess(
        labels, scores, group=sizes, sample_weight=weights
    )
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    for g, (start, stop) in enumerate(itertools.pairwise(offsets)):
        part = slice(start, stop)
        expected = _oracles.booster_step(
            loss, labels[part], scores[part], weights[part], g
        )
        np.testing.assert_allclose(grad[part], expected[0], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(
            hess[part], np.maximum(expected[1], HESSIAN_FLOOR), rtol=1e-10
        )


@pytest.mark.parametrize("step", STEPS, ids=repr)
@pytest.mark.parametrize("lambda_weight", [None, "ndcg", "label_diff"])
@pytest.mark.parametrize("name", PAIRWISE_LOSSES)
def test_booster_steps_match_the_plain_loop_reference(name, lambda_weight, step):
    loss = gbrank.get_loss(name, lambda_weight=lambda_weight, step=step)
    case = make_case(loss, seed=5)
    assert_step_matches_the_oracle(
        loss, case.y_true, case.y_pred, case.sample_weight, case.group
    )


@pytest.mark.parametrize(
    "step", [PairStep(topk=40), PairStep(pairs_per_row=3, seed=1)], ids=repr
)
def test_booster_steps_of_a_group_split_over_threads(step):
    """A group of LARGE_GROUP rows or more is cut into ranges of positions."""
    loss = gbrank.get_loss("pairwise_logistic", lambda_weight="ndcg", step=step)
    rng = np.random.default_rng(3)
    n = LARGE_GROUP + 11
    labels = rng.integers(0, 5, n).astype(float)
    labels[rng.random(n) < 0.1] = -1.0
    scores = rng.normal(size=n)
    with gbrank._kernels.threads.num_threads(2):
        assert_step_matches_the_oracle(
            loss, labels, scores, rng.uniform(0.5, 2, n), np.array([n])
        )


def test_sampled_pairs_depend_on_the_seed_only():
    rng = np.random.default_rng(0)
    labels, scores = rng.integers(0, 4, 300).astype(float), rng.normal(size=300)

    def step_of(seed, threads):
        loss = gbrank.PairwiseLogisticLoss(step=PairStep(pairs_per_row=2, seed=seed))
        with gbrank._kernels.threads.num_threads(threads):
            return loss.booster_grad_hess(labels, scores, group=[100, 150, 50])

    first = step_of(7, 1)
    np.testing.assert_array_equal(first[0], step_of(7, 2)[0])
    assert not np.array_equal(first[0], step_of(8, 1)[0])


def test_steps_leave_the_loss_and_its_exact_gradient_alone():
    case = make_case(gbrank.PairwiseLogisticLoss(), seed=2)
    exact = gbrank.PairwiseLogisticLoss(lambda_weight="ndcg", step="exact")
    shaped = gbrank.PairwiseLogisticLoss(lambda_weight="ndcg", step="lambdarank")
    for method in ("loss", "grad_hess"):
        np.testing.assert_array_equal(
            getattr(shaped, method)(case.y_true, case.y_pred, **case.kwargs()),
            getattr(exact, method)(case.y_true, case.y_pred, **case.kwargs()),
        )
    np.testing.assert_array_equal(
        exact.booster_grad_hess(case.y_true, case.y_pred, **case.kwargs()),
        exact.grad_hess(case.y_true, case.y_pred, **case.kwargs()),
    )
    assert not np.allclose(
        shaped.booster_grad_hess(case.y_true, case.y_pred, **case.kwargs())[0],
        exact.grad_hess(case.y_true, case.y_pred, **case.kwargs())[0],
    )


def test_default_steps_give_tied_scores_no_extra_weight():
    """Real features tie documents; rows with equal features get equal scores, and
    score normalisation (``"top30"``) gives their pair 100 times the weight of
    the others although no tree can ever order them. The default steps of RankNet
    and the hinge leave it out; the soft zero-one loss and lambda-weighted losses
    keep LightGBM's full recipe (``gbrank.losses.steps`` says why)."""
    labels = np.array([1.0, 0.0, 2.0, 0.0, 1.0])
    scores = np.array([0.5, 0.5, 1.0, -1.0, 0.0])  # rows 0 and 1 tie

    def tied_share(loss):
        grad, hess = loss.booster_grad_hess(labels, scores)
        assert np.all(np.isfinite(hess) & (hess > 0))
        return np.abs(grad[:2]).sum() / np.abs(grad).sum()

    for name in ("pairwise_logistic", "pairwise_hinge"):
        default = gbrank.get_loss(name)
        assert default.resolved_step() == PairStep(topk=30, query_normalization=True)
        assert tied_share(default) < 0.6
        assert tied_share(gbrank.get_loss(name, step="top30")) > 0.9
    lambdarank = PairStep(topk=30, score_normalization=True, query_normalization=True)
    assert gbrank.PairwiseSoftZeroOneLoss().resolved_step() == lambdarank
    for name in ("pairwise_logistic", "pairwise_hinge", "pairwise_soft_zero_one"):
        weighted = gbrank.get_loss(name, lambda_weight="ndcg")
        assert weighted.resolved_step() == lambdarank  # LightGBM's LambdaMART
    assert gbrank.LambdaLoss().resolved_step() == PairStep(
        topk=100, query_normalization=True
    )


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (PairStep(topk=0), "topk must be None or an integer >= 1"),
        (PairStep(topk=2.5), "topk must be None or an integer >= 1"),
        (PairStep(pairs_per_row=0), "pairs_per_row must be None or an integer"),
        (PairStep(pairs_per_row=2, seed=-1), "seed must be an integer >= 0"),
        (PairStep(pairs_per_row=2, seed="a"), "seed must be an integer >= 0"),
        (PairStep(topk=3, pairs_per_row=2), "not both"),
        (PairStep(query_normalization=1), "query_normalization must be True or"),
        ("lightgbm", "step='lightgbm' is not supported"),
    ],
)
def test_bad_steps_name_the_parameter(step, message):
    loss = gbrank.PairwiseHingeLoss(step=step)
    with pytest.raises(ValueError, match=message):
        loss.booster_grad_hess([1.0, 0.0], [0.0, 1.0])


def test_steps_belong_to_pairwise_losses():
    with pytest.raises(ValueError, match="no parameter 'step'"):
        gbrank.get_loss("softmax", step="lambdarank")


# -- pairwise_qr ---------------------------------------------------------------------


def test_pairwise_qr_surrogate_is_the_slope_of_each_pairs_side():
    loss = gbrank.PairwiseQRLoss(tau=0.3)
    # pairs: (0, 1) dy = 2, ds = -1 short of it (rho 3): slope -0.3, h 0.3;
    # (0, 2) dy = 1, ds = 2 past it (rho -1): slope 0.7, h 0.7;
    # (2, 1) dy = 1, ds = -3 (rho 4): slope -0.3, h 0.3
    labels, scores = np.array([2.0, 0.0, 1.0]), np.array([0.0, 1.0, -2.0])
    assert loss.loss(labels, scores, reduction="sum") == pytest.approx(
        0.3 * 3 + 0.7 * 1 + 0.3 * 4
    )
    grad, hess = loss.grad_hess(labels, scores)
    np.testing.assert_allclose(grad, [-0.3 + 0.7, 0.3 + 0.3, -0.7 - 0.3])
    np.testing.assert_allclose(hess, [0.3 + 0.7, 0.3 + 0.3, 0.7 + 0.3])
    assert loss.approx_hessian
    assert not gbrank.PairwiseQRLoss(squared=True).approx_hessian


def test_pairwise_qr_kink_and_tau_one():
    # at the kink (ds == dy) the gradient is 0 (rax: relu'(0) = 0)
    at_kink = gbrank.PairwiseQRLoss(tau=0.3)
    grad, hess = at_kink.grad_hess([1.0, 0.0], [1.5, 0.5])
    np.testing.assert_array_equal(grad, [0.0, 0.0])
    np.testing.assert_allclose(hess, [0.3, 0.3])
    squared = gbrank.PairwiseQRLoss(tau=0.3, squared=True)
    np.testing.assert_array_equal(squared.grad_hess([1.0, 0.0], [1.5, 0.5])[1], 1e-16)
    # tau = 1: a pair past its label difference costs nothing
    past = gbrank.PairwiseQRLoss(tau=1.0)
    assert past.loss([1.0, 0.0], [3.0, 0.0], reduction="sum") == 0.0
    grad, hess = past.grad_hess([1.0, 0.0], [3.0, 0.0])
    np.testing.assert_array_equal(grad, [0.0, 0.0])
    np.testing.assert_array_equal(hess, [HESSIAN_FLOOR] * 2)


@pytest.mark.parametrize(
    "loss",
    [
        gbrank.PairwiseQRLoss(tau=0.3, squared=True),
        gbrank.PairwiseQRLoss(tau=1.0),
        gbrank.PairwiseQRLoss(tau=0.8, lambda_weight="label_diff"),
    ],
    ids=repr,
)
def test_pairwise_qr_variants_keep_the_contract(loss):
    gbrank.testing.check_loss(loss)


def test_pairwise_qr_newton_step_is_at_most_one_label_unit():
    loss = gbrank.PairwiseQRLoss(tau=0.2, step="exact")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 200).astype(float)
    scores = rng.normal(size=200)
    grad, hess = loss.booster_grad_hess(labels, scores, group=[100, 100])
    assert np.all(np.abs(grad / hess) <= 1.0 + 1e-12)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tau": 0.0}, r"tau must be a finite number in \(0, 1\], got 0.0"),
        ({"tau": -0.5}, r"tau must be a finite number in \(0, 1\], got -0.5"),
        ({"tau": 1.5}, r"tau must be a finite number in \(0, 1\], got 1.5"),
        ({"tau": float("nan")}, r"tau must be a finite number in \(0, 1\], got nan"),
        ({"tau": "0.5"}, r"tau must be a finite number in \(0, 1\]"),
        ({"squared": 1}, r"squared must be True or False, got 1"),
        ({"lambda_weight": "lambdarank"}, r"lambda_weight='lambdarank' is not"),
    ],
)
def test_pairwise_qr_bad_parameters(params, message):
    loss = gbrank.PairwiseQRLoss(**params)
    for call in (loss.loss, loss.grad_hess, loss.booster_grad_hess):
        with pytest.raises(ValueError, match=message):
            call([1.0, 0.0], [0.0, 1.0])
