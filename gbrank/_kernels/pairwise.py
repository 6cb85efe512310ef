"""Kernels of the pairwise losses and their lambda weights.

Three algorithms, chosen by :mod:`gbrank.losses.pairwise`:

- :func:`pair_sums`: every pair function, lambda weight and pair selection:
  all pairs, O(n²) per group of n valid rows (rows sorted by label once, so
  that the partners of a row are one contiguous range); the pairs with a row in
  the current top k, O(n k); or a fixed number of sampled partners per row,
  O(n). Groups are dealt to the threads, and a group of :data:`LARGE_GROUP`
  rows or more is itself cut into ranges of positions, each thread adding
  into its own accumulators. The top-k booster steps with no lambda weight or
  a product one (RankNet, LambdaMART, the hinge's and the squared error's
  default steps, ...) and LambdaLoss's run in a kernel per pair function and
  weight family (:func:`top_step_kernel`) that compiles with those only: a
  first call of seconds, not the 20-30 s numba takes for the kernel of every
  pair function, weight and selection.
- :func:`hinge_sorted`: the hinge without lambda weights, O(n log n) per group.
  After one sort by score, a row's active partners (``d < 1``) are a prefix of
  that order; two sweeps keep running Fenwick trees over label ranks.
- :func:`squared_error_sums`: the squared error without lambda weights, O(n) per
  group: with ``r = y - s``, every pair term is ``(r_i - r_j)²``, whose sums
  reduce to per-group moments.

The pair functions themselves (hinge, logistic, ...) are defined in
:mod:`gbrank._kernels.pairfunctions`; :func:`exact_sums` picks the algorithm.
Options travel in one :class:`PairConfig`. Conventions: :mod:`gbrank._kernels`.
"""

from __future__ import annotations

import functools
from enum import IntEnum
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from gbrank._kernels.common import (
    LN2,
    Array,
    BoolArray,
    IntArray,
    Rows,
    Terms,
    argsort_descending,
    hash_keys,
    ratio_exponentials,
    valid_rows,
)
from gbrank._kernels.lambdaweights import (
    LambdaKind,
    LambdaTerms,
    is_product,
    lambda_terms,
    lambda_weight,
    lambdaloss_terms,
    lambdaloss_weight,
    product_terms,
    product_weight,
    sort_pessimistic,
)
from gbrank._kernels.pairfunctions import (
    EVERY_PAIR,
    EXACT_QUOTIENT,
    EXPONENTIALS,
    HINGE,
    LOGISTIC,
    SQUARED_ERROR,
    PairParameters,
    has,
    pair_terms,
)
from gbrank._kernels.threads import (
    chunk_count,
    get_num_threads,
    group_ranges,
    run_chunks,
    run_groups,
)

LARGE_GROUP = 2048
"""Groups with at least this many rows are split over threads in ``pair_sums``."""

VECTORIZE = {"reassoc", "contract", "nsz", "arcp"}
"""The fast-math flags of :func:`_logistic_top_step`: reassociation lets LLVM
vectorise its sums; no flag assumes finite values."""

LOGISTIC_CODE = LOGISTIC.code

PAIR_NS = 2.5
"""Estimated nanoseconds per (ordered) pair of rows, for cutting work into chunks."""

# Which lambda weights a pair loop compiles: a constant of each kernel, plain
# ints so that numba folds the branches on them away before typing.
EVERY_WEIGHT = 0
"""Any :class:`~gbrank._kernels.lambdaweights.LambdaKind` (:func:`pair_groups`)."""
PRODUCT_WEIGHTS = 1
"""None or one of :func:`~gbrank._kernels.lambdaweights.is_product` (RankNet,
LambdaMART, the hinge's default step, ...)."""
LAMBDALOSS_WEIGHTS = 2
"""``LambdaKind.LAMBDALOSS``: LambdaLoss's pair weights (NDCG-Loss2, NDCG-Loss2++,
ARP-Loss2)."""


class PairHessian(IntEnum):
    """Hessians of the pairwise losses."""

    CURVATURE = 0  # the pair function's curvature (or its documented surrogate)
    CONSTANT = 1  # w_i / T² on every valid row


class PairSelection(IntEnum):
    """Which pairs of a group count."""

    ALL = 0  # every pair whose labels differ (every ordered pair: SQUARED_ERROR)
    TOPK = 1  # pairs with at least one row in the current top k by score
    SAMPLED = 2  # each row with a fixed number of random partners of other labels


class PairConfig(NamedTuple):
    """Options of the pairwise kernels.

    Attributes
    ----------
    pair : int
        The pair function: its position in
        :data:`~gbrank._kernels.pairfunctions.PAIR_FUNCTIONS`.
    temperature : float
        Score differences are divided by it.
    hessian : int
        A :class:`PairHessian`.
    lambda_kind : int
        A :class:`~gbrank._kernels.lambdaweights.LambdaKind`.
    topn : int
        Ranks past ``topn`` get discount 0 in the DCG weights (0: no cutoff).
    gain : int
        A :class:`~gbrank._kernels.lambdaweights.Gain`.
    need_loss : bool
        Whether to compute the loss values.
    selection : int
        A :class:`PairSelection`.
    topk : int
        The cutoff of ``PairSelection.TOPK``; also the cutoff of the ideal DCG
        of NDCG weights without ``topn`` (as LightGBM's ``lambdarank``).
    pairs_per_row : int
        Partners drawn per row by ``PairSelection.SAMPLED``.
    seed : int
        Seed of the draws (a counter-based hash of seed, group, row and draw:
        the same pairs whatever the threads).
    score_normalization : bool
        Divide each pair's weight by ``0.01 + |s_i - s_j|`` (in a group whose
        scores are not all equal), as LightGBM's ``lambdarank_norm`` and
        XGBoost's ``lambdarank_score_normalization``.
    parameters : tuple of float
        The values of the loss parameters the pair function reads
        (:attr:`~gbrank._kernels.pairfunctions.PairFunction.parameters`).
    mix : tuple of float
        ``LambdaKind.LAMBDALOSS``: the shares of NDCG-Loss2's rank-distance
        discount, of LambdaRank's discount difference and of a constant 1 in
        each pair's weight (``|G_a - G_b| * (...)``).
    max_label : float
        ``LambdaKind.ERR``: the label with stop probability ``1 - 2^-max_label``
        (< 0: each group's largest label).
    pessimistic_ties : bool
        Rank score ties by label, lower first, then by row (LambdaLoss weights),
        instead of by row.
    """

    pair: int
    temperature: float
    hessian: int
    lambda_kind: int
    topn: int
    gain: int
    need_loss: bool
    selection: int = int(PairSelection.ALL)
    topk: int = 0
    pairs_per_row: int = 0
    seed: int = 0
    score_normalization: bool = False
    parameters: PairParameters = (0.0, 0.0)
    mix: tuple[float, float, float] = (0.0, 0.0, 0.0)
    max_label: float = -1.0
    pessimistic_ties: bool = False


