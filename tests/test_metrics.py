import math

import lightgbm as lgb
import numpy as np
import pytest
import sklearn
import xgboost as xgb
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold, cross_validate

from gbrank import metrics
from gbrank._groups import make_groups, one_group

CUTOFFS = [1, 3, 5, 10, 30]
LGB_PARAMS = {"verbose": -1, "num_threads": 2, "seed": 0, "min_data_in_leaf": 20}


@pytest.fixture(scope="module")
def tied_predictions(lambdarank_data):
    """Scores of a 1-round, 4-leaf model on rank.test: few values, many ties."""
    d = lambdarank_data
    dtrain = lgb.Dataset(d.X, d.y, group=d.group)
    dtest = lgb.Dataset(d.X_test, d.y_test, group=d.group_test, reference=dtrain)
    params = {**LGB_PARAMS, "objective": "lambdarank", "num_leaves": 4}
    params |= {"metric": ["ndcg", "map"], "eval_at": CUTOFFS}
    booster = lgb.train(
        params, dtrain, 1, valid_sets=[dtest], keep_training_booster=True
    )
    evals = {name: value for _, name, value, _ in booster.eval(dtest, "test")}
    return evals, booster.predict(d.X_test)


@pytest.fixture(scope="module")
def graded_predictions(lambdarank_data):
    d = lambdarank_data
    dtrain = lgb.Dataset(d.X, d.y, group=d.group)
    params = {**LGB_PARAMS, "objective": "lambdarank"}
    booster = lgb.train(params, dtrain, num_boost_round=10)
    return booster.predict(d.X_test)


@pytest.mark.parametrize("k", CUTOFFS)
@pytest.mark.parametrize("metric", ["ndcg", "map"])
def test_matches_lightgbm_eval(lambdarank_data, tied_predictions, metric, k):
    evals, scores = tied_predictions
    assert np.unique(scores).size <= 4  # ties decide the ranking
    expected = evals[f"{metric}@{k}"]
    got = metrics.ranking_metric(
        metric, lambdarank_data.y_test, scores, group=lambdarank_data.group_test, k=k
    )
    assert got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_ndcg_matches_xgboost_eval(lambdarank_data, graded_predictions, k):
    d = lambdarank_data
    dtest = xgb.DMatrix(d.X_test, d.y_test, group=d.group_test)
    dtest.set_base_margin(graded_predictions)
    # zero boosting rounds: XGBoost's metric sees exactly the base margins
    params = {"eval_metric": f"ndcg@{k}", "ndcg_exp_gain": True, "base_score": 0.0}
    booster = xgb.train(params, dtest, num_boost_round=0)
    text = booster.eval(dtest, "test")
    expected = float(text.split(":")[-1])
    got = metrics.ndcg(d.y_test, graded_predictions, group=d.group_test, k=k)
    assert got == pytest.approx(expected, abs=1e-5)


def test_all_zero_query_scores_no_relevant_like_engines():
    y = np.array([0.0, 0.0, 0.0, 2.0, 0.0, 1.0])
    s = np.array([0.3, 0.2, 0.1, 0.1, 0.5, 0.4])
    group = [3, 3]
    second = metrics.ndcg(y[3:], s[3:], group=[3], k=None)
    assert metrics.ndcg(y, s, group=group, k=None) == pytest.approx((1 + second) / 2)
    assert metrics.ndcg(y, s, group=group, k=None, no_relevant=0.0) == pytest.approx(
        second / 2
    )
    dmat = xgb.DMatrix(np.zeros((6, 1)), y, group=group)
    dmat.set_base_margin(s)
    booster = xgb.train({"eval_metric": "ndcg", "base_score": 0.0}, dmat, 0)
    xgb_value = float(booster.eval(dmat).split(":")[-1])
    assert metrics.ndcg(y, s, group=group, k=None) == pytest.approx(xgb_value, 1e-6)


