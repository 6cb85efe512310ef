"""Plain-loop reference implementations, written independently of the kernels.

Each oracle takes one group (1-D numpy arrays of labels, scores, weights, with
label < 0 for ignored rows) and returns (unreduced values, grad, hess), where the
values are per row (pointwise, pairwise) or a single per-group float (listwise).
Hessians are the exact diagonal, or the loss's documented surrogate derived
here from its definition (Gauss-Newton via an explicit softmax Jacobian).
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def pairwise_hinge(labels, scores, weights, temperature=1.0, hessian="active_pairs"):
    n = len(labels)
    values, grad, hess = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        for j in range(n):
            if labels[i] < 0 or labels[j] < 0 or not labels[i] > labels[j]:
                continue
            d = (scores[i] - scores[j]) / temperature
            if d < 1:
                values[i] += weights[i] * (1 - d)
                grad[i] -= weights[i] / temperature
                grad[j] += weights[i] / temperature
                if hessian == "active_pairs":
                    hess[i] += weights[i] / temperature**2
                    hess[j] += weights[i] / temperature**2
    if hessian == "constant":
        hess = np.where(labels >= 0, weights / temperature**2, 0.0)
    return values, grad, hess


def sigmoid_cross_entropy(labels, scores, weights):
    n = len(labels)
    values, grad, hess = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        if labels[i] < 0:
            continue
        s, y, w = scores[i], labels[i], weights[i]
        p = 1 / (1 + math.exp(-s))
        values[i] = w * (math.log1p(math.exp(-abs(s))) + max(s, 0) - y * s)
        grad[i] = w * (p - y)
        hess[i] = w * p * (1 - p)
    return values, grad, hess


def _softmax(scores, valid):
    p = np.zeros(len(scores))
    if valid.any():
        e = np.exp(scores[valid] - scores[valid].max())
        p[valid] = e / e.sum()
    return p


def softmax(labels, scores, weights):
    valid = labels >= 0
    p = _softmax(scores, valid)
    y = np.where(valid, labels, 0.0)
    w = np.where(valid, weights, 0.0)
    value = -sum(w[i] * y[i] * math.log(p[i]) for i in range(len(y)) if y[i] > 0)
    mass = (w * y).sum()
    grad = np.where(valid, p * mass - w * y, 0.0)
    hess = np.where(valid, mass * p * (1 - p), 0.0)
    return value, grad, hess


def rank_one_listnet(labels, scores, weights, hessian="gauss_newton"):
    """Binary CE on softmax probabilities; GN hessian from the explicit Jacobian."""
    n = len(labels)
    valid = labels >= 0
    grad, hess = np.zeros(n), np.zeros(n)
    if valid.sum() < 2:
        return 0.0, grad, hess
    idx = np.flatnonzero(valid)
    s, y, w = scores[idx], labels[idx], weights[idx]
    p = _softmax(s, np.ones(len(s), dtype=bool))
    value = -float(np.sum(w * (y * np.log(p) + (1 - y) * np.log1p(-p))))
    jac = np.diag(p) - np.outer(p, p)  # jac[i, k] = d p_i / d s_k
    dl_dp = w * (-y / p + (1 - y) / (1 - p))
    grad[idx] = jac.T @ dl_dp
    if hessian == "gauss_newton":
        curvature = w * (y / p**2 + (1 - y) / (1 - p) ** 2)
        hess[idx] = (curvature[:, None] * jac**2).sum(axis=0)
    else:
        hess[idx] = w.sum() * p * (1 - p)
    return value, grad, hess


def categorical_cross_entropy(classes, scores, weights, factor=1.0):
    n, k = scores.shape
    values, grad, hess = np.zeros(n), np.zeros((n, k)), np.zeros((n, k))
    for i in range(n):
        if classes[i] < 0:
            continue
        e = np.exp(scores[i] - scores[i].max())
        p = e / e.sum()
        c = int(classes[i])
        values[i] = -weights[i] * math.log(p[c])
        grad[i] = weights[i] * p
        grad[i, c] -= weights[i]
        hess[i] = factor * weights[i] * p * (1 - p)
    return values, grad, hess


def apply(loss, labels, scores, weights, offsets):
    """Run the oracle of ``loss`` group by group; return (values, grad, hess)."""
    oracle = ORACLES[loss.name]
    if loss.is_multiclass:
        return oracle(labels, scores, weights)
    values, grads, hesses = [], [], []
    for start, stop in itertools.pairwise(offsets):
        value, grad, hess = oracle(
            labels[start:stop],
            scores[start:stop],
            weights[start:stop],
            **loss.get_params(),
        )
        values.append(np.atleast_1d(value))
        grads.append(grad)
        hesses.append(hess)
    return np.concatenate(values), np.concatenate(grads), np.concatenate(hesses)


ORACLES = {
    "pairwise_hinge": pairwise_hinge,
    "sigmoid_cross_entropy": sigmoid_cross_entropy,
    "softmax": softmax,
    "rank_one_listnet": rank_one_listnet,
    "categorical_cross_entropy": categorical_cross_entropy,
}