PairSetup = tuple[
    int, IntArray, IntArray, IntArray, Array, Array, Array, Array, LambdaTerms, bool
]
"""What :func:`pair_setup` returns for a group: group, order, upper, lower, gain,
discount, extra, ladder, lambda terms, score-normalised (see
:mod:`gbrank._kernels.lambdaweights` for the lambda weights' terms)."""


@njit(cache=True, nogil=True, inline="always")
def _lambda_reads(kind: int) -> tuple[bool, bool, bool]:
    """Return which lambda terms a pair of ``kind`` reads: any, the ladder, extras."""
    laddered = kind == LambdaKind.NDCG2 or kind == LambdaKind.LAMBDALOSS
    wide = laddered or kind == LambdaKind.MAP or kind == LambdaKind.LAMBDALOSS_ROW
    return kind != LambdaKind.NONE, laddered, wide


@njit(cache=True, nogil=True, inline="always")
def _setup(weights: int, rows: Rows, group: int, config: PairConfig) -> PairSetup:
    """:func:`pair_setup` of a pair loop that compiles ``weights`` (a constant).

    The top-k booster steps' (``TOPK``): ``PRODUCT_WEIGHTS`` (no pessimistic
    ties) compiles only the score order and
    :func:`~gbrank._kernels.lambdaweights.product_terms`; ``LAMBDALOSS_WEIGHTS``
    only the score orders and
    :func:`~gbrank._kernels.lambdaweights.lambdaloss_terms`.
    """
    labels, scores, _, offsets = rows
    valid = valid_rows(labels, offsets[group], offsets[group + 1])
    if weights == EVERY_WEIGHT:
        by_score = config.selection == PairSelection.TOPK
    else:
        by_score = True
    n_valid = valid.size
    if weights == PRODUCT_WEIGHTS:
        order = argsort_descending(scores, valid)
    elif by_score and config.pessimistic_ties:
        order = sort_pessimistic(labels, scores, valid)
    else:
        order = argsort_descending(scores if by_score else labels, valid)
    upper = np.empty(0 if by_score else n_valid, dtype=np.int64)
    lower = np.empty(0 if by_score else n_valid, dtype=np.int64)
    if not by_score:
        k = n_valid
        for m in range(n_valid - 1, -1, -1):
            if m + 1 < n_valid and labels[order[m]] != labels[order[m + 1]]:
                k = m + 1
            lower[m] = k
        k = 0
        for m in range(n_valid):
            if m > 0 and labels[order[m]] != labels[order[m - 1]]:
                k = m
            upper[m] = k
    kind = config.lambda_kind
    gain = np.zeros(n_valid)  # read (and unused) without lambda weights
    discount = np.zeros(n_valid)
    extra = np.zeros(n_valid)
    laddered = _lambda_reads(kind)[1]
    ladder = np.zeros(n_valid + 1 if laddered else 1)
    terms = (1.0, 0.0, 0.0)
    if weights == PRODUCT_WEIGHTS:
        if kind != LambdaKind.NONE and n_valid > 0:
            by_rank = np.arange(n_valid)
            scale = product_terms(labels, order, by_rank, config, True, gain, discount)
            terms = (scale, 0.0, 0.0)
    elif weights == LAMBDALOSS_WEIGHTS:
        if n_valid > 0:
            scale = lambdaloss_terms(
                labels,
                order,
                np.arange(n_valid),
                config,
                True,
                gain,
                discount,
                extra,
                ladder,
            )
            terms = (scale, 0.0, 0.0)
    elif kind != LambdaKind.NONE:
        terms = lambda_terms(
            labels, scores, order, config, by_score, gain, discount, extra, ladder
        )
    normalized = False
    if config.score_normalization and n_valid > 1:
        top = scores[order[0]]
        for m in range(n_valid):
            normalized = normalized or scores[order[m]] != top
    return group, order, upper, lower, gain, discount, extra, ladder, terms, normalized


@njit(cache=True, nogil=True)
def pair_setup(rows: Rows, group: int, config: PairConfig) -> PairSetup:
    """Order a group's valid rows; lambda terms; each row's label bucket.

    ``order``: the valid rows by score (``TOPK``) or by label (otherwise),
    descending, ties by row (by score with ``pessimistic_ties``: lower label
    first, then row). With label order, the rows of position a's label are
    positions ``upper[a]:lower[a]`` (partners with a lower label:
    ``lower[a]:``). Also returns the per-position gains, discounts and extras,
    the ladder and the group terms of the lambda weights
    (:func:`~gbrank._kernels.lambdaweights.lambda_terms`; zeros without) and
    whether score normalisation applies (the group's scores are not all equal).
    """
    return _setup(EVERY_WEIGHT, rows, group, config)


@njit(cache=True, nogil=True)
def _product_setup(rows: Rows, group: int, config: PairConfig) -> PairSetup:
    """:func:`pair_setup` of :func:`top_step_kernel`'s product-weight steps."""
    return _setup(PRODUCT_WEIGHTS, rows, group, config)


@njit(cache=True, nogil=True)
def _lambdaloss_setup(rows: Rows, group: int, config: PairConfig) -> PairSetup:
    """:func:`pair_setup` of :func:`top_step_kernel`'s LambdaLoss steps."""
    return _setup(LAMBDALOSS_WEIGHTS, rows, group, config)