def test_hand_computed_values():
    # query 1 ranks labels [0, 2, 1]; query 2 ranks [1, 0, 0, 1]
    y = [2, 0, 1, 0, 1, 1, 0]
    s = [0.5, 0.9, 0.1, 0.2, 0.8, 0.0, 0.3]
    group = [3, 4]
    # AP: q1 relevant at ranks 2, 3 -> (1/2 + 2/3) / 2; q2 at 1, 4 -> (1 + 2/4) / 2
    assert metrics.mean_average_precision(y, s, group=group) == pytest.approx(
        ((1 / 2 + 2 / 3) / 2 + (1 + 1 / 2) / 2) / 2
    )
    # AP@2: q1 (1/2) / min(2, 2); q2 (1) / min(2, 2)
    assert metrics.mean_average_precision(y, s, group=group, k=2) == pytest.approx(
        (1 / 4 + 1 / 2) / 2
    )
    assert metrics.mrr(y, s, group=group) == pytest.approx((1 / 2 + 1) / 2)
    assert metrics.mrr(y, s, group=group, k=1) == pytest.approx(0.5)
    assert metrics.precision(y, s, group=group, k=2) == pytest.approx(
        (1 / 2 + 1 / 2) / 2
    )
    # k beyond a list's length cuts at the list: q1 2/3, q2 2/4
    assert metrics.precision(y, s, group=group, k=10) == pytest.approx(
        (2 / 3 + 2 / 4) / 2
    )
    dcg = 3 / np.log2(3) + 1 / np.log2(4)
    idcg = 3 + 1 / np.log2(3)
    assert metrics.ndcg(y[:3], s[:3], group=[3], k=3) == pytest.approx(dcg / idcg)


def test_ties_keep_row_order():
    # equal scores: the earlier row ranks first (stable sort, as LightGBM)
    assert metrics.mrr([0, 1], [1.0, 1.0], group=[2]) == pytest.approx(0.5)
    assert metrics.mrr([1, 0], [1.0, 1.0], group=[2]) == pytest.approx(1.0)


def test_qid_equals_group_and_query_order_is_irrelevant():
    rng = np.random.default_rng(0)
    group = np.array([3, 5, 1, 4])
    y = rng.integers(0, 3, size=group.sum())
    s = rng.normal(size=group.sum())
    qid = np.repeat([7, 2, 9, 4], group)
    for metric in metrics.METRICS:
        by_group = metrics.ranking_metric(metric, y, s, group=group, k=3)
        assert metrics.ranking_metric(metric, y, s, qid=qid, k=3) == by_group
        order = np.argsort(qid, kind="stable")
        shuffled = metrics.ranking_metric(
            metric, y[order], s[order], qid=qid[order], k=3
        )
        assert shuffled == pytest.approx(by_group)


@pytest.mark.parametrize("metric", sorted(metrics.METRICS))
def test_per_query_values_of_parts_add_up_to_the_mean(metric):
    rng = np.random.default_rng(1)
    group = np.array([3, 5, 1, 4, 6])
    y = rng.integers(0, 3, size=group.sum()).astype(float)
    s = rng.normal(size=group.sum())
    scorer = metrics.RankingMetric(metric=metric, k=3)
    values = scorer.per_query(y, s, make_groups(y.size, group=group))
    assert values.shape == (5,)
    whole = metrics.ranking_metric(metric, y, s, group=group, k=3)
    assert scorer.value(y, s, make_groups(y.size, group=group)) == whole
    cut = group[:2].sum()  # two parts of whole queries, as Dask partitions
    first = scorer.per_query(y[:cut], s[:cut], make_groups(cut, group=group[:2]))
    rest = make_groups(y.size - cut, group=group[2:])
    second = scorer.per_query(y[cut:], s[cut:], rest)
    assert (first.sum() + second.sum()) / 5 == pytest.approx(whole, rel=1e-15)


@pytest.mark.parametrize("metric", sorted(metrics.METRICS))
def test_no_relevant_parameter(metric):
    y, s = [0, 0, 1, 0], [0.1, 0.2, 0.3, 0.4]
    one = metrics.ranking_metric(metric, y, s, group=[2, 2], k=1, no_relevant=1.0)
    zero = metrics.ranking_metric(metric, y, s, group=[2, 2], k=1, no_relevant=0.0)
    assert one - zero == pytest.approx(0.5)


