"""Numba kernels of the pairwise losses (conventions of :mod:`gbrank._kernels`).

Three algorithms, chosen by :mod:`gbrank.losses.pairwise`:

- :func:`all_pairs`: every pair function and lambda weight, O(n²) per group of n
  valid rows. Rows are sorted by label once so that the partners of a row are
  one contiguous range (no per-pair label test); groups run in parallel, and a
  group of ``LARGE_GROUP`` rows or more is itself split over the threads.
- :func:`hinge_sorted`: the hinge without lambda weights, O(n log n) per group.
  After one sort by score, a row's active partners (``d < 1``) are a prefix of
  that order; two sweeps keep running Fenwick trees over label ranks.
- :func:`squared_error_sums`: the squared error without lambda weights, O(n) per
  group: with ``r = y - s``, every pair term is ``(r_i - r_j)²``, whose sums
  reduce to per-group moments.

Every kernel has the flag ``need_loss``: when False (``grad_hess``) the loss
value is not computed and ``loss_out`` is left untouched.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from gbrank._kernels import (
    DCG_LAMBDA,
    GAIN_LINEAR,
    HINGE,
    LABEL_DIFF_LAMBDA,
    LOGISTIC,
    NO_LAMBDA,
    PAIR_HESSIAN_CURVATURE,
    SQUARED_ERROR,
)

LARGE_GROUP = 2048
"""Groups with at least this many rows are split over threads in ``all_pairs``."""


@njit(cache=True, inline="always")
def _pair_terms(
    kind: int, d: float, label_diff: float, need_loss: bool
) -> tuple[float, float, float]:
    """Return ``f(d)`` (0 unless ``need_loss``), ``f'(d)`` and the curvature.

    The curvature is ``f''(d)`` except for the hinge (1 inside the margin, the
    active-pairs surrogate) and the soft zero-one loss (``|f'(d)|``, a bound
    of ``|f''(d)|``).
    """
    if kind == HINGE:
        if d < 1.0:
            return (1.0 - d) if need_loss else 0.0, -1.0, 1.0
        return 0.0, 0.0, 0.0
    if kind == SQUARED_ERROR:
        residual = label_diff - d
        return residual * residual, -2.0 * residual, 2.0
    # sigma(-d) and sigma(d) without overflow, from one exp
    e = math.exp(-abs(d))
    inv = 1.0 / (1.0 + e)
    both = e * inv * inv  # sigma(d) sigma(-d)
    sig_neg = e * inv if d >= 0.0 else inv
    if kind == LOGISTIC:
        value = max(-d, 0.0) + math.log1p(e) if need_loss else 0.0
        return value, -sig_neg, both
    # SOFT_ZERO_ONE
    return sig_neg if need_loss else 0.0, -both, both


@njit(cache=True)
def _lambda_terms(
    labels, scores, rows, lambda_mode, topn, gain_kind, gain_out, discount_out
):
    """Gains and rank discounts of a group's valid ``rows`` (in ``rows`` order).

    Ranks come from the scores, descending, ties broken by row order (a stable
    sort); a rank past ``topn`` (when ``topn > 0``) has discount 0. Returns the
    factor every pair weight of the group is multiplied by: 1, or 1 / ideal DCG
    for NDCG (0 when the ideal DCG is 0).
    """
    n_valid = rows.size
    for k in range(n_valid):
        y = labels[rows[k]]
        if lambda_mode == LABEL_DIFF_LAMBDA or gain_kind == GAIN_LINEAR:
            gain_out[k] = y
        else:
            gain_out[k] = math.expm1(y * math.log(2.0))
    if lambda_mode == LABEL_DIFF_LAMBDA:
        return 1.0
    cutoff = n_valid if topn <= 0 else min(topn, n_valid)
    # rows are sorted by label; the rank needs the original row order on ties
    by_row = np.argsort(rows)
    by_score = by_row[np.argsort(-scores[rows[by_row]], kind="mergesort")]
    for rank in range(n_valid):
        k = by_score[rank]
        discount_out[k] = 1.0 / math.log2(rank + 2.0) if rank < cutoff else 0.0
    if lambda_mode == DCG_LAMBDA:
        return 1.0
    ideal = 0.0
    for rank in range(cutoff):  # gains are in label order, descending
        ideal += gain_out[rank] / math.log2(rank + 2.0)
    return 1.0 / ideal if ideal > 0.0 else 0.0


@njit(cache=True)
def _valid_rows(labels, start, stop):
    """Return the indices of the valid rows of ``start:stop``, in row order."""
    n_valid = 0
    for i in range(start, stop):
        if labels[i] >= 0:
            n_valid += 1
    rows = np.empty(n_valid, dtype=np.int64)
    k = 0
    for i in range(start, stop):
        if labels[i] >= 0:
            rows[k] = i
            k += 1
    return rows


@njit(cache=True)
def _sorted_by_label(labels, start, stop):
    """Sort valid rows by label, descending; find where each row's partners start.

    ``lower[k]`` is the first position whose label is strictly below the label at
    position k: the rows a row at k is paired with are ``lower[k]:``.
    """
    rows = _valid_rows(labels, start, stop)
    rows = rows[np.argsort(-labels[rows], kind="mergesort")]
    n_valid = rows.size
    lower = np.empty(n_valid, dtype=np.int64)
    k = n_valid
    for m in range(n_valid - 1, -1, -1):
        if m + 1 < n_valid and labels[rows[m]] != labels[rows[m + 1]]:
            k = m + 1
        lower[m] = k
    return rows, lower


@njit(cache=True)
def _all_pairs_rows(
    labels,
    scores,
    weights,
    rows,
    lower,
    gain,
    discount,
    scale,
    first,
    step,
    kind,
    temperature,
    curvature_hessian,
    lambda_mode,
    need_loss,
    value_acc,
    grad_acc,
    hess_acc,
):
    """Pairs whose higher row sits at positions ``first, first + step, ...``.

    Positions index ``rows`` (valid rows sorted by label); results are added to
    the position-indexed accumulators.
    """
    n_valid = rows.size
    all_pairs = kind == SQUARED_ERROR
    weighted = lambda_mode != NO_LAMBDA
    rank_based = weighted and lambda_mode != LABEL_DIFF_LAMBDA
    inv_temperature = 1.0 / temperature
    inv_t2 = inv_temperature * inv_temperature
    for a in range(first, n_valid, step):
        i = rows[a]
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
            j = rows[b]
            pair_weight = w_i
            if weighted:
                pair_weight *= scale * abs(gain[a] - gain[b])
                if rank_based:
                    pair_weight *= abs(discount[a] - discount[b])
            d = (s_i - scores[j]) / temperature
            value, slope, curvature = _pair_terms(kind, d, y_i - labels[j], need_loss)
            value_i += pair_weight * value
            g = pair_weight * slope * inv_temperature
            grad_i += g
            grad_acc[b] -= g
            if curvature_hessian:
                h = pair_weight * curvature * inv_t2
                hess_i += h
                hess_acc[b] += h
        value_acc[a] += value_i
        grad_acc[a] += grad_i
        hess_acc[a] += hess_i


@njit(cache=True)
def _group_setup(labels, scores, start, stop, lambda_mode, topn, gain_kind):
    rows, lower = _sorted_by_label(labels, start, stop)
    weighted = lambda_mode != NO_LAMBDA
    gain = np.zeros(rows.size if weighted else 0)
    discount = np.zeros(rows.size if weighted else 0)
    scale = 1.0
    if weighted:
        scale = _lambda_terms(
            labels, scores, rows, lambda_mode, topn, gain_kind, gain, discount
        )
    return rows, lower, gain, discount, scale


@njit(cache=True)
def _scatter(rows, value_acc, grad_acc, hess_acc, loss_out, grad_out, hess_out):
    for a in range(rows.size):
        loss_out[rows[a]] += value_acc[a]
        grad_out[rows[a]] += grad_acc[a]
        hess_out[rows[a]] += hess_acc[a]


@njit(parallel=True, cache=True)
def _all_pairs_small(
    labels,
    scores,
    weights,
    offsets,
    groups,
    kind,
    temperature,
    curvature_hessian,
    lambda_mode,
    topn,
    gain_kind,
    need_loss,
    loss_out,
    grad_out,
    hess_out,
):
    for q in prange(groups.size):
        g = groups[q]
        rows, lower, gain, discount, scale = _group_setup(
            labels, scores, offsets[g], offsets[g + 1], lambda_mode, topn, gain_kind
        )
        acc = np.zeros((3, rows.size))
        _all_pairs_rows(
            labels,
            scores,
            weights,
            rows,
            lower,
            gain,
            discount,
            scale,
            0,
            1,
            kind,
            temperature,
            curvature_hessian,
            lambda_mode,
            need_loss,
            acc[0],
            acc[1],
            acc[2],
        )
        _scatter(rows, acc[0], acc[1], acc[2], loss_out, grad_out, hess_out)


@njit(parallel=True, cache=True)
def _all_pairs_large(
    labels,
    scores,
    weights,
    start,
    stop,
    kind,
    temperature,
    curvature_hessian,
    lambda_mode,
    topn,
    gain_kind,
    need_loss,
    n_chunks,
    loss_out,
    grad_out,
    hess_out,
):
    """One big group; its higher rows are dealt round-robin to ``n_chunks`` chunks."""
    rows, lower, gain, discount, scale = _group_setup(
        labels, scores, start, stop, lambda_mode, topn, gain_kind
    )
    acc = np.zeros((n_chunks, 3, rows.size))
    for c in prange(n_chunks):
        _all_pairs_rows(
            labels,
            scores,
            weights,
            rows,
            lower,
            gain,
            discount,
            scale,
            c,
            n_chunks,
            kind,
            temperature,
            curvature_hessian,
            lambda_mode,
            need_loss,
            acc[c, 0],
            acc[c, 1],
            acc[c, 2],
        )
    for c in range(n_chunks):
        _scatter(rows, acc[c, 0], acc[c, 1], acc[c, 2], loss_out, grad_out, hess_out)


@njit(cache=True)
def all_pairs(
    labels,
    scores,
    weights,
    offsets,
    kind,
    temperature,
    hessian_mode,
    lambda_mode,
    topn,
    gain_kind,
    need_loss,
    n_threads,
    loss_out,
    grad_out,
    hess_out,
):
    """All ordered pairs (i, j) of a group with ``labels[i] > labels[j]``.

    For ``SQUARED_ERROR`` every ordered pair of distinct valid rows counts, label
    ties included. The pair loss ``lambda_ij * weights[i] * f(d)`` with
    ``d = (s_i - s_j) / temperature`` is credited to row i (keras_rs: the
    higher-labelled item carries the pair). The lambda weight (1 without one) is
    computed from the current ranks and is a constant of the gradient. A group
    of ``LARGE_GROUP`` rows or more is split into ``n_threads`` chunks (pass
    ``numba.get_num_threads()``), each with its own accumulators.
    """
    sizes = offsets[1:] - offsets[:-1]
    small = np.flatnonzero(sizes < LARGE_GROUP)
    large = np.flatnonzero(sizes >= LARGE_GROUP)
    curvature_hessian = hessian_mode == PAIR_HESSIAN_CURVATURE
    _all_pairs_small(
        labels,
        scores,
        weights,
        offsets,
        small,
        kind,
        temperature,
        curvature_hessian,
        lambda_mode,
        topn,
        gain_kind,
        need_loss,
        loss_out,
        grad_out,
        hess_out,
    )
    for g in large:
        _all_pairs_large(
            labels,
            scores,
            weights,
            offsets[g],
            offsets[g + 1],
            kind,
            temperature,
            curvature_hessian,
            lambda_mode,
            topn,
            gain_kind,
            need_loss,
            n_threads,
            loss_out,
            grad_out,
            hess_out,
        )
    if not curvature_hessian:
        constant_hessian(labels, weights, temperature, hess_out)


@njit(parallel=True, cache=True)
def constant_hessian(labels, weights, temperature, hess_out):
    """Set ``hess_out`` to ``weights / T²`` on valid rows (0 elsewhere)."""
    inv_temperature = 1.0 / temperature
    inv_t2 = inv_temperature * inv_temperature
    for i in prange(labels.size):
        hess_out[i] = weights[i] * inv_t2 if labels[i] >= 0 else 0.0


@njit(cache=True, inline="always")
def _fenwick_add(tree, position, value):
    k = position + 1
    while k < tree.size:
        tree[k] += value
        k += k & -k


@njit(cache=True, inline="always")
def _fenwick_prefix(tree, stop):
    """Sum of the values added at positions ``0 .. stop - 1``."""
    total = 0.0
    k = stop
    while k > 0:
        total += tree[k]
        k -= k & -k
    return total


@njit(cache=True)
def _hinge_group(
    labels,
    scores,
    weights,
    start,
    stop,
    temperature,
    curvature_hessian,
    need_loss,
    loss_out,
    grad_out,
    hess_out,
):
    """Compute the hinge of one group by two sweeps over its rows sorted by score.

    A pair (i, j), ``y_i > y_j``, is active when ``(s_i - s_j) / T < 1`` (the
    same floating-point expression as :func:`all_pairs`). The expression is
    monotone in both scores, so, for rows i by decreasing score, the active
    partners j are a growing prefix of the rows by decreasing score (first
    sweep: count and score sum of those with a lower label rank); for rows j by
    increasing score, the active partners i are a growing prefix of the rows by
    increasing score (second sweep: weight sum of those with a higher label
    rank). Fenwick trees over label ranks answer both in O(log n).
    """
    rows = _valid_rows(labels, start, stop)
    n_valid = rows.size
    if n_valid < 2:
        return
    by_label = np.argsort(labels[rows])
    rank = np.empty(n_valid, dtype=np.int64)  # dense label rank, by position
    n_levels = 0
    for m in range(n_valid):
        if m > 0 and labels[rows[by_label[m]]] != labels[rows[by_label[m - 1]]]:
            n_levels += 1
        rank[by_label[m]] = n_levels
    n_levels += 1
    if n_levels < 2:
        return
    order = np.argsort(-scores[rows])  # positions by decreasing score
    inv_temperature = 1.0 / temperature
    inv_t2 = inv_temperature * inv_temperature
    reference = scores[rows[order[0]]]
    count = np.zeros(n_levels + 1)
    score_sum = np.zeros(n_levels + 1 if need_loss else 0)
    p = 0
    for q in range(n_valid):  # row i = rows[order[q]], decreasing score
        a = order[q]
        s_i = scores[rows[a]]
        while p < n_valid and (s_i - scores[rows[order[p]]]) / temperature < 1.0:
            _fenwick_add(count, rank[order[p]], 1.0)
            if need_loss:
                _fenwick_add(
                    score_sum, rank[order[p]], scores[rows[order[p]]] - reference
                )
            p += 1
        active = _fenwick_prefix(count, rank[a])  # lower labels, d < 1
        if active == 0.0:
            continue
        i = rows[a]
        w_i = weights[i]
        grad_out[i] -= w_i * active * inv_temperature
        if curvature_hessian:
            hess_out[i] += w_i * active * inv_t2
        if need_loss:
            spread = active * (s_i - reference) - _fenwick_prefix(score_sum, rank[a])
            loss_out[i] += w_i * (active - spread * inv_temperature)
    # second sweep, rows j by increasing score; ranks reversed: higher label first
    weight_sum = np.zeros(n_levels + 1)
    p = n_valid - 1
    for q in range(n_valid - 1, -1, -1):
        b = order[q]
        s_j = scores[rows[b]]
        while p >= 0 and (scores[rows[order[p]]] - s_j) / temperature < 1.0:
            k = order[p]
            _fenwick_add(weight_sum, n_levels - 1 - rank[k], weights[rows[k]])
            p -= 1
        pulled = _fenwick_prefix(weight_sum, n_levels - 1 - rank[b])
        if pulled == 0.0:
            continue
        j = rows[b]
        grad_out[j] += pulled * inv_temperature
        if curvature_hessian:
            hess_out[j] += pulled * inv_t2


@njit(parallel=True, cache=True)
def _hinge_groups(
    labels,
    scores,
    weights,
    offsets,
    groups,
    temperature,
    curvature_hessian,
    need_loss,
    loss_out,
    grad_out,
    hess_out,
):
    for q in prange(groups.size):
        g = groups[q]
        _hinge_group(
            labels,
            scores,
            weights,
            offsets[g],
            offsets[g + 1],
            temperature,
            curvature_hessian,
            need_loss,
            loss_out,
            grad_out,
            hess_out,
        )


@njit(cache=True)
def hinge_sorted(
    labels,
    scores,
    weights,
    offsets,
    temperature,
    hessian_mode,
    need_loss,
    loss_out,
    grad_out,
    hess_out,
):
    """Pairwise hinge without lambda weights, O(n log n) per group.

    Same results as :func:`all_pairs` with ``kind=HINGE`` and no lambda weight.
    """
    curvature_hessian = hessian_mode == PAIR_HESSIAN_CURVATURE
    groups = np.arange(offsets.size - 1)
    _hinge_groups(
        labels,
        scores,
        weights,
        offsets,
        groups,
        temperature,
        curvature_hessian,
        need_loss,
        loss_out,
        grad_out,
        hess_out,
    )
    if not curvature_hessian:
        constant_hessian(labels, weights, temperature, hess_out)


@njit(parallel=True, cache=True)
def squared_error_sums(
    labels, scores, weights, offsets, need_loss, loss_out, grad_out, hess_out
):
    """Pairwise squared error over all ordered pairs, O(n) per group.

    With ``r = y - s`` centred per group (``c = r - mean(r)``), the valid rows'
    count n, ``C1 = sum c``, ``C2 = sum c²``, ``W = sum w``, ``WC = sum w c``:
    ``loss_k = w_k (n c_k² - 2 c_k C1 + C2)``, ``grad_k = -2 (w_k (n c_k - C1)
    + W c_k - WC)``, ``hess_k = 2 ((n - 2) w_k + W)``.
    """
    n_groups = offsets.size - 1
    for g in prange(n_groups):
        start, stop = offsets[g], offsets[g + 1]
        n_valid = 0
        mean = 0.0
        for i in range(start, stop):
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
        for i in range(start, stop):
            if labels[i] >= 0:
                c = (labels[i] - scores[i]) - mean
                c1 += c
                c2 += c * c
                w_total += weights[i]
                wc += weights[i] * c
        for i in range(start, stop):
            if labels[i] >= 0:
                c = (labels[i] - scores[i]) - mean
                w = weights[i]
                if need_loss:
                    loss_out[i] = w * (n_valid * c * c - 2.0 * c * c1 + c2)
                grad_out[i] = -2.0 * (w * (n_valid * c - c1) + w_total * c - wc)
                hess_out[i] = 2.0 * ((n_valid - 2) * w + w_total)
