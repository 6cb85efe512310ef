"""Kernel of YetiRank: pair weights from randomly perturbed rankings.

For each group and each of ``permutations`` perturbations, every valid row's
score gets standard logistic noise (CatBoost's ``exp(s) u / (1 - u)``,
``u ~ U(0, 1)``, whose log is ``s + log(u / (1 - u))``); the rows are sorted by
the noisy scores, and each pair of neighbours at positions k, k + 1 (0-based)
with different labels gets the weight ``0.15 decay^k |y_a - y_b| /
permutations``, credited to the higher label. The pairs' logistic losses with
these weights (frozen in the gradient) give the loss, gradient and exact
diagonal hessian. Cost per group of n rows: O(P n log n).

The noise of a row is a counter-based hash of the seed, the permutation, the
row's rank by score (ties: lower label first, then row order) and its label:
the same for any number of threads, for any order of the rows or the groups,
and after shifting a group's scores; it changes when the ranking changes, so
successive boosting rounds draw fresh noise once scores move. Conventions:
:mod:`gbrank._kernels`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from gbrank._kernels.common import (
    Array,
    IntArray,
    Rows,
    Terms,
    hash_keys,
    ratio_exponentials,
    valid_rows,
)
from gbrank._kernels.lambdaweights import sort_pessimistic
from gbrank._kernels.pairfunctions import logistic
from gbrank._kernels.threads import run_groups

PAIR_WEIGHT = 0.15
"""CatBoost's weight of the top pair of a perturbed ranking (before decay)."""


class YetiConfig(NamedTuple):
    """Options of the YetiRank kernel.

    Attributes
    ----------
    permutations : int
        Number of perturbed rankings averaged.
    decay : float
        Weight factor per position down the perturbed ranking.
    seed : int
        Seed of the noise.
    need_loss : bool
        Whether to compute the loss values.
    """

    permutations: int
    decay: float
    seed: int
    need_loss: bool


@njit(cache=True, nogil=True, inline="always")
def _odds(seed: int, permutation: int, rank: int, label_bits: int) -> float:
    """``u / (1 - u)`` for u in (0, 1) hashed from the keys (splitmix64).

    Its log is standard logistic noise.
    """
    x = hash_keys(seed, permutation, rank, label_bits)
    u = (float(x >> np.uint64(11)) + 0.5) * 2.0**-53
    return u / (1.0 - u)


_RUN = 16  # insertion-sorted run length of _sort_words


@njit(cache=True, nogil=True)
def _sort_words(words: NDArray[np.uint64], spare: NDArray[np.uint64]) -> None:
    """Sort ``words`` ascending in place (insertion runs, then bottom-up merges).

    A loop, not ``np.sort``: numba compiles it much faster; each item is one
    word, so a move is one store.
    """
    n = words.size
    for lo in range(0, n, _RUN):
        hi = min(lo + _RUN, n)
        for k in range(lo + 1, hi):
            item = words[k]
            m = k - 1
            while m >= lo and words[m] > item:
                words[m + 1] = words[m]
                m -= 1
            words[m + 1] = item
    source, target = words, spare
    width = _RUN
    while width < n:
        for lo in range(0, n, 2 * width):
            mid, hi = min(lo + width, n), min(lo + 2 * width, n)
            i, j = lo, mid
            for k in range(lo, hi):
                if j >= hi or (i < mid and source[i] <= source[j]):
                    target[k] = source[i]
                    i += 1
                else:
                    target[k] = source[j]
                    j += 1
        source, target = target, source
        width *= 2
    if source is not words:
        for k in range(n):
            words[k] = source[k]


@njit(cache=True, nogil=True)
def sort_descending(
    keys: Array, packed: NDArray[np.uint64], spare: NDArray[np.uint64], out: IntArray
) -> None:
    """Write the positions of ``keys`` by key, descending, ties by position.

    The same order as :func:`~gbrank._kernels.common.argsort_descending`,
    about 2.5 times faster on short arrays: each key is mapped to an unsigned
    integer of the opposite order, its lowest bits replaced by the position,
    and the integers are sorted alone; runs whose truncated keys tie are then
    put in order by the full keys.
    """
    n = keys.size
    shift = 1
    while (1 << shift) < n:
        shift += 1
    low = np.uint64((1 << shift) - 1)
    sign = np.uint64(1) << np.uint64(63)
    bits = keys.view(np.uint64)
    for a in range(n):
        b = bits[a] if bits[a] != sign else np.uint64(0)  # -0.0 ties with 0.0
        ordered = ~b if b & sign else b | sign  # ascending with the key
        packed[a] = (~ordered & ~low) | np.uint64(a)  # ascending: key descending
    _sort_words(packed[:n], spare[:n])
    for k in range(n):
        out[k] = np.int64(packed[k] & low)
    k = 1
    while k < n:  # truncated ties: insertion by (key desc, position asc)
        if (packed[k] & ~low) == (packed[k - 1] & ~low):
            m = k
            while m > 0 and (packed[m] & ~low) == (packed[m - 1] & ~low):
                x, y = out[m], out[m - 1]
                if keys[x] > keys[y] or (keys[x] == keys[y] and x < y):
                    out[m], out[m - 1] = y, x
                    m -= 1
                else:
                    break
        k += 1