@njit(cache=True, nogil=True, inline="always")
def _draw(seed: int, group: int, position: int, draw: int, size: int) -> int:
    """Draw a uniform integer in ``[0, size)`` from a hash of its coordinates."""
    x = hash_keys(seed, group, position, draw)
    return int(np.int64(x % np.uint64(size)))  # int64: unsigned mixes to float


@njit(cache=True, nogil=True, inline="always")
def _every(config: PairConfig) -> bool:
    """Whether every ordered pair of distinct rows counts (not only y_a > y_b)."""
    every_pair = has(EVERY_PAIR, config.pair)
    return every_pair or config.lambda_kind == LambdaKind.LAMBDALOSS_ROW


@njit(cache=True, nogil=True)
def _exponentials(
    scores: Array, order: IntArray, config: PairConfig
) -> tuple[Array, Array]:
    """Return ``E = exp((s - max s) / T)`` per position and ``1 / E``.

    Then a pair's ``exp(-|d|)`` is the smaller of ``E_a / E_b`` and ``E_b / E_a``
    (:func:`~gbrank._kernels.common.ratio_exponentials`). Both are -1 (unused)
    for a pair function that reads no exponential, and for a group whose
    tempered scores spread more than ``common.SPREAD_FOR_RATIOS`` (then each
    pair takes its own exp).
    """
    n_valid = order.size
    expo = np.full(n_valid, -1.0)
    inverse = np.full(n_valid, -1.0)
    if not has(EXPONENTIALS, config.pair):
        return expo, inverse
    tempered = np.empty(n_valid)
    for m in range(n_valid):
        tempered[m] = scores[order[m]] / config.temperature
    ratio_exponentials(tempered, expo, inverse)
    return expo, inverse


@njit(cache=True, nogil=True, inline="always")
def _ratio(expo_a: float, inverse_a: float, expo_b: float, inverse_b: float) -> float:
    """Return ``exp(-|d_ab|)`` from the rows' exponentials (-1 when unused)."""
    if expo_a < 0.0:
        return -1.0
    return min(expo_b * inverse_a, expo_a * inverse_b)  # the one <= 1; no branch


@njit(cache=True, nogil=True, inline="always")
def _pair(
    pair: int,
    weight: float,
    difference: float,
    e: float,
    label_difference: float,
    normalized: bool,
    config: PairConfig,
    need_loss: bool,
) -> tuple[float, float, float]:
    """Return the loss, gradient and curvature terms of one pair.

    ``pair`` is the pair function (``config.pair``, or a constant where the
    caller knows it: the branches on it then fold away, as do those on a
    constant ``need_loss``). ``weight`` is the credited (higher-labelled) row's
    weight times the lambda weight, ``difference`` its score minus the
    partner's, ``e`` the pair's ``exp(-|d|)`` if known (else negative). The
    gradient term is added to the credited row and subtracted from the
    partner; the curvature term is added to both (0 unless
    ``PairHessian.CURVATURE``). The loss term is 0 unless ``need_loss``.
    """
    span = 0.01 + abs(difference) if normalized else 1.0
    inv_temperature = 1.0 / config.temperature
    # a kink needs the exact quotient (as the sorted hinge computes it)
    d = (
        difference / config.temperature
        if has(EXACT_QUOTIENT, pair)
        else difference * inv_temperature
    )
    value, slope, curve = pair_terms(
        pair, d, e, label_difference, need_loss, span, config.parameters
    )
    h = 0.0
    if config.hessian == PairHessian.CURVATURE:
        h = weight * curve * inv_temperature * inv_temperature
    return weight * value, weight * slope * inv_temperature, h


@njit(cache=True, nogil=True, inline="always")
def _credit(
    acc: Terms,
    b: int,
    g: float,
    h: float,
    grad_a: float,
    hess_a: float,
    mass: float,
) -> tuple[float, float, float]:
    """Add a pair of positions a and b: ``g`` to a's gradient, ``-g`` to b's.

    Both rows get the curvature ``h``; b's terms go to ``acc``, a's stay in the
    caller's running sums, returned with the pair mass plus ``|g|``.
    """
    acc.grad[b] -= g
    acc.hess[b] += h
    return grad_a + g, hess_a + h, mass + abs(g)


@njit(cache=True, nogil=True, inline="always")
def _credited_lambda(
    a_credited: bool,
    position_terms: tuple[float, float, float, float, float, float],
    rung: float,
    terms: LambdaTerms,
    config: PairConfig,
) -> float:
    """Return the lambda weight of the pair of positions a and b, either credited.

    ``position_terms`` are a's and b's gain, discount and extra, in that order
    (``(g_a, g_b, d_a, d_b, e_a, e_b)``); the credited row's go first.
    """
    g_a, g_b, d_a, d_b, e_a, e_b = position_terms
    return lambda_weight(
        g_a if a_credited else g_b,
        g_b if a_credited else g_a,
        d_a if a_credited else d_b,
        d_b if a_credited else d_a,
        e_a if a_credited else e_b,
        e_b if a_credited else e_a,
        rung,
        terms,
        config,
    )


@njit(cache=True, nogil=True, inline="always")
def _pair_lambda(
    weights: int,
    a_credited: bool,
    a_terms: tuple[float, float, float],
    b: int,
    setup: PairSetup,
    config: PairConfig,
) -> float:
    """Return the lambda weight of the pair of positions a and b (1 without).

    ``a_terms`` are a's gain, discount and extra; ``weights`` the lambda
    weights compiled (:func:`_top_pairs_of`). The product and LambdaLoss
    weights are symmetric in the two rows; the others go through
    :func:`_credited_lambda`. Lambda terms are read only under a lambda weight
    (the loads cost ~10 % otherwise).
    """
    _, _, _, _, gain, discount, extra, ladder, terms, _ = setup
    g_a, d_a, e_a = a_terms
    kind = config.lambda_kind
    if weights == PRODUCT_WEIGHTS:
        return product_weight(kind, terms[0], g_a, gain[b], d_a, discount[b])
    if weights == LAMBDALOSS_WEIGHTS:
        e_b = extra[b]
        return lambdaloss_weight(
            g_a,
            gain[b],
            d_a,
            discount[b],
            e_a,
            e_b,
            ladder[int(abs(e_a - e_b))],
            terms[0],
            config,
        )
    weighted, laddered, wide = _lambda_reads(kind)
    if not weighted:
        return 1.0
    e_b = extra[b] if wide else 0.0
    return _credited_lambda(
        a_credited,
        (g_a, gain[b], d_a, discount[b], e_a, e_b),
        ladder[int(abs(e_a - e_b))] if laddered else 0.0,
        terms,
        config,
    )


