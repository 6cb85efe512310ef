"""The loss contract, checked on every registered loss.

Each property is tested once, here, parametrized over the registry:
:mod:`gbrank.testing`'s checks (finite differences, hessian bounds,
invariances, ignored rows, no mutation, object protocol), the plain-loop
oracles of ``tests/_oracles.py``, activations, query structure, and Hypothesis
properties on random valid and invalid input. A meta-test shows that every
check fails on a deliberately broken loss.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gbrank
from gbrank.testing import CHECKS, away_from_kinks

from . import _oracles
from ._cases import ALL_LOSSES, RANKING_LOSSES, make_case

README = Path(__file__).parents[1] / "README.md"
HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(params=ALL_LOSSES)
def loss(request):
    return gbrank.get_loss(request.param)


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("seed", [0, 1])
def test_contract(loss, check, seed):
    check(loss, make_case(loss, seed=seed))


def test_documented_exported_and_listed(loss):
    """Every registered loss: exported by gbrank and gbrank.losses, built in,
    its docstring with the sections the style guide asks for."""
    cls = type(loss)
    assert getattr(gbrank, cls.__name__) is cls
    assert cls.__name__ in gbrank.__all__
    assert cls.__name__ in gbrank.losses.__all__
    assert cls in gbrank.losses.BUILTIN_LOSSES
    for section in ("Notes", "References", "See Also", "Examples", ".. math::"):
        assert section in cls.__doc__, f"{loss.name}: no {section}"
    # a row of the README's losses table: name, then the class with its defaults
    assert f"| `{loss.name}` | `{cls.__name__}(" in README.read_text()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernels_match_plain_loop_oracles(loss, seed):
    _oracles.assert_matches_oracle(loss, make_case(loss, seed=seed))


def test_activation_matches_the_oracle(loss):
    case = make_case(loss)
    mask = np.arange(case.y_true.shape[0]) % 3 != 0
    group = case.group if loss.needs_groups else None
    for kwargs in ({}, {"mask": mask}):
        got = loss.activation(case.y_pred, group=group, **kwargs)
        valid = kwargs.get("mask", np.ones(case.y_true.shape[0], dtype=bool))
        expected = _oracles.activation(loss, case.y_pred, valid, case.offsets)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)


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


def test_mask_equals_negative_labels(loss):
    case = make_case(loss)
    mask = np.random.default_rng(1).random(case.y_true.shape[0]) > 0.2
    masked = loss.grad_hess(case.y_true, case.y_pred, mask=mask, **case.kwargs())
    labels = np.where(mask, case.y_true, -1.0)
    relabelled = loss.grad_hess(labels, case.y_pred, **case.kwargs())
    np.testing.assert_array_equal(masked[0], relabelled[0])
    np.testing.assert_array_equal(masked[1], relabelled[1])


def test_grad_hess_skips_the_loss_and_changes_nothing_else(loss):
    case = make_case(loss, seed=3)
    batch = loss._batch(case.y_true, case.y_pred, case.group, None, None, None)
    values, grad, hess = loss.compute(batch, need_loss=True)
    _, no_grad, no_hess = loss.compute(batch, need_loss=False)
    assert values.any()
    np.testing.assert_array_equal(grad, no_grad)
    np.testing.assert_array_equal(hess, no_hess)


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_memory_layout_and_dtype_do_not_matter(name):
    loss = gbrank.get_loss(name)
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    if loss.is_multiclass:
        labels = rng.integers(0, 3, size=40).astype(float)
        scores = rng.normal(size=(40, 6))[:, ::2]  # a strided view
        variants = [np.asfortranarray(scores), np.ascontiguousarray(scores)]
        group = None
    else:
        labels = rng.integers(0, 2, size=40).astype(float)
        scores = rng.normal(size=(40, 2))[:, 1]  # non-contiguous
        variants = [
            np.ascontiguousarray(scores),
            scores.astype(np.float32),
            pd.Series(np.ascontiguousarray(scores)),
        ]
        group = [10, 20, 10]
    for variant in variants:
        got = loss.grad_hess(labels.astype(np.int64), variant, group=group)
        expected = loss.grad_hess(labels, np.asarray(variant, float), group=group)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])


# -- Hypothesis: random valid and invalid input --------------------------------------


@st.composite
def ranking_inputs(draw, loss):
    sizes = draw(st.lists(st.integers(1, 12), min_size=1, max_size=5))
    n = sum(sizes)
    if loss.label_bounds == (0.0, 1.0):
        label = st.sampled_from([-1.0, 0.0, 0.0, 0.5, 1.0])
    else:
        label = st.sampled_from([-1.0, 0.0, 1.0, 1.0, 2.0, 4.0])
    labels = np.array(draw(st.lists(label, min_size=n, max_size=n)))
    score = st.one_of(
        st.floats(-1e4, 1e4, allow_nan=False),
        st.sampled_from([0.0, 1.0, -1.0, 1e4, -1e4]),
    )
    scores = np.array(draw(st.lists(score, min_size=n, max_size=n)))
    weight = st.one_of(st.just(0.0), st.floats(0.1, 10.0))
    weights = np.array(draw(st.lists(weight, min_size=n, max_size=n)))
    return labels, scores, np.array(sizes), weights


@pytest.mark.parametrize("name", RANKING_LOSSES)
def test_random_valid_input_gives_finite_positive_derivatives(name):
    """Scores up to +-1e4, ties, singletons, ignored rows and zero weights; no
    RuntimeWarning (the suite turns them into errors)."""
    loss = gbrank.get_loss(name)

    @HYPOTHESIS
    @given(ranking_inputs(loss))
    def check(case):
        labels, scores, sizes, weights = case
        kwargs = {"group": sizes, "sample_weight": weights}
        grad, hess = loss.grad_hess(labels, scores, **kwargs)
        assert np.all(np.isfinite(grad))
        assert np.all(np.isfinite(hess))
        assert np.all(hess > 0)
        assert np.isfinite(loss.loss(labels, scores, reduction="sum", **kwargs))

    check()


@st.composite
def bad_inputs(draw):
    """A valid case with one thing broken; returns (kwargs, expected message)."""
    n = draw(st.integers(3, 20))
    labels = np.zeros(n)
    labels[0] = 1.0
    kwargs = {"y_true": labels, "y_pred": np.zeros(n), "group": [n]}
    problem = draw(
        st.sampled_from(
            ["sum", "zero", "nan_score", "nan_label", "neg_weight", "qid", "length"]
        )
    )
    position = draw(st.integers(0, n - 1))
    if problem == "sum":
        kwargs["group"] = [n + draw(st.integers(1, 5))]
        return kwargs, "group sizes sum to"
    if problem == "zero":
        kwargs["group"] = [n, 0]
        return kwargs, "group sizes must be positive"
    if problem in ("nan_score", "nan_label"):
        key = "y_pred" if problem == "nan_score" else "y_true"
        values = kwargs[key].copy()
        values[position] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        kwargs[key] = values
        return kwargs, f"{key} contains NaN or inf at index {position}"
    if problem == "neg_weight":
        weights = np.ones(n)
        weights[position] = -draw(st.floats(1e-6, 1e6))
        kwargs["sample_weight"] = weights
        return kwargs, rf"sample_weight must be >= 0; sample_weight\[{position}\]"
    if problem == "qid":
        del kwargs["group"]
        qid = np.zeros(n, dtype=int)
        qid[draw(st.integers(1, n - 2))] = 1  # query 0 resumes after query 1
        kwargs["qid"] = qid
        return kwargs, "qid must be contiguous runs"
    kwargs["y_pred"] = np.zeros(n + 1)
    return kwargs, r"y_true has shape"


@pytest.mark.parametrize("name", RANKING_LOSSES)
def test_random_invalid_input_raises_a_named_error(name):
    loss = gbrank.get_loss(name)

    @HYPOTHESIS
    @given(bad_inputs())
    def check(case):
        kwargs, message = case
        for call in (loss.grad_hess, loss.loss):
            with pytest.raises((ValueError, TypeError), match=message):
                call(**kwargs)

    check()


# -- the checks catch broken losses ---------------------------------------------------


class _Broken(gbrank.PairwiseLogisticLoss):
    """The logistic loss with one defect injected into its kernel's results."""

    def __init__(self, *, defect: str = "gradient_sign"):
        super().__init__()
        self.defect = defect

    def compute(self, batch, need_loss=True):
        values, grad, hess = super().compute(batch, need_loss)
        valid = batch.valid
        if self.defect == "gradient_sign":
            grad = -grad
        elif self.defect == "hessian_half":
            hess = hess / 2
        elif self.defect == "ignored_row_gradient":
            grad = np.where(valid, grad, 1e-3)
        elif self.defect == "cross_group":  # mixes the first row into every group
            grad = grad + 1e-3 * batch.scores[0]
        elif self.defect == "row_order":  # depends on the position of a row
            grad = grad + 1e-3 * np.arange(grad.size) * valid
        elif self.defect == "absolute_scores":
            values = values + valid * batch.scores**2
            grad = grad + 2 * valid * batch.scores
        elif self.defect == "overflow":
            hess = np.where(np.abs(batch.scores) > 1e3, np.inf, hess)
        elif self.defect == "mutation":
            batch.scores[:1] += 0.0  # a write into the caller's (read-only) array
        return values, grad, hess


