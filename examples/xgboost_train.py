"""XGBoost's own ``xgb.train`` with a gbrank loss as the objective.

Queries are given to the ``DMatrix`` as per-row ``qid``; the gbrank ListNet loss
is the objective (``obj=``) and a custom metric reports the loss value and
NDCG@10 on the validation set. Training stops early on NDCG@10 (the last metric).
XGBoost's native ``rank:ndcg`` at the same settings is printed for reference.

Run: ``python examples/xgboost_train.py`` (``GBRANK_EXAMPLE_ROUNDS=20`` for a
quick run).
"""

import os

import xgboost as xgb

import gbrank
from gbrank.datasets import load_sample

ROUNDS = int(os.environ.get("GBRANK_EXAMPLE_ROUNDS", "500"))

train, valid = load_sample("train"), load_sample("test")
loss = gbrank.get_loss("listnet")
ndcg10 = gbrank.metrics.xgb_eval("ndcg", 10)

# rows of a query must be contiguous; qid is one id per row
dtrain = xgb.DMatrix(train.X, train.y, qid=train.qid)
dvalid = xgb.DMatrix(valid.X, valid.y, qid=valid.qid)
params = {
    "eta": 0.05,
    "max_depth": 4,
    "tree_method": "hist",
    "base_score": 0.0,  # a custom objective starts from raw score 0
    "disable_default_eval_metric": 1,
    "seed": 0,
}


def metrics(predt, dmatrix):
    """Both metrics in one custom metric: the loss (lower is better), NDCG@10."""
    return [loss.xgb_metric(predt, dmatrix), ndcg10(predt, dmatrix)]


booster = xgb.train(
    params,
    dtrain,
    num_boost_round=ROUNDS,
    obj=loss.xgb_objective,  # the gbrank loss as a custom objective
    evals=[(dvalid, "valid")],
    custom_metric=metrics,
    maximize=True,  # early stopping watches the last metric: NDCG@10
    early_stopping_rounds=50,
    verbose_eval=25,
)


def report(name, scores):
    values = [
        gbrank.metrics.ndcg(valid.y, scores, group=valid.group, k=k)
        for k in (1, 3, 5, 10)
    ]
    average_precision = gbrank.metrics.mean_average_precision(
        valid.y, scores, group=valid.group
    )
    print(
        f"{name:<32}"
        + "".join(f"  {v:.4f}" for v in values)
        + f"  {average_precision:.4f}"
    )


best = booster.best_iteration + 1
print(f"\nbest round {best} of {booster.num_boosted_rounds()}")
print(f"{'validation':<32}  ndcg@1  ndcg@3  ndcg@5  ndcg@10 map")
scores = booster.predict(dvalid, output_margin=True, iteration_range=(0, best))
report("gbrank listnet", scores)

native = xgb.train({**params, "objective": "rank:ndcg"}, dtrain, best)
report("rank:ndcg (native, same rounds)", native.predict(dvalid))
