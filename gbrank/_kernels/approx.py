r"""Kernels of ApproxNDCG, ApproxMRR and Gumbel ApproxNDCG (approximate ranks).

Qin et al. 2010; Bruch et al. 2020 for the Gumbel-perturbed expectation.

The approximate rank of valid row i of a group is

.. math::  r_i = 1 + \sum_{j \ne i} \sigma((s_j - s_i) / T),

a metric of these ranks is a sum of per-row terms :math:`\phi_i(r_i)`, and with
:math:`c_i = \phi_i'(r_i)` the gradient is

.. math::  g_k = \frac{1}{T} \sum_{j \ne k} \sigma'(d_{kj}) (c_j - c_k),
   \qquad d_{kj} = (s_k - s_j) / T.

Both sums run over the pairs of a group, O(n²) per group of n valid rows with
O(n) memory (:func:`approx_metric_sweep`: long lists in O(n·K + near pairs),
:mod:`gbrank._kernels.approx_sweep`): the rows are sorted by score once, so every pair's
:math:`e^{-|d|}` is the product of one row's :math:`e^{(s - \max s)/T}` and the
other's inverse (no ``exp`` per pair) while the group's tempered scores spread
at most :data:`~gbrank._kernels.common.SPREAD_FOR_RATIOS`; beyond, one ``exp`` per pair.

Conventions: :mod:`gbrank._kernels`.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numba import njit

from gbrank._kernels.approx_sweep import (
    MAX_LEVELS,
    NEAR,
    far_sums,
)
from gbrank._kernels.common import (
    LN2,
    Array,
    BoolArray,
    IntArray,
    Rows,
    Terms,
    argsort_descending,
    exp2_gain,
    list_weight,
    mix64,
    ratio_exponentials,
    valid_rows,
)
from gbrank._kernels.lambdaweights import ideal_dcg
from gbrank._kernels.threads import run_chunks


class ApproxMetric(IntEnum):
    """The metric approximated by approximate ranks."""

    NDCG = 0  # -W sum_i G_i D(r_i) kappa_i / IDCG
    MRR = 1  # -W sum_i y_i / r_i / sum_i y_i


class ApproxConfig(NamedTuple):
    """Options of :func:`approx_metric`.

    Attributes
    ----------
    metric : int
        An :class:`ApproxMetric`.
    temperature : float
        Score differences are divided by it.
    topn : int
        NDCG: rax's approximate cutoff at ``topn`` (0: none).
    cutoff_gradient : bool
        With ``topn``: differentiate the cutoff point too (the exact
        derivative), or hold it fixed (rax's ``stop_gradient``).
    samples : int
        Number of Gumbel draws averaged (0: none, the plain metric).
    beta : float
        Scale of the Gumbel noise.
    seed : int
        Seed of the noise.
    need_loss : bool
        Whether to compute the loss values.
    sweep_above : int
        In :func:`approx_metric_sweep`, lists of more valid rows than this,
        without ``topn``, take the sorted sweep (:func:`_one_draw_sweep`); the
        default (``"auto"``) booster step passes
        :data:`~gbrank._kernels.approx_sweep.SWEEP_ROWS` when a list is that
        long.
    """

    metric: int
    temperature: float
    topn: int
    cutoff_gradient: bool
    samples: int
    beta: float
    seed: int
    need_loss: bool
    sweep_above: int = 0


@njit(cache=True, nogil=True)
def row_key(
    seed: int, list_key: np.uint64, label_bits: np.uint64, occurrence: int
) -> np.uint64:
    """Return the noise key of a row: its seed, list key, label and occurrence."""
    x = mix64(np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1))
    x = mix64(x ^ list_key)
    x = mix64(x ^ label_bits)
    return mix64(x ^ (np.uint64(occurrence) * np.uint64(0xC2B2AE3D27D4EB4F)))


@njit(cache=True, nogil=True)
def gumbel(key: np.uint64, sample: int, samples: int) -> float:
    """Return draw ``sample`` of ``samples`` stratified Gumbel draws of a row key.

    ``-log(-log u)`` with ``u = (k + v) / S``: over its S draws a row takes
    every stratum ``k = (sample + o) mod S`` once, from an offset ``o`` (a hash
    of the key, uniform over the strata), and ``v = (h >> 11 + 1/2) / 2^53``
    (``h`` a hash of the key and the sample) is uniform inside the stratum.
    Each draw is standard Gumbel, independent across rows, so every draw's
    loss is unbiased; a row's S values are spread over the distribution, which
    lowers the variance of the mean over the draws.
    """
    offset = int(mix64(key + np.uint64(0x632BE59BD9B4E019)) % np.uint64(samples))
    stratum = (sample + offset) % samples
    h = mix64(key ^ (np.uint64(sample + 1) * np.uint64(0x165667B19E3779F9)))
    v = (float(h >> np.uint64(11)) + 0.5) * 2.0**-53
    u = (stratum + v) / samples
    return -math.log(-math.log(u))


@njit(cache=True, nogil=True)
def noise_keys(
    labels: Array, label_bits: IntArray, order: IntArray, seed: int
) -> np.ndarray:
    """Noise keys of the valid rows ``order`` (sorted by label, stably).

    The list key mixes the number of valid rows and the wrapping sum of their
    label bits; a row adds its label's bits and its occurrence among the list's
    rows of that label, in row order. None of this depends on the list's
    position in the batch, on ignored rows or on the order of rows of other
    labels. Returns the keys in the positions of ``order``.
    """
    n_valid = order.size
    total = np.uint64(n_valid)
    for a in range(n_valid):
        total += np.uint64(label_bits[order[a]])
    list_key = mix64(total)
    keys = np.empty(n_valid, dtype=np.uint64)
    occurrence = 0
    for a in range(n_valid):
        if a > 0 and labels[order[a]] == labels[order[a - 1]]:
            occurrence += 1
        else:
            occurrence = 0
        keys[a] = row_key(seed, list_key, np.uint64(label_bits[order[a]]), occurrence)
    return keys


class Scratch(NamedTuple):
    """Per-list work arrays of :func:`approx_metric`, allocated once per list.

    ``e``, ``inverse``: per-row exponentials; ``ranks``; ``c``: ``phi'(r)``;
    ``grad``, ``hess``: one draw's sums; ``slopes``: every pair's
    ``sigma'`` (empty past :data:`BUFFER_ROWS` rows).
    """

    e: Array
    inverse: Array
    ranks: Array
    c: Array
    grad: Array
    hess: Array
    slopes: Array


FAST = {"reassoc", "nsz"}
"""fastmath flags of the pair loops: reassociated (vectorised) sums only."""

BUFFER_ROWS = 2048
"""Lists of at most this many rows keep every pair's ``sigma'`` between the two
passes (n(n - 1)/2 floats, 16 MiB at 2048 rows); longer ones recompute it."""


@njit(cache=True, nogil=True)
def scratch(n: int) -> Scratch:
    """Return work arrays for a list of ``n`` valid rows."""
    return Scratch(
        np.empty(n),
        np.empty(n),
        np.empty(n),
        np.empty(n),
        np.empty(n),
        np.empty(n),
        np.empty(n * (n - 1) // 2 if n <= BUFFER_ROWS else 0),
    )


# The pair loops index with unsigned integers: numba then skips its handling of
# negative indices, and LLVM vectorises the loops (3x faster at 100 rows).


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def _rank_row(e: Array, ranks: Array, a: int, stop: int, scale: float) -> float:
    """Add ``sigma(x_b)`` to the ranks of rows ``a+1..stop-1``; return row a's share.

    Row b has ``exp(-x_b) = e[b] * scale``, ``x_b = (z_a - z_b)/T``; row a's
    share is the sum of ``sigma(-x_b)``.
    """
    acc = 0.0
    for b in range(np.uint64(a + 1), np.uint64(stop)):
        big = e[b] * scale
        inv = 1.0 / (1.0 + big)
        acc += big * inv
        ranks[b] += inv
    return acc


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def _rank_row_keep(
    e: Array, ranks: Array, slopes: Array, a: int, offset: int, scale: float
) -> float:
    """:func:`_rank_row`, storing ``sigma'(x_b)`` in ``slopes`` from ``offset`` on.

    (A separate function: a branch on whether to store stops vectorisation.)
    """
    acc = 0.0
    k = np.uint64(offset)
    for b in range(np.uint64(a + 1), np.uint64(e.size)):
        big = e[b] * scale
        inv = 1.0 / (1.0 + big)
        share = big * inv
        acc += share
        ranks[b] += inv
        slopes[k] = share * inv
        k += np.uint64(1)
    return acc


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def _rank_row_exp(
    z: Array, ranks: Array, slopes: Array, a: int, stop: int, offset: int, inv_t: float
) -> float:
    """:func:`_rank_row_keep` with one ``exp(-|x|)`` per pair (any spread)."""
    acc = 0.0
    keep = slopes.size > 0
    k = np.uint64(offset)
    z_a = z[a]
    for b in range(np.uint64(a + 1), np.uint64(stop)):
        x = (z_a - z[b]) * inv_t
        small = math.exp(-abs(x))
        inv = 1.0 / (1.0 + small)  # sigma(|x|)
        share = small * inv  # sigma(-|x|)
        acc += share if x >= 0.0 else inv
        ranks[b] += inv if x >= 0.0 else share
        if keep:
            slopes[k] = share * inv
            k += np.uint64(1)
    return acc


@njit(cache=True, nogil=True)
def approx_ranks(z: Array, inv_temperature: float, work: Scratch) -> bool:
    """Write the approximate ranks ``1 + sum_{b != a} sigma((z_b - z_a) / T)``.

    For ``a < b`` with ``E = exp((z_b - z_a) / T)``, row a gains
    ``E / (1 + E)``, row b gains ``1 / (1 + E)`` (past the ratios' spread, from
    ``exp(-|z_b - z_a| / T)``, which cannot overflow). The ranks go to
    ``work.ranks``; unless ``work.slopes`` is empty, the pairs' ``sigma'`` go
    to it, row a's partners from offset ``a (2n - a - 1) / 2``. Returns whether
    ``work.e`` / ``work.inverse`` hold the exponentials.
    """
    n = z.size
    e, inverse, ranks, slopes = work.e, work.inverse, work.ranks, work.slopes
    ranks[:] = 1.0
    tempered = np.empty(n)
    for a in range(n):
        tempered[a] = z[a] * inv_temperature
    ratios = ratio_exponentials(tempered, e, inverse)
    offset = 0
    for a in range(n - 1):
        if ratios and slopes.size > 0:
            ranks[a] += _rank_row_keep(e, ranks, slopes, a, offset, inverse[a])
        elif ratios:
            ranks[a] += _rank_row(e, ranks, a, n, inverse[a])
        else:
            ranks[a] += _rank_row_exp(z, ranks, slopes, a, n, offset, inv_temperature)
        offset += n - 1 - a
    return ratios


@njit(cache=True, nogil=True, inline="always")
def _sigmoid_slope(small: float) -> float:
    """Return ``sigma'(x) = e / (1 + e)^2`` from ``e = exp(-|x|)``."""
    inv = 1.0 / (1.0 + small)
    return small * inv * inv


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def _pair_row(
    slopes: Array, c: Array, grad: Array, hess: Array, a: int, offset: int
) -> tuple[float, float]:
    """Pair sums of row a with the rows b after it, from stored ``sigma'``.

    Subtracts ``s' (c_b - c_a)`` from ``grad[b]``, adds ``s' |c_b - c_a|`` to
    ``hess[b]``; returns row a's sums of both.
    """
    grad_a = 0.0
    hess_a = 0.0
    c_a = c[a]
    k = np.uint64(offset)
    for b in range(np.uint64(a + 1), np.uint64(c.size)):
        term = slopes[k] * (c[b] - c_a)
        k += np.uint64(1)
        grad_a += term
        grad[b] -= term
        size = abs(term)
        hess_a += size
        hess[b] += size
    return grad_a, hess_a


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def _pair_row_ratio(
    e: Array, c: Array, grad: Array, hess: Array, a: int, stop: int, scale: float
) -> tuple[float, float]:
    """:func:`_pair_row` recomputing ``sigma'`` from ``e[b] * scale``, to ``stop``."""
    grad_a = 0.0
    hess_a = 0.0
    c_a = c[a]
    for b in range(np.uint64(a + 1), np.uint64(stop)):
        term = _sigmoid_slope(e[b] * scale) * (c[b] - c_a)
        grad_a += term
        grad[b] -= term
        size = abs(term)
        hess_a += size
        hess[b] += size
    return grad_a, hess_a


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def _pair_row_exp(
    z: Array, c: Array, grad: Array, hess: Array, a: int, stop: int, inv_t: float
) -> tuple[float, float]:
    """:func:`_pair_row` recomputing ``sigma'`` with one ``exp`` per pair."""
    grad_a = 0.0
    hess_a = 0.0
    c_a = c[a]
    z_a = z[a]
    for b in range(np.uint64(a + 1), np.uint64(stop)):
        small = math.exp(-abs(z[b] - z_a) * inv_t)
        term = _sigmoid_slope(small) * (c[b] - c_a)
        grad_a += term
        grad[b] -= term
        size = abs(term)
        hess_a += size
        hess[b] += size
    return grad_a, hess_a


@njit(cache=True, nogil=True, inline="always")
def _pair_row_recomputed(
    z: Array, work: Scratch, ratios: bool, inv_t: float, a: int, stop: int
) -> tuple[float, float]:
    """:func:`_pair_row_ratio` if ``ratios``, else :func:`_pair_row_exp`."""
    c, grad, hess = work.c, work.grad, work.hess
    if ratios:
        return _pair_row_ratio(work.e, c, grad, hess, a, stop, work.inverse[a])
    return _pair_row_exp(z, c, grad, hess, a, stop, inv_t)


@njit(cache=True, nogil=True)
def _slope(
    z: Array, work: Scratch, ratios: bool, inv_t: float, a: int, b: int
) -> float:
    """Return ``sigma'((z_a - z_b)/T)`` of a pair ``a < b`` (stored or recomputed)."""
    n = z.size
    if work.slopes.size > 0:
        return work.slopes[a * (2 * n - a - 1) // 2 + b - a - 1]
    big = work.e[b] * work.inverse[a] if ratios else math.exp(-abs(z[b] - z[a]) * inv_t)
    return _sigmoid_slope(big)


@njit(cache=True, nogil=True)
def _pair_sums(
    z: Array, curvature: Array, inv_temperature: float, ratios: bool, work: Scratch
) -> Array:
    """Write the pair sums of the gradient and the hessian surrogate.

    ``grad_a = sum_b s'_ab (c_b - c_a)``, ``hess_a = sum_b s'_ab |c_b - c_a|``
    into ``work.grad`` / ``work.hess``, unscaled by T, ``s' = sigma'``. With
    ``curvature`` (not empty) also ``hess_a += sum_b s'_ab^2 phi''+_b``, and
    returns ``A_a = sum_b s'_ab`` (else an empty array).
    """
    n = z.size
    c, grad, hess, slopes = work.c, work.grad, work.hess, work.slopes
    grad[:] = 0.0
    hess[:] = 0.0
    curved = curvature.size > 0
    spread = np.zeros(n if curved else 0)
    offset = 0
    for a in range(n - 1):
        if curved:
            for b in range(a + 1, n):
                d1 = _slope(z, work, ratios, inv_temperature, a, b)
                term = d1 * (c[b] - c[a])
                grad[a] += term
                grad[b] -= term
                size = abs(term)
                square = d1 * d1
                hess[a] += size + square * curvature[b]
                hess[b] += size + square * curvature[a]
                spread[a] += d1
                spread[b] += d1
        else:
            if slopes.size > 0:
                grad_a, hess_a = _pair_row(slopes, c, grad, hess, a, offset)
            else:
                grad_a, hess_a = _pair_row_recomputed(
                    z, work, ratios, inv_temperature, a, n
                )
            grad[a] += grad_a
            hess[a] += hess_a
        offset += n - 1 - a
    return spread


@njit(cache=True, nogil=True)
def _near_stop(z: Array, inv_t: float, a: int, stop: int) -> int:
    """Return one past the last row b > a with ``(z_a - z_b) / T < NEAR``."""
    stop = max(stop, a + 1)
    while stop < z.size and (z[a] - z[stop]) * inv_t < NEAR:
        stop += 1
    return stop


@njit(cache=True, nogil=True)
def _sweep_ranks(z: Array, inv_t: float, work: Scratch) -> bool:
    """:func:`approx_ranks` of scores sorted descending, in O(n K + near pairs).

    Far pairs (:mod:`gbrank._kernels.approx_sweep`) by their series, near pairs
    as in :func:`approx_ranks`. Returns whether ``work.e`` / ``work.inverse``
    hold the exponentials.
    """
    n = z.size
    e, inverse, ranks = work.e, work.inverse, work.ranks
    slot = np.zeros(n, dtype=np.int64)
    below, below_slope = np.empty((n, 2)), np.empty((n, 2))
    above, above_slope = np.empty((n, 2)), np.empty((n, 2))
    far_sums(z, slot, np.zeros(n), 1, inv_t, False, below, below_slope)
    far_sums(z, slot, np.zeros(n), 1, inv_t, True, above, above_slope)
    tempered = np.empty(n)
    for a in range(n):
        ranks[a] = 1.0 + below[a, 0] + above[a, 0]
        tempered[a] = z[a] * inv_t
    ratios = ratio_exponentials(tempered, e, inverse)
    no_slopes = np.empty(0)
    stop = 0
    for a in range(n - 1):
        stop = _near_stop(z, inv_t, a, stop)
        if ratios:
            ranks[a] += _rank_row(e, ranks, a, stop, inverse[a])
        else:
            ranks[a] += _rank_row_exp(z, ranks, no_slopes, a, stop, 0, inv_t)
    return ratios


@njit(cache=True, nogil=True)
def _sweep_pair_sums(
    z: Array,
    level: IntArray,
    levels: int,
    ordered: bool,
    inv_t: float,
    ratios: bool,
    work: Scratch,
) -> None:
    """:func:`_pair_sums` of scores sorted descending, after :func:`_sweep_ranks`.

    ``c_a = t_a h(r_a)`` with ``h`` decreasing in the rank (``t`` the gain or
    label, of level ``level[a]`` among ``levels`` ascending values). The far
    pairs of row a enter the surrogate per level and side,
    ``|sum_b s'_ab (c_b - c_a)|`` over the partners b of one level below a
    (and above): exactly their ``sum_b s'_ab |c_b - c_a|`` when the
    differences share a sign, as they do where the upper row has the higher
    level (``c`` is then ordered too), and less where they do not; never less
    than the row's share of the gradient. Not ``ordered`` (too many levels to
    sum apart: one level 0 for all): ``c_b + c_a >= |c_b - c_a|`` (``c >= 0``)
    on every far pair. Near pairs and the gradient are exact.
    """
    n = z.size
    c, grad, hess = work.c, work.grad, work.hess
    below, below_slope = np.empty((n, 2 * levels)), np.empty((n, 2 * levels))
    above, above_slope = np.empty((n, 2 * levels)), np.empty((n, 2 * levels))
    far_sums(z, level, c, levels, inv_t, False, below, below_slope)
    far_sums(z, level, c, levels, inv_t, True, above, above_slope)
    grad[:] = 0.0
    hess[:] = 0.0
    stop = 0
    for a in range(n - 1):
        stop = _near_stop(z, inv_t, a, stop)
        grad_a, hess_a = _pair_row_recomputed(z, work, ratios, inv_t, a, stop)
        grad[a] += grad_a
        hess[a] += hess_a
    for a in range(n):
        c_a = c[a]
        for v in range(levels):
            lower, lower_c = below_slope[a, v], below_slope[a, levels + v]
            upper, upper_c = above_slope[a, v], above_slope[a, levels + v]
            grad[a] += lower_c - c_a * lower + upper_c - c_a * upper
            if ordered:
                hess[a] += abs(lower_c - c_a * lower) + abs(upper_c - c_a * upper)
            else:
                hess[a] += lower_c + c_a * lower + upper_c + c_a * upper


@njit(cache=True, nogil=True, inline="always")
def _sigmoid(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True, nogil=True)
def _ndcg_terms(
    ranks: Array,
    gains: Array,
    scale: float,
    cut: float,
    inv_temperature: float,
    curved: bool,
    slope: Array,
    curvature: Array,
) -> tuple[float, float]:
    """NDCG terms of the rows: ``phi_a = -scale G_a D(r_a) kappa_a``.

    Writes ``c_a = phi_a'(r_a)`` into ``slope`` and, when ``curved``, the
    positive part of ``phi_a''`` into ``curvature``. ``kappa = sigma((cut -
    r) / T)`` (1 when ``cut`` is inf). Returns the value and ``d value / d cut``.
    """
    value = 0.0
    cut_slope = 0.0
    for a in range(ranks.size):
        weight = scale * gains[a]
        if weight == 0.0:
            slope[a] = 0.0
            if curved:
                curvature[a] = 0.0
            continue
        r = ranks[a]
        u = math.log1p(r)
        discount = LN2 / u
        d1 = -LN2 / ((1.0 + r) * u * u)  # D'(r)
        kappa = 1.0
        k1 = 0.0  # kappa'(r)
        k2 = 0.0  # kappa''(r)
        if cut < np.inf:
            x = (cut - r) * inv_temperature
            kappa = _sigmoid(x)
            dk = kappa * (1.0 - kappa)
            k1 = -dk * inv_temperature
            k2 = dk * (1.0 - 2.0 * kappa) * inv_temperature * inv_temperature
            cut_slope -= weight * discount * dk * inv_temperature
        value -= weight * discount * kappa
        slope[a] = -weight * (d1 * kappa + discount * k1)
        if curved:
            d2 = LN2 * (u + 2.0) / ((1.0 + r) * (1.0 + r) * u * u * u)
            second = -weight * (d2 * kappa + 2.0 * d1 * k1 + discount * k2)
            curvature[a] = max(second, 0.0)
    return value, cut_slope


@njit(cache=True, nogil=True)
def _cutoff_motion(
    z: Array,
    anchor: int,
    factor: float,
    inv_t: float,
    ratios: bool,
    work: Scratch,
) -> None:
    """Add ``factor * T * d r_anchor / d z`` to ``work.grad``.

    ``d r_u / d z_m = sigma'((z_m - z_u)/T) / T`` for ``m != u`` and minus their
    sum for ``m = u``; the caller scales by ``1/T`` with the pair sums.
    """
    total = 0.0
    for m in range(z.size):
        if m != anchor:
            d1 = _slope(z, work, ratios, inv_t, min(m, anchor), max(m, anchor))
            work.grad[m] += factor * d1
            total += d1
    work.grad[anchor] -= factor * total


@njit(cache=True, nogil=True)
def _row_terms(
    config: ApproxConfig,
    ranks: Array,
    terms: Array,
    scale: float,
    cut: float,
    curved: bool,
    c: Array,
    curvature: Array,
) -> tuple[float, float]:
    """Write ``c_a = phi_a'(r_a)`` (NDCG: :func:`_ndcg_terms`; MRR: ``-W y / r``).

    Returns the list's value and its derivative by the cutoff point.
    """
    if config.metric == ApproxMetric.NDCG:
        inv_t = 1.0 / config.temperature
        return _ndcg_terms(ranks, terms, scale, cut, inv_t, curved, c, curvature)
    value = 0.0
    for a in range(ranks.size):
        weight = scale * terms[a]
        value -= weight / ranks[a]
        c[a] = weight / (ranks[a] * ranks[a])
    return value, 0.0


@njit(cache=True, nogil=True)
def _one_draw(
    z: Array,
    terms: Array,
    config: ApproxConfig,
    scale: float,
    work: Scratch,
    grad: Array,
    hess: Array,
) -> float:
    """Add one list's (one draw's) gradient and surrogate; return its value.

    ``terms`` are the gains (NDCG) or labels (MRR) of the rows of ``z``.
    """
    n = z.size
    curved = config.metric == ApproxMetric.NDCG and 0 < config.topn < n
    inv_t = 1.0 / config.temperature
    ratios = approx_ranks(z, inv_t, work)
    ranks = work.ranks
    cut = np.inf
    first = 0
    second = 0
    if curved:
        # rax: the cutoff point between the topn-th and next smallest rank,
        # which belong to the topn-th and next rows by score (ties by row)
        order = argsort_descending(z, np.arange(n))
        first, second = order[config.topn - 1], order[config.topn]
        cut = 0.5 * (ranks[first] + ranks[second])
    curvature = np.empty(n if curved else 0)
    value, cut_slope = _row_terms(
        config, ranks, terms, scale, cut, curved, work.c, curvature
    )
    spread = _pair_sums(z, curvature, inv_t, ratios, work)
    if curved:
        for a in range(n):
            work.hess[a] += curvature[a] * spread[a] * spread[a]
        if config.cutoff_gradient:
            _cutoff_motion(z, first, 0.5 * cut_slope, inv_t, ratios, work)
            _cutoff_motion(z, second, 0.5 * cut_slope, inv_t, ratios, work)
    for a in range(n):
        grad[a] += work.grad[a] * inv_t
        hess[a] += work.hess[a] * inv_t * inv_t
    return value


@njit(cache=True, nogil=True)
def _one_draw_sweep(
    z: Array,
    terms: Array,
    config: ApproxConfig,
    scale: float,
    work: Scratch,
    grad: Array,
    hess: Array,
) -> float:
    """:func:`_one_draw`, by the sorted sweep if the list is long enough.

    Lists of more than ``config.sweep_above`` rows without a cutoff are sorted
    by score, descending; ranks, gradient and surrogate come from
    :func:`_sweep_ranks` and :func:`_sweep_pair_sums`.
    """
    n = z.size
    if n <= config.sweep_above or 0 < config.topn < n:
        return _one_draw(z, terms, config, scale, work, grad, hess)
    inv_t = 1.0 / config.temperature
    order = argsort_descending(z, np.arange(n))
    z_sorted = np.empty(n)
    terms_sorted = np.empty(n)
    for a in range(n):
        z_sorted[a] = z[order[a]]
        terms_sorted[a] = terms[order[a]]
    ratios = _sweep_ranks(z_sorted, inv_t, work)
    value, _ = _row_terms(
        config, work.ranks, terms_sorted, scale, np.inf, False, work.c, np.empty(0)
    )
    values = np.unique(terms_sorted)
    ordered = values.size <= MAX_LEVELS
    level = np.zeros(n, dtype=np.int64)
    if ordered:
        for a in range(n):
            level[a] = np.searchsorted(values, terms_sorted[a])
    levels = values.size if ordered else 1
    _sweep_pair_sums(z_sorted, level, levels, ordered, inv_t, ratios, work)
    for a in range(n):
        grad[order[a]] += work.grad[a] * inv_t
        hess[order[a]] += work.hess[a] * inv_t * inv_t
    return value


Prepared = tuple[IntArray, Array, float, np.ndarray]
"""What :func:`prepare` returns for a list: valid rows, terms, scale, noise keys."""


@njit(cache=True, nogil=True)
def prepare(g: int, rows: Rows, label_bits: IntArray, config: ApproxConfig) -> Prepared:
    """Return group g's valid rows, terms, scale and noise keys.

    No valid row is returned for a group with no valid or no relevant row.
    """
    labels, _, weights, offsets = rows
    valid = valid_rows(labels, offsets[g], offsets[g + 1])
    label_sum, weight = list_weight(labels, weights, valid)
    keys = np.empty(0, dtype=np.uint64)
    if label_sum <= 0.0:  # no valid row, or none relevant
        return valid[:0], np.empty(0), 0.0, keys
    n = valid.size
    terms = np.empty(n)
    for a in range(n):
        y = labels[valid[a]]
        terms[a] = exp2_gain(y) if config.metric == ApproxMetric.NDCG else y
    if config.metric == ApproxMetric.NDCG:
        cut = n if config.topn <= 0 else min(config.topn, n)
        scale = weight / ideal_dcg(terms, False, cut)
    else:
        scale = weight / label_sum
    if config.samples > 0:
        by_label = argsort_descending(labels, valid)
        keys_by_label = noise_keys(labels, label_bits, by_label, config.seed)
        position = np.empty(offsets[g + 1] - offsets[g], dtype=np.int64)
        for a in range(n):
            position[valid[a] - offsets[g]] = a
        keys = np.empty(n, dtype=np.uint64)
        for a in range(n):
            keys[position[by_label[a] - offsets[g]]] = keys_by_label[a]
    return valid, terms, scale, keys


@njit(cache=True, nogil=True)
def _draw_scores(
    z: Array, scores: Array, valid: IntArray, keys: np.ndarray, config: ApproxConfig,
    sample: int,
) -> None:  # fmt: skip
    """Write draw ``sample``'s scores of the valid rows (Gumbel noise if any)."""
    for a in range(valid.size):
        z[a] = scores[valid[a]]
        if config.samples > 0:
            z[a] += config.beta * gumbel(keys[a], sample, config.samples)


@njit(cache=True, nogil=True)
def _store(
    out: Terms, g: int, valid: IntArray, grad: Array, hess: Array, value: float,
    config: ApproxConfig,
) -> None:  # fmt: skip
    """Write the means over the draws of group g's sums into ``out``."""
    inverse = 1.0 / max(config.samples, 1)
    for a in range(valid.size):
        out.grad[valid[a]] = grad[a] * inverse
        out.hess[valid[a]] = hess[a] * inverse
    if config.need_loss:
        out.loss[g] = value * inverse


@njit(cache=True, nogil=True)
def approx_metric(
    first: int,
    stop: int,
    rows: Rows,
    label_bits: IntArray,
    config: ApproxConfig,
    todo: BoolArray,
    out: Terms,
) -> None:
    """Approximate-rank NDCG or MRR loss of each group, optionally Gumbel-averaged.

    Per group of valid rows: the list weight ``W = sum w_i y_i / sum y_i`` (0
    and nothing else when ``sum y_i = 0``); NDCG divides by the ideal DCG of
    the gains (cut at ``topn``), MRR by ``sum y_i``. With ``config.samples >
    0`` the scores of each draw are ``s + beta * G`` (standard Gumbel noise per
    row, see :func:`noise_keys`), and the loss, gradient and surrogate are the
    means over the draws. ``label_bits`` are the labels' float64 bit patterns;
    only the groups with ``todo[g]`` are computed.
    """
    for g in range(first, stop):
        if not todo[g]:
            continue
        valid, terms, scale, keys = prepare(g, rows, label_bits, config)
        n = valid.size
        if n == 0:
            continue
        work, z, grad, hess = scratch(n), np.empty(n), np.zeros(n), np.zeros(n)
        value = 0.0
        for sample in range(max(config.samples, 1)):
            _draw_scores(z, rows.scores, valid, keys, config, sample)
            value += _one_draw(z, terms, config, scale, work, grad, hess)
        _store(out, g, valid, grad, hess, value, config)


@njit(cache=True, nogil=True)
def approx_metric_sweep(
    first: int,
    stop: int,
    rows: Rows,
    label_bits: IntArray,
    config: ApproxConfig,
    todo: BoolArray,
    out: Terms,
) -> None:
    """:func:`approx_metric` with :func:`_one_draw_sweep` for each draw.

    A kernel of its own so that the sweep is compiled only when it is used
    (with it in :func:`approx_metric`, its first call took 20 s instead of 10).
    """
    for g in range(first, stop):
        if not todo[g]:
            continue
        valid, terms, scale, keys = prepare(g, rows, label_bits, config)
        n = valid.size
        if n == 0:
            continue
        work, z, grad, hess = scratch(n), np.empty(n), np.zeros(n), np.zeros(n)
        value = 0.0
        for sample in range(max(config.samples, 1)):
            _draw_scores(z, rows.scores, valid, keys, config, sample)
            value += _one_draw_sweep(z, terms, config, scale, work, grad, hess)
        _store(out, g, valid, grad, hess, value, config)


@njit(cache=True, nogil=True)
def _one_sweep_draw(
    scores: Array,
    prepared: Prepared,
    config: ApproxConfig,
    sample: int,
    grad: Array,
    hess: Array,
) -> float:
    """Add draw ``sample`` of a prepared list to ``grad`` and ``hess``; its value."""
    valid, terms, scale, keys = prepared
    n = valid.size
    z = np.empty(n)
    _draw_scores(z, scores, valid, keys, config, sample)
    return _one_draw_sweep(z, terms, config, scale, scratch(n), grad, hess)


@njit(cache=True, nogil=True)
def _store_draws(
    out: Terms, g: int, valid: IntArray, grads: Array, hess: Array, values: Array,
    config: ApproxConfig,
) -> None:  # fmt: skip
    """Add up the draws' sums (row s of ``grads``, ...) in draw order; store means."""
    n = valid.size
    grad_sum, hess_sum = np.zeros(n), np.zeros(n)
    value = 0.0
    for sample in range(values.size):
        value += values[sample]
        for a in range(n):
            grad_sum[a] += grads[sample, a]
            hess_sum[a] += hess[sample, a]
    _store(out, g, valid, grad_sum, hess_sum, value, config)


def draws_in_parallel(
    rows: Rows, g: int, label_bits: IntArray, config: ApproxConfig, out: Terms
) -> None:
    """:func:`approx_metric_sweep` of one list, its Gumbel draws on the threads.

    For a long list with several draws (one 100,000-row list: 8 draws of
    0.3-0.45 s each). Each draw adds into its own zeroed sums, and those are added
    up in draw order, as the kernel does: the same results to the bit, for any
    number of threads.
    """
    prepared = prepare(g, rows, label_bits, config)
    n = prepared[0].size
    if n == 0:
        return
    grads, hess = np.zeros((config.samples, n)), np.zeros((config.samples, n))
    values = np.zeros(config.samples)

    def work(_: int, sample: int) -> None:
        values[sample] = _one_sweep_draw(
            rows.scores, prepared, config, sample, grads[sample], hess[sample]
        )

    run_chunks(work, config.samples)
    _store_draws(out, g, prepared[0], grads, hess, values, config)
