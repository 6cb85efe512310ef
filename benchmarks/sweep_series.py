"""Derive the far-pair series of ``gbrank._kernels.approx_sweep`` in exact arithmetic.

Usage::

    python benchmarks/sweep_series.py [--near 0.125] [--degree 25] [--digits 21]

With :math:`u = e^{-x} \\in (0, u_0]`, :math:`u_0 \\ge e^{-\\mathrm{NEAR}}`, the
far pairs' :math:`f(x) = \\sigma(-x) = u \\, p(u)` and :math:`g(x) = \\sigma'(x) = u
\\, q(u)` with :math:`p = 1/(1 + u)`, :math:`q = 1/(1 + u)^2`. Their Taylor
series (coefficients :math:`(-1)^k` and :math:`(-1)^k (k + 1)`), taken to
degree N where the tail is below ``10**-digits``, are economised down to
``degree`` on :math:`[0, u_0]`: from the top, each term :math:`c_m u^m` is
replaced by :math:`c_m (u^m - T^*_m(u) / \\mathrm{lead}(T^*_m))`, with the
shifted Chebyshev polynomial :math:`T^*_m(u) = T_m(2u/u_0 - 1)`, which is at most
1 in absolute value on the interval. All in :class:`fractions.Fraction`, so the
only rounding is the final one to float64. Prints the coefficients (``_F_TERMS``,
``_G_TERMS``) and the bound of the truncation error on :math:`[0, u_0]` (the sum of
the removed Chebyshev multiples plus the Taylor tail). The default takes a few
minutes.
"""

from __future__ import annotations

import argparse
import math
from fractions import Fraction

Polynomial = list[Fraction]


def times(a: Polynomial, b: Polynomial) -> Polynomial:
    out = [Fraction(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


def shifted_chebyshev(top: int, u0: Fraction) -> list[Polynomial]:
    """``T_m(2u/u0 - 1)`` for ``m = 0..top``, as coefficients in u."""
    out = [[Fraction(1)], [Fraction(-1), 2 / u0]]
    twice_t = [Fraction(-2), 4 / u0]
    for m in range(1, top):
        following = times(twice_t, out[m])
        for i, c in enumerate(out[m - 1]):
            following[i] -= c
        out.append(following)
    return out


def economise(
    taylor: Polynomial, degree: int, chebyshev: list[Polynomial]
) -> tuple[Polynomial, Fraction]:
    """Lower ``taylor`` to ``degree``; return it and the bound of the change."""
    c = list(taylor)
    bound = Fraction(0)
    for m in range(len(c) - 1, degree, -1):
        multiple = c[m] / chebyshev[m][m]
        for i, x in enumerate(chebyshev[m]):
            c[i] -= multiple * x
        bound += abs(multiple)
    return c[: degree + 1], bound


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--near", type=float, default=0.125)
    parser.add_argument("--degree", type=int, default=25)
    parser.add_argument("--digits", type=int, default=21)
    args = parser.parse_args(argv)
    # a rational u0 just above e^-NEAR
    u0 = Fraction(math.exp(-args.near)).limit_denominator(10**6) + Fraction(1, 10**6)
    top = int(args.digits / -math.log10(u0)) + 1
    chebyshev = shifted_chebyshev(top, u0)
    power = u0 ** (top + 1)
    for name, series, tail in [  # the Taylor tails beyond degree ``top``
        ("_F_TERMS", [Fraction((-1) ** k) for k in range(top + 1)], power / (1 - u0)),
        (
            "_G_TERMS",
            [Fraction((-1) ** k * (k + 1)) for k in range(top + 1)],
            power * (top + 2) / (1 - u0) ** 2,
        ),
    ]:
        coefficients, bound = economise(series, args.degree, chebyshev)
        error = float(bound + tail)
        print(f"{name}: error <= {error:.1e} on [0, {float(u0)}]")
        print(", ".join(repr(float(c)) for c in coefficients))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
