"""Kernel of the ordinal loss: one sigmoid cross-entropy per label threshold.

Pointwise: the kernel handles *rows* ``first <= i < stop`` (not groups; the
loss needs no query structure) and writes per-row loss values, gradients and
hessians into ``out``. Other conventions: :mod:`gbrank._kernels`.
"""

from __future__ import annotations

import math

from numba import njit

from gbrank._kernels.common import Array, Rows, Terms


@njit(cache=True, nogil=True)
def ordinal(
    first: int,
    stop: int,
    rows: Rows,
    thresholds: Array,
    fraction: bool,
    need_loss: bool,
    out: Terms,
) -> None:
    """Sum over thresholds k of ``w BCE(o_k, s - theta_k)``, its derivatives.

    The target of threshold k (0-based) is ``o_k = 1[y >= k + 1]``, or with
    ``fraction`` ``clip(y - k, 0, 1)``. With ``z = s - theta_k``: loss
    ``softplus(z) - o_k z``, gradient ``sigma(z) - o_k``, hessian
    ``sigma(z) sigma(-z)``; each written without cancellation in either tail.
    """
    labels, scores, weights, _ = rows
    n_thresholds = thresholds.size
    for i in range(first, stop):
        label = labels[i]
        if label < 0:
            continue
        score = scores[i]
        value = 0.0
        grad = 0.0
        hess = 0.0
        for k in range(n_thresholds):
            if fraction:
                target = min(max(label - k, 0.0), 1.0)
            else:
                target = 1.0 if label >= k + 1 else 0.0
            z = score - thresholds[k]
            e = math.exp(-abs(z))
            if z >= 0:
                p, q = 1.0 / (1.0 + e), e / (1.0 + e)  # sigma(z), sigma(-z)
            else:
                p, q = e / (1.0 + e), 1.0 / (1.0 + e)
            grad += (1.0 - target) * p - target * q
            hess += p * q
            if need_loss:
                value += math.log1p(e) + (1.0 - target) * max(z, 0.0)
                value -= target * min(z, 0.0)
        w = weights[i]
        out.grad[i] = w * grad
        out.hess[i] = w * hess
        if need_loss:
            out.loss[i] = w * value
