import pickle

import lightgbm as lgb
import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.datasets import load_breast_cancer, load_digits, load_wine

import gbrank
from gbrank.lightgbm import LightGBMMetric, LightGBMObjective

from ._cases import SAMPLE_GATE_SLACK, SINGLE_SCORE_LOSSES
from .conftest import ndcg_at, small_ranking, training_label

PARAMS = {"verbose": -1, "num_threads": 2, "seed": 0, "deterministic": True}
# Tree settings shared by the native objective and every gbrank loss. ndcg@1 on the
# 50 test queries moves by ~0.05 between settings; at learning rate 0.1 with 100
# rounds the hinge and softmax reach ndcg@1 = 0.555 / 0.557 (threshold 0.5674).
RANK_PARAMS = {
    **PARAMS,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 50,
}
RANK_ROUNDS = 200


@pytest.mark.parametrize("load", [load_wine, load_digits], ids=["wine", "digits"])
def test_cce_matches_native_multiclass(load):
    X, y = load(return_X_y=True)
    params = {**PARAMS, "num_class": int(y.max()) + 1}
    native = lgb.train(
        {**params, "objective": "multiclass", "boost_from_average": False},
        lgb.Dataset(X, y),
        num_boost_round=20,
    )
    loss = gbrank.get_loss("categorical_cross_entropy")
    custom = lgb.train(
        {**params, "objective": loss.lgb_objective}, lgb.Dataset(X, y), 20
    )
    proba = loss.activation(custom.predict(X))
    assert np.abs(proba - native.predict(X)).max() < 1e-6


@pytest.mark.parametrize("objective", ["binary", "cross_entropy"])
def test_sigmoid_ce_matches_native(objective):
    X, y = load_breast_cancer(return_X_y=True)
    native = lgb.train(
        {**PARAMS, "objective": objective, "boost_from_average": False},
        lgb.Dataset(X, y),
        num_boost_round=20,
    )
    loss = gbrank.get_loss("sigmoid_cross_entropy")
    custom = lgb.train(
        {**PARAMS, "objective": loss.lgb_objective}, lgb.Dataset(X, y), 20
    )
    assert np.abs(expit(custom.predict(X)) - native.predict(X)).max() < 1e-6


@pytest.fixture(scope="module")
def native_ndcg10(lambdarank_data):
    d = lambdarank_data
    dtrain = lgb.Dataset(d.X, d.y, group=d.group)
    booster = lgb.train({**RANK_PARAMS, "objective": "lambdarank"}, dtrain, RANK_ROUNDS)
    return ndcg_at(d, booster.predict(d.X_test), 10)


@pytest.mark.slow
@pytest.mark.parametrize("name", SINGLE_SCORE_LOSSES)
def test_ranking_loss_trains_like_lambdarank(lambdarank_data, native_ndcg10, name):
    d = lambdarank_data
    loss = gbrank.get_loss(name)
    dtrain = lgb.Dataset(d.X, training_label(loss, d.y), group=d.group)
    params = {**RANK_PARAMS, "objective": loss.lgb_objective}
    booster = lgb.train(params, dtrain, RANK_ROUNDS)
    scores = booster.predict(d.X_test)
    got = {k: ndcg_at(d, scores, k) for k in (1, 3, 10)}
    slack = SAMPLE_GATE_SLACK.get(name, 0.0)
    assert got[10] > native_ndcg10 - 0.03 - slack, (got, native_ndcg10)
    # LightGBM's own thresholds for this data (tests/python_package_test)
    assert got[1] > 0.5674 - slack, got
    assert got[3] > 0.578 - slack, got


SMALL = {**PARAMS, "min_data_in_leaf": 3, "num_leaves": 7}


