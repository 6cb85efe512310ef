"""Listwise losses: ListMLE's ties, weights and epsilon, ListNet's targets,
rank-one ListNet's semantics and surrogate; the softmax variants (poly1, unique)
and the relaxed-rank losses (approximate NDCG and MRR, Gumbel, NeuralNDCG):
parameters, documented semantics, both numeric paths of each kernel,
surrogates, booster steps and the Gumbel noise.

Reference numbers are in test_references_listwise.py; the contract (finite
differences, invariances, oracles, docstrings and exports) runs on every
registered loss in test_contract.py.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

import gbrank
from gbrank._kernels import approx as kernels
from gbrank._kernels import approx_sweep, neuralsort, softmax_variants
from gbrank._kernels.approx import gumbel, row_key
from gbrank._kernels.approx_sweep import MAX_LEVELS, NEAR, SWEEP_ROWS
from gbrank._kernels.common import Rows, Terms, argsort_descending
from gbrank._kernels.threads import num_threads
from gbrank.losses import approx
from gbrank.losses.approx import STEP_SCALE
from gbrank.losses.neuralsort import STEP_ROWS
from gbrank.testing import Case, central_difference

from . import _oracles, _oracles_listwise
from ._cases import ALL_LOSSES

# the losses of approximate ranks (gbrank.losses.approx)
APPROX_LOSSES = [
    name for name in ALL_LOSSES if gbrank.LOSSES[name].__module__ == approx.__name__
]


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


# -- the softmax variants and the relaxed ranks: shared inputs --------------------


def _case(n_groups=6, size=12, seed=0, scale=1.5):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=n_groups * size).astype(float)
    labels[rng.random(labels.size) < 0.1] = -1.0
    scores = rng.normal(scale=scale, size=labels.size)
    weights = rng.uniform(0.5, 2.0, size=labels.size)
    return labels, scores, weights, np.full(n_groups, size)


# -- parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("poly1_softmax", {"epsilon": -1.5}, r"epsilon must be a finite number >= -1"),
        ("poly1_softmax", {"epsilon": np.nan}, r"epsilon must be a finite number"),
        (
            "approx_ndcg",
            {"temperature": 0.0},
            r"temperature must be a finite number > 0",
        ),
        ("approx_ndcg", {"temperature": 1e-200}, r"too small: .* >= 1e-150"),
        ("approx_ndcg", {"topn": 0}, r"topn must be None or an integer >= 1"),
        ("approx_ndcg", {"topn": 2.5}, r"topn must be None or an integer >= 1"),
        ("approx_ndcg", {"topn": True}, r"topn must be None or an integer >= 1"),
        ("approx_ndcg", {"step": "fast"}, r"step"),
        ("approx_mrr", {"temperature": -1.0}, r"temperature must be"),
        ("gumbel_approx_ndcg", {"samples": 0}, r"samples must be an integer >= 1"),
        ("gumbel_approx_ndcg", {"beta": -0.1}, r"beta must be a finite number >= 0"),
        ("gumbel_approx_ndcg", {"seed": -1}, r"seed must be an integer"),
        ("neural_ndcg", {"temperature": 0.0}, r"temperature must be"),
        ("neural_ndcg", {"topn": -3}, r"topn must be None or an integer >= 1"),
        ("neural_ndcg", {"max_iter": 0}, r"max_iter must be an integer >= 1"),
        ("neural_ndcg", {"tol": 0.0}, r"tol must be a finite number > 0"),
        ("neural_ndcg", {"step": "pairs"}, r"step='pairs' is not supported"),
    ],
)
def test_bad_parameters_raise_naming_the_parameter_and_range(name, params, message):
    loss = gbrank.get_loss(name, **params)  # __init__ only stores them
    for call in (loss.loss, loss.grad_hess):
        with pytest.raises(ValueError, match=message):
            call([1.0, 0.0], [0.5, 0.0])


# -- poly1_softmax ---------------------------------------------------------------------


def test_poly1_softmax_with_epsilon_zero_is_the_softmax_loss():
    labels, scores, weights, group = _case()
    kwargs = {"group": group, "sample_weight": weights}
    poly = gbrank.Poly1SoftmaxLoss(epsilon=0.0)
    softmax = gbrank.SoftmaxLoss()
    np.testing.assert_allclose(
        poly.loss(labels, scores, reduction="none", **kwargs),
        softmax.loss(labels, scores, reduction="none", **kwargs),
        rtol=1e-12,
    )
    for got, expected in zip(
        poly.grad_hess(labels, scores, **kwargs),
        softmax.grad_hess(labels, scores, **kwargs),
        strict=True,
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_poly1_softmax_exact_hessian_is_indefinite_and_the_surrogate_bounds_it():
    loss = gbrank.Poly1SoftmaxLoss(epsilon=4.0)
    labels = np.array([1.0, 0.0, 0.0, 0.0])
    scores = np.array([-1.0, 3.0, -1.0, 0.5])  # a non-target row dominates

    def gradient(s):
        return loss.grad_hess(labels, s)[0]

    exact = central_difference(gradient, scores, 1e-4)
    surrogate = loss.grad_hess(labels, scores)[1]
    assert exact.min() < 0  # 1 - pt is not convex
    assert np.all(surrogate >= exact - 1e-9)
    assert np.all(surrogate > 0)


def test_poly1_softmax_list_without_targets_costs_epsilon_and_pulls_nothing():
    loss = gbrank.Poly1SoftmaxLoss(epsilon=2.0)
    labels, scores = np.array([0.0, 0.0, 0.0, 1.0]), np.array([0.3, -1.0, 2.0, 0.0])
    values = loss.loss(labels, scores, group=[3, 1], reduction="none")
    assert values[0] == pytest.approx(2.0 * (1 - 1 / 3), rel=1e-12)  # uniform target
    assert values[1] == 0.0  # one row: p = pt = 1
    grad, _ = loss.grad_hess(labels, scores, group=[3, 1])
    np.testing.assert_allclose(grad, 0.0, atol=1e-15)
    mean = loss.loss(labels, scores, group=[3, 1])  # counts in the mean
    assert mean == pytest.approx(values.sum() / 2)


# -- unique_softmax ------------------------------------------------------------------


def test_unique_softmax_rows_of_equal_labels_do_not_compete():
    loss = gbrank.UniqueSoftmaxLoss()
    # two rows of label 1, nothing below: each is alone in its softmax
    assert loss.loss([1.0, 1.0], [0.0, 5.0], reduction="sum") == 0.0
    # add a label-0 row: each label-1 row competes with it only
    value = loss.loss([1.0, 1.0, 0.0], [0.0, 5.0, 1.0], reduction="sum")
    expected = math.log1p(math.exp(1.0)) + math.log1p(math.exp(-4.0))
    assert value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("scale", [1.0, 100.0, 2000.0])
def test_unique_softmax_linear_and_log_domains_equal_the_oracle(scale):
    """Lists spreading more than 300 take the log domain; forcing either path on
    the same lists gives the oracle's values (the linear one while it can)."""
    labels, scores, weights, group = _case(scale=scale, seed=3)
    offsets = np.concatenate(([0], np.cumsum(group))).astype(np.int64)
    rows = Rows(labels, scores, weights, offsets)
    values, grad, hess = _oracles.apply(
        gbrank.UniqueSoftmaxLoss(), labels, scores, weights, offsets
    )
    spreads = [-1.0] if scale > 100 else [-1.0, np.inf]  # -1: log, inf: linear
    for spread in spreads:
        out = Terms(np.zeros(group.size), np.zeros(labels.size), np.zeros(labels.size))
        softmax_variants.unique_softmax(0, group.size, rows, spread, True, out)
        np.testing.assert_allclose(out.loss, values, rtol=1e-10)
        np.testing.assert_allclose(out.grad, grad, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(out.hess, hess, rtol=1e-9, atol=1e-12)


# -- approximate ranks -------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [n for n in APPROX_LOSSES if "seed" not in gbrank.LOSSES[n]._param_names()]
)
def test_approx_losses_far_apart_scores_take_one_exp_per_pair(name):
    """Tempered spreads past 600 leave the per-row exponentials for one
    exp(-|d|) per pair: same values as the oracle."""
    loss = gbrank.get_loss(name, temperature=0.01)
    labels, scores, weights, group = _case(scale=4.0, seed=5)  # spreads ~1500
    _oracles.assert_matches_oracle(loss, Case(labels, scores, group, weights))