@njit(cache=True, nogil=True, inline="always")
def _in_order(rows: Rows, order: IntArray) -> tuple[Array, Array, Array]:
    """Return the labels, scores and weights of the positions of ``order``."""
    labels, scores, weights, _ = rows
    n_valid = order.size
    label = np.empty(n_valid)
    score = np.empty(n_valid)
    weight_of = np.empty(n_valid)
    for m in range(n_valid):
        label[m] = labels[order[m]]
        score[m] = scores[order[m]]
        weight_of[m] = weights[order[m]]
    return label, score, weight_of


NOT_DONE = -1.0
"""What :func:`_logistic_top_step` returns for a group it leaves to the general loop."""


@njit(cache=True, nogil=True, error_model="numpy", fastmath=VECTORIZE)
def _logistic_top_step(
    rows: Rows, setup: PairSetup, first: int, stop: int, config: PairConfig, acc: Terms
) -> float:
    """:func:`_top_pairs` of the logistic pair function in a booster step.

    RankNet's and LambdaMART's step (no loss values; no lambda weight or one of
    :func:`~gbrank._kernels.lambdaweights.is_product`), written so that LLVM
    vectorises the loop over the partners: no branch on the data (a label tie
    is a pair of weight 0), the pair function known at compile time, each
    pair's ``exp(-|d|)`` one product of the positions' exponentials (all > 0
    here; its ``abs`` lets LLVM drop the pair function's branch for a missing
    one), and the rows' sums free to be reassociated (:data:`VECTORIZE`).
    Returns :data:`NOT_DONE` (and adds nothing) for a group whose tempered
    scores spread too far for the exponentials. Measured 2026-12-06 (one
    thread, 8,000 lists of 100 rows, top 30, the whole kernel): RankNet 189 ->
    98 ms, LambdaMART 273 -> 148 ms, of which the setup (sort, copies, lambda
    terms) takes 36 and 79 ms.
    """
    _, order, _, _, gain, discount, _, _, terms, normalized = setup
    expo, inverse = _exponentials(rows.scores, order, config)
    if order.size > 0 and inverse[0] <= 0.0:
        return NOT_DONE
    label, score, weight_of = _in_order(rows, order)
    scale = terms[0]
    kind = config.lambda_kind
    weighted = kind != LambdaKind.NONE
    n_valid = label.size
    mass = 0.0
    for a in range(first, stop):
        y_a, s_a, w_a, inverse_a = label[a], score[a], weight_of[a], inverse[a]
        g_a, d_a = gain[a], discount[a]
        grad_a = 0.0
        hess_a = 0.0
        for b in range(np.uint64(a + 1), np.uint64(n_valid)):
            y_b = label[b]
            a_credited = y_a > y_b
            sign = 1.0 if a_credited else -1.0
            weight = (w_a if a_credited else weight_of[b]) * (
                0.0 if y_a == y_b else 1.0
            )
            if weighted:
                g_b, d_b = gain[b], discount[b]
                weight *= product_weight(kind, scale, g_a, g_b, d_a, d_b)
            _, g, h = _pair(
                LOGISTIC_CODE,
                weight,
                sign * (s_a - score[b]),
                abs(expo[b] * inverse_a),
                sign * (y_a - y_b),
                normalized,
                config,
                False,
            )
            grad_a, hess_a, mass = _credit(acc, b, sign * g, h, grad_a, hess_a, mass)
        acc.grad[a] += grad_a
        acc.hess[a] += hess_a
    return 2.0 * mass


@njit(cache=True, nogil=True, inline="always")
def _top_pairs_of(
    pair: int,
    weights: int,
    rows: Rows,
    setup: PairSetup,
    first: int,
    stop: int,
    config: PairConfig,
    acc: Terms,
) -> float:
    """``TOPK`` for pair functions of ``y_i > y_j`` pairs: :func:`pair_positions`.

    The booster step of LambdaMART and RankNet, so its own loop: the rows are
    in score order (``s_a >= s_b`` for ``a < b``: a pair's ``exp(-|d|)`` is one
    product), and the labels, scores and weights are copied in that order
    first, so that the loop over the partners reads contiguous memory. Its
    pairs take 1.35 times less time than in the general loop (RankNet, one
    thread, 10,000 lists of 100 rows: 237 -> 175 ms; measured 2026-12-06).
    The logistic pair function's booster steps with a product lambda weight
    (or none) go on to the vectorised :func:`_logistic_top_step`.

    ``pair`` is ``config.pair``; where it is a constant, the branches on it
    fold away before numba types them, and so do those on ``weights``, the
    lambda weights compiled (:data:`EVERY_WEIGHT`, :data:`PRODUCT_WEIGHTS` or
    :data:`LAMBDALOSS_WEIGHTS`).
    """
    if (
        weights != LAMBDALOSS_WEIGHTS
        and pair == LOGISTIC_CODE
        and not config.need_loss
        and is_product(config.lambda_kind)
    ):
        mass = _logistic_top_step(rows, setup, first, stop, config, acc)
        if mass != NOT_DONE:
            return mass
    _, order, _, _, gain, discount, extra, _, _, normalized = setup
    n_valid = order.size
    expo, inverse = _exponentials(rows.scores, order, config)
    label, score, weight_of = _in_order(rows, order)
    mass = 0.0
    for a in range(first, stop):
        y_a, s_a, w_a, inverse_a = label[a], score[a], weight_of[a], inverse[a]
        g_a, d_a, e_a = gain[a], discount[a], extra[a]
        value_a = 0.0
        grad_a = 0.0
        hess_a = 0.0
        for b in range(a + 1, n_valid):
            y_b = label[b]
            if y_a == y_b:
                continue
            a_credited = y_a > y_b
            sign = 1.0 if a_credited else -1.0
            weight = w_a if a_credited else weight_of[b]
            weight *= _pair_lambda(
                weights, a_credited, (g_a, d_a, e_a), b, setup, config
            )
            value, g, h = _pair(
                pair,
                weight,
                sign * (s_a - score[b]),
                expo[b] * inverse_a if inverse_a > 0.0 else -1.0,
                sign * (y_a - y_b),
                normalized,
                config,
                config.need_loss,
            )
            if config.need_loss:  # no loss values in a booster step
                value_a += value if a_credited else 0.0
                acc.loss[b] += 0.0 if a_credited else value
            grad_a, hess_a, mass = _credit(acc, b, sign * g, h, grad_a, hess_a, mass)
        acc.loss[a] += value_a
        acc.grad[a] += grad_a
        acc.hess[a] += hess_a
    return 2.0 * mass


