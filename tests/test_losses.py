"""Every registered loss: derivatives, oracles, invariances, parameters."""

from __future__ import annotations

import copy
import itertools
import pickle

import numpy as np
import pytest

import gbrank
from gbrank.losses import HESSIAN_FLOOR

from . import _oracles
from ._cases import make_case, ranking_losses

ALL_LOSSES = gbrank.available_losses()


@pytest.fixture(params=ALL_LOSSES)
def loss(request):
    return gbrank.get_loss(request.param)


def central_difference(f, x, h):
    """4th-order central difference of f along every coordinate of x."""
    out = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        values = []
        for step in (2 * h, h, -h, -2 * h):
            shifted = x.copy()
            shifted[index] += step
            values.append(f(shifted))
        out[index] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
    return out


def away_from_kinks(loss, case):
    """Hinge: move scores until no labelled pair's tempered difference is within
    1e-3 of the kink at 1 (finite differences need a differentiable point)."""
    if loss.differentiable:
        return case
    scores = case.y_pred.copy()
    for start, stop in itertools.pairwise(case.offsets):
        y = case.y_true[start:stop]
        pairs = (y[:, None] > y[None, :]) & (y[None, :] >= 0)
        for _ in range(100):
            s = scores[start:stop]
            d = np.subtract.outer(s, s) / loss.temperature
            close = pairs & (np.abs(d - 1.0) < 1e-3)
            if not close.any():
                break
            scores[start + np.argwhere(close)[0, 0]] += 0.01
    case.y_pred = scores
    return case


@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_matches_finite_differences(loss, seed):
    case = away_from_kinks(loss, make_case(loss, seed=seed))

    def total(scores):
        return loss.loss(case.y_true, scores, reduction="sum", **case.kwargs())

    grad, _ = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    numeric = central_difference(total, case.y_pred, 1e-4)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("seed", [0, 1])
def test_hessian_is_exact_or_documented_surrogate(loss, seed):
    case = away_from_kinks(loss, make_case(loss, seed=seed))
    _, hess = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    assert np.all(np.isfinite(hess))
    assert np.all(hess >= HESSIAN_FLOOR)
    _, _, oracle_hess = _oracles.apply(
        loss, case.y_true, case.y_pred, case.sample_weight, case.offsets
    )
    np.testing.assert_allclose(hess, np.maximum(oracle_hess, HESSIAN_FLOOR), rtol=1e-10)
    if loss.approx_hessian:
        return

    def gradient_of(scores):
        return loss.grad_hess(case.y_true, scores, **case.kwargs())[0]

    numeric = np.zeros(case.y_pred.shape)
    h = 1e-4
    for index in np.ndindex(case.y_pred.shape):
        values = []
        for step in (2 * h, h, -h, -2 * h):
            shifted = case.y_pred.copy()
            shifted[index] += step
            values.append(gradient_of(shifted)[index])
        numeric[index] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (
            12 * h
        )
    np.testing.assert_allclose(
        hess, np.maximum(numeric, HESSIAN_FLOOR), rtol=1e-5, atol=1e-7
    )


