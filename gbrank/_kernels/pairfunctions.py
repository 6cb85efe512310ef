r"""The pair functions of the pairwise losses, one definition each.

A pairwise loss sums a pair function :math:`f` of the tempered score difference
:math:`d = (s_i - s_j) / T` over the pairs of a list, crediting each pair to its
row i. Each pair function is defined once, here: a small numba function of one
pair and a :class:`PairFunction` that says what the kernels need to know about
it, listed in :data:`PAIR_FUNCTIONS`. The pair kernels
(:mod:`gbrank._kernels.pairwise`) call :func:`pair_terms` and read the table's
flags; a loss class
(:mod:`gbrank.losses.pairwise`) names its pair function; the test oracles
evaluate the same functions in plain loops. A new pair function is one function,
one :class:`PairFunction` in :data:`PAIR_FUNCTIONS` and its branch in
:func:`pair_terms`, all here (and its values by hand in
``tests/test_pairwise.py``); a test fails while a piece is missing.

A pair function's ``terms(d, e, dy, need_loss, span, p)`` returns ``(f(d),
f'(d), curvature)``, each divided by ``span``:

- ``e``: ``exp(-|d|)`` when the caller has it (for the functions that declare
  ``exponentials``), else negative (compute it when needed);
- ``dy``: the label difference ``y_i - y_j``;
- ``need_loss``: when False, 0 stands in place of ``f(d)``;
- ``span``: the score normalisation's divisor (1 without);
- ``p``: the values of the loss parameters the function names
  (:attr:`PairFunction.parameters`), as floats, in two slots (0.0 when unused).

The curvature is :math:`f''(d)`, or the positive surrogate that the loss
documents where :math:`f''` is 0 almost everywhere or negative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from numba import njit

PairParameters = tuple[float, float]
"""The two parameter slots of a pair function."""
PairTerms = tuple[float, float, float]
"""What a pair function returns: ``(f, f', curvature)``, divided by the span."""


@dataclass(frozen=True, eq=False)
class PairFunction:
    """One pair function: its math and what the kernels need to know about it.

    Attributes
    ----------
    name : str
        Its name (also the name of its ``terms`` function).
    terms : numba function
        ``terms(d, e, dy, need_loss, span, p) ->
        (f, slope, curvature)``, divided by ``span`` (module notes).
    every_pair : bool
        Every ordered pair of distinct valid rows counts (label ties too), not
        only the pairs with ``y_i > y_j``.
    exponentials : bool
        ``terms`` reads ``e = exp(-|d|)``: the kernels then hand it over,
        computed from one exponential per row instead of one per pair.
    exact_quotient : bool
        ``d`` is computed as ``(s_i - s_j) / T`` exactly (not as a product with
        ``1 / T``): a kink that an O(n log n) algorithm places alike.
    smooth : bool
        ``f`` has a continuous derivative (no kink), so the loss is
        differentiable without lambda weights.
    parameters : tuple of str
        The loss parameters ``terms`` reads, in slot order.
    """

    name: str
    terms: Any
    every_pair: bool = False
    exponentials: bool = False
    exact_quotient: bool = False
    smooth: bool = True
    parameters: tuple[str, ...] = ()

    @property
    def code(self) -> int:
        """Its position in :data:`PAIR_FUNCTIONS` (``PairConfig.pair``)."""
        return next(k for k, f in enumerate(PAIR_FUNCTIONS) if f is self)


@njit(cache=True, nogil=True, inline="always")
def _sigmoids(d: float, e: float, span: float) -> tuple[float, float, float]:
    """``exp(-|d|)``, ``sigma(-d) / span`` and ``sigma(d) sigma(-d) / span``.

    Without overflow, from one exponential (unless given) and one division.
    """
    if e < 0.0:
        e = math.exp(-abs(d))
    scaled = 1.0 / ((1.0 + e) * span)  # 1 / ((1 + e) span)
    inv = scaled * span  # 1 / (1 + e)
    both = e * inv * scaled  # sigma(d) sigma(-d) / span
    sig_neg = e * scaled if d >= 0.0 else scaled  # sigma(-d) / span
    return e, sig_neg, both


@njit(cache=True, nogil=True, inline="always")
def hinge(
    d: float, e: float, dy: float, need_loss: bool, span: float, p: PairParameters
) -> PairTerms:
    """``max(0, 1 - d)``; curvature 1 inside the margin (the active pairs)."""
    if d < 1.0:
        return ((1.0 - d) if need_loss else 0.0) / span, -1.0 / span, 1.0 / span
    return 0.0, 0.0, 0.0


@njit(cache=True, nogil=True, inline="always")
def logistic(
    d: float, e: float, dy: float, need_loss: bool, span: float, p: PairParameters
) -> PairTerms:
    """``log(1 + exp(-d))``, as ``max(-d, 0) + log1p(exp(-|d|))``."""
    e, sig_neg, both = _sigmoids(d, e, span)
    value = (max(-d, 0.0) + math.log1p(e)) / span if need_loss else 0.0
    return value, -sig_neg, both


@njit(cache=True, nogil=True, inline="always")
def soft_zero_one(
    d: float, e: float, dy: float, need_loss: bool, span: float, p: PairParameters
) -> PairTerms:
    """``sigma(-d)``; curvature ``|f'(d)| = sigma(d) sigma(-d)`` (a bound)."""
    _, sig_neg, both = _sigmoids(d, e, span)
    return sig_neg if need_loss else 0.0, -both, both


@njit(cache=True, nogil=True, inline="always")
def squared_error(
    d: float, e: float, dy: float, need_loss: bool, span: float, p: PairParameters
) -> PairTerms:
    """``((y_i - y_j) - d)^2`` (over every ordered pair of distinct rows)."""
    residual = dy - d
    return residual * residual / span, -2.0 * residual / span, 2.0 / span


@njit(cache=True, nogil=True, inline="always")
def quantile(
    d: float, e: float, dy: float, need_loss: bool, span: float, p: PairParameters
) -> PairTerms:
    """``tau max(0, r) + (1 - tau) max(0, -r)``, ``r = (y_i - y_j) - d``, or squared.

    Parameters ``(tau, squared)``. Unsquared, the curvature is the slope of
    the side of the kink the pair is on (``tau`` up to it, ``1 - tau`` past it).
    """
    tau, squared = p[0], p[1] != 0.0
    residual = dy - d
    side = tau if residual >= 0.0 else 1.0 - tau
    if squared:
        if residual == 0.0:
            return 0.0, 0.0, 0.0
        value = side * residual * residual if need_loss else 0.0
        return value / span, -2.0 * side * residual / span, 2.0 * side / span
    value = side * abs(residual) if need_loss else 0.0
    slope = 0.0 if residual == 0.0 else (-tau if residual > 0.0 else 1.0 - tau)
    return value / span, slope / span, side / span


HINGE = PairFunction("hinge", hinge, exact_quotient=True, smooth=False)
LOGISTIC = PairFunction("logistic", logistic, exponentials=True)
SOFT_ZERO_ONE = PairFunction("soft_zero_one", soft_zero_one, exponentials=True)
SQUARED_ERROR = PairFunction("squared_error", squared_error, every_pair=True)
QUANTILE = PairFunction(
    "quantile", quantile, smooth=False, parameters=("tau", "squared")
)

PAIR_FUNCTIONS = (HINGE, LOGISTIC, SOFT_ZERO_ONE, SQUARED_ERROR, QUANTILE)
"""Every pair function; ``PairConfig.pair`` is a position in it."""


def _mask(flag: str) -> int:
    """Return the pair functions with ``flag`` as a bit mask (bit k: position k)."""
    return sum(1 << k for k, f in enumerate(PAIR_FUNCTIONS) if getattr(f, flag))


# the flags as bit masks for the kernels: a shift and an AND per pair, cheaper
# than indexing a tuple at run time (measured)
EVERY_PAIR = _mask("every_pair")
EXPONENTIALS = _mask("exponentials")
EXACT_QUOTIENT = _mask("exact_quotient")


@njit(cache=True, nogil=True, inline="always")
def has(mask: int, pair: int) -> bool:
    """Whether the pair function at position ``pair`` is in ``mask``."""
    return (mask >> pair) & 1 == 1


@njit(cache=True, nogil=True, inline="always")
def pair_terms(
    pair: int,
    d: float,
    e: float,
    dy: float,
    need_loss: bool,
    span: float,
    p: PairParameters,
) -> PairTerms:
    """Return the terms of the pair function at position ``pair`` of the table.

    One branch per entry of :data:`PAIR_FUNCTIONS`, in its order: numba cannot
    pick a function out of a tuple at run time, and a chain of branches built
    from the table costs seconds of compilation (measured); ``tests/
    test_pairwise.py`` checks every branch against its entry.
    """
    if pair == 0:
        return hinge(d, e, dy, need_loss, span, p)
    if pair == 1:
        return logistic(d, e, dy, need_loss, span, p)
    if pair == 2:
        return soft_zero_one(d, e, dy, need_loss, span, p)
    if pair == 3:
        return squared_error(d, e, dy, need_loss, span, p)
    if pair == 4:
        return quantile(d, e, dy, need_loss, span, p)
    return 0.0, 0.0, 0.0
