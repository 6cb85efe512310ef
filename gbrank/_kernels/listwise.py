"""Kernels of the listwise losses and of the masked softmax activation.

Softmax cross-entropy, ListNet, ListMLE and rank-one ListNet.

Conventions: :mod:`gbrank._kernels`; the loss is one value per group
(``out.loss[g]``), the gradients and hessians one per row.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np
from numba import njit

from gbrank._kernels.common import (
    Array,
    BoolArray,
    IntArray,
    Rows,
    Terms,
    logaddexp,
    top_exponentials,
    valid_by_label,
)


class ListNetTarget(IntEnum):
    """How ListNet turns a list's labels into its target distribution."""

    SUM = 0  # y / sum(y)
    SOFTMAX = 1  # softmax(y)


class RankOneHessian(IntEnum):
    """Positive hessian surrogates of rank-one ListNet."""

    GAUSS_NEWTON = 0
    SOFTMAX = 1  # W p (1 - p)


LINEAR_DOMAIN_SPREAD = 300.0
"""Largest score spread of a group (tempered units) ListMLE computes without logs.

Within it, ``exp(t - max t)`` and its inverse square stay normal floats, so
sums of exponentials lose nothing to underflow; wider groups take the log
domain.
"""


@njit(cache=True, nogil=True)
def softmax_cross_entropy(
    first: int, stop: int, rows: Rows, need_loss: bool, out: Terms
) -> None:
    """Softmax cross-entropy per group: ``-sum_i w_i y_i log p_i``.

    One exp per row (``out.grad`` holds ``exp(s_i - max s)`` in between); the
    loss uses ``log p_i = s_i - max s - log sum_j exp(s_j - max s)``.
    """
    labels, scores, weights, offsets = rows
    for g in range(first, stop):
        start, end = offsets[g], offsets[g + 1]
        top = -np.inf
        for i in range(start, end):
            if labels[i] >= 0 and scores[i] > top:
                top = scores[i]
        if top == -np.inf:
            continue
        total = 0.0
        mass = 0.0
        for i in range(start, end):
            if labels[i] >= 0:
                e = math.exp(scores[i] - top)
                out.grad[i] = e
                total += e
                mass += weights[i] * labels[i]
        log_total = math.log(total) if need_loss else 0.0
        value = 0.0
        for i in range(start, end):
            if labels[i] >= 0:
                target = weights[i] * labels[i]
                if need_loss:
                    value -= target * (scores[i] - top - log_total)
                p = out.grad[i] / total
                out.grad[i] = p * mass - target
                out.hess[i] = mass * p * (1.0 - p)
        if need_loss:
            out.loss[g] = value


@njit(cache=True, nogil=True)
def listnet_targets(
    first: int, stop: int, rows: Rows, target: int, targets_out: Array
) -> None:
    """ListNet's per-row targets ``W q_i`` (-1 on ignored rows, 0 without positives).

    ``q`` is the target distribution of a group's valid rows (``target``: a
    :class:`ListNetTarget`) and ``W = sum_i w_i q_i`` the group's weight; a group
    without a positive label gets all-zero targets. Labels are divided by the
    largest one first (``q`` is unchanged), so their sum cannot overflow.
    """
    labels, _, weights, offsets = rows
    for g in range(first, stop):
        start, end = offsets[g], offsets[g + 1]
        top = 0.0
        for i in range(start, end):
            targets_out[i] = -1.0 if labels[i] < 0 else 0.0
            top = max(top, labels[i])
        if top <= 0.0:
            continue
        total = 0.0
        for i in range(start, end):
            if labels[i] >= 0:
                if target == ListNetTarget.SUM:
                    targets_out[i] = labels[i] / top
                else:
                    targets_out[i] = math.exp(labels[i] - top)
                total += targets_out[i]
        list_weight = 0.0
        for i in range(start, end):
            if labels[i] >= 0:
                targets_out[i] /= total
                list_weight += weights[i] * targets_out[i]
        for i in range(start, end):
            if labels[i] >= 0:
                targets_out[i] *= list_weight