@njit(cache=True, nogil=True)
def _top_pairs(
    rows: Rows, setup: PairSetup, first: int, stop: int, config: PairConfig, acc: Terms
) -> float:
    """:func:`_top_pairs_of` for any pair function and lambda weight."""
    return _top_pairs_of(
        config.pair, EVERY_WEIGHT, rows, setup, first, stop, config, acc
    )


@njit(cache=True, nogil=True)
def pair_positions(
    rows: Rows, setup: PairSetup, first: int, stop: int, config: PairConfig, acc: Terms
) -> float:
    """Add the pairs of the positions ``first <= a < stop``; return their mass.

    ``ALL``: the pairs whose higher row sits at a (for ``SQUARED_ERROR`` and
    ``LAMBDALOSS_ROW``: both ordered pairs of a and each later position, the
    latter with the pair (a, a) in the loss value). ``TOPK``: the pairs of a
    (among the top k) with the rows ranked below it (by :func:`_top_pairs`
    unless every pair counts). ``SAMPLED``:
    ``pairs_per_row`` pairs of a with partners of another label, drawn
    uniformly with replacement. Positions index ``setup``'s order; results go
    to the position-indexed accumulators ``acc``
    (:class:`~gbrank._kernels.common.Terms`). The mass is the sum of ``2 |g|``
    over the pairs (the ``S`` of query normalisation). Row a's sums are kept in
    registers; only the partners' entries are written per pair. Lambda terms
    are read only under a lambda weight (the loads cost ~10 % otherwise).
    """
    every = _every(config)
    if config.selection == PairSelection.TOPK and not every:
        return _top_pairs(rows, setup, first, stop, config, acc)
    labels, scores, weights, _ = rows
    _, order, _, lower, gain, discount, extra, _, terms, normalized = setup
    kind = config.lambda_kind
    n_valid = order.size
    expo, inverse = _exponentials(scores, order, config)
    self_pairs = kind == LambdaKind.LAMBDALOSS_ROW and config.need_loss
    mass = 0.0
    for a in range(first, stop):
        i = order[a]
        y_a, s_a, w_a = labels[i], scores[i], weights[i]
        expo_a, inverse_a = expo[a], inverse[a]
        g_a, d_a, e_a = gain[a], discount[a], extra[a]
        value_a = 0.0
        grad_a = 0.0
        hess_a = 0.0
        if self_pairs and config.selection == PairSelection.ALL:
            # allRank's pair (a, a): log2(1 + e^0) = 1 bit
            value_a += (
                w_a * lambda_weight(g_a, g_a, d_a, d_a, e_a, e_a, 0.0, terms, config)
            ) * LN2
        if config.selection == PairSelection.ALL and not every:
            for b in range(lower[a], n_valid):
                j = order[b]
                weight = w_a * _pair_lambda(
                    EVERY_WEIGHT, True, (g_a, d_a, e_a), b, setup, config
                )
                value, g, h = _pair(
                    config.pair,
                    weight,
                    s_a - scores[j],
                    _ratio(expo_a, inverse_a, expo[b], inverse[b]),
                    y_a - labels[j],
                    normalized,
                    config,
                    config.need_loss,
                )
                value_a += value
                grad_a, hess_a, mass = _credit(acc, b, g, h, grad_a, hess_a, mass)
        else:  # every pair (ALL or TOPK) or SAMPLED: either row may be credited
            value_a, grad_a, hess_a, mass = _unordered_pairs(
                config.pair,
                EVERY_WEIGHT,
                rows,
                setup,
                a,
                (expo, inverse),
                config,
                acc,
                (value_a, grad_a, hess_a, mass),
            )
        acc.loss[a] += value_a
        acc.grad[a] += grad_a
        acc.hess[a] += hess_a
    return 2.0 * mass


