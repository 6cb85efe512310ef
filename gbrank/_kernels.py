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

# Hessian surrogates of the hinge.
HINGE_HESSIAN_ACTIVE_PAIRS = 0
HINGE_HESSIAN_CONSTANT = 1

# Hessians of rank-one ListNet.
LISTNET_HESSIAN_GAUSS_NEWTON = 0
LISTNET_HESSIAN_SOFTMAX = 1


@njit(cache=True, inline="always")
def _pair_terms(kind: int, d: float) -> tuple[float, float, bool]:
    """Return ``f(d)``, ``f'(d)`` and whether the pair is active."""
    if kind == HINGE:
        if d < 1.0:
            return 1.0 - d, -1.0, True
        return 0.0, 0.0, False
    return 0.0, 0.0, False


@njit(parallel=True, cache=True)
def pairwise(
    labels, scores, weights, offsets, kind, inv_temperature, hessian_mode,
    loss_out, grad_out, hess_out,
):  # fmt: skip
    """All ordered pairs (i, j) of a group with ``labels[i] > labels[j]``.

    The pair loss ``weights[i] * f((s_i - s_j) * inv_temperature)`` is credited to
    row i (keras_rs: the higher-labelled item carries the pair).
    """
    n_groups = offsets.size - 1
    for g in prange(n_groups):
        start, stop = offsets[g], offsets[g + 1]
        for i in range(start, stop):
            if labels[i] < 0:
                continue
            for j in range(start, stop):
                if labels[j] < 0 or not labels[i] > labels[j]:
                    continue
                d = (scores[i] - scores[j]) * inv_temperature
                value, slope, active = _pair_terms(kind, d)
                loss_out[i] += weights[i] * value
                step = weights[i] * slope * inv_temperature
                grad_out[i] += step
                grad_out[j] -= step
                if hessian_mode == HINGE_HESSIAN_ACTIVE_PAIRS and active:
                    curvature = weights[i] * inv_temperature * inv_temperature
                    hess_out[i] += curvature
                    hess_out[j] += curvature
        if hessian_mode == HINGE_HESSIAN_CONSTANT:
            for i in range(start, stop):
                if labels[i] >= 0:
                    hess_out[i] = weights[i] * inv_temperature * inv_temperature


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
def softmax_cross_entropy(labels, scores, weights, offsets, loss_out, grad_out,
                          hess_out):  # fmt: skip
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
def rank_one_listnet(labels, scores, weights, offsets, hessian_mode, loss_out,
                     grad_out, hess_out):  # fmt: skip
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
                    p * total_weight - weights[k] * y - p * (rest_r - r_k)
                    - w_top * (1.0 - y_top) * scaled_top
                )  # fmt: skip
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
