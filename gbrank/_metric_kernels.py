"""Numba kernel of the grouped ranking metrics (NDCG, MAP, MRR, precision).

Inputs follow :mod:`gbrank._kernels`: float64 ``labels`` and ``scores`` of shape
(n_rows,), a label < 0 marks an ignored row (left out of the ranking), int64
group ``offsets``; one value per group is written into ``out``. Groups are
processed in parallel.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

NDCG = 0
MAP = 1
MRR = 2
PRECISION = 3


@njit(parallel=True, cache=True)
def ranking_metric(labels, scores, offsets, kind, k, no_relevant, out):
    """Per-group metric at cutoff ``k`` (``k <= 0``: the whole list).

    Rows are ranked by score, descending, ties kept in row order (a stable sort,
    as LightGBM's ``std::stable_sort``). A group whose valid rows are all
    irrelevant (NDCG: ideal DCG 0; others: no label > 0) scores ``no_relevant``.
    """
    n_groups = offsets.size - 1
    for g in prange(n_groups):
        start, stop = offsets[g], offsets[g + 1]
        rows = np.flatnonzero(labels[start:stop] >= 0)
        group_labels = labels[start:stop][rows]
        n_valid = rows.size
        cutoff = n_valid if k <= 0 else min(k, n_valid)
        ranked = group_labels[np.argsort(-scores[start:stop][rows], kind="mergesort")]
        if kind == NDCG:
            ideal = -np.sort(-group_labels)
            dcg = 0.0
            ideal_dcg = 0.0
            for r in range(cutoff):
                discount = 1.0 / math.log2(r + 2.0)
                dcg += (2.0 ** ranked[r] - 1.0) * discount
                ideal_dcg += (2.0 ** ideal[r] - 1.0) * discount
            out[g] = dcg / ideal_dcg if ideal_dcg > 0.0 else no_relevant
            continue
        n_relevant = 0
        for r in range(n_valid):
            if group_labels[r] > 0.0:
                n_relevant += 1
        if n_relevant == 0:
            out[g] = no_relevant
            continue
        hits = 0
        total = 0.0
        for r in range(cutoff):
            if ranked[r] > 0.0:
                hits += 1
                if kind == MAP:
                    total += hits / (r + 1.0)
                elif kind == MRR and hits == 1:
                    total = 1.0 / (r + 1.0)
        if kind == MAP:
            out[g] = total / min(n_relevant, cutoff)
        elif kind == MRR:
            out[g] = total
        else:
            out[g] = hits / cutoff
