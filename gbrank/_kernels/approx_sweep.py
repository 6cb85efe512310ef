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
x_0}` (:math:`x_0` = :data:`NEAR`, K = :data:`TERMS`: 2e-16 for the
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

from gbrank._kernels.common import Array, IntArray

NEAR = 0.5
"""Pairs whose tempered score difference is below this are summed one by one."""

TERMS = 80
"""Terms of the series of a far pair (even): ``exp(-TERMS * NEAR) = 4e-18``.

Measured (ApproxNDCG's booster step, labels 0-4, N(0, 1) scores, T = 0.1),
``NEAR`` 0.25 / 0.5 / 1 with ``TERMS = 40 / NEAR``: 0.51 / 0.42 / 0.46 s on one
100,000-row list, 23 / 15 / 9 ms on 5,000 rows; every pair: 12 ms on 5,000
rows, 45 ms on 10,000 (the sweep at 0.5: 28 ms). Measured before the powers
were shared by a row's vectors (:func:`_powers`), which halved
:func:`far_below`'s time with five label levels."""

SWEEP_ROWS = 8192
"""Lists of more rows take the sweep in the default (``"auto"``) booster step;
shorter ones sum every pair, which is faster up to about 6,000 rows (``TERMS``)."""

MAX_LEVELS = 16
"""Lists with more distinct gains (labels) take ``c_b + c_a`` on every far pair
(the far sums are kept per level: K floats per level and direction)."""

_TINY = 1e-300


_SIGNS = np.array([(-1.0) ** k for k in range(TERMS)])
"""``(-1)^k``: the signs of the terms of f's series."""
_SLOPES = np.array([(k + 1) * (-1.0) ** k for k in range(TERMS)])
"""``(-1)^k (k + 1)``: the coefficients of the terms of g's series."""


@njit(cache=True, nogil=True, error_model="numpy")
def _powers(ratio: float, out: Array) -> int:
    """Write ``ratio**(k + 1)`` into ``out[k]``; return how many are not negligible.

    The powers below ``_TINY`` and those after them are left out. Two chains of
    powers (even and odd k) halve the multiplications' latency.
    """
    step = ratio * ratio
    even = ratio
    odd = step
    for k in range(0, out.size, 2):
        if even < _TINY:
            return k
        out[k] = even
        out[k + 1] = odd
        even *= step
        odd *= step
    return out.size


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "nsz"})
def _carry(sums: Array, powers: Array, terms: int) -> tuple[float, float]:
    """Multiply ``sums[k]`` by ``powers[k]``; return the far sums of f and g.

    Every far partner moved ``-log(ratio)`` further away (``powers`` from
    :func:`_powers`, the first ``terms`` of them; the other sums become 0); the
    sums are ``sum_k (-1)^k s_k`` and ``sum_k (-1)^k (k + 1) s_k``. One pass
    without a chain of powers, which LLVM vectorises (the powers are shared by
    every vector of a row).
    """
    f = 0.0
    g = 0.0
    for k in range(terms):
        value = sums[k] * powers[k]
        sums[k] = value
        f += _SIGNS[k] * value
        g += _SLOPES[k] * value
    sums[terms:] = 0.0
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
    z: Array,
    slot: IntArray,
    weight: Array,
    slots: int,
    inv_t: float,
    f_out: Array,
    g_out: Array,
    mass_out: Array,
) -> None:
    """Write each row's far sums of ``f(x_ib)`` and ``g(x_ib)`` over rows b below it.

    ``z`` descending. Row b counts in vector ``slot[b]`` with weight 1 and in
    vector ``slots + slot[b]`` with ``weight[b]``; ``f_out[i, v]``,
    ``g_out[i, v]`` and ``mass_out[i, v]`` are vector v's sums of ``w f``,
    ``w g`` and ``w`` over row i's far partners (shape ``(n, 2 slots)``). A
    partner enters at its distance from the previous row, then every partner
    moves on to the current row.
    """
    n = z.size
    sums = np.zeros((2 * slots, TERMS))
    powers = np.empty(TERMS)
    used = np.zeros(2 * slots, dtype=np.bool_)
    mass = np.zeros(2 * slots)
    f_out[:] = 0.0
    g_out[:] = 0.0
    mass_out[:] = 0.0
    p = n  # the far partners of row i are the rows p..n-1
    for i in range(n - 2, -1, -1):
        while p - 1 > i and (z[i] - z[p - 1]) * inv_t >= NEAR:
            p -= 1
            decay = math.exp(-(z[i + 1] - z[p]) * inv_t)
            _enter(sums[slot[p]], decay, 1.0)
            used[slot[p]] = True
            mass[slot[p]] += 1.0
            if weight[p] != 0.0:
                _enter(sums[slots + slot[p]], decay, weight[p])
                used[slots + slot[p]] = True
                mass[slots + slot[p]] += weight[p]
        terms = _powers(math.exp(-(z[i] - z[i + 1]) * inv_t), powers)
        for v in range(2 * slots):
            if used[v]:
                f_out[i, v], g_out[i, v] = _carry(sums[v], powers, terms)
                mass_out[i, v] = mass[v]


@njit(cache=True, nogil=True)
def far_above(
    z: Array,
    slot: IntArray,
    weight: Array,
    slots: int,
    inv_t: float,
    f_out: Array,
    g_out: Array,
) -> None:
    """:func:`far_below` over the rows a above each row, with ``1 - f(x_ai)``.

    ``f_out[i, v]`` is vector v's sum of ``w_a (1 - f(x_ai))``. The rows above
    are the rows below in the reversed list of negated scores (the same
    differences, to the bit).
    """
    n = z.size
    flipped = np.empty(n)
    flipped_slot = np.empty(n, dtype=np.int64)
    flipped_weight = np.empty(n)
    for i in range(n):
        flipped[i] = -z[n - 1 - i]
        flipped_slot[i] = slot[n - 1 - i]
        flipped_weight[i] = weight[n - 1 - i]
    f, g, mass = np.empty_like(f_out), np.empty_like(g_out), np.empty_like(f_out)
    far_below(flipped, flipped_slot, flipped_weight, slots, inv_t, f, g, mass)
    for i in range(n):
        for v in range(f_out.shape[1]):
            f_out[i, v] = mass[n - 1 - i, v] - f[n - 1 - i, v]
            g_out[i, v] = g[n - 1 - i, v]