def test_training_is_deterministic():
    X, y, group = small_ranking()
    loss = gbrank.get_loss("softmax")
    preds = [
        lgb.train(
            {**SMALL, "objective": loss.lgb_objective},
            lgb.Dataset(X, y, group=group),
            5,
        ).predict(X)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(preds[0], preds[1])


@pytest.mark.parametrize("name", SINGLE_SCORE_LOSSES)
def test_objective_uses_dataset_groups_and_weights(name):
    X, y, group = small_ranking()
    loss = gbrank.get_loss(name)
    y = training_label(loss, y)
    weight = np.repeat([1.0, 0.0, 2.0, 0.0, 0.5], group)
    scores = np.random.default_rng(1).normal(size=y.size)
    dataset = lgb.Dataset(X, y, group=group, weight=weight).construct()
    grad, hess = loss.lgb_objective(scores, dataset)
    expected = loss.booster_grad_hess(y, scores, group=group, sample_weight=weight)
    np.testing.assert_array_equal(grad, expected[0])
    np.testing.assert_array_equal(hess, expected[1])
    # zero-weight queries == dropped queries
    keep = weight > 0
    dropped = lgb.Dataset(X[keep], y[keep], group=group[[0, 2, 4]], weight=weight[keep])
    grad_kept, _ = loss.lgb_objective(scores[keep], dropped.construct())
    np.testing.assert_allclose(grad[keep], grad_kept, rtol=1e-12, atol=1e-15)
    assert np.all(grad[~keep] == 0)


def test_weights_change_training():
    X, y, group = small_ranking()
    loss = gbrank.get_loss("pairwise_hinge")
    params = {**SMALL, "objective": loss.lgb_objective}
    plain = lgb.train(params, lgb.Dataset(X, y, group=group), 5).predict(X)
    weight = np.repeat([1.0, 3.0, 1.0, 0.2, 1.0], group)
    weighted = lgb.Dataset(X, y, group=group, weight=weight)
    assert not np.allclose(lgb.train(params, weighted, 5).predict(X), plain)


def test_no_group_raises_and_one_query_is_explicit():
    """lgb.train(objective="lambdarank") refuses a Dataset without group too."""
    X, y, _ = small_ranking()
    loss = gbrank.get_loss("softmax")
    scores = np.linspace(-1, 1, y.size)
    no_group = lgb.Dataset(X, y, free_raw_data=False).construct()
    message = (
        r"the query structure of the {} lightgbm\.Dataset is missing .* "
        r"lightgbm\.Dataset\(X, y, group=group_sizes\).* pass group=\[50\]\."
    )
    with pytest.raises(ValueError, match=message.format("training")):
        loss.lgb_objective(scores, no_group)
    with pytest.raises(ValueError, match=message.format("training")):
        lgb.train({**PARAMS, "objective": loss.lgb_objective}, no_group, 2)
    with pytest.raises(ValueError, match=message.format("eval")):
        loss.lgb_metric(scores, no_group)
    one_query = lgb.Dataset(X, y, group=[y.size]).construct()
    grad, _ = loss.lgb_objective(scores, one_query)
    np.testing.assert_array_equal(grad, loss.booster_grad_hess(y, scores)[0])
    # a loss that needs no groups trains without them
    pointwise = gbrank.get_loss("pointwise_mse")
    grad, _ = pointwise.lgb_objective(scores, no_group)
    np.testing.assert_array_equal(grad, pointwise.booster_grad_hess(y, scores)[0])


def test_sklearn_regressor_with_a_ranking_loss_names_lgbm_ranker():
    X, y, _ = small_ranking()
    loss = gbrank.get_loss("pairwise_hinge")
    regressor = lgb.LGBMRegressor(
        objective=loss.lgb_sklearn_objective, n_estimators=2, verbose=-1
    )
    with pytest.raises(
        ValueError,
        match=r"query structure of the rows LightGBM's scikit-learn estimator "
        r"passed is missing .*LGBMRanker\(objective=loss\.lgb_sklearn_objective\)",
    ):
        regressor.fit(X, y)


def test_sklearn_ranker_and_classifier():
    X, y, group = small_ranking()
    loss = gbrank.get_loss("pairwise_hinge")
    kwargs = {"n_estimators": 5, "min_child_samples": 3, "verbose": -1, "n_jobs": 2}
    ranker = lgb.LGBMRanker(
        objective=loss.lgb_sklearn_objective, num_leaves=7, **kwargs
    )  # the tree settings of SMALL
    ranker.fit(X, y, group=group)
    booster = lgb.train(
        {**SMALL, "objective": loss.lgb_objective, "min_child_samples": 3},
        lgb.Dataset(X, y, group=group),
        5,
    )
    np.testing.assert_allclose(ranker.predict(X), booster.predict(X))
    Xw, yw = load_wine(return_X_y=True)
    cce = gbrank.get_loss("categorical_cross_entropy")
    clf = lgb.LGBMClassifier(objective=cce.lgb_sklearn_objective, **kwargs).fit(Xw, yw)
    assert np.mean(np.argmax(clf.predict(Xw, raw_score=True), axis=1) == yw) > 0.9
    with pytest.raises(ValueError, match="2-D scores"):
        cce.lgb_sklearn_objective(yw, np.zeros(yw.size), None, None)


def test_metric_with_early_stopping_and_cv(lambdarank_data):
    d = lambdarank_data
    loss = gbrank.get_loss("softmax")
    dtrain = lgb.Dataset(d.X, d.y, group=d.group)
    dtest = lgb.Dataset(d.X_test, d.y_test, group=d.group_test, reference=dtrain)
    params = {**RANK_PARAMS, "objective": loss.lgb_objective, "metric": "None"}
    booster = lgb.train(
        params,
        dtrain,
        30,
        valid_sets=[dtest],
        feval=loss.lgb_metric,
        callbacks=[lgb.early_stopping(3, verbose=False)],
    )
    best = booster.best_score["valid_0"]["softmax"]
    scores = booster.predict(d.X_test, num_iteration=booster.best_iteration)
    assert best == pytest.approx(loss.loss(d.y_test, scores, group=d.group_test))
    result = lgb.cv(
        params,
        lgb.Dataset(d.X, d.y, group=d.group),
        num_boost_round=5,
        folds=gbrank.lightgbm.query_folds(d.group, 3),  # lightgbm's would split queries
        feval=loss.lgb_metric,
        seed=0,
    )
    assert len(result["valid softmax-mean"]) == 5


def test_metric_value_and_adapters_pickle():
    X, y, group = small_ranking()
    loss = gbrank.get_loss("pairwise_hinge", temperature=0.5)
    scores = np.linspace(-1, 1, y.size)
    dataset = lgb.Dataset(X, y, group=group).construct()
    name, value, higher = loss.lgb_metric(scores, dataset)
    assert (name, higher) == ("pairwise_hinge", False)
    assert value == loss.loss(y, scores, group=group)
    for adapter in (loss.lgb_objective, loss.lgb_sklearn_objective, loss.lgb_metric):
        assert pickle.loads(pickle.dumps(adapter)) == adapter
    assert repr(loss.lgb_objective) == (
        "LightGBMObjective(loss=PairwiseHingeLoss(temperature=0.5))"
    )
    cce = gbrank.get_loss("categorical_cross_entropy")
    assert LightGBMMetric(cce).loss.hessian_factor == "lightgbm"
    with pytest.raises(TypeError, match="loss must be a gbrank Loss"):
        LightGBMObjective("softmax")


def test_multiclass_metric_takes_2d_predictions():
    X, y = load_wine(return_X_y=True)
    cce = gbrank.get_loss("categorical_cross_entropy")
    dataset = lgb.Dataset(X, y).construct()
    scores = np.random.default_rng(0).normal(size=(y.size, 3))
    _, value, _ = cce.lgb_metric(scores, dataset)
    assert value == pytest.approx(
        -np.mean(np.log(softmax(scores, axis=1)[np.arange(y.size), y]))
    )


# -- cross-validation keeps queries (and positions) whole ----------------------------


def _distinct_sizes():
    """Queries of 3, 4, ..., 17 rows, so a fold's group sizes name its queries."""
    sizes = np.arange(3, 18)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(sizes.sum(), 4))
    y = rng.integers(0, 3, size=sizes.sum()).astype(float)
    return X, y, sizes


