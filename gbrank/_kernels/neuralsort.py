r"""Kernel of NeuralNDCG (Pobrotyn & Białobrzeski 2021), as allRank's ``neuralNDCG``.

The NDCG of the labels sorted by a NeuralSort relaxation (Grover et al. 2019)
made doubly stochastic by Sinkhorn scaling.

Per group of n valid rows, with :math:`A_j = \sum_k |s_j - s_k|`:

.. math::

    \hat P^{(0)}_{rj} = \operatorname{softmax}_j\big(((n + 1 - 2r) s_j - A_j)/\tau\big),
    \qquad r = 1, \dots, n,

then Sinkhorn iterations (divide by the column sums, then by the row sums,
each clamped at :data:`SUM_FLOOR`) until every row and column sum is within
``tol`` of 1, at most ``max_iter`` times. The loss is
:math:`-W \sum_{r \le k} D_r \sum_j \hat P_{rj} G_j / \mathrm{IDCG@k}`.

The gradient is reverse-mode differentiation through every executed
iteration (what autograd gives allRank), in O(I n²) time and O(n² + I n)
memory: only the row and column sums of each iteration are stored, and the
matrices of earlier iterations are rebuilt from the final one by multiplying
the sums back.

The ``"neuralsort"`` booster step (:func:`neural_sort_step`) takes the first k
rows of :math:`\hat P^{(0)}` without Sinkhorn scaling, one row at a time, and
:math:`A` from sorted prefix sums: O(n (k + log n)) time, O(n) memory.

Conventions: :mod:`gbrank._kernels`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from gbrank._kernels.common import (
    Array,
    IntArray,
    Rows,
    Terms,
    argsort_descending,
    exp2_gain,
    list_weight,
    valid_rows,
)
from gbrank._kernels.lambdaweights import ideal_dcg

SUM_FLOOR = 1e-10
"""allRank's clamp of the row and column sums (``DEFAULT_EPS``); a clamped
sum passes no gradient."""


class NeuralConfig(NamedTuple):
    """Options of :func:`neural_ndcg`.

    Attributes
    ----------
    temperature : float
        NeuralSort's temperature.
    topn : int
        DCG and ideal DCG cut at ``topn`` positions (0: none).
    max_iter : int
        Most Sinkhorn iterations.
    tol : float
        Sinkhorn stops when every row and column sum is within ``tol`` of 1.
    need_loss : bool
        Whether to compute the loss values.
    """

    temperature: float
    topn: int
    max_iter: int
    tol: float
    need_loss: bool


FAST = {"reassoc", "nsz"}
"""fastmath flags of the matrix loops: reassociated (vectorised) sums only."""

# Matrices are flat float64 arrays (row r at r * n) indexed with unsigned
# integers, so that numba skips its handling of negative indices and LLVM
# vectorises the loops.


@njit(cache=True, nogil=True)
def neural_sort(s: Array, inv_temperature: float, out: Array) -> None:
    """Write NeuralSort's row-stochastic matrix of scores ``s`` into flat ``out``."""
    n = s.size
    spread = np.zeros(n)  # A_j
    for j in range(n):
        for k in range(j + 1, n):
            d = abs(s[j] - s[k])
            spread[j] += d
            spread[k] += d
    for r in range(n):
        base = r * n
        coef = n - 1.0 - 2.0 * r  # n + 1 - 2r for 1-based r
        top = -np.inf
        for j in range(n):
            out[base + j] = (coef * s[j] - spread[j]) * inv_temperature
            top = max(top, out[base + j])
        total = 0.0
        for j in range(n):
            out[base + j] = math.exp(out[base + j] - top)
            total += out[base + j]
        inv = 1.0 / total
        for j in range(n):
            out[base + j] *= inv


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def _scale_rows(p: Array, n: int, factors: Array, sums: Array) -> None:
    """``p[r, j] *= factors[j]``; ``sums[r]`` = the new row sums."""
    size = np.uint64(n)
    for r in range(size):
        base = r * size
        acc = 0.0
        for j in range(size):
            value = p[base + j] * factors[j]
            p[base + j] = value
            acc += value
        sums[r] = acc


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def _scale_columns(p: Array, n: int, factors: Array, columns: Array) -> float:
    """``p[r, j] *= factors[r]``; ``columns[j]`` = the new column sums.

    Returns the largest ``|row sum - 1|`` after scaling.
    """
    size = np.uint64(n)
    columns[:] = 0.0
    worst = 0.0
    for r in range(size):
        base = r * size
        factor = factors[r]
        acc = 0.0
        for j in range(size):
            value = p[base + j] * factor
            p[base + j] = value
            columns[j] += value
            acc += value
        worst = max(worst, abs(acc - 1.0))
    return worst


