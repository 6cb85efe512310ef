"""Numba kernels: the per-group work of every ranking loss.

Conventions shared by all kernels:

- ``labels``, ``scores``, ``weights``: float64 arrays of shape (n_rows,);
  a label < 0 marks an ignored row (it takes part in nothing);
- ``offsets``: int64 group offsets, rows ``offsets[g]:offsets[g + 1]`` form group g;
- results are written into caller-allocated ``out`` arrays that start at zero;
- groups are processed in parallel (``prange``); each iteration writes only the
  rows (and the group slot) of its own group.

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
# surrogate that _pair_terms returns), or a constant per valid row.
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


@njit(cache=True, inline="always")
def _pair_terms(kind: int, d: float, label_diff: float) -> tuple[float, float, float]:
    """Return ``f(d)``, ``f'(d)`` and the curvature used for the hessian.

    The curvature is ``f''(d)`` except for the hinge (1 inside the margin, the
    active-pairs surrogate) and the soft zero-one loss (``|f'(d)|``, a bound
    of ``|f''(d)|``).
    """
    if kind == HINGE:
        if d < 1.0:
            return 1.0 - d, -1.0, 1.0
        return 0.0, 0.0, 0.0
    if kind == SQUARED_ERROR:
        residual = label_diff - d
        return residual * residual, -2.0 * residual, 2.0
    # sigma(-d) and sigma(d) without overflow
    e = math.exp(-abs(d))
    sig_neg = (e if d >= 0.0 else 1.0) / (1.0 + e)
    sig_pos = (1.0 if d >= 0.0 else e) / (1.0 + e)
    if kind == LOGISTIC:
        return max(-d, 0.0) + math.log1p(e), -sig_neg, sig_pos * sig_neg
    # SOFT_ZERO_ONE
    return sig_neg, -sig_pos * sig_neg, sig_pos * sig_neg


@njit(cache=True)
def _lambda_terms(
    labels, scores, start, stop, lambda_mode, topn, gain_kind, gain_out, discount_out
):
    """Gains and rank discounts of one group's valid rows for its lambda weights.

    Ranks come from the scores, descending, ties broken by row order (a stable
    sort); a rank past ``topn`` (when ``topn > 0``) has discount 0. Returns the
    factor every pair weight of the group is multiplied by: 1, or 1 / ideal DCG
    for NDCG (0 when the ideal DCG is 0).
    """
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
    for i in rows:
        y = labels[i]
        if lambda_mode == LABEL_DIFF_LAMBDA or gain_kind == GAIN_LINEAR:
            gain_out[i] = y
        else:
            gain_out[i] = math.expm1(y * math.log(2.0))
    if lambda_mode == LABEL_DIFF_LAMBDA:
        return 1.0
    cutoff = n_valid if topn <= 0 else min(topn, n_valid)
    by_score = np.argsort(-scores[rows], kind="mergesort")
    for rank in range(n_valid):
        row = rows[by_score[rank]]
        discount_out[row] = 1.0 / math.log2(rank + 2.0) if rank < cutoff else 0.0
    if lambda_mode == DCG_LAMBDA:
        return 1.0
    by_label = np.argsort(-labels[rows], kind="mergesort")
    ideal = 0.0
    for rank in range(cutoff):
        ideal += gain_out[rows[by_label[rank]]] / math.log2(rank + 2.0)
    return 1.0 / ideal if ideal > 0.0 else 0.0


@njit(parallel=True, cache=True)
def pairwise(
    labels,
    scores,
    weights,
    offsets,
    kind,
    inv_temperature,
    hessian_mode,
    lambda_mode,
    topn,
    gain_kind,
    loss_out,
    grad_out,
    hess_out,
):
    """All ordered pairs (i, j) of a group with ``labels[i] > labels[j]``.

    For ``SQUARED_ERROR`` every ordered pair of distinct valid rows counts, label
    ties included. The pair loss ``lambda_ij * weights[i] * f(d)`` with
    ``d = (s_i - s_j) * inv_temperature`` is credited to row i (keras_rs: the
    higher-labelled item carries the pair). The lambda weight (1 without one) is
    computed from the current ranks and is a constant of the gradient.
    """
    n_groups = offsets.size - 1
    all_pairs = kind == SQUARED_ERROR
    weighted = lambda_mode != NO_LAMBDA
    rank_based = weighted and lambda_mode != LABEL_DIFF_LAMBDA
    curvature_hessian = hessian_mode == PAIR_HESSIAN_CURVATURE
    inv_t2 = inv_temperature * inv_temperature
    gain = np.zeros(scores.size if weighted else 0)
    discount = np.zeros(scores.size if rank_based else 0)
    for g in prange(n_groups):
        start, stop = offsets[g], offsets[g + 1]
        scale = 1.0
        if weighted:
            scale = _lambda_terms(
                labels,
                scores,
                start,
                stop,
                lambda_mode,
                topn,
                gain_kind,
                gain,
                discount,
            )
        for i in range(start, stop):
            y_i = labels[i]
            if y_i < 0:
                continue
            s_i = scores[i]
            w_i = weights[i]
            value_i = 0.0
            grad_i = 0.0
            hess_i = 0.0
            for j in range(start, stop):
                y_j = labels[j]
                if y_j < 0 or not (y_i > y_j or (all_pairs and j != i)):
                    continue
                pair_weight = w_i
                if weighted:
                    pair_weight *= scale * abs(gain[i] - gain[j])
                    if rank_based:
                        pair_weight *= abs(discount[i] - discount[j])
                d = (s_i - scores[j]) * inv_temperature
                value, slope, curvature = _pair_terms(kind, d, y_i - y_j)
                value_i += pair_weight * value
                step = pair_weight * slope * inv_temperature
                grad_i += step
                grad_out[j] -= step
                if curvature_hessian:
                    h = pair_weight * curvature * inv_t2
                    hess_i += h
                    hess_out[j] += h
            loss_out[i] += value_i
            grad_out[i] += grad_i
            hess_out[i] += hess_i
        if hessian_mode == PAIR_HESSIAN_CONSTANT:
            for i in range(start, stop):
                if labels[i] >= 0:
                    hess_out[i] = weights[i] * inv_t2


@njit(cache=True)
def _log_softmax(labels, scores, start, stop, logp_out):
    """Masked log-softmax of one group; returns (n_valid, argmax row, log Z')."""
    top = -np.inf
    argmax = -1
    n_valid = 0
    for i in range(start, stop):
        if labels[i] >= 0:
            n_valid += 1
            if scores[i] > top:
                top = scores[i]
                argmax = i
    if n_valid == 0:
        return 0, -1, 0.0
    total = 0.0
    for i in range(start, stop):
        if labels[i] >= 0:
            total += math.exp(scores[i] - top)
    log_norm = top + math.log(total)
    for i in range(start, stop):
        if labels[i] >= 0:
            logp_out[i] = scores[i] - log_norm
    # log(1 - p_argmax) = log(sum over the others of exp(s_j)) - log Z, computed
    # without cancellation even when p_argmax rounds to 1.
    second = -np.inf
    for i in range(start, stop):
        if labels[i] >= 0 and i != argmax and scores[i] > second:
            second = scores[i]
    log1m_top = -np.inf
    if n_valid > 1:
        rest = 0.0
        for i in range(start, stop):
            if labels[i] >= 0 and i != argmax:
                rest += math.exp(scores[i] - second)
        log1m_top = second + math.log(rest) - log_norm
    return n_valid, argmax, log1m_top


@njit(parallel=True, cache=True)
def softmax_cross_entropy(
    labels, scores, weights, offsets, loss_out, grad_out, hess_out
):
    """Softmax cross-entropy per group: ``-sum_i w_i y_i log p_i``."""
    n_groups = offsets.size - 1
    logp = np.zeros(scores.size)
    for g in prange(n_groups):
        start, stop = offsets[g], offsets[g + 1]
        n_valid, _, _ = _log_softmax(labels, scores, start, stop, logp)
        if n_valid == 0:
            continue
        mass = 0.0
        value = 0.0
        for i in range(start, stop):
            if labels[i] >= 0:
                mass += weights[i] * labels[i]
                value -= weights[i] * labels[i] * logp[i]
        loss_out[g] = value
        for i in range(start, stop):
            if labels[i] >= 0:
                p = math.exp(logp[i])
                grad_out[i] = p * mass - weights[i] * labels[i]
                hess_out[i] = mass * p * (1.0 - p)


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


@njit(parallel=True, cache=True)
def listmle(
    labels, scores, weights, offsets, inv_temperature, loss_out, grad_out, hess_out
):
    """Plackett-Luce negative log-likelihood of the label order of each group.

    Valid rows are sorted by label, descending, ties by row order (stable sort).
    With ``t = s * inv_temperature`` in that order and ``L_k = log sum_{m>=k}
    exp(t_m)``, stage k costs ``w_k (L_k - t_k) = w_k softplus(L_{k+1} - t_k)``.
    Everything is done in the log domain: no division by an underflowed sum. The
    own-stage terms use ``1 - p_jj = exp(L_{j+1} - L_j)`` so that the last row
    (p = 1) contributes exactly 0.
    """
    n_groups = offsets.size - 1
    for g in prange(n_groups):
        start, stop = offsets[g], offsets[g + 1]
        n_valid = 0
        for i in range(start, stop):
            if labels[i] >= 0:
                n_valid += 1
        if n_valid == 0:
            continue
        rows = np.empty(n_valid, dtype=np.int64)
        k = 0
        for i in range(start, stop):
            if labels[i] >= 0:
                rows[k] = i
                k += 1
        rows = rows[np.argsort(-labels[rows], kind="mergesort")]
        t = scores[rows] * inv_temperature
        log_z = np.empty(n_valid + 1)  # log_z[k] = L_k, log_z[n_valid] = -inf
        log_z[n_valid] = -np.inf
        for k in range(n_valid - 1, -1, -1):
            log_z[k] = _logaddexp(t[k], log_z[k + 1])
        value = 0.0
        log_a = -np.inf  # log sum_{k<j} w_k exp(-L_k)
        log_b = -np.inf  # log sum_{k<j} w_k exp(-2 L_k)
        for j in range(n_valid):
            row = rows[j]
            w = weights[row]
            x = log_z[j + 1] - t[j]
            value += w * (max(x, 0.0) + math.log1p(math.exp(-abs(x))))
            own_p = math.exp(t[j] - log_z[j])
            own_q = math.exp(log_z[j + 1] - log_z[j])  # 1 - p_jj
            cross = math.exp(t[j] + log_a)  # sum_{k<j} w_k p_kj
            cross_sq = math.exp(2.0 * t[j] + log_b)  # sum_{k<j} w_k p_kj^2
            grad_out[row] = (cross - w * own_q) * inv_temperature
            hess_out[row] = (
                (w * own_p * own_q + max(cross - cross_sq, 0.0))
                * inv_temperature
                * inv_temperature
            )
            if w > 0.0:
                log_a = _logaddexp(log_a, math.log(w) - log_z[j])
                log_b = _logaddexp(log_b, math.log(w) - 2.0 * log_z[j])
        loss_out[g] = value


@njit(parallel=True, cache=True)
def rank_one_listnet(
    labels, scores, weights, offsets, hessian_mode, loss_out, grad_out, hess_out
):
    """Binary cross-entropy of each row's label against its softmax probability.

    See :class:`gbrank.losses.listwise.RankOneListNetLoss` for the formulas. The
    row with the largest score (the only one that can have p > 1/2) is handled
    in the log domain so that nothing divides by ``1 - p`` when p rounds to 1.
    """
    n_groups = offsets.size - 1
    logp = np.zeros(scores.size)
    for g in prange(n_groups):
        start, stop = offsets[g], offsets[g + 1]
        n_valid, top, log1m_top = _log_softmax(labels, scores, start, stop, logp)
        if n_valid < 2:
            continue  # p = 1 whatever the score: constant loss, zero gradient
        total_weight = 0.0
        value = 0.0
        rest_r = 0.0  # sum over rows other than top of w_i (1 - y_i) / (1 - p_i)
        rest_q = 0.0  # same of w_i (y_i + (1 - y_i) (p_i / (1 - p_i))^2)
        for i in range(start, stop):
            if labels[i] < 0:
                continue
            y = labels[i]
            log1m = log1m_top if i == top else math.log1p(-math.exp(logp[i]))
            total_weight += weights[i]
            value -= weights[i] * (y * logp[i] + (1.0 - y) * log1m)
            if i != top:
                odds = math.exp(logp[i] - log1m)
                rest_r += weights[i] * (1.0 - y) * math.exp(-log1m)
                rest_q += weights[i] * (y + (1.0 - y) * odds * odds)
        loss_out[g] = value
        w_top = weights[top]
        y_top = labels[top]
        p_top = math.exp(logp[top])
        for k in range(start, stop):
            if labels[k] < 0:
                continue
            y = labels[k]
            p = math.exp(logp[k])
            if k == top:
                grad = p * total_weight - w_top * y_top - p * rest_r
                log1m = log1m_top
                cross = p * p * rest_q
            else:
                log1m = math.log1p(-p)
                r_k = weights[k] * (1.0 - y) * math.exp(-log1m)
                odds = math.exp(logp[k] - log1m)
                q_k = weights[k] * (y + (1.0 - y) * odds * odds)
                scaled_top = math.exp(logp[k] - log1m_top)  # p_k / (1 - p_top)
                grad = (
                    p * total_weight
                    - weights[k] * y
                    - p * (rest_r - r_k)
                    - w_top * (1.0 - y_top) * scaled_top
                )
                cross = (
                    p * p * (rest_q - q_k + w_top * y_top)
                    + w_top * (1.0 - y_top) * (scaled_top * p_top) ** 2
                )
            grad_out[k] = grad
            if hessian_mode == LISTNET_HESSIAN_GAUSS_NEWTON:
                one_minus_p = math.exp(log1m)
                own = y * one_minus_p * one_minus_p + (1.0 - y) * p * p
                hess_out[k] = weights[k] * own + cross
            else:
                hess_out[k] = total_weight * p * math.exp(log1m)


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
