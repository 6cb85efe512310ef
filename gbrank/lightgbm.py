"""LightGBM adapters of gbrank losses (public path of :mod:`gbrank.engines.lightgbm`).

``objective(loss)``, ``sklearn_objective(loss)``, ``loss_metric(loss)`` and
``ranking_metric(metric, k)`` build them; ``cv`` cross-validates by query.

Examples
--------
>>> import lightgbm as lgb
>>> import numpy as np
>>> import gbrank
>>> rng = np.random.default_rng(0)
>>> X, y = rng.normal(size=(60, 3)), rng.integers(0, 3, size=60)
>>> loss = gbrank.get_loss("pairwise_hinge")
>>> dtrain = lgb.Dataset(X, y, group=[20, 20, 20])
>>> params = {"objective": gbrank.lightgbm.objective(loss), "verbose": -1,
...           "min_data_in_leaf": 5}
>>> booster = lgb.train(params, dtrain, num_boost_round=3)
>>> booster.predict(X).shape
(60,)
"""

from gbrank._groups import query_folds
from gbrank.engines.lightgbm import (
    LightGBMEngine,
    LightGBMEval,
    LightGBMMetric,
    LightGBMObjective,
    LightGBMSklearnObjective,
    cv,
    loss_metric,
    objective,
    ranking_metric,
    sklearn_objective,
)

__all__ = [
    "LightGBMEngine",
    "LightGBMEval",
    "LightGBMMetric",
    "LightGBMObjective",
    "LightGBMSklearnObjective",
    "cv",
    "loss_metric",
    "objective",
    "query_folds",
    "ranking_metric",
    "sklearn_objective",
]