@njit(cache=True, nogil=True)
def sinkhorn(
    p: Array, n: int, max_iter: int, tol: float, col_sums: Array, row_sums: Array
) -> int:
    """Scale flat ``p`` in place toward a doubly stochastic matrix; return the count.

    Iteration t divides the columns by their sums (kept in ``col_sums[t]``,
    unclamped), then the rows by theirs (``row_sums[t]``); it stops after the
    first iteration whose row and column sums are all within ``tol`` of 1.
    """
    columns = np.zeros(n)
    for r in range(n):
        for j in range(n):
            columns[j] += p[r * n + j]
    factors = np.empty(n)
    rows = np.empty(n)
    iterations = 0
    for t in range(max_iter):
        for j in range(n):
            col_sums[t, j] = columns[j]
            factors[j] = 1.0 / max(columns[j], SUM_FLOOR)
        _scale_rows(p, n, factors, rows)
        for r in range(n):
            row_sums[t, r] = rows[r]
            factors[r] = 1.0 / max(rows[r], SUM_FLOOR)
        worst = _scale_columns(p, n, factors, columns)
        for j in range(n):
            worst = max(worst, abs(columns[j] - 1.0))
        iterations = t + 1
        if worst < tol:
            break
    return iterations


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def _undo_rows(
    p: Array,
    p_bar: Array,
    n: int,
    sums: Array,
    dots: Array,
) -> None:
    """Backpropagate through ``P = Q / rho`` (rows) and rebuild ``Q``, in place.

    ``Q_bar = (P_bar - sum_j P_bar P) / rho`` (no subtraction where ``rho`` was
    clamped); ``dots[j]`` = ``sum_r Q_bar Q`` (the column step's sums).
    """
    size = np.uint64(n)
    dots[:] = 0.0
    for r in range(size):
        base = r * size
        raw = sums[r]
        divisor = max(raw, SUM_FLOOR)
        inv = 1.0 / divisor
        d = 0.0
        if raw >= SUM_FLOOR:
            for j in range(size):
                d += p_bar[base + j] * p[base + j]
        for j in range(size):
            q_bar = (p_bar[base + j] - d) * inv
            q = p[base + j] * divisor
            p_bar[base + j] = q_bar
            p[base + j] = q
            dots[j] += q_bar * q


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def _undo_columns(
    p: Array, p_bar: Array, n: int, divisors: Array, inverses: Array, dots: Array
) -> None:
    """Backpropagate through ``Q = P / c`` (columns) and rebuild ``P``, in place."""
    size = np.uint64(n)
    for r in range(size):
        base = r * size
        for j in range(size):
            p_bar[base + j] = (p_bar[base + j] - dots[j]) * inverses[j]
            p[base + j] *= divisors[j]


@njit(cache=True, nogil=True)
def sinkhorn_backward(
    p: Array,
    p_bar: Array,
    n: int,
    iterations: int,
    col_sums: Array,
    row_sums: Array,
) -> None:
    """Backpropagate ``p_bar`` through the Sinkhorn iterations, in place.

    On return flat ``p`` is the matrix before the first iteration (rebuilt) and
    ``p_bar`` the gradient with respect to it. Row normalisation ``P = Q / rho``
    backpropagates as ``Q_bar = (P_bar - sum_j P_bar P) / rho``, column
    normalisation likewise; a clamped sum passes no gradient.
    """
    dots = np.zeros(n)
    divisors = np.empty(n)
    inverses = np.empty(n)
    for t in range(iterations - 1, -1, -1):
        _undo_rows(p, p_bar, n, row_sums[t], dots)
        for j in range(n):
            raw = col_sums[t, j]
            divisors[j] = max(raw, SUM_FLOOR)
            inverses[j] = 1.0 / divisors[j]
            if raw < SUM_FLOOR:
                dots[j] = 0.0
        _undo_columns(p, p_bar, n, divisors, inverses, dots)


