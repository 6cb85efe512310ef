r"""Far pairs of approximate ranks in a sorted sweep: O(n·K) per list, not O(n²).

With the rows sorted by score, descending (:math:`z_0 \ge z_1 \ge \dots`), a pair
:math:`a < b` has :math:`x_{ab} = (z_a - z_b) / T \ge 0`, and with
:math:`f(x) = \sigma(-x)` and :math:`g(x) = \sigma'(x) = f(x)(1 - f(x))`

.. math::

    r_i = 1 + \sum_{a < i} \big(1 - f(x_{ai})\big) + \sum_{b > i} f(x_{ib}),
    \qquad A_i = \sum_{j \ne i} g(x_{ij}), \qquad B_i = \sum_{j \ne i} g(x_{ij}) c_j.

Near pairs (:math:`x <` :data:`NEAR`) are summed one by one, exactly. A far pair
(:math:`x \ge` :data:`NEAR`) enters through the alternating series
:math:`f(x) = \sum_{k \ge 1} (-1)^{k+1} e^{-kx}`,
:math:`g(x) = \sum_{k \ge 1} (-1)^{k+1} k e^{-kx}`, cut after :data:`TERMS`
terms: each of the K sums :math:`\sum_b w_b e^{-k x_{ib}}` over a row's far
partners below it is carried from row to row of the sweep (multiplied by
:math:`e^{-k (z_i - z_{i+1}) / T} \le 1` as the sweep moves up, a partner added
once as it becomes far), and likewise above. Every factor is at most 1, so
nothing overflows.

Error: a far pair's cut series is off by at most :math:`(K + 1) e^{-(K+1)
x_0}` (:math:`x_0` = :data:`NEAR`, K = :data:`TERMS`: 5e-16 for the
derivative, 3e-18 for :math:`f`), and the alternating sums lose about K ulps of
their largest term, which is at most the number of rows (for :math:`g`, times
:math:`1 / (e x_0)`): a rank, :math:`A_i` and :math:`B_i` come out within
about 1e-12 n of their sums over every pair (tested against them).

Conventions: :mod:`gbrank._kernels`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from gbrank._kernels.common import Array

NEAR = 0.25
"""Pairs whose tempered score difference is below this are summed one by one."""

TERMS = 160
"""Terms of the series of a far pair (even): ``exp(-TERMS * NEAR) = 4e-18``.

Measured on one 100,000-row list (N(0, 1) scores, T = 0.1): ``approx_ndcg``'s
``"sweep"`` step 0.23 / 0.21 / 0.23 / 0.33 s with ``NEAR`` 0.125 / 0.25 / 0.5 / 1 (K =
40 / NEAR): shorter series cost less than the extra near pairs up to 0.25."""

SWEEP_ROWS = 2048
"""Longer lists take the sweep in the ``"sweep"`` booster step (shorter: every pair)."""

_TINY = 1e-300


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "nsz"})
def _carry(sums: Array, ratio: float) -> tuple[float, float]:
    """Multiply ``sums[k]`` by ``ratio**(k + 1)``; return the far sums of f and g.

    Every far partner moved ``-log(ratio)`` further away; the sums are
    ``sum_k (-1)^k s_k`` and ``sum_k (-1)^k (k + 1) s_k``. Two chains of powers
    (even and odd k) halve the multiplications' latency.
    """
    step = ratio * ratio
    even = ratio
    odd = step
    f = 0.0
    g = 0.0
    for k in range(0, sums.size, 2):
        if even < _TINY:
            sums[k:] = 0.0
            break
        first = sums[k] * even
        second = sums[k + 1] * odd
        sums[k] = first
        sums[k + 1] = second
        f += first - second
        g += (k + 1) * first - (k + 2) * second
        even *= step
        odd *= step
    return f, g


@njit(cache=True, nogil=True, error_model="numpy")
def _enter(sums: Array, decay: float, weight: float) -> None:
    """Add ``weight * decay**(k + 1)`` to ``sums[k]``: a partner becomes far."""
    step = decay * decay
    even = weight * decay
    odd = weight * step
    for k in range(0, sums.size, 2):
        if abs(even) < _TINY:
            return
        sums[k] += even
        sums[k + 1] += odd
        even *= step
        odd *= step


@njit(cache=True, nogil=True)
def far_below(
    z: Array, weights: Array, inv_t: float, f_out: Array, g_out: Array
) -> None:
    """Write each row's far sums of ``w_b f(x_ib)`` and ``w_b g(x_ib)``, rows b below.

    ``z`` descending. A partner enters at its distance from the previous row,
    then every partner moves on to the current row.
    """
    n = z.size
    sums = np.zeros(TERMS)
    p = n  # the far partners of row i are the rows p..n-1
    f_out[n - 1] = 0.0
    g_out[n - 1] = 0.0
    for i in range(n - 2, -1, -1):
        while p - 1 > i and (z[i] - z[p - 1]) * inv_t >= NEAR:
            p -= 1
            _enter(sums, math.exp(-(z[i + 1] - z[p]) * inv_t), weights[p])
        f_out[i], g_out[i] = _carry(sums, math.exp(-(z[i] - z[i + 1]) * inv_t))


@njit(cache=True, nogil=True)
def far_above(
    z: Array, weights: Array, inv_t: float, f_out: Array, g_out: Array
) -> None:
    """Write each row's far sums of ``w_a (1 - f(x_ai))`` and ``w_a g(x_ai)``, a above.

    ``z`` descending; as :func:`far_below`, the sweep running down.
    """
    n = z.size
    sums = np.zeros(TERMS)
    m = 0  # the far partners of row i are the rows 0..m-1
    mass = 0.0
    f_out[0] = 0.0
    g_out[0] = 0.0
    for i in range(1, n):
        while m < i and (z[m] - z[i]) * inv_t >= NEAR:
            _enter(sums, math.exp(-(z[m] - z[i - 1]) * inv_t), weights[m])
            mass += weights[m]
            m += 1
        f, g_out[i] = _carry(sums, math.exp(-(z[i - 1] - z[i]) * inv_t))
        f_out[i] = mass - f
