"""YetiRank: determinism for a seed (threads, row order), the pair weights by
hand, perturbed scores, parameters. The expected gradient against CatBoost's
(Monte Carlo) is in test_references_pairwise.py."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import gbrank
from gbrank._kernels import threads
from gbrank._kernels.common import argsort_descending
from gbrank._kernels.yetirank import sort_descending


def _data(seed=0, n_groups=40, size=60):
    rng = np.random.default_rng(seed)
    n = n_groups * size
    labels = rng.integers(0, 5, n).astype(float)
    labels[rng.random(n) < 0.1] = -1.0
    return labels, rng.normal(size=n), np.full(n_groups, size)


def test_a_seed_gives_the_same_result_for_any_thread_count():
    labels, scores, group = _data()
    loss = gbrank.YetiRankLoss(seed=7)
    with threads.num_threads(1):
        one = loss.grad_hess(labels, scores, group=group)
    with threads.num_threads(2):
        two = loss.grad_hess(labels, scores, group=group)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    other = gbrank.YetiRankLoss(seed=8).grad_hess(labels, scores, group=group)
    assert not np.allclose(one[0], other[0])


def test_two_rows_always_form_the_top_pair():
    """With two rows of different labels every perturbed ranking pairs them at
    the top, whatever the noise: weight 0.15 |y_0 - y_1|."""
    loss = gbrank.YetiRankLoss(permutations=7, seed=3)
    labels, scores = np.array([3.0, 1.0]), np.array([-0.4, 0.9])
    d = -1.3
    expected = 0.15 * 2 * math.log1p(math.exp(-d))
    assert loss.loss(labels, scores, reduction="sum") == pytest.approx(expected)
    sigma = 1 / (1 + math.exp(d))  # sigma(-d)
    grad, hess = loss.grad_hess(labels, scores)
    np.testing.assert_allclose(grad, [-0.3 * sigma, 0.3 * sigma], rtol=1e-12)
    np.testing.assert_allclose(hess, [0.3 * sigma * (1 - sigma)] * 2, rtol=1e-12)


def test_pairs_are_neighbours_of_the_perturbed_rankings():
    """decay = 1 and one permutation: the loss is the sum over neighbours with
    different labels in the order of the perturbed scores."""
    loss = gbrank.YetiRankLoss(permutations=1, decay=1.0, seed=5)
    labels = np.array([2.0, 0.0, 1.0, 0.0, 1.0])
    scores = np.array([0.1, 0.3, -0.2, 0.0, 0.5])
    noisy = loss.perturbed_scores(labels, scores)[0]
    order = np.argsort(-noisy, kind="stable")
    expected = 0.0
    for a, b in itertools.pairwise(order):
        if labels[a] != labels[b]:
            high, low = (a, b) if labels[a] > labels[b] else (b, a)
            d = scores[high] - scores[low]
            expected += 0.15 * abs(labels[a] - labels[b]) * math.log1p(math.exp(-d))
    assert loss.loss(labels, scores, reduction="sum") == pytest.approx(expected)


def test_perturbed_scores_are_scores_plus_logistic_noise():
    labels, scores, group = _data(n_groups=50, size=40)
    loss = gbrank.YetiRankLoss(permutations=20, seed=1)
    noisy = loss.perturbed_scores(labels, scores, group=group)
    assert noisy.shape == (20, labels.size)
    ignored = labels < 0
    np.testing.assert_array_equal(noisy[:, ignored], np.tile(scores[ignored], (20, 1)))
    noise = (noisy - scores)[:, ~ignored].ravel()
    # standard logistic: mean 0, variance pi^2 / 3
    assert abs(noise.mean()) < 4 * math.pi / math.sqrt(3 * noise.size)
    assert noise.var() == pytest.approx(math.pi**2 / 3, rel=0.05)
    # the noise follows the rank and label, not the position or a shift
    shifted = loss.perturbed_scores(labels, scores + 2.5, group=group)
    np.testing.assert_allclose(shifted - 2.5, noisy, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 7, 64, 65, 300])
def test_packed_sort_is_the_stable_descending_sort(n):
    rng = np.random.default_rng(n)
    for keys in (
        rng.normal(size=n),
        np.round(rng.normal(size=n), 1),  # ties
        np.where(rng.random(n) < 0.5, 0.0, -0.0),  # signed zeros tie
        rng.normal(size=n) * 1e-300,
    ):
        out = np.empty(n, dtype=np.int64)
        spare = np.empty(n, dtype=np.uint64)
        sort_descending(keys, np.empty(n, dtype=np.uint64), spare, out)
        np.testing.assert_array_equal(out, argsort_descending(keys, np.arange(n)))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"permutations": 0}, r"permutations must be an integer >= 1, got 0"),
        ({"permutations": 2.5}, r"permutations must be an integer >= 1, got 2.5"),
        ({"permutations": True}, r"permutations must be an integer >= 1"),
        ({"decay": 0.0}, r"decay must be a finite number in \(0, 1\], got 0.0"),
        ({"decay": 1.5}, r"decay must be a finite number in \(0, 1\], got 1.5"),
        ({"decay": float("nan")}, r"decay must be a finite number in \(0, 1\]"),
        ({"seed": -1}, r"seed must be an integer >= 0, got -1"),
    ],
)
def test_bad_parameters_name_the_parameter_and_range(params, message):
    loss = gbrank.YetiRankLoss(**params)
    for call in (loss.loss, loss.grad_hess, loss.perturbed_scores):
        with pytest.raises(ValueError, match=message):
            call([1.0, 0.0], [0.0, 1.0])