@njit(cache=True, nogil=True)
def _one_list(
    s: Array,
    gains: Array,
    scale: float,
    config: NeuralConfig,
    grad: Array,
) -> float:
    """Loss (times ``scale`` = W / IDCG) and gradient of one list; returns the loss."""
    n = s.size
    inv_t = 1.0 / config.temperature
    p = np.empty(n * n)
    neural_sort(s, inv_t, p)
    col_sums = np.empty((config.max_iter, n))
    row_sums = np.empty((config.max_iter, n))
    iterations = sinkhorn(p, n, config.max_iter, config.tol, col_sums, row_sums)
    cut = n if config.topn <= 0 else min(config.topn, n)
    value = 0.0
    p_bar = np.zeros(n * n)
    for r in range(cut):
        discount = 1.0 / math.log2(r + 2.0)
        expected = 0.0
        for j in range(n):
            expected += p[r * n + j] * gains[j]
            p_bar[r * n + j] = -scale * discount * gains[j]
        value -= scale * discount * expected
    sinkhorn_backward(p, p_bar, n, iterations, col_sums, row_sums)
    # softmax rows: Z_bar = P (P_bar - sum_j P_bar P)
    s_bar = np.zeros(n)
    a_bar = np.zeros(n)
    for r in range(n):
        base = r * n
        d = 0.0
        for j in range(n):
            d += p_bar[base + j] * p[base + j]
        coef = (n - 1.0 - 2.0 * r) * inv_t
        for j in range(n):
            z_bar = p[base + j] * (p_bar[base + j] - d)
            s_bar[j] += z_bar * coef
            a_bar[j] -= z_bar * inv_t
    # A_j = sum_k |s_j - s_k|: d/ds_m = sum_k (A_bar_m + A_bar_k) sign(s_m - s_k)
    for m in range(n):
        grad[m] = s_bar[m]
    for m in range(n):
        for k in range(m + 1, n):
            if s[m] > s[k]:
                term = a_bar[m] + a_bar[k]
            elif s[m] < s[k]:
                term = -(a_bar[m] + a_bar[k])
            else:
                continue
            grad[m] += term
            grad[k] -= term
    return value


