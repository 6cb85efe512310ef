"""XGBoost adapters of gbrank losses (public path of :mod:`gbrank.engines.xgboost`).

``objective(loss)``, ``loss_metric(loss)`` and ``ranking_metric(metric, k)``
build them.

Examples
--------
>>> import numpy as np
>>> import xgboost as xgb
>>> import gbrank
>>> rng = np.random.default_rng(0)
>>> X, y = rng.normal(size=(60, 3)), rng.integers(0, 3, size=60)
>>> loss = gbrank.get_loss("softmax")
>>> dtrain = xgb.DMatrix(X, y, qid=np.repeat([0, 1, 2], 20))
>>> booster = xgb.train({"max_depth": 2}, dtrain, 3,
...                     obj=gbrank.xgboost.objective(loss))
>>> booster.predict(dtrain, output_margin=True).shape
(60,)
"""

from gbrank.engines.xgboost import (
    XGBoostEngine,
    XGBoostEval,
    XGBoostMetric,
    XGBoostObjective,
    dmatrix_groups,
    loss_metric,
    objective,
    ranking_metric,
)

__all__ = [
    "XGBoostEngine",
    "XGBoostEval",
    "XGBoostMetric",
    "XGBoostObjective",
    "dmatrix_groups",
    "loss_metric",
    "objective",
    "ranking_metric",
]
