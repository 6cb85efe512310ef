"""LambdaMART (pairwise logistic + NDCG lambda weights) against native lambdarank.

With LightGBM's step (``step="lambdarank"``: pairs truncated at rank 30, score
and query normalisation, IDCG@30) gbrank's booster gradients are LightGBM's own:
trained side by side, the two boosters agree to LightGBM's float32 arithmetic.
At gbrank's defaults LambdaMART trains at least as well as native
``lambdarank`` on the bundled sample (5 bagging seeds) and on long lists.
"""

import lightgbm as lgb
import numpy as np
import pytest

import gbrank
from gbrank import metrics
from gbrank.datasets import RankingData, load_sample, make_ranking

pytestmark = pytest.mark.slow  # trains real models; CI runs them

SEEDS = range(5)
# the settings of test_lightgbm.RANK_PARAMS, with subsampling so that seeds matter
PARAMS = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "feature_fraction": 0.8,
    "verbose": -1,
    "num_threads": 2,
    "deterministic": True,
}
ROUNDS = 200


def _ndcg10_over_seeds(objective):
    train, test = load_sample("train"), load_sample("test")
    scores = []
    for seed in SEEDS:
        booster = lgb.train(
            {**PARAMS, "objective": objective, "seed": seed},
            lgb.Dataset(train.X, train.y, group=train.group),
            ROUNDS,
        )
        scores.append(
            metrics.ndcg(test.y, booster.predict(test.X), group=test.group, k=10)
        )
    return np.array(scores)


def test_lambdamart_matches_native_lambdarank():
    loss = gbrank.get_loss("pairwise_logistic", lambda_weight="ndcg")
    custom = _ndcg10_over_seeds(loss.lgb_objective)
    native = _ndcg10_over_seeds("lambdarank")
    # noise bound: 2 standard errors of the native mean over the seeds, at
    # least 0.01
    bound = max(2 * native.std(ddof=1) / np.sqrt(native.size), 0.01)
    assert custom.mean() >= native.mean() - bound, (custom, native, bound)


@pytest.mark.parametrize("data", ["long lists", "bundled sample"])
def test_gradients_equal_lightgbms_lambdarank(data):
    """Same parameters (truncation 30, sigmoid 1, lambdarank_norm, gain 2^y - 1):
    five rounds of trees and leaf values agree up to LightGBM's float32 sums and
    its sigmoid lookup table."""
    if data == "long lists":
        X, y, group, _ = make_ranking(
            n_queries=60, docs_per_query=50, n_features=10, random_state=1
        )
    else:
        X, y, group, _ = load_sample("train")
    params = {**PARAMS, "bagging_fraction": 1.0, "feature_fraction": 1.0, "seed": 0}
    native = lgb.train(
        {**params, "objective": "lambdarank"}, lgb.Dataset(X, y, group=group), 5
    )
    loss = gbrank.get_loss("pairwise_logistic", lambda_weight="ndcg", step="lambdarank")
    custom = lgb.train(
        {**params, "objective": loss.lgb_objective}, lgb.Dataset(X, y, group=group), 5
    )
    expected = native.predict(X, raw_score=True)
    got = custom.predict(X, raw_score=True)
    np.testing.assert_allclose(got, expected, atol=1e-3 * np.abs(expected).max())
    exact = gbrank.get_loss("pairwise_logistic", lambda_weight="ndcg", step="exact")
    other = lgb.train(
        {**params, "objective": exact.lgb_objective}, lgb.Dataset(X, y, group=group), 5
    )
    assert not np.allclose(other.predict(X, raw_score=True), expected, atol=1e-2)


def test_default_lambdamart_is_within_001_of_lambdarank_on_long_lists():
    """Long lists (100 rows per query), equal settings at the estimators' defaults
    (learning rate 0.1, 100 rounds, 31 leaves)."""
    data = make_ranking(
        n_queries=300, docs_per_query=100, n_features=20, vary_group_size=False,
        random_state=4,
    )  # fmt: skip
    cut = 150 * 100
    train = RankingData(data.X[:cut], data.y[:cut], data.group[:150], data.qid[:cut])
    test = RankingData(data.X[cut:], data.y[cut:], data.group[150:], data.qid[cut:])

    def ndcg10(objective):
        booster = lgb.train(
            {"objective": objective, "verbose": -1, "num_threads": 2, "seed": 0},
            lgb.Dataset(train.X, train.y, group=train.group),
            100,
        )
        return metrics.ndcg(test.y, booster.predict(test.X), group=test.group, k=10)

    loss = gbrank.get_loss("pairwise_logistic", lambda_weight="ndcg")
    assert ndcg10(loss.lgb_objective) >= ndcg10("lambdarank") - 0.01