@njit(cache=True, nogil=True)
def score_spread(s: Array, order: IntArray) -> Array:
    """Return ``A_j = sum_k |s_j - s_k|`` in O(n), ``order`` sorting ``s`` descending.

    From prefix sums of the scores minus the median (A does not change with a
    shift; the shift keeps the prefix sums as small as the spread).
    """
    n = s.size
    centre = s[order[n // 2]]
    total = 0.0
    for j in range(n):
        total += s[j] - centre
    spread = np.empty(n)
    above = 0.0  # sum of the shifted scores before position i
    for i in range(n):
        v = s[order[i]] - centre
        spread[order[i]] = (above - i * v) + (v * (n - 1 - i) - (total - above - v))
        above += v
    return spread


@njit(cache=True, nogil=True)
def add_spread_gradient(s: Array, order: IntArray, a_bar: Array, grad: Array) -> None:
    """Add ``sum_k (A_bar_m + A_bar_k) sign(s_m - s_k)`` to ``grad[m]``, in O(n).

    The chain rule of :func:`score_spread` (0 at ties), ``order`` sorting ``s``
    descending: a row of a tie run at positions ``lo..hi-1`` has ``lo`` rows
    above it and ``n - hi`` below.
    """
    n = s.size
    total = 0.0
    for j in range(n):
        total += a_bar[j]
    above = 0.0  # sum of A_bar over the rows before the run
    lo = 0
    while lo < n:
        hi = lo + 1
        while hi < n and s[order[hi]] == s[order[lo]]:
            hi += 1
        run = 0.0
        for i in range(lo, hi):
            run += a_bar[order[i]]
        below = total - above - run
        for i in range(lo, hi):
            m = order[i]
            grad[m] += a_bar[m] * (n - hi - lo) + below - above
        above += run
        lo = hi


@njit(cache=True, nogil=True)
def top_rows(
    s: Array, gains: Array, scale: float, inv_t: float, cut: int, grad: Array
) -> float:
    r"""Loss and gradient of NeuralSort's first ``cut`` rows, without Sinkhorn.

    :math:`-\mathrm{scale} \sum_{r < \mathrm{cut}} D_r \sum_j P_{rj} G_j`
    with :math:`P_{rj} = \operatorname{softmax}_j(((n - 1 - 2r) s_j - A_j) / T)`
    (0-based r): O(n (cut + log n)). Row r's softmax backward is
    :math:`\bar Z_{rj} = -\mathrm{scale}\, D_r P_{rj} (G_j - E_r)`,
    :math:`E_r = \sum_j P_{rj} G_j`. Adds the gradient to ``grad``.
    """
    n = s.size
    order = argsort_descending(s, np.arange(n))
    spread = score_spread(s, order)
    a_bar = np.zeros(n)
    row = np.empty(n)
    value = 0.0
    for r in range(cut):
        coef = n - 1.0 - 2.0 * r
        top = -np.inf
        for j in range(n):
            row[j] = (coef * s[j] - spread[j]) * inv_t
            top = max(top, row[j])
        total = 0.0
        for j in range(n):
            row[j] = math.exp(row[j] - top)
            total += row[j]
        inv = 1.0 / total
        expected = 0.0
        for j in range(n):
            row[j] *= inv
            expected += row[j] * gains[j]
        weight = scale / math.log2(r + 2.0)
        value -= weight * expected
        for j in range(n):
            z_bar = -weight * row[j] * (gains[j] - expected) * inv_t
            grad[j] += z_bar * coef
            a_bar[j] -= z_bar
    add_spread_gradient(s, order, a_bar, grad)
    return value


@njit(cache=True, nogil=True)
def _list(rows: Rows, g: int, topn: int) -> tuple[IntArray, Array, Array, float, int]:
    """Return group g's valid rows, their scores and gains, ``W / IDCG`` and the cut.

    List weight ``W = sum w_i y_i / sum y_i``; gains ``2^y - 1``; the ideal DCG
    is exact, cut at ``topn`` (0: none). A group without a positive label
    returns no valid row.
    """
    labels, scores, weights, offsets = rows
    valid: IntArray = valid_rows(labels, offsets[g], offsets[g + 1])
    label_sum, weight = list_weight(labels, weights, valid)
    n = valid.size if label_sum > 0.0 else 0  # no valid row, or none relevant
    gains = np.empty(n)
    s = np.empty(n)
    for a in range(n):
        gains[a] = exp2_gain(labels[valid[a]])
        s[a] = scores[valid[a]]
    cut = n if topn <= 0 else min(topn, n)
    scale = weight / ideal_dcg(gains, False, cut) if n > 0 else 0.0
    return valid[:n], s, gains, scale, cut


@njit(cache=True, nogil=True)
def _store(out: Terms, g: int, valid: IntArray, grad: Array, value: float) -> None:
    """Write a list's gradient and its loss value (``out.loss[g]``)."""
    for a in range(valid.size):
        out.grad[valid[a]] = grad[a]
    out.loss[g] = value


@njit(cache=True, nogil=True)
def neural_ndcg(
    first: int, stop: int, rows: Rows, config: NeuralConfig, out: Terms
) -> None:
    """NeuralNDCG loss and gradient of each group (``out.hess`` untouched).

    A group without a positive label (ideal DCG 0) gives 0 (:func:`_list`).
    """
    for g in range(first, stop):
        valid, s, gains, scale, _ = _list(rows, g, config.topn)
        grad = np.zeros(valid.size)
        if valid.size > 0:
            value = _one_list(s, gains, scale, config, grad)
            _store(out, g, valid, grad, value)


@njit(cache=True, nogil=True)
def neural_sort_step(
    first: int, stop: int, rows: Rows, config: NeuralConfig, out: Terms
) -> None:
    """Write each group's booster step: :func:`top_rows`, cut at ``config.topn``.

    Only ``config.temperature`` and ``config.topn`` (> 0) are used; writes the
    gradient and the value of the top rows' objective (``out.hess`` untouched).
    """
    for g in range(first, stop):
        valid, s, gains, scale, cut = _list(rows, g, config.topn)
        grad = np.zeros(valid.size)
        if valid.size > 0:
            value = top_rows(s, gains, scale, 1.0 / config.temperature, cut, grad)
            _store(out, g, valid, grad, value)
