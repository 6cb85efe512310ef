"""Numba kernels: the per-group work of every ranking loss.

Conventions shared by all kernels:

- ``labels``, ``scores``, ``weights``: float64 arrays of shape (n_rows,);
  a label < 0 marks an ignored row (it takes part in nothing);
- ``offsets``: int64 group offsets, rows ``offsets[g]:offsets[g + 1]`` form group g;
- results are written into caller-allocated ``out`` arrays that start at zero;
- groups are processed in parallel (``prange``); each iteration writes only the
  rows (and the group slot) of its own group;
- ``need_loss``: when False (``grad_hess``), the loss value is not computed and
  ``loss_out`` is left untouched.

The pairwise kernels are in :mod:`gbrank._pair_kernels`.

Every kernel has a plain-loop twin in ``tests/_oracles.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# Pair functions f(d) of the score difference d = (s_i - s_j) / temperature.
HINGE = 0
LOGISTIC = 1
SOFT_ZERO_ONE = 2
SQUARED_ERROR = 3  # f(d) = ((y_i - y_j) - d)^2 over all ordered pairs i != j

# Hessians of the pairwise losses: the pair function's curvature (exact, or the
# surrogate of gbrank._pair_kernels._pair_terms), or a constant per valid row.
PAIR_HESSIAN_CURVATURE = 0
PAIR_HESSIAN_CONSTANT = 1

# Lambda weights of pairwise losses.
NO_LAMBDA = 0
LABEL_DIFF_LAMBDA = 1
DCG_LAMBDA = 2
NDCG_LAMBDA = 3

# Gains of the DCG lambda weights.
GAIN_EXP2 = 0
GAIN_LINEAR = 1

# Hessians of rank-one ListNet.
LISTNET_HESSIAN_GAUSS_NEWTON = 0
LISTNET_HESSIAN_SOFTMAX = 1

# Target distributions of ListNet.
LISTNET_TARGET_SUM = 0
LISTNET_TARGET_SOFTMAX = 1


@njit(parallel=True, cache=True)
def softmax_cross_entropy(
    labels, scores, weights, offsets, need_loss, loss_out, grad_out, hess_out
):
    """Softmax cross-entropy per group: ``-sum_i w_i y_i log p_i``.

    One exp per row (``grad_out`` holds ``exp(s_i - max s)`` in between); the
    loss uses ``log p_i = s_i - max s - log sum_j exp(s_j - max s)``.
    """
    n_groups = offsets.size - 1
    for g in prange(n_groups):
        start, stop = offsets[g], offsets[g + 1]
        top = -np.inf
        for i in range(start, stop):
            if labels[i] >= 0 and scores[i] > top:
                top = scores[i]
        if top == -np.inf:
            continue
        total = 0.0
        mass = 0.0
        for i in range(start, stop):
            if labels[i] >= 0:
                e = math.exp(scores[i] - top)
                grad_out[i] = e
                total += e
                mass += weights[i] * labels[i]
        log_total = math.log(total) if need_loss else 0.0
        value = 0.0
        for i in range(start, stop):
            if labels[i] >= 0:
                target = weights[i] * labels[i]
                if need_loss:
                    value -= target * (scores[i] - top - log_total)
                p = grad_out[i] / total
                grad_out[i] = p * mass - target
                hess_out[i] = mass * p * (1.0 - p)
        if need_loss:
            loss_out[g] = value


@njit(parallel=True, cache=True)
def listnet_targets(labels, weights, offsets, normalization, out):
    """ListNet's per-row targets ``W q_i`` (-1 on ignored rows, 0 without positives).

    ``q`` is the target distribution of a group's valid rows, ``y / sum(y)`` or
    ``softmax(y)``, and ``W = sum_i w_i q_i`` the group's weight; a group without
    a positive label gets all-zero targets.
    """
    n_groups = offsets.size - 1
    for g in prange(n_groups):
        start, stop = offsets[g], offsets[g + 1]
        top = 0.0
        for i in range(start, stop):
            out[i] = -1.0 if labels[i] < 0 else 0.0
            top = max(top, labels[i])
        if top <= 0.0:
            continue
        total = 0.0
        for i in range(start, stop):
            if labels[i] >= 0:
                if normalization == LISTNET_TARGET_SUM:
                    out[i] = labels[i]
                else:
                    out[i] = math.exp(labels[i] - top)
                total += out[i]
        list_weight = 0.0
        for i in range(start, stop):
            if labels[i] >= 0:
                out[i] /= total
                list_weight += weights[i] * out[i]
        for i in range(start, stop):
            if labels[i] >= 0:
                out[i] *= list_weight


@njit(cache=True, inline="always")
def _logaddexp(a: float, b: float) -> float:
    """``log(exp(a) + exp(b))`` without overflow; either may be -inf."""
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


LINEAR_DOMAIN_SPREAD = 300.0
"""Largest score spread of a group (tempered units) computed without logs.