@njit(cache=True, nogil=True)
def _ranks(labels: Array, scores: Array) -> IntArray:
    """0-based rank of each position by score (ties: lower label, then position)."""
    n = scores.size
    ranked = sort_pessimistic(labels, scores, np.arange(n))
    rank = np.empty(n, dtype=np.int64)
    for r in range(n):
        rank[ranked[r]] = r
    return rank


@njit(cache=True, nogil=True)
def _odds_of(labels: Array, scores: Array, config: YetiConfig) -> Array:
    """``u / (1 - u)`` of every (permutation, position) of a group's valid rows."""
    n = scores.size
    rank = _ranks(labels, scores)
    bits = labels.view(np.int64)
    odds = np.empty((config.permutations, n))
    for p in range(config.permutations):
        for a in range(n):
            odds[p, a] = _odds(config.seed, p, rank[a], bits[a])
    return odds


@njit(cache=True, nogil=True)
def _yetirank_group(
    rows: Rows, start: int, end: int, config: YetiConfig, out: Terms
) -> None:
    """Add the YetiRank pairs of one group to ``out`` (row-indexed)."""
    all_labels, all_scores, all_weights, _ = rows
    valid = valid_rows(all_labels, start, end)
    n = valid.size
    if n < 2:
        return
    # loops, not fancy indexing or array expressions: faster to compile
    labels, scores, weights = np.empty(n), np.empty(n), np.empty(n)
    for a in range(n):
        row = valid[a]
        labels[a], scores[a], weights[a] = (
            all_labels[row],
            all_scores[row],
            all_weights[row],
        )
    odds = _odds_of(labels, scores, config)
    # noisy scores compared as exp(s - top) * odds (CatBoost's form, no log per
    # row), or as s + log(odds) when exp(s - top) could underflow
    expo, inverse = np.empty(n), np.empty(n)
    ratios = ratio_exponentials(scores, expo, inverse)
    loss = np.zeros(n)
    grad = np.zeros(n)
    hess = np.zeros(n)
    noisy = np.empty(n)
    packed = np.empty(n, dtype=np.uint64)
    spare = np.empty(n, dtype=np.uint64)
    perm = np.empty(n, dtype=np.int64)
    share = PAIR_WEIGHT / config.permutations
    for p in range(config.permutations):
        for a in range(n):
            if ratios:
                noisy[a] = expo[a] * odds[p, a]
            else:
                noisy[a] = scores[a] + math.log(odds[p, a])
        sort_descending(noisy, packed, spare, perm)
        factor = share
        for k in range(n - 1):
            a, b = perm[k], perm[k + 1]
            if labels[a] != labels[b]:
                high, low = (a, b) if labels[a] > labels[b] else (b, a)
                weight = factor * abs(labels[a] - labels[b]) * weights[high]
                d = scores[high] - scores[low]
                e = -1.0
                if ratios:
                    e = min(expo[low] * inverse[high], expo[high] * inverse[low])
                value, slope, curve = logistic(
                    d, e, 0.0, config.need_loss, 1.0, (0.0, 0.0)
                )
                loss[high] += weight * value
                grad[high] += weight * slope
                grad[low] -= weight * slope
                hess[high] += weight * curve
                hess[low] += weight * curve
            factor *= config.decay
    for a in range(n):
        out.loss[valid[a]] += loss[a]
        out.grad[valid[a]] += grad[a]
        out.hess[valid[a]] += hess[a]


@njit(cache=True, nogil=True)
def _yetirank_groups(
    first: int, stop: int, rows: Rows, config: YetiConfig, out: Terms
) -> None:
    for g in range(first, stop):
        _yetirank_group(rows, rows.offsets[g], rows.offsets[g + 1], config, out)


def yetirank_sums(rows: Rows, config: YetiConfig, out: Terms) -> None:
    """Add every group's YetiRank pair sums to ``out`` (see the module notes)."""
    sizes = np.diff(rows.offsets).astype(np.float64)
    cost = sizes * (np.log2(sizes + 1.0) * 10.0 + 30.0) * config.permutations
    run_groups(
        lambda first, stop: _yetirank_groups(first, stop, rows, config, out), cost
    )


@njit(cache=True, nogil=True)
def perturbed_scores(rows: Rows, config: YetiConfig, out: Array) -> None:
    """Write each permutation's noisy scores (``out[p, row]``; valid rows only)."""
    labels, scores, _, offsets = rows
    for g in range(offsets.size - 1):
        valid = valid_rows(labels, offsets[g], offsets[g + 1])
        if valid.size == 0:
            continue
        own_labels, own_scores = np.empty(valid.size), np.empty(valid.size)
        for a in range(valid.size):
            own_labels[a], own_scores[a] = labels[valid[a]], scores[valid[a]]
        odds = _odds_of(own_labels, own_scores, config)
        for p in range(config.permutations):
            for a in range(valid.size):
                out[p, valid[a]] = scores[valid[a]] + math.log(odds[p, a])