def test_hinge_surrogate_bounds_exact_hessian():
    """The hinge's exact hessian is 0 away from kinks: any positive value bounds it."""
    loss = gbrank.PairwiseHingeLoss()
    case = away_from_kinks(loss, make_case(loss, seed=3))
    grad = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())[0]
    nudged = loss.grad_hess(case.y_true, case.y_pred + 1e-6, **case.kwargs())[0]
    np.testing.assert_allclose(grad, nudged, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernels_match_plain_loop_oracles(loss, seed):
    case = make_case(loss, seed=seed)
    values, grad, hess = _oracles.apply(
        loss, case.y_true, case.y_pred, case.sample_weight, case.offsets
    )
    got_values = loss.loss(case.y_true, case.y_pred, reduction="none", **case.kwargs())
    got_grad, got_hess = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    np.testing.assert_allclose(got_values, values, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_grad, grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_hess, np.maximum(hess, HESSIAN_FLOOR), rtol=1e-10)


def test_ignored_rows_get_zero_gradient_and_floor_hessian(loss):
    case = make_case(loss)
    grad, hess = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    ignored = case.y_true < 0
    assert np.all(grad[ignored] == 0)
    assert np.all(hess[ignored] == HESSIAN_FLOOR)


def test_activation(loss):
    case = make_case(loss)
    proba = loss.activation(case.y_pred, group=case.group)
    assert proba.shape == case.y_pred.shape
    if loss.is_multiclass:
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    elif loss.per_group:
        sums = np.add.reduceat(proba, case.offsets[:-1])
        np.testing.assert_allclose(sums, 1.0)
        mask = np.arange(case.y_pred.size) % 3 != 0
        masked = loss.activation(case.y_pred, group=case.group, mask=mask)
        assert np.all(masked[~mask] == 0)
        kept = np.add.reduceat(mask, case.offsets[:-1]) > 0
        np.testing.assert_allclose(np.add.reduceat(masked, case.offsets[:-1])[kept], 1)


@pytest.mark.parametrize("name", ranking_losses())
def test_shifting_one_group_changes_nothing_for_ranking_losses(name):
    loss = gbrank.get_loss(name)
    if not loss.per_group and not name.startswith("pairwise"):
        pytest.skip(f"{name} is pointwise: scores are absolute")
    case = make_case(loss)
    shifted = case.y_pred.copy()
    shifted[case.offsets[4] : case.offsets[5]] += 3.7
    for reduction in ("sum", "none"):
        np.testing.assert_allclose(
            loss.loss(case.y_true, shifted, reduction=reduction, **case.kwargs()),
            loss.loss(case.y_true, case.y_pred, reduction=reduction, **case.kwargs()),
            rtol=1e-9,
            atol=1e-12,
        )
    np.testing.assert_allclose(
        loss.grad_hess(case.y_true, shifted, **case.kwargs())[0],
        loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())[0],
        rtol=1e-9,
        atol=1e-12,
    )


def test_pointwise_losses_ignore_grouping():
    loss = gbrank.SigmoidCrossEntropyLoss()
    case = make_case(loss)
    grouped = loss.grad_hess(case.y_true, case.y_pred, group=case.group)
    flat = loss.grad_hess(case.y_true, case.y_pred)
    np.testing.assert_array_equal(grouped[0], flat[0])


def test_group_sizes_and_qid_give_identical_results(loss):
    case = make_case(loss)
    by_group = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    by_qid = loss.grad_hess(
        case.y_true, case.y_pred, qid=case.qid, sample_weight=case.sample_weight
    )
    np.testing.assert_array_equal(by_group[0], by_qid[0])
    np.testing.assert_array_equal(by_group[1], by_qid[1])
    assert loss.loss(case.y_true, case.y_pred, **case.kwargs()) == loss.loss(
        case.y_true, case.y_pred, qid=case.qid, sample_weight=case.sample_weight
    )


