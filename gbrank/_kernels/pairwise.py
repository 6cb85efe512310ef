"""Kernels of the pairwise losses and their lambda weights.

Three algorithms, chosen by :mod:`gbrank.losses.pairwise`:

- :func:`pair_sums`: every pair function and lambda weight, O(n²) per group of
  n valid rows. Rows are sorted by label once so that the partners of a row
  are one contiguous range (no per-pair label test); groups are dealt to the
  threads, and a group of :data:`LARGE_GROUP` rows or more is itself cut into
  ranges of its rows, each thread adding into its own accumulators.
- :func:`hinge_sorted`: the hinge without lambda weights, O(n log n) per group.
  After one sort by score, a row's active partners (``d < 1``) are a prefix of
  that order; two sweeps keep running Fenwick trees over label ranks.
- :func:`squared_error_sums`: the squared error without lambda weights, O(n) per
  group: with ``r = y - s``, every pair term is ``(r_i - r_j)²``, whose sums
  reduce to per-group moments.

Options travel in one :class:`PairConfig`. Conventions: :mod:`gbrank._kernels`.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numba import njit

from gbrank._kernels.common import (
    Array,
    IntArray,
    Rows,
    Terms,
    argsort_descending,
    valid_rows,
)
from gbrank._kernels.threads import CHUNK_NS, get_num_threads, run_chunks, run_groups

LARGE_GROUP = 2048
"""Groups with at least this many rows are split over threads in ``pair_sums``."""

PAIR_NS = 2.5
"""Estimated nanoseconds per (ordered) pair of rows, for cutting work into chunks."""


class PairFunction(IntEnum):
    """The pair function ``f(d)`` of the tempered score difference."""

    HINGE = 0  # max(0, 1 - d)
    LOGISTIC = 1  # log(1 + exp(-d))
    SOFT_ZERO_ONE = 2  # sigma(-d)
    SQUARED_ERROR = 3  # ((y_i - y_j) - d)^2 over all ordered pairs i != j


class PairHessian(IntEnum):
    """Hessians of the pairwise losses."""

    CURVATURE = 0  # the pair function's curvature (or its documented surrogate)
    CONSTANT = 1  # w_i / T² on every valid row


class LambdaKind(IntEnum):
    """Lambda weights of the pairs."""

    NONE = 0
    LABEL_DIFF = 1
    DCG = 2
    NDCG = 3


class Gain(IntEnum):
    """Gain of a label in the DCG lambda weights."""

    EXP2 = 0  # 2^y - 1
    LINEAR = 1  # y


class PairConfig(NamedTuple):
    """Options of the pairwise kernels.

    Attributes
    ----------
    pair : PairFunction
    temperature : float
        Score differences are divided by it.
    hessian : PairHessian
    lambda_kind : LambdaKind
    topn : int
        Ranks past ``topn`` get discount 0 in the DCG weights (0: no cutoff).
    gain : Gain
    need_loss : bool
        Whether to compute the loss values.
    """

    pair: PairFunction
    temperature: float
    hessian: PairHessian
    lambda_kind: LambdaKind
    topn: int
    gain: Gain
    need_loss: bool


PairSetup = tuple[IntArray, IntArray, Array, Array, float]
"""What :func:`pair_setup` returns for a group: order, lower, gain, discount, scale."""


@njit(cache=True, nogil=True, inline="always")
def _pair_terms(
    pair: PairFunction, d: float, label_diff: float, need_loss: bool
) -> tuple[float, float, float]:
    """Return ``f(d)`` (0 unless ``need_loss``), ``f'(d)`` and the curvature.

    The curvature is ``f''(d)`` except for the hinge (1 inside the margin, the
    active-pairs surrogate) and the soft zero-one loss (``|f'(d)|``, a bound
    of ``|f''(d)|``).
    """
    if pair == PairFunction.HINGE:
        if d < 1.0:
            return (1.0 - d) if need_loss else 0.0, -1.0, 1.0
        return 0.0, 0.0, 0.0
    if pair == PairFunction.SQUARED_ERROR:
        residual = label_diff - d
        return residual * residual, -2.0 * residual, 2.0
    # sigma(-d) and sigma(d) without overflow, from one exp
    e = math.exp(-abs(d))
    inv = 1.0 / (1.0 + e)
    both = e * inv * inv  # sigma(d) sigma(-d)
    sig_neg = e * inv if d >= 0.0 else inv
    if pair == PairFunction.LOGISTIC:
        value = max(-d, 0.0) + math.log1p(e) if need_loss else 0.0
        return value, -sig_neg, both
    # SOFT_ZERO_ONE
    return sig_neg if need_loss else 0.0, -both, both


@njit(cache=True, nogil=True)
def _lambda_terms(
    labels: Array,
    scores: Array,
    order: IntArray,
    config: PairConfig,
    gain_out: Array,
    discount_out: Array,
) -> float:
    """Gains and rank discounts of a group's valid rows (in ``order``).

    ``order`` holds the valid rows sorted by label, descending, ties by row.
    Ranks come from the scores, descending, ties broken by row order (a stable
    sort); a rank past ``config.topn`` (when > 0) has discount 0. Returns the
    factor every pair weight of the group is multiplied by: 1, or 1 / ideal DCG
    for NDCG (0 when the ideal DCG is 0).
    """
    n_valid = order.size
    for k in range(n_valid):
        y = labels[order[k]]
        if config.lambda_kind == LambdaKind.LABEL_DIFF or config.gain == Gain.LINEAR:
            gain_out[k] = y
        else:
            gain_out[k] = math.expm1(y * math.log(2.0))
    if config.lambda_kind == LambdaKind.LABEL_DIFF:
        return 1.0
    cutoff = n_valid if config.topn <= 0 else min(config.topn, n_valid)
    # positions into order, by row (ties of the scores keep row order)
    by_row = argsort_descending(-order.astype(np.float64), np.arange(n_valid))
    by_score = argsort_descending(scores[order], by_row)
    for rank in range(n_valid):
        discount_out[by_score[rank]] = (
            1.0 / math.log2(rank + 2.0) if rank < cutoff else 0.0
        )
    if config.lambda_kind == LambdaKind.DCG:
        return 1.0
    ideal = 0.0
    for rank in range(cutoff):  # gains are in label order, descending
        ideal += gain_out[rank] / math.log2(rank + 2.0)
    return 1.0 / ideal if ideal > 0.0 else 0.0


@njit(cache=True, nogil=True)
def pair_setup(
    labels: Array, scores: Array, start: int, end: int, config: PairConfig
) -> PairSetup:
    """Sort a group's valid rows by label; lambda terms; each row's partners.

    Returns ``order`` (valid rows by label, descending, ties by row), ``lower``
    (``lower[a]``: the first position whose label is strictly below the label
    at position a; the partners of position a are ``lower[a]:``), and the
    gains, discounts and group factor of the lambda weights (empty without).
    """
    order = argsort_descending(labels, valid_rows(labels, start, end))
    n_valid = order.size
    lower = np.empty(n_valid, dtype=np.int64)
    k = n_valid
    for m in range(n_valid - 1, -1, -1):
        if m + 1 < n_valid and labels[order[m]] != labels[order[m + 1]]:
            k = m + 1
        lower[m] = k
    weighted = config.lambda_kind != LambdaKind.NONE
    gain = np.zeros(n_valid if weighted else 0)
    discount = np.zeros(n_valid if weighted else 0)
    scale = 1.0
    if weighted:
        scale = _lambda_terms(labels, scores, order, config, gain, discount)
    return order, lower, gain, discount, scale


@njit(cache=True, nogil=True)
def pair_positions(
    rows: Rows, setup: PairSetup, first: int, stop: int, config: PairConfig, acc: Terms
) -> None:
    """Add the pairs whose higher row sits at positions ``first <= a < stop``.

    Positions index ``setup``'s ``order``; results are added to the
    position-indexed accumulators ``acc`` (:class:`~gbrank._kernels.common.Terms`).
    """
    labels, scores, weights, _ = rows
    order, lower, gain, discount, scale = setup
    n_valid = order.size
    all_pairs = config.pair == PairFunction.SQUARED_ERROR
    weighted = config.lambda_kind != LambdaKind.NONE
    rank_based = weighted and config.lambda_kind != LambdaKind.LABEL_DIFF
    curvature = config.hessian == PairHessian.CURVATURE
    inv_temperature = 1.0 / config.temperature
    inv_t2 = inv_temperature * inv_temperature
    for a in range(first, stop):
        i = order[a]
        y_i = labels[i]
        s_i = scores[i]
        w_i = weights[i]
        value_i = 0.0
        grad_i = 0.0
        hess_i = 0.0
        begin = 0 if all_pairs else lower[a]
        for b in range(begin, n_valid):
            if all_pairs and b == a:
                continue
            j = order[b]
            pair_weight = w_i
            if weighted:
                pair_weight *= scale * abs(gain[a] - gain[b])
                if rank_based:
                    pair_weight *= abs(discount[a] - discount[b])
            d = (s_i - scores[j]) / config.temperature
            value, slope, curve = _pair_terms(
                config.pair, d, y_i - labels[j], config.need_loss
            )
            value_i += pair_weight * value
            g = pair_weight * slope * inv_temperature
            grad_i += g
            acc.grad[b] -= g
            if curvature:
                h = pair_weight * curve * inv_t2
                hess_i += h
                acc.hess[b] += h
        acc.loss[a] += value_i
        acc.grad[a] += grad_i
        acc.hess[a] += hess_i


@njit(cache=True, nogil=True)
def scatter(order: IntArray, acc: Terms, out: Terms) -> None:
    """Add position-indexed accumulators to the row-indexed outputs."""
    for a in range(order.size):
        out.loss[order[a]] += acc.loss[a]
        out.grad[order[a]] += acc.grad[a]
        out.hess[order[a]] += acc.hess[a]


@njit(cache=True, nogil=True)
def pair_groups(
    first: int, stop: int, rows: Rows, config: PairConfig, out: Terms
) -> None:
    """All pairs of the groups ``first <= g < stop`` below ``LARGE_GROUP`` rows."""
    labels, scores, _, offsets = rows
    for g in range(first, stop):
        if offsets[g + 1] - offsets[g] >= LARGE_GROUP:
            continue
        setup = pair_setup(labels, scores, offsets[g], offsets[g + 1], config)
        n_valid = setup[0].size
        acc = Terms(np.zeros(n_valid), np.zeros(n_valid), np.zeros(n_valid))
        pair_positions(rows, setup, 0, n_valid, config, acc)
        scatter(setup[0], acc, out)


def _large_group(rows: Rows, group: int, config: PairConfig, out: Terms) -> None:
    """All pairs of one big group, its rows cut into ranges over the threads."""
    start, end = int(rows.offsets[group]), int(rows.offsets[group + 1])
    setup = pair_setup(rows.labels, rows.scores, start, end, config)
    order, lower = setup[0], setup[1]
    n_valid = order.size
    # cost of position a: its partners lower[a]: (all rows for the squared error)
    partners = n_valid - (0 if config.pair == PairFunction.SQUARED_ERROR else lower)
    cost = np.cumsum(np.broadcast_to(partners, (n_valid,)) * PAIR_NS)
    n_chunks = max(int(cost[-1] // CHUNK_NS), get_num_threads(), 1)
    targets = cost[-1] * np.arange(1, n_chunks) / n_chunks
    bounds = np.unique(np.concatenate(([0], np.searchsorted(cost, targets), [n_valid])))
    accumulators = [
        Terms(np.zeros(n_valid), np.zeros(n_valid), np.zeros(n_valid))
        for _ in range(min(get_num_threads(), bounds.size - 1))
    ]

    def work(worker: int, chunk: int) -> None:
        first, stop = int(bounds[chunk]), int(bounds[chunk + 1])
        pair_positions(rows, setup, first, stop, config, accumulators[worker])

    run_chunks(work, bounds.size - 1)
    for acc in accumulators:
        scatter(order, acc, out)


def pair_sums(rows: Rows, config: PairConfig, out: Terms) -> None:
    """All ordered pairs (i, j) of every group with ``labels[i] > labels[j]``.

    For ``SQUARED_ERROR`` every ordered pair of distinct valid rows counts, label
    ties included. The pair loss ``lambda_ij * weights[i] * f(d)`` with
    ``d = (s_i - s_j) / temperature`` is credited to row i (keras_rs: the
    higher-labelled item carries the pair). The lambda weight (1 without one) is
    computed from the current ranks and is a constant of the gradient. With
    ``PairHessian.CONSTANT`` the hessian is left at 0 (the caller sets it).
    """
    sizes = np.diff(rows.offsets).astype(np.float64)
    large = sizes >= LARGE_GROUP
    run_groups(
        lambda first, stop: pair_groups(first, stop, rows, config, out),
        np.where(large, 0.0, sizes * sizes * PAIR_NS),
    )
    for group in np.flatnonzero(large):
        _large_group(rows, int(group), config, out)


@njit(cache=True, nogil=True, inline="always")
def _fenwick_add(tree: Array, position: int, value: float) -> None:
    k = position + 1
    while k < tree.size:
        tree[k] += value
        k += k & -k


@njit(cache=True, nogil=True, inline="always")
def _fenwick_prefix(tree: Array, stop: int) -> float:
    """Sum of the values added at positions ``0 .. stop - 1``."""
    total = 0.0
    k = stop
    while k > 0:
        total += tree[k]
        k -= k & -k
    return total


@njit(cache=True, nogil=True)
def _hinge_group(
    rows: Rows, start: int, end: int, config: PairConfig, out: Terms
) -> None:
    """Compute the hinge of one group by two sweeps over its rows sorted by score.

    A pair (i, j), ``y_i > y_j``, is active when ``(s_i - s_j) / T < 1`` (the
    same floating-point expression as :func:`pair_positions`). The expression is
    monotone in both scores, so, for rows i by decreasing score, the active
    partners j are a growing prefix of the rows by decreasing score (first
    sweep: count and score sum of those with a lower label rank); for rows j by
    increasing score, the active partners i are a growing prefix of the rows by
    increasing score (second sweep: weight sum of those with a higher label
    rank). Fenwick trees over label ranks answer both in O(log n).
    """
    labels, scores, weights, _ = rows
    temperature = config.temperature
    need_loss = config.need_loss
    curvature = config.hessian == PairHessian.CURVATURE
    valid = valid_rows(labels, start, end)
    n_valid = valid.size
    if n_valid < 2:
        return
    positions = np.arange(n_valid)
    by_label = argsort_descending(-labels[valid], positions)  # ascending labels
    rank = np.empty(n_valid, dtype=np.int64)  # dense label rank, by position
    n_levels = 0
    for m in range(n_valid):
        if m > 0 and labels[valid[by_label[m]]] != labels[valid[by_label[m - 1]]]:
            n_levels += 1
        rank[by_label[m]] = n_levels
    n_levels += 1
    if n_levels < 2:
        return
    order = argsort_descending(scores[valid], positions)  # decreasing score
    inv_temperature = 1.0 / temperature
    inv_t2 = inv_temperature * inv_temperature
    reference = scores[valid[order[0]]]
    count = np.zeros(n_levels + 1)
    score_sum = np.zeros(n_levels + 1 if need_loss else 0)
    p = 0
    for q in range(n_valid):  # row i = valid[order[q]], decreasing score
        a = order[q]
        s_i = scores[valid[a]]
        while p < n_valid and (s_i - scores[valid[order[p]]]) / temperature < 1.0:
            _fenwick_add(count, rank[order[p]], 1.0)
            if need_loss:
                _fenwick_add(
                    score_sum, rank[order[p]], scores[valid[order[p]]] - reference
                )
            p += 1
        active = _fenwick_prefix(count, rank[a])  # lower labels, d < 1
        if active == 0.0:
            continue
        i = valid[a]
        w_i = weights[i]
        out.grad[i] -= w_i * active * inv_temperature
        if curvature:
            out.hess[i] += w_i * active * inv_t2
        if need_loss:
            spread = active * (s_i - reference) - _fenwick_prefix(score_sum, rank[a])
            out.loss[i] += w_i * (active - spread * inv_temperature)
    # second sweep, rows j by increasing score; ranks reversed: higher label first
    weight_sum = np.zeros(n_levels + 1)
    p = n_valid - 1
    for q in range(n_valid - 1, -1, -1):
        b = order[q]
        s_j = scores[valid[b]]
        while p >= 0 and (scores[valid[order[p]]] - s_j) / temperature < 1.0:
            k = order[p]
            _fenwick_add(weight_sum, n_levels - 1 - rank[k], weights[valid[k]])
            p -= 1
        pulled = _fenwick_prefix(weight_sum, n_levels - 1 - rank[b])
        if pulled == 0.0:
            continue
        j = valid[b]
        out.grad[j] += pulled * inv_temperature
        if curvature:
            out.hess[j] += pulled * inv_t2


@njit(cache=True, nogil=True)
def _hinge_groups(
    first: int, stop: int, rows: Rows, config: PairConfig, out: Terms
) -> None:
    for g in range(first, stop):
        _hinge_group(rows, rows.offsets[g], rows.offsets[g + 1], config, out)


def hinge_sorted(rows: Rows, config: PairConfig, out: Terms) -> None:
    """Pairwise hinge without lambda weights, O(n log n) per group.

    Same results as :func:`pair_sums` with ``PairFunction.HINGE`` and no lambda
    weight.
    """
    sizes = np.diff(rows.offsets).astype(np.float64)
    run_groups(
        lambda first, stop: _hinge_groups(first, stop, rows, config, out),
        sizes * np.log2(sizes + 1.0) * 60.0,
    )


@njit(cache=True, nogil=True)
def _squared_error_groups(
    first: int, stop: int, rows: Rows, need_loss: bool, out: Terms
) -> None:
    labels, scores, weights, offsets = rows
    for g in range(first, stop):
        start, end = offsets[g], offsets[g + 1]
        n_valid = 0
        mean = 0.0
        for i in range(start, end):
            if labels[i] >= 0:
                n_valid += 1
                mean += labels[i] - scores[i]
        if n_valid < 2:
            continue
        mean /= n_valid
        c1 = 0.0
        c2 = 0.0
        w_total = 0.0
        wc = 0.0
        for i in range(start, end):
            if labels[i] >= 0:
                c = (labels[i] - scores[i]) - mean
                c1 += c
                c2 += c * c
                w_total += weights[i]
                wc += weights[i] * c
        for i in range(start, end):
            if labels[i] >= 0:
                c = (labels[i] - scores[i]) - mean
                w = weights[i]
                if need_loss:
                    out.loss[i] = w * (n_valid * c * c - 2.0 * c * c1 + c2)
                out.grad[i] = -2.0 * (w * (n_valid * c - c1) + w_total * c - wc)
                out.hess[i] = 2.0 * ((n_valid - 2) * w + w_total)


def squared_error_sums(rows: Rows, need_loss: bool, out: Terms) -> None:
    """Pairwise squared error over all ordered pairs, O(n) per group.

    With ``r = y - s`` centred per group (``c = r - mean(r)``), the valid rows'
    count n, ``C1 = sum c``, ``C2 = sum c²``, ``W = sum w``, ``WC = sum w c``:
    ``loss_k = w_k (n c_k² - 2 c_k C1 + C2)``, ``grad_k = -2 (w_k (n c_k - C1)
    + W c_k - WC)``, ``hess_k = 2 ((n - 2) w_k + W)``.
    """
    sizes = np.diff(rows.offsets).astype(np.float64)
    run_groups(
        lambda first, stop: _squared_error_groups(first, stop, rows, need_loss, out),
        sizes * 10.0,
    )


def constant_hessian(rows: Rows, temperature: float) -> Array:
    """``weights / T²`` on valid rows, 0 elsewhere."""
    return np.where(rows.labels >= 0, rows.weights / temperature**2, 0.0)
