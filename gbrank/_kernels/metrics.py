"""Kernel of the grouped ranking metrics (NDCG, MAP, MRR, precision).

Inputs follow :mod:`gbrank._kernels`: float64 ``labels`` and ``scores``, a
label < 0 marks an ignored row (left out of the ranking), int64 group
``offsets``; one value per group is written into ``out``.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import NamedTuple

from numba import njit

from gbrank._kernels.common import Array, IntArray, argsort_descending, valid_rows


class Metric(IntEnum):
    """The ranking metrics."""

    NDCG = 0
    MAP = 1
    MRR = 2
    PRECISION = 3


class MetricConfig(NamedTuple):
    """Options of :func:`ranking_metric`.

    Attributes
    ----------
    metric : int
        A :class:`Metric`.
    k : int
        Cutoff; ``k <= 0`` ranks the whole list.
    no_relevant : float
        Value of a group whose valid rows are all irrelevant.
    """

    metric: int
    k: int
    no_relevant: float


@njit(cache=True, nogil=True)
def ranking_metric(
    first: int,
    stop: int,
    labels: Array,
    scores: Array,
    offsets: IntArray,
    config: MetricConfig,
    out: Array,
) -> None:
    """Per-group metric of the groups ``first <= g < stop``.

    Rows are ranked by score, descending, ties kept in row order (a stable sort,
    as LightGBM's ``std::stable_sort``). A group whose valid rows are all
    irrelevant (NDCG: ideal DCG 0; others: no label > 0) scores
    ``config.no_relevant``.
    """
    for g in range(first, stop):
        rows = valid_rows(labels, offsets[g], offsets[g + 1])
        n_valid = rows.size
        cutoff = n_valid if config.k <= 0 else min(config.k, n_valid)
        ranked = labels[argsort_descending(scores, rows)]
        if config.metric == Metric.NDCG:
            ideal = labels[argsort_descending(labels, rows)]
            dcg = 0.0
            ideal_dcg = 0.0
            for r in range(cutoff):
                discount = 1.0 / math.log2(r + 2.0)
                dcg += (2.0 ** ranked[r] - 1.0) * discount
                ideal_dcg += (2.0 ** ideal[r] - 1.0) * discount
            out[g] = dcg / ideal_dcg if ideal_dcg > 0.0 else config.no_relevant
            continue
        n_relevant = 0
        for r in range(n_valid):
            if ranked[r] > 0.0:
                n_relevant += 1
        if n_relevant == 0:
            out[g] = config.no_relevant
            continue
        hits = 0
        total = 0.0
        for r in range(cutoff):
            if ranked[r] > 0.0:
                hits += 1
                if config.metric == Metric.MAP:
                    total += hits / (r + 1.0)
                elif config.metric == Metric.MRR and hits == 1:
                    total = 1.0 / (r + 1.0)
        if config.metric == Metric.MAP:
            out[g] = total / min(n_relevant, cutoff)
        elif config.metric == Metric.MRR:
            out[g] = total
        else:
            out[g] = hits / cutoff