@njit(cache=True, nogil=True, inline="always")
def _unordered_pairs(
    pair: int,
    weights: int,
    rows: Rows,
    setup: PairSetup,
    a: int,
    exponentials: tuple[Array, Array],
    config: PairConfig,
    acc: Terms,
    sums: tuple[float, float, float, float],
) -> tuple[float, float, float, float]:
    """Add position a's pairs that either row may be credited for.

    The pairs of :func:`pair_positions` with every pair (``ALL`` or ``TOPK``) or
    ``SAMPLED``.

    ``sums`` are a's running loss, gradient, hessian and the pair mass, returned
    with the pairs added; ``pair`` and ``weights`` as in :func:`_top_pairs_of`
    (:data:`PRODUCT_WEIGHTS`: the top-k booster steps of the every-pair
    functions, :func:`top_step_kernel`). One ``_pair`` call site: each inlined
    copy costs compile time.
    """
    labels, scores, row_weights, _ = rows
    group, order, upper, lower, gain, discount, extra, _, _, normalized = setup
    expo, inverse = exponentials
    value_a, grad_a, hess_a, mass = sums
    every = _every(config)
    n_valid = order.size
    i = order[a]
    y_a, s_a, w_a = labels[i], scores[i], row_weights[i]
    expo_a, inverse_a = expo[a], inverse[a]
    g_a, d_a, e_a = gain[a], discount[a], extra[a]
    later = config.selection != PairSelection.SAMPLED  # the rows after a
    own = 0 if later else lower[a] - upper[a]
    if later:  # both ordered pairs of a and each later row
        n_terms = (n_valid - a - 1) * 2
    else:
        n_terms = config.pairs_per_row if own < n_valid else 0
    for t in range(n_terms):
        if later:
            b = a + 1 + t // 2
            a_credited = t % 2 == 0
        else:
            b = _draw(config.seed, group, a, t, n_valid - own)
            if b >= upper[a]:  # skip the rows of a's own label
                b += own
            a_credited = every or b >= lower[a]
        j = order[b]
        sign = 1.0 if a_credited else -1.0
        weight = w_a if a_credited else row_weights[j]
        weight *= _pair_lambda(weights, a_credited, (g_a, d_a, e_a), b, setup, config)
        value, g, h = _pair(
            pair,
            weight,
            sign * (s_a - scores[j]),
            _ratio(expo_a, inverse_a, expo[b], inverse[b]),
            sign * (y_a - labels[j]),
            normalized,
            config,
            config.need_loss,
        )
        if a_credited:
            value_a += value
        else:
            acc.loss[b] += value
        grad_a, hess_a, mass = _credit(acc, b, sign * g, h, grad_a, hess_a, mass)
    return value_a, grad_a, hess_a, mass


@njit(cache=True, nogil=True)
def scatter(order: IntArray, acc: Terms, out: Terms) -> None:
    """Add position-indexed accumulators to the row-indexed outputs."""
    for a in range(order.size):
        out.loss[order[a]] += acc.loss[a]
        out.grad[order[a]] += acc.grad[a]
        out.hess[order[a]] += acc.hess[a]


@njit(cache=True, nogil=True, inline="always")
def _positions(setup: PairSetup, config: PairConfig) -> int:
    """Return the number of positions that own pairs (the top k with ``TOPK``)."""
    n_valid = setup[1].size
    if config.selection == PairSelection.TOPK:
        return min(config.topk, n_valid)
    return n_valid


@njit(cache=True, nogil=True)
def pair_groups(
    first: int,
    stop: int,
    rows: Rows,
    config: PairConfig,
    out: Terms,
    mass_out: Array,
    todo: BoolArray,
) -> None:
    """Sum the pairs of the groups ``first <= g < stop`` with ``todo[g]``."""
    for g in range(first, stop):
        if todo[g]:
            setup = pair_setup(rows, g, config)
            n_valid = setup[1].size
            acc = Terms(np.zeros(n_valid), np.zeros(n_valid), np.zeros(n_valid))
            mass_out[g] = pair_positions(
                rows, setup, 0, _positions(setup, config), config, acc
            )
            scatter(setup[1], acc, out)


@functools.cache
def top_step_kernel(pair: int, weights: int) -> Any:
    """Return :func:`pair_groups` for the ``TOPK`` booster steps of ``pair``.

    For the steps of :func:`top_step_weights`: no loss values, the lambda
    weights ``weights`` (:data:`PRODUCT_WEIGHTS`: none or one of
    :func:`~gbrank._kernels.lambdaweights.is_product`, as RankNet and
    LambdaMART, without pessimistic ties; :data:`LAMBDALOSS_WEIGHTS`: the
    LambdaLoss pair weights). The same arithmetic as :func:`pair_groups`, in a
    kernel of its own per pair function and weights that compiles only those
    (both are constants of the closure, ``int``, which numba's disk cache keys
    it by). A group it leaves (:data:`NOT_DONE`: the logistic step's
    exponentials out of range) keeps ``todo[g]``, for :func:`pair_groups`; the
    others are cleared. First call, fresh cache: 7-16 s instead of
    :func:`pair_groups`'s 20-35 s (``benchmarks/compile.py`` and runs of old
    and new code in turn, 2026-12-07).
    """
    pair_code = pair
    weight_code = weights
    every_pair = has.py_func(EVERY_PAIR, pair)

    @njit(cache=True, nogil=True)
    def top_step_groups(
        first: int,
        stop: int,
        rows: Rows,
        config: PairConfig,
        out: Terms,
        mass_out: Array,
        todo: BoolArray,
    ) -> None:
        for g in range(first, stop):
            if not todo[g]:
                continue
            # the branches on the constants fold away
            if weight_code == PRODUCT_WEIGHTS:
                setup = _product_setup(rows, g, config)
            else:
                setup = _lambdaloss_setup(rows, g, config)
            n_valid = setup[1].size
            stop_at = min(config.topk, n_valid)
            acc = Terms(np.zeros(n_valid), np.zeros(n_valid), np.zeros(n_valid))
            if weight_code == PRODUCT_WEIGHTS and pair_code == LOGISTIC_CODE:
                mass = _logistic_top_step(rows, setup, 0, stop_at, config, acc)
            elif every_pair:  # squared error: both ordered pairs of a and each b > a
                exponentials = _exponentials(rows.scores, setup[1], config)
                mass = 0.0
                for a in range(stop_at):
                    _, grad_a, hess_a, mass = _unordered_pairs(
                        pair_code,
                        weight_code,
                        rows,
                        setup,
                        a,
                        exponentials,
                        config,
                        acc,
                        (0.0, 0.0, 0.0, mass),
                    )
                    acc.grad[a] += grad_a
                    acc.hess[a] += hess_a
                mass *= 2.0
            else:
                mass = _top_pairs_of(
                    pair_code, weight_code, rows, setup, 0, stop_at, config, acc
                )
            if mass != NOT_DONE:
                mass_out[g] = mass
                scatter(setup[1], acc, out)
                todo[g] = False

    return top_step_groups


