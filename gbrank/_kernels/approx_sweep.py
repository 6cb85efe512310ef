r"""Far pairs of approximate ranks in a sorted sweep: O(n·K) per list, not O(n²).

With the rows sorted by score, descending (:math:`z_0 \ge z_1 \ge \dots`), a pair
:math:`a < b` has :math:`x_{ab} = (z_a - z_b) / T \ge 0`, and with
:math:`f(x) = \sigma(-x)` and :math:`g(x) = \sigma'(x) = f(x)(1 - f(x))`

.. math::

    r_i = 1 + \sum_{a < i} \big(1 - f(x_{ai})\big) + \sum_{b > i} f(x_{ib}),
    \qquad A_i = \sum_{j \ne i} g(x_{ij}), \qquad B_i = \sum_{j \ne i} g(x_{ij}) c_j.

Near pairs (:math:`x <` :data:`NEAR`) are summed one by one, exactly. A far pair
(:math:`x \ge` :data:`NEAR`) enters through polynomials in :math:`u = e^{-x}
\in (0, e^{-x_0}]` (:math:`x_0` = :data:`NEAR`): :math:`f(x) = u / (1 + u)
\approx \sum_{k=1}^{K} F_k u^k` and :math:`g(x) = u / (1 + u)^2 \approx
\sum_{k=1}^{K} G_k u^k` (:data:`_F_TERMS`, :data:`_G_TERMS`, K =
:data:`TERMS`): each of the K sums :math:`\sum_b w_b e^{-k x_{ib}}` over a
row's far partners below it is carried from row to row of the sweep
(multiplied by :math:`e^{-k (z_i - z_{i+1}) / T} \le 1` as the sweep moves up,
a partner added once as it becomes far), and likewise above. Every factor is
at most 1, so nothing overflows.

The coefficients are the Taylor series of :math:`1/(1 + u)` and :math:`1/(1 +
u)^2` (:math:`(-1)^k`, :math:`(-1)^k (k + 1)`) economised on the far range by
Chebyshev polynomials, in exact arithmetic (``benchmarks/sweep_series.py``):
26 terms where the plain series needs :math:`40 / x_0` (320 at this
:data:`NEAR`; 80 at the 0.5 used until 2026-12-07).

Error: the polynomials are within 3e-17 of :math:`f` and 1.3e-16 of
:math:`g` on the far range (tested; mostly the coefficients' rounding), and the
sums of their terms lose a few ulps of :math:`\sum_k |F_k| u_0^k \le 8.5` (of
:math:`G`: 72) times the far mass, at most the number of rows: a rank,
:math:`A_i` and :math:`B_i` come out within about 1e-12 n of their sums over
every pair (tested against them; measured 1e-14 n).

Conventions: :mod:`gbrank._kernels`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from gbrank._kernels.common import Array, BoolArray, IntArray

NEAR = 0.125
"""Pairs whose tempered score difference is below this are summed one by one."""

TERMS = 26
"""Terms of a far pair's polynomials (even: :func:`_powers` keeps two chains).

Measured 2026-12-07 (ApproxNDCG's booster step, labels 0-4, N(0, 1) scores,
T = 0.1, one 100,000-row list), old and new code in turn: 0.41-0.46 s with the
plain series (``NEAR`` 0.5, 80 terms), 0.17-0.26 s with these (``NEAR`` 0.125,
26 terms); ``NEAR`` 0.5 and 0.25 with economised terms (22, 24): 0.37 and 0.23
s (Gumbel ApproxNDCG: 1.02, 0.88 s at 0.25, 0.125)."""

SWEEP_ROWS = 2048
"""Lists of more rows take the sweep in the default (``"auto"``) booster step;
shorter ones sum every pair. Measured (one thread, ApproxNDCG): every pair 1.0 /
4.9 / 9 / 32 ms on 1,000 / 2,000 / 4,000 / 8,000 rows, the sweep 1.5 / 2.8 /
5.7 / 9.8 ms; lists of up to 2048 rows keep their pairs' slopes between the two
passes."""

MAX_LEVELS = 16
"""Lists with more distinct gains (labels) take ``c_b + c_a`` on every far pair
(the far sums are kept per level: K floats per level and direction)."""

_TINY = 1e-300


_F_TERMS = np.array(
    [
        1.0,
        -1.0,
        0.9999999999999991,
        -0.9999999999999132,
        0.9999999999952198,
        -0.999999999837652,
        0.9999999962826108,
        -0.9999999391294447,
        0.9999992569007136,
        -0.9999930257965733,
        0.999948491255212,
        -0.9996951598984525,
        0.998533486377946,
        -0.9941986938047767,
        0.9809492271207555,
        -0.9476423414496088,
        0.8786671719600295,
        -0.7610873684083114,
        0.5966673265673831,
        -0.40929761493998273,
        0.23711663033350464,
        -0.11154841220244556,
        0.04059562228285376,
        -0.010661060105331981,
        0.0017903597096552341,
        -0.00014395321346857671,
    ]
)
"""Coefficients of f's series: ``f(x) ~ sum_k _F_TERMS[k] u^(k + 1)``, ``u = e^-x``."""