def _untied_case(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=40).astype(float)
    scores = np.round(rng.normal(scale=0.4, size=40), 3)
    scores += np.arange(40) * 1e-4  # no ties, so the top-n cutoff is smooth
    return labels, scores, np.array([15, 25])


@pytest.mark.parametrize("topn", [1, 3, 10])
def test_approx_ndcg_topn_grad_hess_is_the_exact_derivative(topn):
    """With topn, grad_hess differentiates the moving cutoff point too (rax holds
    it fixed): finite differences of the loss and the oracle agree."""
    loss = gbrank.ApproxNDCGLoss(temperature=0.3, topn=topn)
    labels, scores, group = _untied_case(topn)

    def total(s):
        return loss.loss(labels, s, group=group, reduction="sum")

    grad, hess = loss.grad_hess(labels, scores, group=group)
    np.testing.assert_allclose(
        grad, central_difference(total, scores, 1e-5), rtol=1e-5, atol=1e-8
    )
    weights = np.ones(labels.size)
    offsets = np.concatenate(([0], np.cumsum(group)))
    _, oracle_grad, oracle_hess = _oracles.apply(loss, labels, scores, weights, offsets)
    np.testing.assert_allclose(grad, oracle_grad, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hess, np.maximum(oracle_hess, 1e-16), rtol=1e-9)
    assert not loss.hessian_bounds_exact
    assert gbrank.ApproxNDCGLoss().hessian_bounds_exact


