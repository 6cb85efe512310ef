"""Kernels of the softmax variants: Poly1 softmax and unique softmax (rax).

Conventions: :mod:`gbrank._kernels`; the loss is one value per group
(``out.loss[g]``), the gradients and hessians one per row.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from gbrank._kernels.common import (
    Array,
    IntArray,
    Rows,
    Terms,
    exp2_gain,
    logaddexp,
    top_exponentials,
    valid_by_label,
)


@njit(cache=True, nogil=True)
def poly1_softmax(
    first: int, stop: int, rows: Rows, epsilon: float, need_loss: bool, out: Terms
) -> None:
    """Poly1 softmax per group: ``-sum_i t_i log p_i + epsilon (1 - pt)``.

    ``t_i = w_i y_i``, ``Y = sum t``, ``pt = sum_i (t_i / Y) p_i`` (uniform target
    ``1/n`` when ``Y = 0``). With ``e_i = exp(s_i - max s)`` and ``R`` the sum of
    the others' ``e`` (held in ``out.hess`` in between), the top row's
    ``1 - p = R / (1 + R)`` is exact, and so is ``1 - pt = sum_i yhat_i (1 - p_i)``.
    The hessian is the documented surrogate
    ``Y p (1 - p) + |epsilon| p |yhat - pt| |1 - 2p|``.
    """
    labels, scores, weights, offsets = rows
    for g in range(first, stop):
        start, end = offsets[g], offsets[g + 1]
        top, n_valid, rest = top_exponentials(labels, scores, start, end, out.hess)
        if n_valid == 0:
            continue
        s_top = scores[top]
        mass = 0.0
        for i in range(start, end):
            if labels[i] >= 0:
                mass += weights[i] * labels[i]
        total = 1.0 + rest
        log_total = math.log1p(rest) if need_loss else 0.0
        uniform = 1.0 / n_valid
        pt = 0.0
        miss = 0.0  # 1 - pt
        for i in range(start, end):
            if labels[i] < 0:
                continue
            yhat = weights[i] * labels[i] / mass if mass > 0.0 else uniform
            if i == top:
                pt += yhat / total
                miss += yhat * (rest / total)
            else:
                p = out.hess[i] / total
                pt += yhat * p
                miss += yhat * (1.0 - p)
        value = 0.0
        for i in range(start, end):
            if labels[i] < 0:
                continue
            target = weights[i] * labels[i]
            yhat = target / mass if mass > 0.0 else uniform
            if i == top:
                p = 1.0 / total
                q = rest / total
            else:
                p = out.hess[i] / total
                q = 1.0 - p
            if need_loss and target > 0.0:
                value -= target * (scores[i] - s_top - log_total)
            diff = yhat - pt
            out.grad[i] = mass * p - target - epsilon * p * diff
            out.hess[i] = mass * p * q + abs(epsilon) * p * abs(diff) * abs(q - p)
        if need_loss:
            out.loss[g] = value + epsilon * miss


@njit(cache=True, nogil=True)
def _level_end(labels: Array, order: IntArray, lo: int) -> int:
    """Return one past the last position of ``lo``'s label level in ``order``."""
    hi = lo + 1
    while hi < order.size and labels[order[hi]] == labels[order[lo]]:
        hi += 1
    return hi


@njit(cache=True, nogil=True, inline="always")
def _level_start(labels: Array, order: IntArray, hi: int) -> int:
    """Return the first position of ``hi - 1``'s label level in ``order``."""
    lo = hi - 1
    while lo > 0 and labels[order[lo - 1]] == labels[order[hi - 1]]:
        lo -= 1
    return lo


@njit(cache=True, nogil=True)
def _unique_linear(
    order: IntArray,
    labels: Array,
    scores: Array,
    weights: Array,
    need_loss: bool,
    out: Terms,
) -> float:
    """Compute one group's unique softmax from sums of ``e = exp(s - max s)``.

    ``order`` holds the valid rows by label, descending. For a row k of label
    level l: ``S`` = sum of ``e`` over lower labels, ``Z_k = e_k + S``, own
    terms ``q = e_k / Z_k`` and ``1 - q = S / Z_k``. The rows above it (higher
    labels, ``a_i = w_i G_i``) add ``e_k A`` to the gradient and
    ``e_k (C + (S + O_k) B)`` to the hessian, with ``A = sum a_i / Z_i``,
    ``B = sum a_i / Z_i^2``, ``C = sum a_i (Z_i - S - E_l) / Z_i^2`` (``E_l``:
    the level's sum, ``O_k``: the others' of its level), all sums of positive
    terms. Returns the group's loss.
    """
    n_valid = order.size
    top = -np.inf
    for a in range(n_valid):
        top = max(top, scores[order[a]])
    e = np.empty(n_valid)
    for a in range(n_valid):
        e[a] = math.exp(scores[order[a]] - top)
    below = np.empty(n_valid)  # sum of e over lower labels, per position
    acc = 0.0
    hi = n_valid
    while hi > 0:
        lo = _level_start(labels, order, hi)
        level = 0.0
        for a in range(lo, hi):
            below[a] = acc
            level += e[a]
        acc += level
        hi = lo
    value = 0.0
    sum_a = 0.0  # A
    sum_b = 0.0  # B
    sum_c = 0.0  # C
    lo = 0
    while lo < n_valid:
        hi = _level_end(labels, order, lo)
        lower = below[lo]
        level = 0.0
        biggest = lo
        for a in range(lo, hi):
            level += e[a]
            if e[a] > e[biggest]:
                biggest = a
        biggest_others = 0.0
        for a in range(lo, hi):
            if a != biggest:
                biggest_others += e[a]
        add_a = 0.0
        add_b = 0.0
        add_c = 0.0
        for a in range(lo, hi):
            row = order[a]
            gain = weights[row] * exp2_gain(labels[row])
            z = e[a] + lower
            if need_loss and gain > 0.0 and lower > 0.0:
                value += gain * math.log1p(lower / e[a])
            own_q = e[a] / z
            own_miss = lower / z
            others = biggest_others if a == biggest else level - e[a]
            out.grad[row] = e[a] * sum_a - gain * own_miss
            out.hess[row] = gain * own_q * own_miss + e[a] * (
                sum_c + (lower + others) * sum_b
            )
            inverse = 1.0 / z
            add_a += gain * inverse
            add_b += gain * inverse * inverse
            add_c += gain * e[a] * inverse * inverse
        sum_c += level * sum_b + add_c
        sum_b += add_b
        sum_a += add_a
        lo = hi
    return value


