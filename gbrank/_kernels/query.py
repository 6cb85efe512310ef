"""Kernels of CatBoost's query-wise losses: ``QueryRMSE`` and ``QuerySoftMax``.

Conventions: :mod:`gbrank._kernels`; the loss is one value per group
(``out.loss[g]``), the gradients and hessians one per row. Rows of weight 0 take
part in nothing (as in CatBoost), exactly like ignored rows. O(n) per group, two
or three passes.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from gbrank._kernels.common import Rows, Terms


@njit(cache=True, nogil=True)
def query_rmse(first: int, stop: int, rows: Rows, need_loss: bool, out: Terms) -> None:
    """Squared error around each group's weighted mean residual.

    With residuals ``r_i = y_i - s_i`` and ``a = sum_i w_i r_i / sum_i w_i``:
    loss ``1/2 sum_i w_i (r_i - a)^2``, gradient ``-w_i (r_i - a)``, hessian
    ``w_i`` (CatBoost's; the exact diagonal is ``w_i (1 - w_i / sum w)``).
    """
    labels, scores, weights, offsets = rows
    for g in range(first, stop):
        start, end = offsets[g], offsets[g + 1]
        total_weight = 0.0
        total = 0.0
        for i in range(start, end):
            if labels[i] >= 0:
                total_weight += weights[i]
                total += weights[i] * (labels[i] - scores[i])
        if total_weight <= 0.0:
            continue
        mean = total / total_weight
        value = 0.0
        for i in range(start, end):
            if labels[i] >= 0:
                w = weights[i]
                residual = labels[i] - scores[i] - mean
                out.grad[i] = -w * residual
                out.hess[i] = w
                value += w * residual * residual
        if need_loss:
            out.loss[g] = 0.5 * value


@njit(cache=True, nogil=True)
def query_softmax(
    first: int,
    stop: int,
    rows: Rows,
    beta: float,
    lambda_reg: float,
    need_loss: bool,
    out: Terms,
) -> None:
    """Weighted softmax cross-entropy of ``beta * s`` per group, CatBoost's hessian.

    ``p_i = w_i e^{beta s_i} / sum_j w_j e^{beta s_j}``, label mass
    ``S = sum_i w_i y_i``: loss ``-sum_i w_i y_i log p_i``, gradient
    ``beta (S p_i - w_i y_i)``, hessian ``beta S (beta p_i (1 - p_i) +
    lambda_reg)``. A group with ``S = 0`` gives 0. One exp per row (``out.grad``
    holds ``w_i e^{beta (s_i - max s)}`` in between); ``log p_i`` is taken as
    ``beta (s_i - max s) + log w_i - log sum``, finite where ``p_i`` underflows.
    """
    labels, scores, weights, offsets = rows
    for g in range(first, stop):
        start, end = offsets[g], offsets[g + 1]
        top = -np.inf
        mass = 0.0
        for i in range(start, end):
            if labels[i] >= 0 and weights[i] > 0:
                top = max(top, scores[i])
                mass += weights[i] * labels[i]
        if mass <= 0.0:
            continue
        total = 0.0
        for i in range(start, end):
            if labels[i] >= 0 and weights[i] > 0:
                e = weights[i] * math.exp(beta * (scores[i] - top))
                out.grad[i] = e
                total += e
        log_total = math.log(total) if need_loss else 0.0
        value = 0.0
        ridge = beta * mass * lambda_reg
        for i in range(start, end):
            if labels[i] >= 0 and weights[i] > 0:
                target = weights[i] * labels[i]
                if need_loss and target > 0:
                    log_p = beta * (scores[i] - top) + math.log(weights[i]) - log_total
                    value -= target * log_p
                p = out.grad[i] / total
                out.grad[i] = beta * (mass * p - target)
                out.hess[i] = beta * beta * mass * p * (1.0 - p) + ridge
        if need_loss:
            out.loss[g] = value
