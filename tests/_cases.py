"""Registry-driven parameter lists and random cases shared by the tests.

One definition of each family: a *ranking* loss works on query groups
(``needs_groups``); a *single-score* loss gives one score per row (not
multiclass), so it can train a ranker.
"""

from __future__ import annotations

import gbrank
from gbrank.testing import Case, labels_for, make_case

ALL_LOSSES = gbrank.available_losses()
RANKING_LOSSES = [name for name in ALL_LOSSES if gbrank.LOSSES[name].needs_groups]
SINGLE_SCORE_LOSSES = [
    name for name in ALL_LOSSES if not gbrank.LOSSES[name].is_multiclass
]
PAIRWISE_LOSSES = [name for name in RANKING_LOSSES if not gbrank.LOSSES[name].per_group]
LISTWISE_LOSSES = [name for name in RANKING_LOSSES if gbrank.LOSSES[name].per_group]

# Losses at the edge of the bundled-sample quality gates (50 test queries; NDCG@1
# moves by ~0.05 between settings), measured at learning rates 0.04 / 0.05 / 0.06:
# the gates still run them, as non-strict expected failures.
BORDERLINE_ON_SAMPLE = {
    "neural_ndcg": (
        "NeuralNDCG trains 0.02-0.03 NDCG@10 below the native objective on the "
        "bundled sample (LightGBM 0.722 / 0.749 / 0.728, native 0.753), at the "
        "gate's margin of 0.03; within 0.01 of it on 100-row lists "
        "(benchmarks/quality.py)"
    ),
    "unique_softmax": (
        "NDCG@1 on the 50 test queries is 0.56-0.63 depending on the learning "
        "rate (gate 0.5674); NDCG@10 passes"
    ),
}


def sample_gate_params(names: list[str]) -> list:
    """``names`` as pytest parameters, the borderline ones as non-strict xfails."""
    import pytest

    return [
        pytest.param(
            name,
            marks=pytest.mark.xfail(reason=BORDERLINE_ON_SAMPLE[name], strict=False),
        )
        if name in BORDERLINE_ON_SAMPLE
        else name
        for name in names
    ]


__all__ = [
    "ALL_LOSSES",
    "BORDERLINE_ON_SAMPLE",
    "LISTWISE_LOSSES",
    "PAIRWISE_LOSSES",
    "RANKING_LOSSES",
    "SINGLE_SCORE_LOSSES",
    "Case",
    "labels_for",
    "make_case",
    "sample_gate_params",
]