Within it, ``exp(t - max t)`` and its inverse square stay normal floats, so
sums of exponentials lose nothing to underflow; wider groups take the log
domain.
"""


@njit(cache=True)
def _listmle_linear(rows, t, weights, inv_temperature, need_loss, grad_out, hess_out):
    """ListMLE of one group from suffix sums of ``exp(t - max t)``; returns the loss.

    ``S_k = sum_{m>=k} e_m``: ``p_kj = e_j / S_k``, ``1 - p_jj = S_{j+1} / S_j``,
    stage j costs ``w_j log1p(S_{j+1} / e_j)``.
    """
    n_valid = rows.size
    top = t.max()
    e = np.exp(t - top)
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
        row = rows[j]
        w = weights[row]
        own_p = e[j] / suffix[j]
        own_q = suffix[j + 1] / suffix[j]
        # sum_{k<j} w_k p_kj (1 - p_kj), with 1 - p_kj = (S_k - S_j + S_{j+1}) / S_k
        cross_var = e[j] * (c + suffix[j + 1] * b)
        grad_out[row] = (e[j] * a - w * own_q) * inv_temperature
        hess_out[row] = (w * own_p * own_q + cross_var) * inv_t2
        if need_loss:
            value += w * math.log1p(suffix[j + 1] / e[j])
        inverse = 1.0 / suffix[j]
        a += w * inverse
        b += w * inverse * inverse
        c += e[j] * b
    return value


@njit(cache=True)
def _listmle_log(rows, t, weights, inv_temperature, need_loss, grad_out, hess_out):
    """ListMLE of one group in the log domain (any score spread); returns the loss.

    ``L_k = log sum_{m>=k} exp(t_m)``; stage k costs ``w_k softplus(L_{k+1} -
    t_k)``; the own-stage terms use ``1 - p_jj = exp(L_{j+1} - L_j)``.
    """
    n_valid = rows.size
    log_z = np.empty(n_valid + 1)  # log_z[k] = L_k, log_z[n_valid] = -inf
    log_z[n_valid] = -np.inf
    for k in range(n_valid - 1, -1, -1):
        log_z[k] = _logaddexp(t[k], log_z[k + 1])
    inv_t2 = inv_temperature * inv_temperature
    value = 0.0
    log_a = -np.inf  # log sum_{k<j} w_k exp(-L_k)
    log_b = -np.inf  # log sum_{k<j} w_k exp(-2 L_k)
    log_c = -np.inf  # log sum_{k<j} w_k (exp(L_k) - exp(L_j)) exp(-2 L_k)
    for j in range(n_valid):
        row = rows[j]
        w = weights[row]
        if need_loss:
            x = log_z[j + 1] - t[j]
            value += w * (max(x, 0.0) + math.log1p(math.exp(-abs(x))))
        own_p = math.exp(t[j] - log_z[j])
        own_q = math.exp(log_z[j + 1] - log_z[j])  # 1 - p_jj
        cross = math.exp(t[j] + log_a)  # sum_{k<j} w_k p_kj
        # sum_{k<j} w_k p_kj (1 - p_kj), as in _listmle_linear
        cross_var = math.exp(t[j] + _logaddexp(log_c, log_z[j + 1] + log_b))
        grad_out[row] = (cross - w * own_q) * inv_temperature
        hess_out[row] = (w * own_p * own_q + cross_var) * inv_t2
        if w > 0.0:
            log_a = _logaddexp(log_a, math.log(w) - log_z[j])
            log_b = _logaddexp(log_b, math.log(w) - 2.0 * log_z[j])
        log_c = _logaddexp(log_c, t[j] + log_b)
    return value


@njit(parallel=True, cache=True)
def listmle(
    labels,
    scores,
    weights,
    offsets,
    inv_temperature,
    need_loss,
    loss_out,
    grad_out,
    hess_out,
):
    """Plackett-Luce negative log-likelihood of the label order of each group.

    Valid rows are sorted by label, descending, ties by row order (stable sort).
    With ``t = s * inv_temperature`` in that order and ``L_k = log sum_{m>=k}
    exp(t_m)``, stage k costs ``w_k (L_k - t_k) = w_k softplus(L_{k+1} - t_k)``.
    Groups whose tempered scores spread at most ``LINEAR_DOMAIN_SPREAD`` use
    sums of exponentials (one exp per row); wider ones the log domain. Nothing
    divides by an underflowed sum, and the last stage (p = 1) contributes
    exactly 0.
    """
    n_groups = offsets.size - 1
    for g in prange(n_groups):
        start, stop = offsets[g], offsets[g + 1]
        n_valid = 0
        ordered = True  # labels already descending over the valid rows
        previous = np.inf
        for i in range(start, stop):
            if labels[i] >= 0:
                n_valid += 1
                ordered = ordered and labels[i] <= previous
                previous = labels[i]
        if n_valid == 0:
            continue
        rows = np.empty(n_valid, dtype=np.int64)
        k = 0
        for i in range(start, stop):
            if labels[i] >= 0:
                rows[k] = i
                k += 1
        if not ordered:
            rows = rows[np.argsort(-labels[rows], kind="mergesort")]
        t = scores[rows] * inv_temperature
        if t.max() - t.min() <= LINEAR_DOMAIN_SPREAD:
            value = _listmle_linear(
                rows, t, weights, inv_temperature, need_loss, grad_out, hess_out
            )
        else:
            value = _listmle_log(
                rows, t, weights, inv_temperature, need_loss, grad_out, hess_out
            )
        if need_loss:
            loss_out[g] = value


@njit(parallel=True, cache=True)
def rank_one_listnet(
    labels,
    scores,
    weights,
    offsets,
    hessian_mode,
    need_loss,
    loss_out,
    grad_out,
    hess_out,
):
    """Binary cross-entropy of each row's label against its softmax probability.

    See :class:`gbrank.losses.listwise.RankOneListNetLoss` for the formulas. With
    ``e_i = exp(s_i - max s)`` (held in ``grad_out`` in between) and ``R`` the
    sum of the others' ``e``, ``p_i = e_i / (1 + R)``; a row other than the
    top one has ``p_i <= 1/2``, so ``1 - p_i`` is exact, and the top row's is
    ``R / (1 + R)``. When ``R`` underflows (the top score leads by ~700), its
    log is taken from the second-largest score instead.
    """
    n_groups = offsets.size - 1
    for g in prange(n_groups):
        start, stop = offsets[g], offsets[g + 1]
        top = -1
        n_valid = 0
        for i in range(start, stop):
            if labels[i] >= 0:
                n_valid += 1
                if top < 0 or scores[i] > scores[top]:
                    top = i
        if n_valid < 2:
            continue  # p = 1 whatever the score: constant loss, zero gradient
        s_top = scores[top]
        rest = 0.0
        for i in range(start, stop):
            if labels[i] >= 0 and i != top:
                e = math.exp(scores[i] - s_top)
                grad_out[i] = e
                rest += e
        total = 1.0 + rest
        tiny = rest < 1e-300
        log_total = math.log1p(rest) if need_loss or tiny else 0.0
        log1m_top = 0.0  # log(1 - p_top)
        if tiny:
            second = -np.inf
            for i in range(start, stop):
                if labels[i] >= 0 and i != top:
                    second = max(second, scores[i])
            rest_scaled = 0.0
            for i in range(start, stop):
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
        for i in range(start, stop):
            if labels[i] < 0:
                continue
            y = labels[i]
            w = weights[i]
            total_weight += w
            if i == top:
                if need_loss:
                    value -= w * (y * -log_total + (1.0 - y) * log1m_top)
                continue
            p = grad_out[i] / total
            one_minus_p = 1.0 - p
            odds = p / one_minus_p
            rest_r += w * (1.0 - y) / one_minus_p
            rest_q += w * (y + (1.0 - y) * odds * odds)
            if need_loss:
                log_p = scores[i] - s_top - log_total
                value -= w * (y * log_p + (1.0 - y) * math.log1p(-p))
        if need_loss:
            loss_out[g] = value
        w_top = weights[top]
        y_top = labels[top]
        for k in range(start, stop):
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
                e = grad_out[k]
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
            grad_out[k] = grad
            if hessian_mode == LISTNET_HESSIAN_GAUSS_NEWTON:
                own = y * one_minus_p * one_minus_p + (1.0 - y) * p * p
                hess_out[k] = w * own + cross
            else:
                hess_out[k] = total_weight * p * one_minus_p


@njit(parallel=True, cache=True)
def group_softmax(scores, valid, offsets, out):
    """Masked softmax per group; invalid rows get probability 0."""
    n_groups = offsets.size - 1
    for g in prange(n_groups):
        start, stop = offsets[g], offsets[g + 1]
        top = -np.inf
        for i in range(start, stop):
            if valid[i] and scores[i] > top:
                top = scores[i]
        if top == -np.inf:
            continue
        total = 0.0
        for i in range(start, stop):
            if valid[i]:
                out[i] = math.exp(scores[i] - top)
                total += out[i]
        for i in range(start, stop):
            out[i] /= total