def test_lightgbm_cv_splits_queries_and_gbrank_refuses_it():
    X, y, sizes = _distinct_sizes()
    params = {**SMALL, "objective": gbrank.SoftmaxLoss().lgb_objective}
    with pytest.raises(
        ValueError,
        match=r"holds \d+ of the \d+ rows of query \d+: lightgbm.cv keeps queries "
        r"whole only for LightGBM's own ranking objectives.* "
        r"gbrank.lightgbm.cv\(params, train_set, ...\) or pass "
        r"folds=gbrank.lightgbm.query_folds\(group\)",
    ):
        lgb.cv(params, lgb.Dataset(X, y, group=sizes), 2, nfold=3, stratified=False)


def test_gbrank_cv_folds_hold_whole_queries_and_their_positions():
    X, y, sizes = _distinct_sizes()
    position = np.concatenate([np.arange(1, n + 1) for n in sizes])
    seen = []

    class Spy(LightGBMObjective):
        def __call__(self, preds, train_data):
            fold = np.asarray(train_data.used_indices)
            from_data = np.asarray(train_data.reference.get_position())[fold] + 1
            seen.append((train_data.get_group().tolist(), fold, from_data))
            return super().__call__(preds, train_data)

    objective = Spy(gbrank.SoftmaxLoss(), position_bias="ipw")
    result = gbrank.lightgbm.cv(
        {**SMALL, "objective": objective},
        lgb.Dataset(X, y, group=sizes, position=position),
        num_boost_round=2,
        nfold=3,
        feval=gbrank.metrics.lgb_eval("ndcg", 5),
    )
    assert len(result["valid ndcg@5-mean"]) == 2
    assert len(seen) == 2 * 3  # rounds x folds
    query = np.repeat(np.arange(sizes.size), sizes)
    for group_sizes, fold, positions in seen:
        held = np.unique(query[fold])
        assert sorted(group_sizes) == sorted(sizes[held].tolist())  # whole queries
        np.testing.assert_array_equal(positions, position[fold])  # positions follow
    validated = sorted(set().union(*(set(query) - set(query[f]) for _, f, _ in seen)))
    assert validated == list(range(sizes.size))