@njit(cache=True, nogil=True)
def _unique_log(
    order: IntArray,
    labels: Array,
    scores: Array,
    weights: Array,
    need_loss: bool,
    out: Terms,
) -> float:
    """Compute one group's unique softmax in the log domain (any score spread).

    The sums of :func:`_unique_linear` as log-sum-exps: ``LS`` (lower labels),
    ``LZ_k = logaddexp(s_k, LS)``, ``log A``, ``log B``, ``log C``; the own
    terms ``q = exp(s_k - LZ_k)`` and ``1 - q = exp(LS - LZ_k)``. Returns the
    group's loss.
    """
    n_valid = order.size
    below = np.empty(n_valid)  # log of the sum over lower labels
    acc = -np.inf
    hi = n_valid
    while hi > 0:
        lo = _level_start(labels, order, hi)
        level = -np.inf
        for a in range(lo, hi):
            below[a] = acc
            level = logaddexp(level, scores[order[a]])
        acc = logaddexp(acc, level)
        hi = lo
    log_z = np.empty(n_valid)
    value = 0.0
    log_a = -np.inf
    log_b = -np.inf
    log_c = -np.inf
    lo = 0
    while lo < n_valid:
        hi = _level_end(labels, order, lo)
        lower = below[lo]
        level = -np.inf
        biggest = lo
        for a in range(lo, hi):
            s = scores[order[a]]
            level = logaddexp(level, s)
            if s > scores[order[biggest]]:
                biggest = a
        biggest_others = -np.inf
        for a in range(lo, hi):
            if a != biggest:
                biggest_others = logaddexp(biggest_others, scores[order[a]])
        for a in range(lo, hi):
            row = order[a]
            s = scores[row]
            gain = weights[row] * exp2_gain(labels[row])
            z = logaddexp(s, lower)
            log_z[a] = z
            if need_loss and gain > 0.0:
                value += gain * (z - s)
            own_q = math.exp(s - z)
            own_miss = math.exp(lower - z)
            if a == biggest:
                others = biggest_others
            else:
                others = level + math.log1p(-math.exp(s - level))
            out.grad[row] = math.exp(s + log_a) - gain * own_miss
            out.hess[row] = (
                gain * own_q * own_miss
                + math.exp(s + log_c)
                + math.exp(s + logaddexp(lower, others) + log_b)
            )
        add_a = -np.inf
        add_b = -np.inf
        add_c = -np.inf
        for a in range(lo, hi):
            row = order[a]
            gain = weights[row] * exp2_gain(labels[row])
            if gain > 0.0:
                log_gain = math.log(gain)
                add_a = logaddexp(add_a, log_gain - log_z[a])
                add_b = logaddexp(add_b, log_gain - 2.0 * log_z[a])
                add_c = logaddexp(add_c, log_gain + scores[row] - 2.0 * log_z[a])
        log_c = logaddexp(logaddexp(log_c, level + log_b), add_c)
        log_b = logaddexp(log_b, add_b)
        log_a = logaddexp(log_a, add_a)
        lo = hi
    return value


@njit(cache=True, nogil=True)
def unique_softmax(
    first: int,
    stop: int,
    rows: Rows,
    linear_spread: float,
    need_loss: bool,
    out: Terms,
) -> None:
    """Compute the unique softmax of each group (Zhu & Klabjan), O(n log n).

    Row i (gain ``a_i = w_i (2^{y_i} - 1)``) costs
    ``a_i log((e^{s_i} + S_i) / e^{s_i})``, ``S_i`` the sum of ``e^{s_j}`` over
    the rows of lower labels. Valid rows are sorted by label once; running sums
    over the label levels give every gradient and hessian term. Groups whose
    scores spread at most ``linear_spread`` use sums of exponentials (one exp
    per row), wider ones the log domain.
    """
    labels, scores, weights, offsets = rows
    for g in range(first, stop):
        order = valid_by_label(labels, offsets[g], offsets[g + 1])
        if order.size == 0:
            continue
        low = np.inf
        high = -np.inf
        for a in range(order.size):
            low = min(low, scores[order[a]])
            high = max(high, scores[order[a]])
        if high - low <= linear_spread:
            value = _unique_linear(order, labels, scores, weights, need_loss, out)
        else:
            value = _unique_log(order, labels, scores, weights, need_loss, out)
        if need_loss:
            out.loss[g] = value