def test_approx_ndcg_topn_surrogate_bounds_the_frozen_cutoff_diagonal():
    """The surrogate bounds the curvature of the terms and of the approximate
    ranks: the exact diagonal with the cutoff point held fixed."""
    loss = gbrank.ApproxNDCGLoss(temperature=0.3, topn=3)
    labels, scores, _ = _untied_case(7)
    labels, scores = labels[:15], scores[:15]
    weights = np.ones(15)
    ranks = 1 + np.array(
        [
            sum(1 / (1 + math.exp((s - t) / 0.3)) for t in scores if t != s)
            for s in scores
        ]
    )
    third, fourth = np.sort(ranks)[2:4]
    cut = (third + fourth) / 2

    def frozen_gradient(s):
        oracle = _oracles_listwise.approx_ndcg
        return oracle(labels, s, weights, 0.3, topn=3, cut=cut)[1]

    exact = central_difference(frozen_gradient, scores, 1e-5)
    surrogate = loss.grad_hess(labels, scores)[1]
    assert exact.min() < 0  # indefinite
    assert np.all(surrogate >= exact - 1e-7)


def test_approx_ndcg_list_without_positive_label_and_one_row_lists():
    loss = gbrank.ApproxNDCGLoss()
    labels = np.array([0.0, 0.0, 0.0, 2.0])
    scores = np.array([0.5, -0.2, 1.0, 3.0])
    values = loss.loss(labels, scores, group=[3, 1], reduction="none")
    np.testing.assert_array_equal(values, [0.0, -1.0])
    grad, hess = loss.grad_hess(labels, scores, group=[3, 1])
    np.testing.assert_array_equal(grad, 0.0)
    np.testing.assert_array_equal(hess, 1e-16)
    assert loss.loss(labels, scores, group=[3, 1]) == -0.5  # counts in the mean


def test_approx_mrr_uses_graded_labels_as_weights():
    loss = gbrank.ApproxMRRLoss(temperature=1e-3)  # ranks ~ exact
    value = loss.loss([2.0, 1.0, 0.0], [3.0, 2.0, 1.0], reduction="sum")
    assert value == pytest.approx(-(2.0 / 1 + 1.0 / 2) / 3.0, rel=1e-9)


# -- booster steps ---------------------------------------------------------------


@pytest.mark.parametrize("name", APPROX_LOSSES)
def test_auto_step_normalises_each_list_and_allows_larger_steps(name):
    labels, scores, weights, group = _case(seed=4)
    kwargs = {"group": group, "sample_weight": weights}
    loss = gbrank.get_loss(name)
    grad, hess = loss.grad_hess(labels, scores, **kwargs)
    b_grad, b_hess = loss.booster_grad_hess(labels, scores, **kwargs)
    smoothing = math.hypot(loss.temperature, getattr(loss, "beta", 0.0))
    scale = STEP_SCALE * loss.temperature / smoothing
    offsets = np.concatenate(([0], np.cumsum(group)))
    for start, stop in itertools.pairwise(offsets):
        part, valid = slice(start, stop), labels[start:stop] >= 0
        if not np.any(hess[part] > 1e-16):
            continue
        mean = hess[part][valid].sum() / valid.sum()
        np.testing.assert_allclose(b_hess[part][valid].mean(), scale, rtol=1e-10)
        np.testing.assert_allclose(b_grad[part], grad[part] / mean, rtol=1e-10)
    exact = gbrank.get_loss(name, step="exact")
    for got, expected in zip(
        exact.booster_grad_hess(labels, scores, **kwargs),
        exact.grad_hess(labels, scores, **kwargs),
        strict=True,
    ):
        np.testing.assert_array_equal(got, expected)


