"""What gbrank guarantees, as property tests over every registered loss.

1. Random valid input (scores up to +-1e4, ties, singletons, ignored rows, zero
   weights) gives finite gradients and strictly positive finite hessians, with no
   RuntimeWarning (pytest turns them into errors).
2. ``loss(reduction="sum")`` is the sum of the groups' own sums, and each group's
   gradient is what that group alone gives (splitting/merging groups).
3. Permuting the rows of a group permutes its gradient and hessian alike.
4. Results do not depend on memory layout: C or Fortran order, strided views,
   float32/int inputs, pandas Series.
5. Inputs are never modified.
6. Random invalid input raises ``ValueError``/``TypeError`` naming the argument,
   never crashes, hangs or returns NaN.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gbrank

RANKING = [n for n in gbrank.available_losses() if not gbrank.LOSSES[n].is_multiclass]
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


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


@pytest.mark.parametrize("name", RANKING)
def test_valid_input_gives_finite_positive_derivatives_and_consistent_sums(name):
    loss = gbrank.get_loss(name)

    @SETTINGS
    @given(ranking_inputs(loss))
    def check(case):
        labels, scores, sizes, weights = case
        kwargs = {"group": sizes, "sample_weight": weights}
        grad, hess = loss.grad_hess(labels, scores, **kwargs)
        total = loss.loss(labels, scores, reduction="sum", **kwargs)
        assert np.all(np.isfinite(grad))
        assert np.all(np.isfinite(hess))
        assert np.all(hess > 0)
        assert np.isfinite(total)
        offsets = np.concatenate(([0], np.cumsum(sizes)))
        parts = 0.0
        for start, stop in itertools.pairwise(offsets):
            part = slice(start, stop)
            alone = {"group": [stop - start], "sample_weight": weights[part]}
            g_alone, h_alone = loss.grad_hess(labels[part], scores[part], **alone)
            np.testing.assert_allclose(grad[part], g_alone, rtol=1e-12, atol=1e-300)
            np.testing.assert_allclose(hess[part], h_alone, rtol=1e-12)
            parts += loss.loss(labels[part], scores[part], reduction="sum", **alone)
        np.testing.assert_allclose(total, parts, rtol=1e-10, atol=1e-300)

    check()


@pytest.mark.parametrize("name", RANKING)
def test_permuting_rows_of_a_group_permutes_results(name):
    loss = gbrank.get_loss(name)
    if name == "listmle":
        pytest.skip("ListMLE breaks label ties by row order, by definition")

    @SETTINGS
    @given(ranking_inputs(loss), st.randoms(use_true_random=False))
    def check(case, random):
        labels, scores, sizes, weights = case
        offsets = np.concatenate(([0], np.cumsum(sizes)))
        order = np.concatenate(
            [
                start + np.array(random.sample(range(int(size)), int(size)))
                for start, size in zip(offsets[:-1], sizes, strict=True)
            ]
        )
        kwargs = {"group": sizes}
        grad, hess = loss.grad_hess(labels, scores, sample_weight=weights, **kwargs)
        p_grad, p_hess = loss.grad_hess(
            labels[order], scores[order], sample_weight=weights[order], **kwargs
        )
        np.testing.assert_allclose(p_grad, grad[order], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(p_hess, hess[order], rtol=1e-9, atol=1e-12)

    check()


@pytest.mark.parametrize("name", gbrank.available_losses())
def test_memory_layout_and_dtype_do_not_matter(name):
    loss = gbrank.get_loss(name)
    rng = np.random.default_rng(0)
    if loss.is_multiclass:
        labels = rng.integers(0, 3, size=40).astype(float)
        wide = rng.normal(size=(40, 6))
        scores = wide[:, ::2]  # a strided view
        variants = [np.asfortranarray(scores), np.ascontiguousarray(scores)]
        group = None
    else:
        labels = rng.integers(0, 2, size=40).astype(float)
        wide = rng.normal(size=(40, 2))
        scores = wide[:, 1]  # non-contiguous
        variants = [np.ascontiguousarray(scores), scores.astype(np.float32)]
        pd = pytest.importorskip("pandas")
        variants.append(pd.Series(np.ascontiguousarray(scores)))
        group = [10, 20, 10]
    reference = loss.grad_hess(labels, np.array(scores, dtype=float), group=group)
    for variant in variants:
        got = loss.grad_hess(labels.astype(np.int64), variant, group=group)
        expected = reference
        if np.asarray(variant).dtype == np.float32:
            cast = np.asarray(variant, dtype=np.float64)
            expected = loss.grad_hess(labels, cast, group=group)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])


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


@pytest.mark.parametrize("name", RANKING)
def test_invalid_input_raises_a_named_error(name):
    loss = gbrank.get_loss(name)

    @SETTINGS
    @given(bad_inputs())
    def check(case):
        kwargs, message = case
        for call in (loss.grad_hess, loss.loss):
            with pytest.raises((ValueError, TypeError), match=message):
                call(**kwargs)

    check()


@pytest.mark.parametrize("name", gbrank.available_losses())
def test_inputs_are_never_modified(name):
    loss = gbrank.get_loss(name)
    rng = np.random.default_rng(1)
    if loss.is_multiclass:
        arrays = {
            "y_true": rng.integers(0, 3, 30).astype(float),
            "y_pred": rng.normal(size=(30, 3)),
        }
    else:
        arrays = {
            "y_true": rng.integers(0, 2, 30).astype(float),
            "y_pred": rng.normal(size=30),
        }
    arrays["sample_weight"] = rng.uniform(size=30)
    arrays["mask"] = rng.random(30) > 0.1
    before = {key: value.copy() for key, value in arrays.items()}
    for value in arrays.values():
        value.flags.writeable = False  # any write attempt would raise
    loss.grad_hess(**arrays)
    loss.loss(**arrays, reduction="none")
    for key, value in arrays.items():
        np.testing.assert_array_equal(value, before[key])
