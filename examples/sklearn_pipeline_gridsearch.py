"""A scikit-learn Pipeline and GridSearchCV over gbrank losses and their parameters.

``GroupKFold`` keeps each query's rows in one fold; scikit-learn's metadata
routing passes the per-row query ids (``qid``) on to the ranker's ``fit`` and
``score`` (mean NDCG@10) and ``groups`` to the splitter. The search covers three
losses and, for the pairwise logistic loss, its temperature and lambda weights
(``ranker__loss__temperature``, ``ranker__loss__lambda_weight``); the best
pipeline is then scored on the held-out test split of the bundled sample.

Why ``reg_lambda=1``: a boosting step is a Newton step, and a loss of ``s / T``
gives gradients scaled by ``1/T`` and hessians by ``1/T**2``, so without an L2
penalty on leaf values every tree is the same with its leaves scaled by ``T``:
the ranking, hence NDCG, does not depend on the temperature at all (LightGBM's
default ``lambda_l2`` is 0). The penalty makes the temperature matter.

Run: ``python examples/sklearn_pipeline_gridsearch.py``
(``GBRANK_EXAMPLE_ROUNDS=10`` for a quick run).
"""

import os

import sklearn
from sklearn.feature_selection import VarianceThreshold
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

import gbrank
from gbrank.datasets import load_sample

ROUNDS = int(os.environ.get("GBRANK_EXAMPLE_ROUNDS", "60"))

sklearn.set_config(enable_metadata_routing=True)

train, test = load_sample("train"), load_sample("test")
ranker = gbrank.GBRankRegressor(
    n_estimators=ROUNDS,
    learning_rate=0.1,
    num_leaves=31,
    reg_lambda=1.0,
    booster_params={"min_data_in_leaf": 50},
    random_state=0,
)
# ask for qid in fit and score: Pipeline and GridSearchCV route it here
ranker = ranker.set_fit_request(qid=True).set_score_request(qid=True)
pipeline = Pipeline(
    [
        ("drop_constant", VarianceThreshold()),  # 300 sparse features, some constant
        ("ranker", ranker),
    ]
)
grid = [
    {
        "ranker__loss": [gbrank.PairwiseLogisticLoss()],
        "ranker__loss__temperature": [0.5, 2.0],
        "ranker__loss__lambda_weight": [None, "ndcg"],
    },
    {"ranker__loss": [gbrank.ListNetLoss(), "softmax"]},
]
search = GridSearchCV(pipeline, grid, cv=GroupKFold(n_splits=3))
search.fit(train.X, train.y, qid=train.qid, groups=train.qid)


def describe(params):
    loss = params["ranker__loss"]
    name = loss if isinstance(loss, str) else loss.name
    extra = [f"{key.split('__')[-1]}={value!r}" for key, value in params.items()]
    return f"{name} {' '.join(extra[1:])}".strip()


print("mean NDCG@10 over 3 query-grouped folds (mean +- std):")
results = search.cv_results_
for params, mean, std in zip(
    results["params"],
    results["mean_test_score"],
    results["std_test_score"],
    strict=True,
):
    print(f"  {mean:.4f} +- {std:.4f}  {describe(params)}")
print(f"best: {describe(search.best_params_)}")
kept = search.best_estimator_["drop_constant"].get_support().sum()
print(f"features kept by VarianceThreshold: {kept} of {train.X.shape[1]}")
test_ndcg = search.score(test.X, test.y, qid=test.qid)
print(f"test NDCG@10 of the refitted best pipeline: {test_ndcg:.4f}")
