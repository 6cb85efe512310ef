r"""Kernels of the lambda weights: per-position terms of a group, and a pair's weight.

A lambda weight of a pair (a, b) is computed in the pair loop from a few
numbers per position of the group (``gain``, ``discount``, ``extra``), one
table indexed by a rank difference (``ladder``) and three numbers per group
(``LambdaTerms``), all prepared once per group by :func:`lambda_terms`. The
pair loop reads them as scalars and calls the inline :func:`lambda_weight`
(no array enters an inline helper: numba would reference-count it per pair).

What the three slots hold, by :class:`LambdaKind` (r: the rank of the
position among the group's valid rows by score, 1 at the top; G: the gain;
:math:`D(r) = 1/\log_2(1 + r)`, 0 past the cutoff ``topn``):

=============== =================== =================================== ==========
kind            gain                discount                            extra
=============== =================== =================================== ==========
LABEL_DIFF      y                   --                                  --
DCG, NDCG       G(y)                D(r)                                --
PRECISION       1[y > 0]            1[r <= topn]                        --
NDCG2           G(y)                top-n correction of r               r
MRR             0, 1; 2 if first    1[r <= topn] / r                    --
MAP             1[y > 0]            1[r <= topn] / r                    V(r)
ERR             stop probability R  H(r) (see :func:`_err_terms`)       --
LAMBDALOSS      G/maxDCG, or y      1 / log2(1 + r) (no cutoff)         r
LAMBDALOSS_ROW  G/(maxDCG D(r)), y  --                                  r
=============== =================== =================================== ==========

The MRR, MAP and ERR weights are the exact change of the metric when the two
rows swap ranks, in O(1) per pair from prefix sums over the ranking.
Conventions: :mod:`gbrank._kernels`.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import Any

import numpy as np
from numba import njit

from gbrank._kernels.common import LN2, Array, IntArray, argsort_descending, exp2_gain

LambdaTerms = tuple[float, float, float]
"""Per-group numbers of the weights: scale, and two kind-specific values (MRR:
the reciprocal ranks of the first and second relevant rows)."""


class LambdaKind(IntEnum):
    """Lambda weights of the pairs."""

    NONE = 0
    LABEL_DIFF = 1
    DCG = 2
    NDCG = 3
    NDCG2 = 4  # LambdaLoss NDCG-Loss2 (rax dcg2_lambdaweight, normalised)
    PRECISION = 5  # TF-Ranking PrecisionLambdaWeight
    MRR = 6  # |change of RR@k| when the two rows swap
    MAP = 7  # |change of AP@k| when the two rows swap
    ERR = 8  # |change of ERR@k| when the two rows swap
    LAMBDALOSS = 9  # allRank lambdaLoss pair schemes, mixed by PairConfig.mix
    LAMBDALOSS_ROW = 10  # NDCG-Loss1 / ARP-Loss1: the credited row's weight


class Gain(IntEnum):
    """Gain of a label in the DCG lambda weights."""

    EXP2 = 0  # 2^y - 1
    LINEAR = 1  # y


_LEVELS_CUTOFF = 32
"""Longest cutoff for which :func:`ideal_dcg` takes the gains level by level."""


@njit(cache=True, nogil=True, inline="always")
def _discount(rank: int) -> float:
    """``1 / log2(1 + rank)`` of a 1-based rank."""
    return 1.0 / math.log2(rank + 1.0)


@njit(cache=True, nogil=True)
def sort_pessimistic(labels: Array, scores: Array, index: IntArray) -> IntArray:
    """Sort ``index`` by score, descending; ties: lower label first, then as given.

    The pessimistic order of score ties (the worst ranking they could
    resolve to), which does not depend on row order beyond equal labels.
    """
    out = argsort_descending(scores, index)
    for k in range(1, out.size):  # insertion within runs of equal scores
        m = k
        while (
            m > 0
            and scores[out[m]] == scores[out[m - 1]]
            and labels[out[m]] < labels[out[m - 1]]
        ):
            out[m], out[m - 1] = out[m - 1], out[m]
            m -= 1
    return out


@njit(cache=True, nogil=True)
def ranking(
    labels: Array, scores: Array, order: IntArray, by_score: bool, pessimistic: bool
) -> IntArray:
    """Positions of ``order`` by rank: ``result[r]`` holds rank r + 1.

    Ranks come from the scores, descending; ties are broken by row order, or
    with ``pessimistic`` by label, lower first, then by row order. With
    ``by_score`` ``order`` is the ranking itself.
    """
    n_valid = order.size
    if by_score:
        return np.arange(n_valid)
    # loops, not np.sort or fancy indexing: numba compiles them much faster
    first, last = order[0], order[0]
    for k in range(n_valid):
        first, last = min(first, order[k]), max(last, order[k])
    position = np.full(last - first + 1, -1, dtype=np.int64)
    for k in range(n_valid):  # row -> position in order
        position[order[k] - first] = k
    rows = np.empty(n_valid, dtype=np.int64)  # ascending: ties by row
    k = 0
    for row in range(first, last + 1):
        if position[row - first] >= 0:
            rows[k] = row
            k += 1
    if pessimistic:
        ranked = sort_pessimistic(labels, scores, rows)
    else:
        ranked = argsort_descending(scores, rows)
    out = np.empty(n_valid, dtype=np.int64)
    for rank in range(n_valid):
        out[rank] = position[ranked[rank] - first]
    return out


@njit(cache=True, nogil=True)
def ideal_dcg(gain: Array, sorted_by_label: bool, cutoff: int) -> float:
    """DCG of the gains sorted descending, over the first ``cutoff`` ranks.

    Unsorted gains with a short cutoff (the top-k booster steps) are taken one
    level at a time, largest first: O(n) per distinct gain among the top
    ``cutoff``, a few passes for graded labels instead of a sort (LambdaMART's
    step, 8,000 lists of 100 rows, one thread: 25 ms less per call). The sum
    runs in rank order either way, so the result is the same to the bit.
    """
    n = gain.size
    stop = min(cutoff, n)
    ideal = 0.0
    if sorted_by_label:
        for rank in range(stop):
            ideal += gain[rank] * _discount(rank + 1)
        return ideal
    if stop > _LEVELS_CUTOFF:
        best = argsort_descending(gain, np.arange(n))
        for rank in range(stop):
            ideal += gain[best[rank]] * _discount(rank + 1)
        return ideal
    rank = 0
    above = np.inf  # the level taken last
    while rank < stop:
        level = -np.inf
        count = 0
        for k in range(n):
            g = gain[k]
            if g < above:
                if g > level:
                    level = g
                    count = 1
                elif g == level:
                    count += 1
        if count == 0:  # no gain left below the last level (NaN gains)
            break
        for _ in range(min(count, stop - rank)):
            rank += 1
            ideal += level * _discount(rank)
        above = level
    return ideal


@njit(cache=True, nogil=True)
def _fill_ladder(ladder: Array) -> None:
    """Fill ``ladder[k] = D(k) - D(k + 1)`` for k >= 1, and 0 at k = 0.

    NDCG-Loss2's discount of two rows k ranks apart.
    """
    ladder[0] = 0.0
    for k in range(1, ladder.size):
        ladder[k] = _discount(k) - _discount(k + 1)


@njit(cache=True, nogil=True)
def _err_terms(
    labels: Array,
    order: IntArray,
    by_rank: IntArray,
    cutoff: int,
    max_label: float,
    gain_out: Array,
    discount_out: Array,
) -> None:
    r"""Stop probabilities and the potentials H of ERR@cutoff's swap deltas.

    With the stop probability :math:`R = 2^{y - y_{max}} - 2^{-y_{max}}`,
    :math:`p_r = \prod_{m<r} (1 - R_m)`, :math:`X_r = p_r D(r)` (D(r) = 1/r up
    to the cutoff, else 0) and the remaining ERR :math:`G_r = \sum_{m \ge r}
    R_m X_m`, the potential is :math:`H_r = X_r - G_r`. Swapping the rows at
    ranks u < v changes ERR by :math:`(R_v - R_u)(H_u - H_v) / (1 - R_u)`. H
    does not increase down the ranking, so the upper row of a pair is the one
    with the larger H (equal H: the change is 0 either way); it is on the scale
    of :math:`p_r`, so deep in a long list the differences keep their relative
    precision. R < 1 for every label <= ``max_label``: no division by 0.
    """
    n_valid = order.size
    top = max_label
    if top < 0.0:  # the list's own maximum
        top = 0.0
        for k in range(n_valid):
            top = max(top, labels[order[k]])
    floor = 2.0**-top
    for k in range(n_valid):
        gain_out[k] = 2.0 ** (labels[order[k]] - top) - floor
    reach = 1.0  # p_r
    for rank in range(n_valid):  # X_r, kept in discount_out for now
        position = by_rank[rank]
        discount_out[position] = reach / (rank + 1.0) if rank < cutoff else 0.0
        reach *= 1.0 - gain_out[position]
    remaining = 0.0  # G_r
    for rank in range(n_valid - 1, -1, -1):
        position = by_rank[rank]
        x = discount_out[position]
        remaining += gain_out[position] * x
        discount_out[position] = x - remaining


@njit(cache=True, nogil=True, inline="always")
def _fill_gains(
    labels: Array, order: IntArray, config: Any, top: float, out: Array
) -> None:
    """Write the positions' gains: ``y``, ``2^y - 1``, or ``2^(y - top) - 2^-top``.

    The last (``top > 0``, the largest label) are LambdaLoss's exponential
    gains scaled by ``2^-top``: finite for any label.
    """
    for k in range(order.size):
        y = labels[order[k]]
        if config.gain == Gain.LINEAR:
            out[k] = y
        elif top > 0.0:
            out[k] = 2.0 ** (y - top) - 2.0**-top
        else:
            out[k] = exp2_gain(y)


@njit(cache=True, nogil=True, inline="always")
def _ndcg_scale(gain: Array, config: Any, by_score: bool, cutoff: int) -> float:
    """Return 1 / the ideal DCG of the NDCG weights (0 when it is 0).

    Cut at ``cutoff``, or, without ``topn``, at the top-k booster step's ``topk``
    (as LightGBM's ``lambdarank``).
    """
    ideal_cutoff = cutoff
    if config.topn <= 0 and by_score and config.topk > 0:
        ideal_cutoff = min(config.topk, gain.size)
    ideal = ideal_dcg(gain, not by_score, ideal_cutoff)
    return 1.0 / ideal if ideal > 0.0 else 0.0


@njit(cache=True, nogil=True)
def product_terms(
    labels: Array,
    order: IntArray,
    by_rank: IntArray,
    config: Any,
    by_score: bool,
    gain_out: Array,
    discount_out: Array,
) -> float:
    """:func:`lambda_terms` of the kinds of :func:`is_product`; return the scale.

    ``by_rank[r]`` is the position of rank r + 1 (unread by LABEL_DIFF). Its own
    kernel so that the booster steps of these weights compile without the others.
    """
    kind = config.lambda_kind
    n_valid = order.size
    if kind == LambdaKind.LABEL_DIFF:
        for k in range(n_valid):
            gain_out[k] = labels[order[k]]
        return 1.0
    cutoff = n_valid if config.topn <= 0 else min(config.topn, n_valid)
    if kind == LambdaKind.PRECISION:
        for k in range(n_valid):
            if labels[order[k]] > 0.0:
                gain_out[k] = 1.0
        for rank in range(n_valid):
            discount_out[by_rank[rank]] = 1.0 if rank < cutoff else 0.0
        return 1.0
    _fill_gains(labels, order, config, 0.0, gain_out)
    for rank in range(n_valid):
        discount_out[by_rank[rank]] = _discount(rank + 1) if rank < cutoff else 0.0
    if kind == LambdaKind.NDCG:
        return _ndcg_scale(gain_out, config, by_score, cutoff)
    return 1.0


@njit(cache=True, nogil=True)
def lambda_terms(
    labels: Array,
    scores: Array,
    order: IntArray,
    config: Any,
    by_score: bool,
    gain_out: Array,
    discount_out: Array,
    extra_out: Array,
    ladder_out: Array,
) -> LambdaTerms:
    """Fill a group's per-position terms (positions index ``order``).

    ``config`` is a :class:`~gbrank._kernels.pairwise.PairConfig`; ``by_score``
    says whether ``order`` is the ranking (else it is by label, descending).
    ``ladder_out`` has at least ``order.size + 1`` entries for the NDCG2 and
    LAMBDALOSS kinds. Returns ``(scale, top1, top2)``: the factor of every
    weight of the group (1 / ideal DCG for NDCG and NDCG2, 0 when the ideal DCG
    is 0; 1 / min(R, k) for MAP; 1 / ln 2 for LambdaLoss), and MRR's reciprocal
    ranks of the first and second relevant rows within the cutoff.
    """
    kind = config.lambda_kind
    n_valid = order.size
    if n_valid == 0:
        return 1.0, 0.0, 0.0
    lambdaloss = kind == LambdaKind.LAMBDALOSS or kind == LambdaKind.LAMBDALOSS_ROW
    if kind == LambdaKind.LABEL_DIFF:  # reads no rank
        by_rank = order
    else:
        by_rank = ranking(
            labels, scores, order, by_score, lambdaloss and config.pessimistic_ties
        )
    if is_product(kind):
        scale = product_terms(
            labels, order, by_rank, config, by_score, gain_out, discount_out
        )
        return scale, 0.0, 0.0
    cutoff = n_valid if config.topn <= 0 else min(config.topn, n_valid)
    if kind == LambdaKind.ERR:
        _err_terms(
            labels, order, by_rank, cutoff, config.max_label, gain_out, discount_out
        )
        return 1.0, 0.0, 0.0
    if kind == LambdaKind.MRR or kind == LambdaKind.MAP:
        relevant = 0
        for k in range(n_valid):
            if labels[order[k]] > 0.0:
                gain_out[k] = 1.0
                relevant += 1
        hits = 0  # relevant rows ranked above
        above = 0.0  # their 1/r (within the cutoff)
        first = 0.0
        second = 0.0
        for rank in range(n_valid):
            position = by_rank[rank]
            inverse = 1.0 / (rank + 1.0) if rank < cutoff else 0.0
            discount_out[position] = inverse
            if kind == LambdaKind.MAP:
                # V = P' - S' - 1/r, P' = (hits + 1)/r: see lambda_weight
                extra_out[position] = inverse * hits - above
            if gain_out[position] > 0.0:
                if hits == 0:
                    first = inverse
                    if kind == LambdaKind.MRR:
                        gain_out[position] = 2.0  # the first relevant row
                elif hits == 1:
                    second = inverse
                hits += 1
                above += inverse
        if kind == LambdaKind.MAP:
            return (1.0 / min(relevant, cutoff) if relevant else 0.0), 0.0, 0.0
        return 1.0, first, second
    if kind == LambdaKind.NDCG2:
        _fill_gains(labels, order, config, 0.0, gain_out)
        for rank in range(n_valid):
            position = by_rank[rank]
            extra_out[position] = rank + 1.0
            # Jagerman et al.'s top-n correction, applied to the lower row
            beyond = config.topn > 0 and rank + 1 > config.topn
            discount_out[position] = (
                1.0 / (1.0 - _discount(rank + 1)) if beyond else 1.0
            )
        _fill_ladder(ladder_out)
        return _ndcg_scale(gain_out, config, by_score, cutoff), 0.0, 0.0
    scale = lambdaloss_terms(
        labels,
        order,
        by_rank,
        config,
        by_score,
        gain_out,
        discount_out,
        extra_out,
        ladder_out,
    )
    return scale, 0.0, 0.0


@njit(cache=True, nogil=True)
def lambdaloss_terms(
    labels: Array,
    order: IntArray,
    by_rank: IntArray,
    config: Any,
    by_score: bool,
    gain_out: Array,
    discount_out: Array,
    extra_out: Array,
    ladder_out: Array,
) -> float:
    """:func:`lambda_terms` of LAMBDALOSS and LAMBDALOSS_ROW; return the scale.

    allRank's terms: gains over the ideal DCG at the cutoff (exponential gains
    scaled by ``2^-max(y)`` first, finite for any label; linear gains as they
    are), discounts ``D(r)`` without cutoff, ranks as extras; NDCG-Loss1
    divides the gains by the discounts; LAMBDALOSS fills the ladder. The scale
    is ``1 / ln 2`` (log2 units). Its own kernel, like :func:`product_terms`, so
    that LambdaLoss's booster step compiles without the other weights.
    """
    n_valid = order.size
    cutoff = n_valid if config.topn <= 0 else min(config.topn, n_valid)
    exponential = config.gain == Gain.EXP2
    top = 0.0
    if exponential:
        for k in range(n_valid):
            top = max(top, labels[order[k]])
    _fill_gains(labels, order, config, top, gain_out)
    if exponential:
        ideal = ideal_dcg(gain_out, not by_score, cutoff)
        norm = 1.0 / ideal if ideal > 0.0 else 0.0
        for k in range(n_valid):
            gain_out[k] *= norm
    per_row = config.lambda_kind == LambdaKind.LAMBDALOSS_ROW and exponential
    for rank in range(n_valid):
        position = by_rank[rank]
        extra_out[position] = rank + 1.0
        discount_out[position] = _discount(rank + 1)
        if per_row:
            gain_out[position] *= discount_out[position]  # NDCG-Loss1: G / D
    if config.lambda_kind == LambdaKind.LAMBDALOSS:
        _fill_ladder(ladder_out)
    return 1.0 / LN2


@njit(cache=True, nogil=True, inline="always")
def is_product(kind: int) -> bool:
    """Whether a weight of ``kind`` is :func:`product_weight` (or none at all)."""
    return kind <= LambdaKind.NDCG or kind == LambdaKind.PRECISION


@njit(cache=True, nogil=True, inline="always")
def product_weight(
    kind: int,
    scale: float,
    gain_a: float,
    gain_b: float,
    discount_a: float,
    discount_b: float,
) -> float:
    """Return the weight of a pair for a kind of :func:`is_product`.

    ``scale |G_a - G_b| |D_a - D_b|`` (DCG, NDCG, precision), ``|y_a - y_b|``
    (label difference) or 1 (no weight). Scalars only and no branch on the
    data: the vectorised top-k loop of :mod:`gbrank._kernels.pairwise` calls
    it per pair.
    """
    if kind == LambdaKind.NONE:
        return 1.0
    weight = scale * abs(gain_a - gain_b)
    if kind != LambdaKind.LABEL_DIFF:
        weight *= abs(discount_a - discount_b)
    return weight


@njit(cache=True, nogil=True, inline="always")
def lambda_weight(
    gain_a: float,
    gain_b: float,
    discount_a: float,
    discount_b: float,
    extra_a: float,
    extra_b: float,
    rung: float,
    terms: LambdaTerms,
    config: Any,
) -> float:
    """Return the lambda weight of a pair from its positions' terms (1 without).

    Row a is the pair's credited row (it matters only for LAMBDALOSS_ROW);
    ``rung`` is ``ladder[|extra_a - extra_b|]`` for the NDCG2 and LAMBDALOSS
    kinds. Scalars only (see the module notes).
    """
    kind = config.lambda_kind
    scale = terms[0]
    if is_product(kind):
        return product_weight(kind, scale, gain_a, gain_b, discount_a, discount_b)
    if kind == LambdaKind.NDCG2:
        lower = discount_a if extra_a > extra_b else discount_b
        return scale * abs(gain_a - gain_b) * rung * lower
    if kind == LambdaKind.MRR:
        if (gain_a > 0.0) == (gain_b > 0.0):
            return 0.0
        found, other = (gain_a, discount_b) if gain_a > 0.0 else (gain_b, discount_a)
        first, second = terms[1], terms[2]
        if found == 1.0:  # a relevant row below the first: only moving up counts
            return max(other - first, 0.0)
        if other > first:  # the first relevant row swaps with a row above it
            return other - first
        return first - max(other, second)  # ... or below it
    if kind == LambdaKind.MAP:
        if gain_a == gain_b:
            return 0.0
        if discount_a >= discount_b:  # a is the upper row
            up_gain, up_inv, up_v, down_inv, down_v = (
                gain_a,
                discount_a,
                extra_a,
                discount_b,
                extra_b,
            )
        else:
            up_gain, up_inv, up_v, down_inv, down_v = (
                gain_b,
                discount_b,
                extra_b,
                discount_a,
                extra_a,
            )
        if up_gain > 0.0:  # the relevant row moves down
            return scale * abs(down_v - up_v)
        return scale * abs(up_v - down_v + up_inv - down_inv)
    if kind == LambdaKind.ERR:
        upper = gain_a if discount_a > discount_b else gain_b
        return abs(gain_a - gain_b) * abs(discount_a - discount_b) / (1.0 - upper)
    return lambdaloss_weight(
        gain_a, gain_b, discount_a, discount_b, extra_a, extra_b, rung, scale, config
    )


@njit(cache=True, nogil=True, inline="always")
def lambdaloss_weight(
    gain_a: float,
    gain_b: float,
    discount_a: float,
    discount_b: float,
    extra_a: float,
    extra_b: float,
    rung: float,
    scale: float,
    config: Any,
) -> float:
    """:func:`lambda_weight` of the LAMBDALOSS and LAMBDALOSS_ROW kinds.

    0 unless both rows are within the cutoff; NDCG-Loss1 / ARP-Loss1: the
    credited row's gain; the others: ``|G_a - G_b|`` times the ``config.mix``
    of the rung, the discount difference and 1 (symmetric in a and b).
    """
    if config.topn > 0 and max(extra_a, extra_b) > config.topn:
        return 0.0
    if config.lambda_kind == LambdaKind.LAMBDALOSS_ROW:
        return scale * gain_a
    ladder_share, discount_share, constant = config.mix
    return (
        scale
        * abs(gain_a - gain_b)
        * (
            ladder_share * rung
            + discount_share * abs(discount_a - discount_b)
            + constant
        )
    )
