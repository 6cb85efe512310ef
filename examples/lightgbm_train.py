"""LightGBM's own ``lgb.train`` with a gbrank loss as the objective.

LambdaMART written as a gbrank loss (the pairwise logistic loss with NDCG lambda
weights) trains on the bundled sample; NDCG@10 and the loss value are reported
per round on the validation set and training stops early when NDCG@10 stops
improving. LightGBM's native ``lambdarank`` at the same settings is
printed for reference.

Run: ``python examples/lightgbm_train.py`` (``GBRANK_EXAMPLE_ROUNDS=20`` for a
quick run).
"""

import os

import lightgbm as lgb

import gbrank
from gbrank.datasets import load_sample

ROUNDS = int(os.environ.get("GBRANK_EXAMPLE_ROUNDS", "500"))

train, valid = load_sample("train"), load_sample("test")
loss = gbrank.get_loss("pairwise_logistic", lambda_weight="ndcg")

dtrain = lgb.Dataset(train.X, train.y, group=train.group)
dvalid = lgb.Dataset(valid.X, valid.y, group=valid.group, reference=dtrain)
params = {
    "objective": loss.lgb_objective,  # the gbrank loss as a custom objective
    "metric": "None",  # only the custom metrics below
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "seed": 0,
    "verbosity": -1,
}
booster = lgb.train(
    params,
    dtrain,
    num_boost_round=ROUNDS,
    valid_sets=[dvalid],
    valid_names=["valid"],
    # NDCG@10 (higher is better) and the loss value (lower is better)
    feval=[gbrank.metrics.lgb_eval("ndcg", 10), loss.lgb_metric],
    callbacks=[
        lgb.early_stopping(50, first_metric_only=True),  # on NDCG@10
        lgb.log_evaluation(25),
    ],
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
        f"{name:<34}"
        + "".join(f"  {v:.4f}" for v in values)
        + f"  {average_precision:.4f}"
    )


print(f"\nbest round: {booster.best_iteration}")
print(f"{'validation':<34}  ndcg@1  ndcg@3  ndcg@5  ndcg@10 map")
scores = booster.predict(valid.X, num_iteration=booster.best_iteration)
report("gbrank pairwise_logistic + ndcg", scores)

native = lgb.train(
    {**params, "objective": "lambdarank"},
    dtrain,
    num_boost_round=max(booster.best_iteration, 1),
)
report("lambdarank (native, same rounds)", native.predict(valid.X))
