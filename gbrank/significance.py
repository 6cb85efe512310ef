r"""Paired significance tests over queries: is a difference between rankers real.

Two rankers scored on the same test queries give two per-query metric vectors
(e.g. :meth:`gbrank.metrics.RankingMetric.per_query`). Their mean difference is
the headline number; whether it is more than noise is a question about the
per-query differences :math:`d_q = a_q - b_q`, which are paired (the same
query is easy or hard for both). :func:`paired_test` answers it with a paired
randomisation (sign-flip) test, the test TREC-style evaluations use, and a
Student-t confidence interval of the mean difference.

Examples
--------
>>> import numpy as np
>>> from gbrank.significance import paired_test
>>> rng = np.random.default_rng(0)
>>> base = rng.uniform(size=500)
>>> result = paired_test(base + 0.02 + rng.normal(0, 0.05, 500), base)
>>> round(result.difference, 3), result.p_value < 0.01, result.significant()
(0.017, True, True)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from gbrank._validation import as_float_array, check_int, check_real, check_same_shape

__all__ = ["PairedTest", "against_best", "best_references", "holm", "paired_test"]

_BATCH = 256
"""Sign-flip resamples drawn at once (memory: ``_BATCH`` x number of queries)."""


class PairedTest(NamedTuple):
    """Result of :func:`paired_test`.

    Attributes
    ----------
    difference : float
        Mean of ``a - b`` over the queries.
    p_value : float
        Two-sided p-value of the paired randomisation test.
    ci_low, ci_high : float
        Confidence interval of the mean difference (Student t).
    n_queries : int
    """

    difference: float
    p_value: float
    ci_low: float
    ci_high: float
    n_queries: int

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether ``p_value < alpha``."""
        return self.p_value < alpha


def paired_test(
    a: ArrayLike,
    b: ArrayLike,
    *,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedTest:
    r"""Paired randomisation test and confidence interval of ``mean(a - b)``.

    Parameters
    ----------
    a, b : array-like of shape (n_queries,)
        Per-query values of two rankers on the same queries, in the same order.
    n_resamples : int, default 10_000
        Random sign flips drawn for the null distribution.
    confidence : float, default 0.95
        Level of the confidence interval, in (0, 1).
    seed : int, default 0
        Seed of the sign flips (the result is deterministic for a seed).

    Returns
    -------
    PairedTest

    Notes
    -----
    Under the null hypothesis that the two rankers are exchangeable on every
    query, each difference :math:`d_q` is as likely to have either sign. The
    p-value is the share of the :math:`R` resamples whose mean
    :math:`\frac{1}{n}\sum_q \epsilon_q d_q` (:math:`\epsilon_q = \pm 1` at
    random) is at least as far from 0 as the observed mean, counting the observed
    arrangement itself: :math:`p = (1 + \#\{|\bar d^*| \ge |\bar d|\}) / (R + 1)`,
    so it is never 0 (its floor is :math:`1 / (R + 1)`). The interval is
    :math:`\bar d \pm t_{n-1}\, s_d / \sqrt{n}`. With all differences 0, the
    p-value is 1 and the interval is [0, 0].

    References
    ----------
    M. D. Smucker, J. Allan, B. Carterette, "A Comparison of Statistical
    Significance Tests for Information Retrieval Evaluation", CIKM 2007.
    """
    first = as_float_array(a, "a", ndim=(1,))
    second = as_float_array(b, "b", ndim=(1,))
    check_same_shape(first, "a", second, "b")
    check_int(n_resamples, "n_resamples")
    check_real(
        confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True
    )
    check_int(seed, "seed", minimum=0)
    n = first.size
    if n < 2:
        raise ValueError(
            f"a paired test needs at least 2 queries, got {n}; evaluate on more "
            "queries."
        )
    differences = first - second
    observed = float(differences.mean())
    rng = np.random.default_rng(seed)
    # compare with a relative tolerance: sign flips that reproduce the observed
    # arrangement must count as "as extreme" despite rounding
    threshold = abs(observed) * (1.0 - 1e-12)
    extreme = 0
    for start in range(0, n_resamples, _BATCH):
        count = min(_BATCH, n_resamples - start)
        signs = rng.integers(0, 2, size=(count, n), dtype=np.int8) * 2 - 1
        means = signs @ differences / n
        extreme += int(np.count_nonzero(np.abs(means) >= threshold))
    p_value = (1 + extreme) / (n_resamples + 1)
    from scipy import stats  # a slow import: only when used

    spread = float(differences.std(ddof=1)) / np.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * spread
    return PairedTest(observed, p_value, observed - half, observed + half, n)


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values of a family of tests.

    Compare each adjusted p-value with the family-wise level (e.g. 0.05): the
    chance that any of the tests is a false discovery stays below it.

    Parameters
    ----------
    p_values : array-like of shape (n_tests,)

    Returns
    -------
    ndarray of shape (n_tests,)
        Adjusted p-values, in the order given.

    Examples
    --------
    >>> from gbrank.significance import holm
    >>> holm([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    values = as_float_array(p_values, "p_values", ndim=(1,))
    order = np.argsort(values, kind="stable")
    m = values.size
    scaled = values[order] * (m - np.arange(m))
    adjusted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def best_references(
    groups: Sequence[Hashable], is_reference: Sequence[bool], means: Sequence[float]
) -> dict[Hashable, int]:
    """Index of the reference entry with the highest mean, per group.

    Parameters
    ----------
    groups : sequence
        The group of each entry (e.g. its engine).
    is_reference : sequence of bool
        Whether an entry may serve as the reference (e.g. a native objective).
    means : sequence of float
        The score that picks the best reference (ties: the first entry).

    Returns
    -------
    dict
        Group -> index of its best reference; groups without one are left out.
    """
    best: dict[Hashable, int] = {}
    for index, (group, reference) in enumerate(zip(groups, is_reference, strict=True)):
        if reference and (group not in best or means[index] > means[best[group]]):
            best[group] = index
    return best


def against_best(
    per_query: Sequence[ArrayLike],
    groups: Sequence[Hashable],
    is_reference: Sequence[bool],
    means: Sequence[float] | None = None,
) -> dict[int, PairedTest]:
    """Paired tests of every other entry against its group's best reference.

    Parameters
    ----------
    per_query : sequence of array-like
        Each entry's per-query metric, over the same queries.
    groups, is_reference
        As :func:`best_references`.
    means : sequence of float or None, default None
        What picks the best reference; None: the mean of ``per_query``.

    Returns
    -------
    dict
        Index of an entry that is not a reference -> :func:`paired_test` of its
        ``per_query`` against the best reference of its group (entries of a
        group without a reference are left out).

    Examples
    --------
    >>> from gbrank.significance import against_best
    >>> tests = against_best(
    ...     [[0.5, 0.6, 0.7], [0.4, 0.6, 0.6], [0.6, 0.7, 0.8]],
    ...     ["lightgbm"] * 3,
    ...     [True, True, False],
    ... )
    >>> list(tests), round(tests[2].difference, 3)
    ([2], 0.1)
    """
    if means is None:
        means = [float(np.mean(np.asarray(values, float))) for values in per_query]
    best = best_references(groups, is_reference, means)
    return {
        index: paired_test(per_query[index], per_query[best[group]])
        for index, (group, reference) in enumerate(
            zip(groups, is_reference, strict=True)
        )
        if not reference and group in best
    }