def test_ignored_rows_are_left_out():
    y, s = [1, -1, 0], [0.1, 0.9, 0.5]
    one = metrics.ndcg([1, 0], [0.1, 0.5], group=[2], k=None)
    assert metrics.ndcg(y, s, group=[3], k=None) == one
    assert metrics.mrr(y, s, group=[3]) == pytest.approx(0.5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="k must be None or an integer >= 1"):
        metrics.ndcg([1, 0], [1.0, 0.0], group=[2], k=0)
    with pytest.raises(ValueError, match="metric='auc' is not supported"):
        metrics.ranking_metric("auc", [1, 0], [1.0, 0.0], group=[2])
    with pytest.raises(
        ValueError, match=r"no_relevant must be a finite number in \[0, 1\]"
    ):
        metrics.mrr([1, 0], [1.0, 0.0], group=[2], no_relevant=2.0)
    with pytest.raises(ValueError, match="y_true has shape"):
        metrics.ndcg([1, 0], [1.0, 0.0, 2.0], group=[2])
    with pytest.raises(ValueError, match="group sizes sum to 3"):
        metrics.ndcg([1, 0], [1.0, 0.0], group=[3])
    with pytest.raises(ValueError, match="k must be None or an integer >= 1"):
        metrics.lgb_eval("ndcg", k=-1)


def test_lgb_eval_early_stopping(lambdarank_data):
    d = lambdarank_data
    dtrain = lgb.Dataset(d.X, d.y, group=d.group)
    dtest = lgb.Dataset(d.X_test, d.y_test, group=d.group_test, reference=dtrain)
    feval = metrics.lgb_eval("ndcg", 10)
    assert feval.name == "ndcg@10"
    result: dict = {}
    params = {**LGB_PARAMS, "objective": "lambdarank", "metric": "None"}
    booster = lgb.train(
        params,
        dtrain,
        num_boost_round=15,
        valid_sets=[dtest],
        feval=feval,
        callbacks=[lgb.early_stopping(5, verbose=False), lgb.record_evaluation(result)],
    )
    recorded = result["valid_0"]["ndcg@10"]
    best = booster.predict(d.X_test, num_iteration=booster.best_iteration)
    assert booster.best_score["valid_0"]["ndcg@10"] == max(recorded)
    assert max(recorded) == pytest.approx(
        metrics.ndcg(d.y_test, best, group=d.group_test, k=10)
    )


def test_xgb_eval_custom_metric(lambdarank_data, graded_predictions):
    d = lambdarank_data
    dtest = xgb.DMatrix(d.X_test, d.y_test, qid=np.repeat(np.arange(50), d.group_test))
    dtest.set_base_margin(graded_predictions)
    result: dict = {}
    xgb.train(
        {"base_score": 0.0, "disable_default_eval_metric": 1},
        dtest,
        0,
        evals=[(dtest, "test")],
        custom_metric=metrics.xgb_eval("mrr", None),
        evals_result=result,
    )
    booster = xgb.train({"base_score": 0.0}, dtest, 0)
    name, value = metrics.xgb_eval("mrr", None)(booster.predict(dtest), dtest)
    assert name == "mrr"
    assert value == pytest.approx(
        metrics.mrr(d.y_test, graded_predictions, group=d.group_test)
    )


def test_ndcg_scorer_with_metadata_routing(lambdarank_data):
    d = lambdarank_data
    scorer = metrics.ndcg_scorer(k=5)
    assert repr(scorer) == "RankingScorer(k=5)"
    model = Ridge().fit(d.X, d.y)
    qid = np.repeat(np.arange(d.group_test.size), d.group_test)
    assert scorer(model, d.X_test, d.y_test, qid=qid) == pytest.approx(
        metrics.ndcg(d.y_test, model.predict(d.X_test), group=d.group_test, k=5)
    )
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(
            Ridge(),
            d.X_test,
            d.y_test,
            scoring=scorer,
            cv=GroupKFold(3),
            params={"qid": qid, "groups": qid},
        )
    assert result["test_score"].shape == (3,)
    assert np.all((result["test_score"] > 0) & (result["test_score"] <= 1))