def test_auto_step_is_equivariant_in_the_temperature():
    """loss_T(s) = loss_1(s / T): the normalised step at T is T times the step at
    1, so training does not depend on the scale of the temperature."""
    labels, scores, weights, group = _case(seed=6)
    kwargs = {"group": group, "sample_weight": weights}
    one = gbrank.ApproxNDCGLoss(temperature=1.0).booster_grad_hess(
        labels, scores, **kwargs
    )
    tenth = gbrank.ApproxNDCGLoss(temperature=0.1).booster_grad_hess(
        labels, scores * 0.1, **kwargs
    )
    np.testing.assert_allclose(tenth[0], 0.1 * one[0], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(tenth[1], one[1], rtol=1e-9)


def test_auto_step_handles_lists_whose_hessians_underflow():
    loss = gbrank.ApproxNDCGLoss(temperature=1e-3)
    labels, scores = np.array([1.0, 0.0, 2.0]), np.array([0.0, 5.0, 10.0])
    grad, hess = loss.booster_grad_hess(labels, scores)
    assert np.all(np.isfinite(grad))
    assert np.all(np.isfinite(hess) & (hess > 0))


def _sweep_step(labels, scores, temperature, metric):
    """The documented step of a long list, from every pair (NumPy, one list).

    Gradient and surrogate up to the list's constant factor (the normalisation
    removes it): ``c`` is ``G |D'(r)|`` (NDCG) or ``y / r^2`` (MRR); the
    surrogate takes ``|c_j - c_k|`` on near pairs and, on the far pairs of row
    k, ``|sum_j s'_kj (c_j - c_k)|`` per label level and side (above or below
    k); past MAX_LEVELS labels ``c_j + c_k`` on every far pair.
    """
    valid = labels >= 0
    y, s = labels[valid], scores[valid]
    x = (s[:, None] - s[None, :]) / temperature  # x_kj = (s_k - s_j) / T
    above = 0.5 * (1.0 - np.tanh(x / 2))  # sigma((s_j - s_k) / T), overflow-free
    ranks = 1.0 + above.sum(axis=1) - 0.5
    if metric == "ndcg":
        c = (2.0**y - 1.0) / ((1.0 + ranks) * np.log1p(ranks) ** 2)
    else:
        c = y / ranks**2
    slope = above * (1.0 - above)
    np.fill_diagonal(slope, 0.0)
    difference = c[None, :] - c[:, None]
    grad = (slope * difference).sum(axis=1) / temperature
    far = np.abs(x) >= NEAR
    near_terms = np.where(far, 0.0, slope * np.abs(difference))
    hess = near_terms.sum(axis=1)
    if np.unique(y).size > MAX_LEVELS:  # too many levels to sum apart
        hess += np.where(far, slope * (c[None, :] + c[:, None]), 0.0).sum(axis=1)
    else:
        far_terms = np.where(far, slope * difference, 0.0)
        above_k = s[None, :] > s[:, None]  # row j above row k
        for level in np.unique(y):
            for side in (above_k, ~above_k):
                part = (y[None, :] == level) & side
                hess += np.abs(np.where(part, far_terms, 0.0).sum(axis=1))
    hess /= temperature**2
    mean = hess.mean()
    out_grad, out_hess = np.zeros(labels.size), np.zeros(labels.size)
    out_grad[valid], out_hess[valid] = grad / mean, hess / mean * STEP_SCALE
    return out_grad, out_hess


def _swept_step(loss, labels, scores, weights=None, sweep_above=2):
    """The "auto" step with the sweep on lists longer than ``sweep_above`` rows."""
    batch = loss._batch(labels, scores, None, None, weights, None)
    config = loss._config(False, cutoff_gradient=False)
    _, grad, hess = loss._run(batch, config._replace(sweep_above=sweep_above))
    scale = STEP_SCALE * loss.temperature / loss._smoothing()
    return approx.normalized_step(batch, grad, hess, scale)


def test_far_pair_polynomials_are_f_and_g_on_the_far_range():
    """approx_sweep's polynomials in u = e^-x (benchmarks/sweep_series.py) against
    f = u / (1 + u) and g = u / (1 + u)^2 on [0, e^-NEAR], in exact arithmetic."""
    terms = approx_sweep.TERMS
    assert terms % 2 == 0
    assert approx_sweep._F_TERMS.size == approx_sweep._G_TERMS.size == terms
    f_terms = [Fraction(float(c)) for c in approx_sweep._F_TERMS]
    g_terms = [Fraction(float(c)) for c in approx_sweep._G_TERMS]
    worst_f = worst_g = Fraction(0)
    for u in np.linspace(0.0, math.exp(-NEAR), 301):
        u = Fraction(float(u))
        powers = [u ** (k + 1) for k in range(terms)]
        f = sum(c * p for c, p in zip(f_terms, powers, strict=True))
        g = sum(c * p for c, p in zip(g_terms, powers, strict=True))
        worst_f = max(worst_f, abs(f - u / (1 + u)))
        worst_g = max(worst_g, abs(g - u / (1 + u) ** 2))
    assert worst_f < 1e-16
    assert worst_g < 5e-16


@pytest.mark.parametrize("name", ["approx_ndcg", "approx_mrr"])
@pytest.mark.parametrize(
    ("score_scale", "decimals", "graded"),
    [
        (1.0, 1, False),  # ties
        (0.02, 3, False),  # every pair near
        (100.0, 0, False),  # spreads past 600: one exp per pair
        (1.0, 6, True),  # more labels than MAX_LEVELS
        (1.0, 2, None),  # one label level
    ],
)
def test_sweep_of_a_list_equals_its_sums_over_every_pair(
    name, score_scale, decimals, graded
):
    """The sorted sweep (gbrank._kernels.approx_sweep): far pairs by their
    series, near pairs one by one; equal to the documented step's sums over
    every pair (NumPy)."""
    rng = np.random.default_rng(11)
    n = 2500
    labels = rng.integers(-1, 3, size=n).astype(float)  # ignored rows included
    labels[labels < 0] = np.where(rng.random((labels < 0).sum()) < 0.5, -1.0, 0.0)
    if graded:
        labels[labels >= 0] = np.round(rng.random((labels >= 0).sum()) * 3, 2)
    elif graded is None:
        labels[labels >= 0] = 2.0
    scores = np.round(rng.normal(scale=score_scale, size=n), decimals)
    weights = np.full(n, 2.5)
    loss = gbrank.get_loss(name)
    grad, hess = _swept_step(loss, labels, scores, weights)
    metric = "ndcg" if name == "approx_ndcg" else "mrr"
    expected_grad, expected_hess = _sweep_step(labels, scores, loss.temperature, metric)
    scale = np.abs(expected_grad).max()
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-8, atol=1e-9 * scale)
    valid = labels >= 0
    np.testing.assert_allclose(
        hess[valid], expected_hess[valid], rtol=1e-8, atol=1e-12 * STEP_SCALE
    )
    assert np.all(np.isfinite(hess))
    assert np.all(hess[valid] > 0)