@njit(cache=True, nogil=True)
def _listmle_linear(
    order: IntArray,
    t: Array,
    weights: Array,
    inv_temperature: float,
    need_loss: bool,
    out: Terms,
) -> float:
    """ListMLE of one group from suffix sums of ``exp(t - max t)``; returns the loss.

    ``S_k = sum_{m>=k} e_m``: ``p_kj = e_j / S_k``, ``1 - p_jj = S_{j+1} / S_j``,
    stage j costs ``w_j log1p(S_{j+1} / e_j)``.
    """
    n_valid = order.size
    top = t[0]
    for k in range(n_valid):  # loops, not array expressions: faster to compile
        top = max(top, t[k])
    e = np.empty(n_valid)
    for k in range(n_valid):
        e[k] = math.exp(t[k] - top)
    suffix = np.empty(n_valid + 1)
    suffix[n_valid] = 0.0
    for k in range(n_valid - 1, -1, -1):
        suffix[k] = suffix[k + 1] + e[k]
    inv_t2 = inv_temperature * inv_temperature
    value = 0.0
    a = 0.0  # sum_{k<j} w_k / S_k
    b = 0.0  # sum_{k<j} w_k / S_k^2
    c = 0.0  # sum_{k<j} w_k (S_k - S_j) / S_k^2
    for j in range(n_valid):
        row = order[j]
        w = weights[row]
        own_p = e[j] / suffix[j]
        own_q = suffix[j + 1] / suffix[j]
        # sum_{k<j} w_k p_kj (1 - p_kj), with 1 - p_kj = (S_k - S_j + S_{j+1}) / S_k
        cross_var = e[j] * (c + suffix[j + 1] * b)
        out.grad[row] = (e[j] * a - w * own_q) * inv_temperature
        out.hess[row] = (w * own_p * own_q + cross_var) * inv_t2
        if need_loss:
            value += w * math.log1p(suffix[j + 1] / e[j])
        inverse = 1.0 / suffix[j]
        a += w * inverse
        b += w * inverse * inverse
        c += e[j] * b
    return value


@njit(cache=True, nogil=True)
def _listmle_log(
    order: IntArray,
    t: Array,
    weights: Array,
    inv_temperature: float,
    need_loss: bool,
    out: Terms,
) -> float:
    """ListMLE of one group in the log domain (any score spread); returns the loss.

    ``L_k = log sum_{m>=k} exp(t_m)``; stage k costs ``w_k softplus(L_{k+1} -
    t_k)``; the own-stage terms use ``1 - p_jj = exp(L_{j+1} - L_j)``.
    """
    n_valid = order.size
    log_z = np.empty(n_valid + 1)  # log_z[k] = L_k, log_z[n_valid] = -inf
    log_z[n_valid] = -np.inf
    for k in range(n_valid - 1, -1, -1):
        log_z[k] = logaddexp(t[k], log_z[k + 1])
    inv_t2 = inv_temperature * inv_temperature
    value = 0.0
    log_a = -np.inf  # log sum_{k<j} w_k exp(-L_k)
    log_b = -np.inf  # log sum_{k<j} w_k exp(-2 L_k)
    log_c = -np.inf  # log sum_{k<j} w_k (exp(L_k) - exp(L_j)) exp(-2 L_k)
    for j in range(n_valid):
        row = order[j]
        w = weights[row]
        if need_loss:
            x = log_z[j + 1] - t[j]
            value += w * (max(x, 0.0) + math.log1p(math.exp(-abs(x))))
        own_p = math.exp(t[j] - log_z[j])
        own_q = math.exp(log_z[j + 1] - log_z[j])  # 1 - p_jj
        cross = math.exp(t[j] + log_a)  # sum_{k<j} w_k p_kj
        # sum_{k<j} w_k p_kj (1 - p_kj), as in _listmle_linear
        cross_var = math.exp(t[j] + logaddexp(log_c, log_z[j + 1] + log_b))
        out.grad[row] = (cross - w * own_q) * inv_temperature
        out.hess[row] = (w * own_p * own_q + cross_var) * inv_t2
        if w > 0.0:
            log_a = logaddexp(log_a, math.log(w) - log_z[j])
            log_b = logaddexp(log_b, math.log(w) - 2.0 * log_z[j])
        log_c = logaddexp(log_c, t[j] + log_b)
    return value


@njit(cache=True, nogil=True)
def listmle(
    first: int,
    stop: int,
    rows: Rows,
    inv_temperature: float,
    need_loss: bool,
    out: Terms,
) -> None:
    """Plackett-Luce negative log-likelihood of the label order of each group.

    Valid rows are sorted by label, descending, ties by row order (stable).
    With ``t = s * inv_temperature`` in that order and ``L_k = log sum_{m>=k}
    exp(t_m)``, stage k costs ``w_k (L_k - t_k) = w_k softplus(L_{k+1} - t_k)``.
    Groups whose tempered scores spread at most ``LINEAR_DOMAIN_SPREAD`` use
    sums of exponentials (one exp per row); wider ones the log domain. Nothing
    divides by an underflowed sum, and the last stage (p = 1) contributes
    exactly 0.
    """
    labels, scores, weights, offsets = rows
    for g in range(first, stop):
        order = valid_by_label(labels, offsets[g], offsets[g + 1])
        if order.size == 0:
            continue
        t = np.empty(order.size)
        for k in range(order.size):  # a loop, not scores[order]: faster to compile
            t[k] = scores[order[k]] * inv_temperature
        top = bottom = t[0]
        for k in range(order.size):
            top, bottom = max(top, t[k]), min(bottom, t[k])
        if top - bottom <= LINEAR_DOMAIN_SPREAD:
            value = _listmle_linear(order, t, weights, inv_temperature, need_loss, out)
        else:
            value = _listmle_log(order, t, weights, inv_temperature, need_loss, out)
        if need_loss:
            out.loss[g] = value