def test_ndcg_gain_domain():
    """2**y - 1 is computed for labels up to 961; beyond, float64 overflows."""
    top = metrics.ndcg(
        [961.0, 961.0, 961.0, 0.0], [1.0, 2.0, 3.0, 0.0], group=[4], k=None
    )
    assert top == 1.0
    assert metrics.ndcg([961.0, 0.0], [0.0, 1.0], group=[2], k=None) == (
        pytest.approx(1 / math.log2(3))
    )
    for scorer in (
        lambda y: metrics.ndcg(y, [0.0, 1.0], group=[2]),
        lambda y: metrics.ranking_scorer("ndcg").value(y, [0.0, 1.0], one_group(2)),
    ):
        with pytest.raises(
            ValueError,
            match=r"NDCG uses the gain 2\*\*y - 1, which gbrank computes for labels "
            r"up to 961 \(larger gains overflow float64\); y_true\[1\] = 1024.0",
        ):
            scorer([0.0, 1024.0])
    # the other metrics need no gain
    assert metrics.mrr([0.0, 1e300], [0.0, 1.0], group=[2]) == 1.0


# -- no query structure: an error, never one silent query ----------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda y, s: metrics.ndcg(y, s),
        lambda y, s: metrics.mean_average_precision(y, s),
        lambda y, s: metrics.mrr(y, s, k=3),
        lambda y, s: metrics.precision(y, s),
        lambda y, s: metrics.ranking_metric("ndcg", y, s, k=10),
    ],
    ids=["ndcg", "map", "mrr", "precision", "ranking_metric"],
)
def test_metrics_without_query_structure_raise(call):
    y, s = [2.0, 0.0, 1.0, 0.0], [0.1, 0.4, 0.3, 0.2]
    with pytest.raises(
        ValueError,
        match=r"the query structure of y_true is missing .* pass group= .* or qid= "
        r".* To rank all rows as one query on purpose, pass group=\[4\]\.",
    ):
        call(y, s)
    # one query on purpose, explicitly
    assert metrics.ndcg(y, s, group=[4]) == metrics.ndcg(y, s, qid=[5, 5, 5, 5])


def test_scorer_without_query_structure_names_metadata_routing(lambdarank_data):
    d = lambdarank_data
    model = Ridge().fit(d.X, d.y)
    with pytest.raises(
        ValueError,
        match=r"the query structure of the rows this scorer got is missing .*: it "
        r"got neither qid nor group\. .*enable_metadata_routing=True",
    ):
        metrics.ndcg_scorer()(model, d.X_test, d.y_test)


def test_cross_validate_without_routing_cannot_score_by_query(lambdarank_data):
    """scikit-learn turns the scorer's error into NaN scores and a warning."""
    d = lambdarank_data
    with pytest.warns(UserWarning, match="the query structure of the rows this"):
        result = cross_validate(
            Ridge(), d.X_test, d.y_test, scoring=metrics.ndcg_scorer(), cv=3
        )
    assert np.isnan(result["test_score"]).all()


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_engine_eval_functions_without_query_structure_raise(engine):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 3, size=40).astype(float)
    preds = rng.normal(size=40)
    if engine == "lightgbm":
        data = lgb.Dataset(X, y, free_raw_data=False).construct()
        feval, where = metrics.lgb_eval("ndcg", 10), "eval lightgbm.Dataset"
        hint = r"lightgbm\.Dataset\(X, y, group=group_sizes\)"
    else:
        data = xgb.DMatrix(X, y)
        feval, where = metrics.xgb_eval("ndcg", 10), "eval xgboost.DMatrix"
        hint = r"xgboost\.DMatrix\(X, y, qid=qid\)"
    message = rf"query structure of the {where} is missing .*{hint}"
    with pytest.raises(ValueError, match=message):
        feval(preds, data)
