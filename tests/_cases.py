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
# pairwise losses that take any lambda weight and booster step (lambdaloss and
# yetirank bring their own pair weights)
PAIRWISE_LOSSES = [
    name
    for name in RANKING_LOSSES
    if not gbrank.LOSSES[name].per_group
    and "lambda_weight" in gbrank.LOSSES[name]._param_names()
]
LISTWISE_LOSSES = [name for name in RANKING_LOSSES if gbrank.LOSSES[name].per_group]

__all__ = [
    "ALL_LOSSES",
    "LISTWISE_LOSSES",
    "PAIRWISE_LOSSES",
    "RANKING_LOSSES",
    "SINGLE_SCORE_LOSSES",
    "Case",
    "labels_for",
    "make_case",
]
