"""Multiclass classification with gbrank's categorical cross-entropy.

``GBRankClassifier(loss="categorical_cross_entropy")`` trains one tree per class
and round with the exact softmax gradient and the engine's own hessian
convention, so it reproduces the native multiclass objectives (LightGBM
``multiclass`` without ``boost_from_average``, XGBoost ``multi:softprob`` with a
constant ``base_score``) on the digits data. The example prints accuracy, log
loss and the largest difference in predicted probability between the gbrank
and native models.

Run: ``python examples/classification.py`` (``GBRANK_EXAMPLE_ROUNDS=10`` for a
quick run).
"""

import os

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from gbrank import GBRankClassifier

ROUNDS = int(os.environ.get("GBRANK_EXAMPLE_ROUNDS", "100"))

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
n_classes = len(np.unique(y))
settings = {"n_estimators": ROUNDS, "learning_rate": 0.1, "random_state": 0}

gbrank_lgb = GBRankClassifier(backend="lightgbm", **settings).fit(X_train, y_train)
native_lgb = lgb.LGBMClassifier(
    objective="multiclass", boost_from_average=False, verbose=-1, **settings
).fit(X_train, y_train)

gbrank_xgb = GBRankClassifier(backend="xgboost", **settings).fit(X_train, y_train)
# XGBoost >= 2 estimates an intercept from the labels; a constant one (which the
# softmax ignores) gives the model gbrank trains from raw score 0
native_xgb = xgb.XGBClassifier(
    objective="multi:softprob", tree_method="hist", base_score=0.5, **settings
).fit(X_train, y_train)

print(f"digits: {n_classes} classes, {len(y_train)} train / {len(y_test)} test rows")
print(f"{'model':<42}  accuracy  log loss  max |dp| vs native")
for engine, ours, native in (
    ("LightGBM", gbrank_lgb, native_lgb),
    ("XGBoost", gbrank_xgb, native_xgb),
):
    native_proba = native.predict_proba(X_test)
    for name, model in (
        (f"gbrank categorical_cross_entropy ({engine})", ours),
        (f"native {native.get_params()['objective']} ({engine})", native),
    ):
        proba = model.predict_proba(X_test)
        accuracy = accuracy_score(y_test, model.predict(X_test))
        difference = np.abs(proba - native_proba).max()
        print(
            f"{name:<42}  {accuracy:8.4f}  {log_loss(y_test, proba):8.4f}"
            f"  {difference:.1e}"
        )