@pytest.mark.parametrize("name", APPROX_LOSSES)
def test_auto_step_sweeps_lists_longer_than_sweep_rows(name):
    """Past SWEEP_ROWS rows the default step has grad_hess's gradient (same
    draws) and a surrogate between the gradient and every pair's; up to
    SWEEP_ROWS, and with "pairs", every pair; "sweep" is "auto"."""
    rng = np.random.default_rng(12)
    n = SWEEP_ROWS + 100
    labels = rng.integers(0, 3, size=n).astype(float)
    scores = rng.normal(size=n)
    pairs = gbrank.get_loss(name, step="pairs")
    dense = _swept_step(pairs, labels, scores, sweep_above=0)
    grad, hess = pairs.booster_grad_hess(labels, scores)
    np.testing.assert_allclose(grad, dense[0], rtol=1e-12)
    np.testing.assert_allclose(hess, np.maximum(dense[1], 1e-16), rtol=1e-12)
    loss = gbrank.get_loss(name)
    dense_grad, dense_hess = loss.grad_hess(labels, scores)
    grad, hess = loss.booster_grad_hess(labels, scores)
    named = gbrank.get_loss(name, step="sweep").booster_grad_hess(labels, scores)
    np.testing.assert_array_equal(named[0], grad)
    np.testing.assert_array_equal(named[1], hess)
    scale = STEP_SCALE * loss.temperature / loss._smoothing()
    factor = dense_grad[0] / grad[0]  # the normalisation, a constant per list
    np.testing.assert_allclose(grad * factor, dense_grad, rtol=1e-8, atol=1e-12)
    surrogate = hess * factor / scale
    every_pair = dense[1] * (dense_grad[0] / dense[0][0]) / scale
    assert np.all(loss.temperature * surrogate >= np.abs(dense_grad) * (1 - 1e-9))
    assert np.all(surrogate <= every_pair * (1 + 1e-9))
    assert 0.9 * every_pair.sum() < surrogate.sum() < (1 - 1e-6) * every_pair.sum()
    swept = _swept_step(loss, labels, scores, sweep_above=SWEEP_ROWS)
    np.testing.assert_array_equal(hess, np.maximum(swept[1], 1e-16))
    short = slice(0, SWEEP_ROWS)
    dense_grad, dense_hess = loss.grad_hess(labels[short], scores[short])
    grad, hess = loss.booster_grad_hess(labels[short], scores[short])
    factor = dense_grad[0] / grad[0]
    np.testing.assert_allclose(grad * factor, dense_grad, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(hess / hess.sum(), dense_hess / dense_hess.sum())


@pytest.mark.parametrize("n_threads", [1, 2])
def test_long_lists_draws_on_the_threads_equal_the_kernel_to_the_bit(n_threads):
    """A swept list's Gumbel draws run on the threads (draws_in_parallel), each
    into its own sums added up in draw order: loss, gradient and surrogate
    equal the kernel's draw after draw, for any number of threads; lists with
    no valid or no relevant row, and short ones, as before."""
    rng = np.random.default_rng(14)
    sizes = [40, 300, 5, 250, 120]
    labels = rng.integers(0, 3, size=sum(sizes)).astype(float)
    labels[340:345] = -1.0  # no valid row
    labels[345:595] = 0.0  # no relevant row
    scores = np.round(rng.normal(size=labels.size), 2)  # ties
    weights = rng.uniform(0.5, 2.0, labels.size)
    loss = gbrank.GumbelApproxNDCGLoss(seed=3)
    batch = loss._batch(labels, scores, sizes, None, weights, None)
    config = loss._config(True)._replace(sweep_above=100)
    with num_threads(n_threads):
        got = loss._run(batch, config)
    expected = loss.outputs(batch)
    every = np.ones(len(sizes), dtype=np.bool_)
    bits = batch.labels.view(np.int64)
    kernels.approx_metric_sweep(
        0, len(sizes), batch.rows, bits, config, every, expected
    )
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.abs(got[1][40:340]).sum() > 0.0


def test_sweep_leaves_lists_with_a_cutoff_alone():
    rng = np.random.default_rng(13)
    labels = rng.integers(0, 3, size=300).astype(float)
    scores = rng.normal(size=300)
    top = gbrank.ApproxNDCGLoss(topn=10)
    expected = _swept_step(top, labels, scores, sweep_above=0)  # no sweep
    got = _swept_step(top, labels, scores)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)