@pytest.mark.parametrize("name", ranking_losses())
def test_groups_together_equal_groups_alone(name):
    loss = gbrank.get_loss(name)
    case = make_case(loss)
    grad, hess = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    total = 0.0
    for g, (start, stop) in enumerate(itertools.pairwise(case.offsets)):
        part = slice(start, stop)
        args = (case.y_true[part], case.y_pred[part])
        kwargs = {"group": [case.group[g]], "sample_weight": case.sample_weight[part]}
        g_alone, h_alone = loss.grad_hess(*args, **kwargs)
        np.testing.assert_allclose(grad[part], g_alone, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(hess[part], h_alone, rtol=1e-12)
        total += loss.loss(*args, reduction="sum", **kwargs)
    together = loss.loss(case.y_true, case.y_pred, reduction="sum", **case.kwargs())
    np.testing.assert_allclose(together, total, rtol=1e-12)


@pytest.mark.parametrize("name", ranking_losses())
def test_row_and_group_order_permute_results_alike(name):
    loss = gbrank.get_loss(name)
    case = make_case(loss)
    rng = np.random.default_rng(5)
    order = np.concatenate(
        [
            start + rng.permutation(stop - start)
            for start, stop in itertools.pairwise(case.offsets)
        ][::-1]
    )
    grad, hess = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    p_grad, p_hess = loss.grad_hess(
        case.y_true[order],
        case.y_pred[order],
        group=case.group[::-1],
        sample_weight=case.sample_weight[order],
    )
    np.testing.assert_allclose(p_grad, grad[order], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(p_hess, hess[order], rtol=1e-12)


@pytest.mark.parametrize("name", ranking_losses())
def test_ignored_row_equals_dropped_row(name):
    loss = gbrank.get_loss(name)
    case = make_case(loss)
    keep = case.y_true >= 0
    offsets_kept = np.concatenate(([0], np.cumsum(keep)))[case.offsets]
    sizes = np.diff(offsets_kept)
    nonempty = sizes > 0
    grad, hess = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    d_grad, d_hess = loss.grad_hess(
        case.y_true[keep],
        case.y_pred[keep],
        group=sizes[nonempty],
        sample_weight=case.sample_weight[keep],
    )
    np.testing.assert_allclose(grad[keep], d_grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hess[keep], d_hess, rtol=1e-12)
    np.testing.assert_allclose(
        loss.loss(case.y_true, case.y_pred, reduction="sum", **case.kwargs()),
        loss.loss(
            case.y_true[keep],
            case.y_pred[keep],
            group=sizes[nonempty],
            sample_weight=case.sample_weight[keep],
            reduction="sum",
        ),
        rtol=1e-12,
    )


def test_mask_equals_negative_labels(loss):
    case = make_case(loss)
    mask = np.random.default_rng(1).random(case.y_true.shape[0]) > 0.2
    masked = loss.grad_hess(case.y_true, case.y_pred, mask=mask, **case.kwargs())
    labels = np.where(mask, case.y_true, -1.0)
    relabelled = loss.grad_hess(labels, case.y_pred, **case.kwargs())
    np.testing.assert_array_equal(masked[0], relabelled[0])


@pytest.mark.parametrize("scale", [1e-8, 1e2, 1e4])
def test_extreme_scores_stay_finite(loss, scale):
    case = make_case(loss, scale=scale)
    value = loss.loss(case.y_true, case.y_pred, **case.kwargs())
    grad, hess = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad))
    assert np.all(np.isfinite(hess))
    assert np.all(hess > 0)


def test_inputs_are_not_modified(loss):
    case = make_case(loss)
    before = copy.deepcopy(case)
    mask = np.ones(case.y_true.shape[0], dtype=bool)
    loss.grad_hess(case.y_true, case.y_pred, mask=mask, **case.kwargs())
    loss.loss(case.y_true, case.y_pred, reduction="none", **case.kwargs())
    loss.activation(case.y_pred, group=case.group)
    for field in ("y_true", "y_pred", "group", "sample_weight"):
        np.testing.assert_array_equal(getattr(case, field), getattr(before, field))
    assert mask.all()


def test_float32_and_integer_inputs_match_float64(loss):
    case = make_case(loss)
    labels = np.floor(case.y_true)  # integer-valued, still in the loss's domain
    scores32 = case.y_pred.astype(np.float32)
    expected = loss.grad_hess(labels, scores32.astype(np.float64), group=case.group)
    got = loss.grad_hess(labels.astype(np.int64), scores32, group=case.group)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_parameters_pickle_equality_and_repr(loss):
    clone = pickle.loads(pickle.dumps(loss))
    assert clone == loss
    assert hash(clone) == hash(loss)
    assert repr(clone) == repr(loss)
    assert type(loss)(**loss.get_params()) == loss
    assert copy.deepcopy(loss) == loss


def test_registry():
    assert sorted(ALL_LOSSES) == ALL_LOSSES
    assert set(ALL_LOSSES) >= {
        "sigmoid_cross_entropy",
        "rank_one_listnet",
        "categorical_cross_entropy",
        "pairwise_hinge",
        "softmax",
    }
    for name in ALL_LOSSES:
        assert gbrank.get_loss(name).name == name
    loss = gbrank.PairwiseHingeLoss(temperature=2.0)
    assert gbrank.get_loss(loss) is loss


def test_unknown_loss_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'.*pairwise_hinge"):
        gbrank.get_loss("hinge")


def test_set_params():
    loss = gbrank.PairwiseHingeLoss()
    assert loss.set_params(temperature=0.5).temperature == 0.5
    assert loss != gbrank.PairwiseHingeLoss()
    assert repr(loss) == "PairwiseHingeLoss(temperature=0.5)"
    with pytest.raises(ValueError, match="has no parameter 'margin'"):
        loss.set_params(margin=1.0)
    with pytest.raises(ValueError, match="combined with a loss instance"):
        gbrank.get_loss(loss, temperature=1.0)