def top_step_weights(config: PairConfig) -> int | None:
    """Return the ``weights`` of :func:`top_step_kernel` for ``config`` (None: none)."""
    if config.selection != PairSelection.TOPK or config.need_loss:
        return None
    kind = config.lambda_kind
    if is_product.py_func(kind) and not config.pessimistic_ties:
        return PRODUCT_WEIGHTS
    if kind == LambdaKind.LAMBDALOSS and not _every.py_func(config):
        return LAMBDALOSS_WEIGHTS
    return None


def _large_group(
    rows: Rows, group: int, config: PairConfig, out: Terms, mass_out: Array
) -> None:
    """Sum the pairs of one big group, its positions cut into thread ranges.

    The setup (sort, gains, lambda weights) also runs on a pool thread, so that
    Ctrl-C interrupts it within a fraction of a second on huge groups.
    """
    setups: list[PairSetup] = []
    run_chunks(lambda _, __: setups.append(pair_setup(rows, group, config)), 1)
    setup = setups[0]
    order, lower = setup[1], setup[3]
    n_valid = order.size
    n_positions = _positions(setup, config)
    every = _every.py_func(config)
    if config.selection == PairSelection.TOPK:
        partners = n_valid - np.arange(1, n_positions + 1)
    elif config.selection == PairSelection.SAMPLED:
        partners = np.full(n_positions, config.pairs_per_row)
    elif every:  # both pairs of a and each later row
        partners = 2 * (n_valid - np.arange(1, n_positions + 1))
    else:
        partners = n_valid - lower
    cost = partners * PAIR_NS
    bounds = group_ranges(cost, chunk_count(float(cost.sum()), n_positions))
    n_workers = min(get_num_threads(), bounds.size - 1)
    accumulators = [
        Terms(np.zeros(n_valid), np.zeros(n_valid), np.zeros(n_valid))
        for _ in range(n_workers)
    ]
    masses = np.zeros(bounds.size - 1)

    def work(worker: int, chunk: int) -> None:
        first, stop = int(bounds[chunk]), int(bounds[chunk + 1])
        masses[chunk] = pair_positions(
            rows, setup, first, stop, config, accumulators[worker]
        )

    run_chunks(work, bounds.size - 1)
    for acc in accumulators:
        scatter(order, acc, out)
    mass_out[group] = masses.sum()


def pair_sums(rows: Rows, config: PairConfig, out: Terms) -> Array:
    """Sum the pair terms of every group; return each group's pair mass.

    With ``PairSelection.ALL``, the ordered pairs (i, j) with ``labels[i] >
    labels[j]`` (for a pair function of ``every_pair``, every ordered pair of
    distinct valid rows, label ties included); the other selections are described in
    :class:`PairSelection`. The pair loss ``lambda_ij * weights[i] * f(d)`` with
    ``d = (s_i - s_j) / temperature`` is credited to row i (keras_rs: the
    higher-labelled item carries the pair). The lambda weight (1 without one)
    and the score normalisation are computed from the current scores and are
    constants of the gradient. With ``PairHessian.CONSTANT`` the hessian is left
    at 0 (the caller sets it).

    Returns
    -------
    ndarray of float64, shape (n_groups,)
        ``S``, the sum over each group's pairs of twice the absolute pair
        gradient (what LightGBM's and XGBoost's query normalisation use).
    """
    sizes = np.diff(rows.offsets).astype(np.float64)
    large = sizes >= LARGE_GROUP
    if config.selection == PairSelection.TOPK:
        cost = sizes * np.minimum(sizes, config.topk) * PAIR_NS
    elif config.selection == PairSelection.SAMPLED:
        cost = sizes * config.pairs_per_row * PAIR_NS
    else:
        cost = sizes * sizes * PAIR_NS
    mass = np.zeros(sizes.size)
    todo = ~large
    weights = top_step_weights(config)
    if weights is not None:
        kernel = top_step_kernel(config.pair, weights)
        run_groups(
            lambda first, stop: kernel(first, stop, rows, config, out, mass, todo),
            np.where(large, 0.0, cost),
        )
    if todo.any():
        run_groups(
            lambda first, stop: pair_groups(first, stop, rows, config, out, mass, todo),
            np.where(todo, cost, 0.0),
        )
    for group in np.flatnonzero(large):
        _large_group(rows, int(group), config, out, mass)
    return mass


@njit(cache=True, nogil=True, inline="always")
def _fenwick_add(tree: Array, position: int, value: float) -> None:
    k = position + 1
    while k < tree.size:
        tree[k] += value
        k += k & -k


@njit(cache=True, nogil=True, inline="always")
def _fenwick_prefix(tree: Array, stop: int) -> float:
    """Sum of the values added at positions ``0 .. stop - 1``."""
    total = 0.0
    k = stop
    while k > 0:
        total += tree[k]
        k -= k & -k
    return total