@njit(cache=True, nogil=True)
def rank_one_listnet(
    first: int,
    stop: int,
    rows: Rows,
    hessian: int,
    need_loss: bool,
    out: Terms,
) -> None:
    """Binary cross-entropy of each row's label against its softmax probability.

    See :class:`gbrank.losses.listwise.RankOneListNetLoss` for the formulas. With
    ``e_i = exp(s_i - max s)`` (held in ``out.grad`` in between) and ``R`` the
    sum of the others' ``e``, ``p_i = e_i / (1 + R)``; a row other than the
    top one has ``p_i <= 1/2``, so ``1 - p_i`` is exact, and the top row's is
    ``R / (1 + R)``. When ``R`` underflows (the top score leads by ~700), its
    log is taken from the second-largest score instead.
    """
    labels, scores, weights, offsets = rows
    for g in range(first, stop):
        start, end = offsets[g], offsets[g + 1]
        top, n_valid, rest = top_exponentials(labels, scores, start, end, out.grad)
        if n_valid < 2:
            continue  # p = 1 whatever the score: constant loss, zero gradient
        s_top = scores[top]
        total = 1.0 + rest
        tiny = rest < 1e-300
        log_total = math.log1p(rest) if need_loss or tiny else 0.0
        log1m_top = 0.0  # log(1 - p_top)
        if tiny:
            second = -np.inf
            for i in range(start, end):
                if labels[i] >= 0 and i != top:
                    second = max(second, scores[i])
            rest_scaled = 0.0
            for i in range(start, end):
                if labels[i] >= 0 and i != top:
                    rest_scaled += math.exp(scores[i] - second)
            log1m_top = (second - s_top) + math.log(rest_scaled) - log_total
        elif need_loss:
            log1m_top = math.log(rest) - log_total
        one_minus_top = rest / total
        p_top = 1.0 / total
        total_weight = 0.0
        value = 0.0
        rest_r = 0.0  # sum over rows other than top of w_i (1 - y_i) / (1 - p_i)
        rest_q = 0.0  # same of w_i (y_i + (1 - y_i) (p_i / (1 - p_i))^2)
        for i in range(start, end):
            if labels[i] < 0:
                continue
            y = labels[i]
            w = weights[i]
            total_weight += w
            if i == top:
                if need_loss:
                    value -= w * (y * -log_total + (1.0 - y) * log1m_top)
                continue
            p = out.grad[i] / total
            one_minus_p = 1.0 - p
            odds = p / one_minus_p
            rest_r += w * (1.0 - y) / one_minus_p
            rest_q += w * (y + (1.0 - y) * odds * odds)
            if need_loss:
                log_p = scores[i] - s_top - log_total
                value -= w * (y * log_p + (1.0 - y) * math.log1p(-p))
        if need_loss:
            out.loss[g] = value
        w_top = weights[top]
        y_top = labels[top]
        for k in range(start, end):
            if labels[k] < 0:
                continue
            y = labels[k]
            w = weights[k]
            if k == top:
                p = p_top
                one_minus_p = one_minus_top
                grad = p * total_weight - w_top * y_top - p * rest_r
                cross = p * p * rest_q
            else:
                e = out.grad[k]
                p = e / total
                one_minus_p = 1.0 - p
                r_k = w * (1.0 - y) / one_minus_p
                odds = p / one_minus_p
                q_k = w * (y + (1.0 - y) * odds * odds)
                if tiny:  # p_k / (1 - p_top)
                    scaled_top = math.exp(scores[k] - s_top - log_total - log1m_top)
                else:
                    scaled_top = e / rest
                grad = (
                    p * total_weight
                    - w * y
                    - p * (rest_r - r_k)
                    - w_top * (1.0 - y_top) * scaled_top
                )
                cross = (
                    p * p * (rest_q - q_k + w_top * y_top)
                    + w_top * (1.0 - y_top) * (scaled_top * p_top) ** 2
                )
            out.grad[k] = grad
            if hessian == RankOneHessian.GAUSS_NEWTON:
                own = y * one_minus_p * one_minus_p + (1.0 - y) * p * p
                out.hess[k] = w * own + cross
            else:
                out.hess[k] = total_weight * p * one_minus_p


@njit(cache=True, nogil=True)
def group_softmax(
    first: int,
    stop: int,
    scores: Array,
    valid: BoolArray,
    offsets: IntArray,
    out: Array,
) -> None:
    """Masked softmax per group; invalid rows get probability 0."""
    for g in range(first, stop):
        start, end = offsets[g], offsets[g + 1]
        top = -np.inf
        for i in range(start, end):
            if valid[i] and scores[i] > top:
                top = scores[i]
        if top == -np.inf:
            continue
        total = 0.0
        for i in range(start, end):
            if valid[i]:
                out[i] = math.exp(scores[i] - top)
                total += out[i]
        for i in range(start, end):
            out[i] /= total