class _BrokenHinge(gbrank.PairwiseHingeLoss):
    """A hinge whose active-pairs surrogate lost its count (one pair per row).

    It still bounds the exact diagonal (0 away from the kinks), so only the
    comparison with the documented formula catches it.
    """

    def compute(self, batch, need_loss=True):
        values, grad, hess = super().compute(batch, need_loss)
        return values, grad, np.minimum(hess, 1.0)


class _Unequal(gbrank.PairwiseLogisticLoss):
    """Parameters not stored under their own names: rebuilding differs."""

    def __init__(self, *, temperature: float = 1.0):
        super().__init__(temperature=temperature * 2)


BROKEN = {
    "check_gradient": _Broken(defect="gradient_sign"),
    "check_hessian": _Broken(defect="hessian_half"),
    "check_groups_are_independent": _Broken(defect="cross_group"),
    "check_permutation": _Broken(defect="row_order"),
    "check_shift_invariance": _Broken(defect="absolute_scores"),
    "check_ignored_rows": _Broken(defect="ignored_row_gradient"),
    "check_extreme_scores": _Broken(defect="overflow"),
    "check_inputs_unchanged": _Broken(defect="mutation"),
    "check_object_protocol": _Unequal(temperature=0.5),
}


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_every_check_fails_on_a_broken_loss(check):
    broken = BROKEN[check.__name__]
    with pytest.raises((AssertionError, ValueError)):
        check(broken, make_case(broken))


def test_oracle_comparison_catches_a_broken_hinge_surrogate():
    """The hinge's surrogate counts the active pairs of a row; a kernel that
    gets the count wrong still bounds the exact diagonal (0), so the oracle is
    what pins it."""
    hinge = gbrank.PairwiseHingeLoss()
    case = away_from_kinks(hinge, make_case(hinge))
    _, hess = hinge.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    assert np.any(hess > 1.0)  # rows in several active pairs
    with pytest.raises(AssertionError, match="Not equal to tolerance"):
        _oracles.assert_matches_oracle(_BrokenHinge(), case, oracle_loss=hinge)