def test_cv_needs_groups_and_no_folds_and_no_learned_offsets():
    X, y, sizes = _distinct_sizes()
    params = {**SMALL, "objective": gbrank.SoftmaxLoss().lgb_objective}
    with pytest.raises(ValueError, match="train_set has no query groups"):
        gbrank.lightgbm.cv(params, lgb.Dataset(X, y))
    with pytest.raises(TypeError, match="makes the folds itself"):
        gbrank.lightgbm.cv(params, lgb.Dataset(X, y, group=sizes), folds=[])
    position = np.concatenate([np.arange(1, n + 1) for n in sizes])
    learned = {**SMALL, "objective": LightGBMObjective(gbrank.SoftmaxLoss())}
    with pytest.raises(
        ValueError, match="learned position offsets cannot be fitted in cross-valid"
    ):
        gbrank.lightgbm.cv(learned, lgb.Dataset(X, y, group=sizes, position=position))


def test_adapters_used_in_the_wrong_api_say_which_to_use():
    X, y, group = small_ranking()
    loss = gbrank.get_loss("softmax")
    ranker = lgb.LGBMRanker(objective=loss.lgb_objective, n_estimators=2, verbose=-1)
    with pytest.raises(TypeError, match=r"need objective=loss\.lgb_sklearn_objective"):
        ranker.fit(X, y, group=group)
    Xw, yw = load_wine(return_X_y=True)
    cce = gbrank.get_loss("categorical_cross_entropy")
    with pytest.raises(
        ValueError, match=r"needs 2-D scores .* set num_class .* in the engine param"
    ):
        lgb.train({**PARAMS, "objective": cce.lgb_objective}, lgb.Dataset(Xw, yw), 2)


def test_early_stopping_runs_after_the_recording_of_each_round():
    """lightgbm.train orders callbacks by an instance attribute ``order``."""
    from gbrank.engines.lightgbm import FirstEvalSetStopping

    X, y, group = small_ranking()
    loss = gbrank.get_loss("softmax")
    data = lgb.Dataset(X, y, group=group)
    result: dict = {}
    stop = FirstEvalSetStopping(3)
    booster = lgb.train(
        {**PARAMS, "objective": loss.lgb_objective, "learning_rate": 0.5,
         "min_data_in_leaf": 2, "metric": "None"},
        data, 300, valid_sets=[lgb.Dataset(X, y, group=group, reference=data)],
        feval=gbrank.metrics.lgb_eval("ndcg", 1),
        callbacks=[stop, lgb.record_evaluation(result)],
    )  # fmt: skip
    curve = result["valid_0"]["ndcg@1"]
    assert len(curve) < 300
    assert len(curve) == booster.best_iteration + 3  # every round trained recorded