# -- gumbel_approx_ndcg ------------------------------------------------------------


def test_gumbel_is_deterministic_per_seed_and_beta_zero_is_approx_ndcg():
    labels, scores, weights, group = _case(seed=8)
    kwargs = {"group": group, "sample_weight": weights}
    loss = gbrank.GumbelApproxNDCGLoss(seed=4)
    first = loss.grad_hess(labels, scores, **kwargs)
    again = gbrank.GumbelApproxNDCGLoss(seed=4).grad_hess(labels, scores, **kwargs)
    other = gbrank.GumbelApproxNDCGLoss(seed=5).grad_hess(labels, scores, **kwargs)
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.allclose(first[0], other[0])
    plain = gbrank.ApproxNDCGLoss()
    silent = gbrank.GumbelApproxNDCGLoss(beta=0.0, samples=3)
    np.testing.assert_allclose(
        silent.loss(labels, scores, reduction="none", **kwargs),
        plain.loss(labels, scores, reduction="none", **kwargs),
        rtol=1e-12,
    )
    for got, expected in zip(
        silent.grad_hess(labels, scores, **kwargs),
        plain.grad_hess(labels, scores, **kwargs),
        strict=True,
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_gumbel_noise_is_standard_gumbel_and_follows_the_documented_hash():
    keys = [
        row_key(7, np.uint64(3), np.uint64(0x3FF0000000000000), k) for k in range(40)
    ]
    draws = np.array([gumbel(np.uint64(k), m, 2500) for k in keys for m in range(2500)])
    assert abs(draws.mean() - 0.5772156649) < 4 * math.sqrt(1.645 / draws.size)
    assert abs(draws.var() - math.pi**2 / 6) < 0.05
    labels = np.array([1.0, 0.0, 1.0, -1.0, 2.0])
    noise = _oracles_listwise.gumbel_noise(labels, 11, 3)  # plain Python integers
    loss = gbrank.GumbelApproxNDCGLoss(seed=11, samples=3, beta=1.0)
    scores = np.zeros(5)
    weights = np.ones(5)
    value = loss.loss(labels, scores, reduction="sum")
    expected = np.mean(
        [
            _oracles_listwise.approx_ndcg(labels, scores + noise[m], weights)[0]
            for m in range(3)
        ]
    )
    assert value == pytest.approx(expected, rel=1e-12)


def test_gumbel_noise_follows_rows_of_equal_label_and_ignores_other_lists():
    loss = gbrank.GumbelApproxNDCGLoss(seed=2)
    labels = np.array([2.0, 0.0, 1.0, 0.0])
    scores = np.array([0.1, 0.4, -0.3, 0.2])
    alone = loss.grad_hess(labels, scores)[0]
    # rows of different labels trade places: results trade places
    order = np.array([2, 1, 0, 3])
    np.testing.assert_allclose(
        loss.grad_hess(labels[order], scores[order])[0], alone[order], rtol=1e-12
    )
    # another list and an ignored row change nothing
    both = loss.grad_hess(
        np.concatenate((labels, [1.0, -1.0])),
        np.concatenate((scores, [0.0, 9.0])),
        group=[4, 2],
    )[0]
    np.testing.assert_allclose(both[:4], alone, rtol=1e-12)


# -- neural_ndcg ---------------------------------------------------------------------


def test_neural_ndcg_refuses_lists_past_its_memory_limit():
    loss = gbrank.NeuralNDCGLoss()
    n = loss.max_list_size + 1
    labels = np.zeros(n + 3)
    labels[0] = 1.0
    with pytest.raises(ValueError, match=r"list 1 has 2049 valid rows, more than 2048"):
        loss.grad_hess(labels, np.zeros(n + 3), group=[3, n])
    labels[3:4] = -1.0  # one ignored row: at the limit, accepted
    loss.grad_hess(labels[: n + 3], np.zeros(n + 3), group=[3, n])


def test_neural_ndcg_surrogate_is_abs_gradient_over_temperature():
    labels, scores, weights, group = _case(seed=9)
    loss = gbrank.NeuralNDCGLoss(temperature=0.5)
    grad, hess = loss.grad_hess(labels, scores, group=group, sample_weight=weights)
    np.testing.assert_allclose(hess, np.maximum(np.abs(grad) / 0.5, 1e-16))
    assert loss.approx_hessian
    assert not loss.hessian_bounds_exact
    assert not loss.differentiable


def test_neural_ndcg_tied_scores_and_sinkhorn_settings():
    loss = gbrank.NeuralNDCGLoss()
    # tied scores: uniform NeuralSort rows, already doubly stochastic
    value = loss.loss([1.0, 0.0], [0.0, 0.0], reduction="sum")
    assert value == pytest.approx(-(1 + 1 / math.log2(3)) / 2, rel=1e-12)
    labels, scores, _, group = _case(seed=10)
    short = gbrank.NeuralNDCGLoss(max_iter=1).loss(labels, scores, group=group)
    full = loss.loss(labels, scores, group=group)
    loose = gbrank.NeuralNDCGLoss(tol=1e-2).loss(labels, scores, group=group)
    assert short != full
    assert loose == pytest.approx(full, abs=1e-2)


def test_neural_ndcg_gradient_through_more_iterations_still_matches_the_oracle():
    labels, scores, weights, group = _case(seed=11, size=20)
    loss = gbrank.NeuralNDCGLoss(temperature=0.3, tol=1e-12, max_iter=200)
    offsets = np.concatenate(([0], np.cumsum(group)))
    values, grad, _ = _oracles.apply(loss, labels, scores, weights, offsets)
    kwargs = {"group": group, "sample_weight": weights}
    np.testing.assert_allclose(
        loss.loss(labels, scores, reduction="none", **kwargs), values, rtol=1e-10
    )
    np.testing.assert_allclose(
        loss.grad_hess(labels, scores, **kwargs)[0], grad, rtol=1e-8, atol=1e-12
    )


def test_score_spread_and_its_chain_rule_equal_the_sums_over_every_pair():
    """A_j = sum_k |s_j - s_k| and sum_k (A_bar_j + A_bar_k) sign(s_j - s_k) from
    sorted prefix sums, on ties, a shifted list and single rows."""
    rng = np.random.default_rng(12)
    for n, offset in [(1, 0.0), (2, 0.0), (9, 0.0), (40, 0.0), (40, 1e3)]:
        s = np.round(rng.normal(size=n), 1) + offset  # ties
        a_bar = rng.normal(size=n)
        order = argsort_descending(s, np.arange(n))
        difference = s[:, None] - s[None, :]
        np.testing.assert_allclose(
            neuralsort.score_spread(s, order),
            np.abs(difference).sum(axis=1),
            rtol=1e-13,
            atol=1e-10,
        )
        grad = np.full(n, 0.5)
        neuralsort.add_spread_gradient(s, order, a_bar, grad)
        pairs = (a_bar[:, None] + a_bar[None, :]) * np.sign(difference)
        np.testing.assert_allclose(grad, 0.5 + pairs.sum(axis=1), atol=1e-12)


@pytest.mark.parametrize("cut", [1, 4, 17])
def test_top_rows_gradient_is_the_derivative_of_its_value(cut):
    rng = np.random.default_rng(cut)
    s = rng.normal(size=17)
    gains = 2.0 ** rng.integers(0, 4, size=17) - 1.0

    def value(x):
        return neuralsort.top_rows(x, gains, 0.3, 1 / 0.7, cut, np.zeros(17))

    grad = np.zeros(17)
    neuralsort.top_rows(s, gains, 0.3, 1 / 0.7, cut, grad)
    np.testing.assert_allclose(grad, central_difference(value, s, 1e-4), atol=1e-9)


@pytest.mark.parametrize("topn", [None, 4])
def test_neural_ndcg_neuralsort_step_is_its_top_rows_without_sinkhorn(topn):
    """The "neuralsort" booster step: NeuralSort's first ``topn`` (else STEP_ROWS) rows,
    no Sinkhorn scaling, hessian |g| / tau; the oracle with no iteration. Lists
    with ties, ignored rows, a singleton, no relevant row and more than
    STEP_ROWS rows."""
    rng = np.random.default_rng(13)
    group = [7, 1, 5, 45, 12]
    labels = rng.integers(0, 4, size=sum(group)).astype(float)
    labels[rng.random(labels.size) < 0.1] = -1.0
    labels[8:13] = 0.0  # no relevant row
    scores = np.round(rng.normal(size=labels.size), 1)  # ties
    weights = rng.uniform(0.5, 2.0, size=labels.size)
    loss = gbrank.NeuralNDCGLoss(temperature=0.5, topn=topn, step="neuralsort")
    grad, hess = loss.booster_grad_hess(
        labels, scores, group=group, sample_weight=weights
    )
    offsets = np.concatenate(([0], np.cumsum(group)))
    for start, stop in itertools.pairwise(offsets):
        _, expected, _ = _oracles_listwise.neural_ndcg(
            labels[start:stop],
            scores[start:stop],
            weights[start:stop],
            temperature=0.5,
            topn=STEP_ROWS if topn is None else topn,
            max_iter=0,
        )
        np.testing.assert_allclose(grad[start:stop], expected, rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(hess, np.maximum(np.abs(grad) / 0.5, 1e-16))
    exact = gbrank.NeuralNDCGLoss(temperature=0.5, topn=topn)  # the default step
    np.testing.assert_array_equal(
        exact.booster_grad_hess(labels, scores, group=group, sample_weight=weights)[0],
        exact.grad_hess(labels, scores, group=group, sample_weight=weights)[0],
    )


def test_neural_ndcg_neuralsort_step_takes_lists_past_the_memory_limit():
    loss = gbrank.NeuralNDCGLoss(step="neuralsort")
    n = 3 * loss.max_list_size
    labels = np.zeros(n)
    labels[::7] = 2.0
    scores = np.random.default_rng(14).normal(size=n)
    grad, hess = loss.booster_grad_hess(labels, scores)
    assert np.isfinite(grad).all()
    assert (hess > 0).all()
    assert grad[labels > 0].sum() < 0.0  # relevant rows are pushed up
    with pytest.raises(ValueError, match="more than 2048"):
        loss.grad_hess(labels, scores)