@njit(cache=True, nogil=True)
def _hinge_group(
    rows: Rows, start: int, end: int, config: PairConfig, out: Terms
) -> None:
    """Compute the hinge of one group by two sweeps over its rows sorted by score.

    A pair (i, j), ``y_i > y_j``, is active when ``(s_i - s_j) / T < 1`` (the
    same floating-point expression as :func:`pair_positions`). The expression is
    monotone in both scores, so, for rows i by decreasing score, the active
    partners j are a growing prefix of the rows by decreasing score (first
    sweep: count and score sum of those with a lower label rank); for rows j by
    increasing score, the active partners i are a growing prefix of the rows by
    increasing score (second sweep: weight sum of those with a higher label
    rank). Fenwick trees over label ranks answer both in O(log n).
    """
    labels, scores, weights, _ = rows
    temperature = config.temperature
    need_loss = config.need_loss
    curvature = config.hessian == PairHessian.CURVATURE
    valid = valid_rows(labels, start, end)
    n_valid = valid.size
    if n_valid < 2:
        return
    positions = np.arange(n_valid)
    by_label = argsort_descending(-labels[valid], positions)  # ascending labels
    rank = np.empty(n_valid, dtype=np.int64)  # dense label rank, by position
    n_levels = 0
    for m in range(n_valid):
        if m > 0 and labels[valid[by_label[m]]] != labels[valid[by_label[m - 1]]]:
            n_levels += 1
        rank[by_label[m]] = n_levels
    n_levels += 1
    if n_levels < 2:
        return
    order = argsort_descending(scores[valid], positions)  # decreasing score
    inv_temperature = 1.0 / temperature
    inv_t2 = inv_temperature * inv_temperature
    reference = scores[valid[order[0]]]
    count = np.zeros(n_levels + 1)
    score_sum = np.zeros(n_levels + 1 if need_loss else 0)
    p = 0
    for q in range(n_valid):  # row i = valid[order[q]], decreasing score
        a = order[q]
        s_i = scores[valid[a]]
        while p < n_valid and (s_i - scores[valid[order[p]]]) / temperature < 1.0:
            _fenwick_add(count, rank[order[p]], 1.0)
            if need_loss:
                _fenwick_add(
                    score_sum, rank[order[p]], scores[valid[order[p]]] - reference
                )
            p += 1
        active = _fenwick_prefix(count, rank[a])  # lower labels, d < 1
        if active == 0.0:
            continue
        i = valid[a]
        w_i = weights[i]
        out.grad[i] -= w_i * active * inv_temperature
        if curvature:
            out.hess[i] += w_i * active * inv_t2
        if need_loss:
            spread = active * (s_i - reference) - _fenwick_prefix(score_sum, rank[a])
            out.loss[i] += w_i * (active - spread * inv_temperature)
    # second sweep, rows j by increasing score; ranks reversed: higher label first
    weight_sum = np.zeros(n_levels + 1)
    p = n_valid - 1
    for q in range(n_valid - 1, -1, -1):
        b = order[q]
        s_j = scores[valid[b]]
        while p >= 0 and (scores[valid[order[p]]] - s_j) / temperature < 1.0:
            k = order[p]
            _fenwick_add(weight_sum, n_levels - 1 - rank[k], weights[valid[k]])
            p -= 1
        pulled = _fenwick_prefix(weight_sum, n_levels - 1 - rank[b])
        if pulled == 0.0:
            continue
        j = valid[b]
        out.grad[j] += pulled * inv_temperature
        if curvature:
            out.hess[j] += pulled * inv_t2


@njit(cache=True, nogil=True)
def _hinge_groups(
    first: int, stop: int, rows: Rows, config: PairConfig, out: Terms
) -> None:
    for g in range(first, stop):
        _hinge_group(rows, rows.offsets[g], rows.offsets[g + 1], config, out)


def hinge_sorted(rows: Rows, config: PairConfig, out: Terms) -> None:
    """Pairwise hinge without lambda weights, O(n log n) per group.

    Same results as :func:`pair_sums` with the hinge and no lambda weight.
    """
    sizes = np.diff(rows.offsets).astype(np.float64)
    run_groups(
        lambda first, stop: _hinge_groups(first, stop, rows, config, out),
        sizes * np.log2(sizes + 1.0) * 60.0,
    )


@njit(cache=True, nogil=True)
def _squared_error_groups(
    first: int, stop: int, rows: Rows, need_loss: bool, out: Terms
) -> None:
    labels, scores, weights, offsets = rows
    for g in range(first, stop):
        start, end = offsets[g], offsets[g + 1]
        n_valid = 0
        mean = 0.0
        for i in range(start, end):
            if labels[i] >= 0:
                n_valid += 1
                mean += labels[i] - scores[i]
        if n_valid < 2:
            continue
        mean /= n_valid
        c1 = 0.0
        c2 = 0.0
        w_total = 0.0
        wc = 0.0
        for i in range(start, end):
            if labels[i] >= 0:
                c = (labels[i] - scores[i]) - mean
                c1 += c
                c2 += c * c
                w_total += weights[i]
                wc += weights[i] * c
        for i in range(start, end):
            if labels[i] >= 0:
                c = (labels[i] - scores[i]) - mean
                w = weights[i]
                if need_loss:
                    out.loss[i] = w * (n_valid * c * c - 2.0 * c * c1 + c2)
                out.grad[i] = -2.0 * (w * (n_valid * c - c1) + w_total * c - wc)
                out.hess[i] = 2.0 * ((n_valid - 2) * w + w_total)


def squared_error_sums(rows: Rows, config: PairConfig, out: Terms) -> None:
    """Pairwise squared error over all ordered pairs, O(n) per group.

    With ``r = y - s`` centred per group (``c = r - mean(r)``), the valid rows'
    count n, ``C1 = sum c``, ``C2 = sum c²``, ``W = sum w``, ``WC = sum w c``:
    ``loss_k = w_k (n c_k² - 2 c_k C1 + C2)``, ``grad_k = -2 (w_k (n c_k - C1)
    + W c_k - WC)``, ``hess_k = 2 ((n - 2) w_k + W)``.
    """
    sizes = np.diff(rows.offsets).astype(np.float64)
    need_loss = config.need_loss
    run_groups(
        lambda first, stop: _squared_error_groups(first, stop, rows, need_loss, out),
        sizes * 10.0,
    )


def constant_hessian(rows: Rows, temperature: float) -> Array:
    """``weights / T²`` on valid rows, 0 elsewhere."""
    return np.where(rows.labels >= 0, rows.weights / temperature**2, 0.0)


UNWEIGHTED = {HINGE.code: hinge_sorted, SQUARED_ERROR.code: squared_error_sums}
"""Faster algorithms of the exact sums without lambda weights, by pair function."""


def exact_sums(rows: Rows, config: PairConfig, out: Terms) -> None:
    """Sum every pair of every group (``PairSelection.ALL``): the exact terms.

    Without a lambda weight a pair function may have a faster algorithm of the
    same sums (:data:`UNWEIGHTED`); else :func:`pair_sums`. With
    ``PairHessian.CONSTANT`` the hessian is left at 0 (the caller sets it).
    """
    fast = UNWEIGHTED.get(config.pair)
    if fast is not None and config.lambda_kind == LambdaKind.NONE:
        fast(rows, config, out)
    else:
        pair_sums(rows, config, out)