_G_TERMS = np.array(
    [
        1.0,
        -2.0,
        2.9999999999999836,
        -3.9999999999983045,
        4.999999999906482,
        -5.999999996817076,
        6.999999926953413,
        -7.9999988009928655,
        8.999985324299725,
        -9.999861869908285,
        10.998976598640292,
        -11.993921842242969,
        12.97064175123916,
        -13.883322753196966,
        14.614744528169824,
        -14.93420329747001,
        14.510079608637511,
        -13.047133739661612,
        10.529306527370549,
        -7.3843005331031915,
        4.350564247791817,
        -2.073339339320426,
        0.7622265069148416,
        -0.20179826361347258,
        0.03411346981392051,
        -0.0027580534139960804,
    ]
)
"""Coefficients of g's series: ``g(x) ~ sum_k _G_TERMS[k] u^(k + 1)``."""


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
def _carry(
    sums: Array, powers: Array, terms: int, used: BoolArray, f: Array, g: Array
) -> None:
    """Multiply every used vector's ``sums[v, k]`` by ``powers[k]``; its far sums.

    Every far partner moved ``-log(ratio)`` further away (``powers`` from
    :func:`_powers`, the first ``terms`` of them; the other sums become 0);
    ``f[v]`` and ``g[v]`` get vector v's ``sum_k _F_TERMS[k] s_vk`` and
    ``sum_k _G_TERMS[k] s_vk``. One pass without a chain of powers, which LLVM
    vectorises (the powers are shared by every vector of a row).
    """
    for v in range(sums.shape[0]):
        if not used[v]:
            continue
        row = sums[v]
        f_v = 0.0
        g_v = 0.0
        for k in range(terms):
            value = row[k] * powers[k]
            row[k] = value
            f_v += _F_TERMS[k] * value
            g_v += _G_TERMS[k] * value
        row[terms:] = 0.0
        f[v] = f_v
        g[v] = g_v


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
def far_sums(
    z: Array,
    slot: IntArray,
    weight: Array,
    slots: int,
    inv_t: float,
    above: bool,
    f_out: Array,
    g_out: Array,
) -> None:
    """Write each row's far sums of ``f`` and ``g`` over the rows below it (or above).

    ``z`` descending. Row b counts in vector ``slot[b]`` with weight 1 and in
    vector ``slots + slot[b]`` with ``weight[b]``; ``f_out[i, v]`` and
    ``g_out[i, v]`` are vector v's sums of ``w f(x_ib)`` and ``w g(x_ib)``
    over row i's far partners b below it, or (``above``) of ``w (1 -
    f(x_ai))`` and ``w g(x_ai)`` over its far partners a above it (shape
    ``(n, 2 slots)``). The sweep runs up the list (down it, ``above``): a
    partner enters at its distance from the previous row, then every partner
    moves on to the current row. Above, position t is row ``n - 1 - t`` with
    score ``-z[n - 1 - t]``: the differences are those of the rows below in
    the reversed list of negated scores, to the bit.
    """
    n = z.size
    sign = -1.0 if above else 1.0
    sums = np.zeros((2 * slots, TERMS))
    powers = np.empty(TERMS)
    used = np.zeros(2 * slots, dtype=np.bool_)
    mass = np.zeros(2 * slots)
    f_out[:] = 0.0
    g_out[:] = 0.0
    p = n  # the far partners of position t are the positions p..n-1
    for t in range(n - 2, -1, -1):
        i = n - 1 - t if above else t
        z_i = sign * z[i]
        z_next = sign * z[i - 1 if above else i + 1]  # position t + 1
        while p - 1 > t:
            b = n - p if above else p - 1  # position p - 1
            if (z_i - sign * z[b]) * inv_t < NEAR:
                break
            p -= 1
            decay = math.exp(-(z_next - sign * z[b]) * inv_t)
            _enter(sums[slot[b]], decay, 1.0)
            used[slot[b]] = True
            mass[slot[b]] += 1.0
            if weight[b] != 0.0:
                _enter(sums[slots + slot[b]], decay, weight[b])
                used[slots + slot[b]] = True
                mass[slots + slot[b]] += weight[b]
        terms = _powers(math.exp(-(z_i - z_next) * inv_t), powers)
        _carry(sums, powers, terms, used, f_out[i], g_out[i])
        if above:
            for v in range(2 * slots):
                f_out[i, v] = mass[v] - f_out[i, v]
