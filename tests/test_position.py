"""Position bias: learned per-position offsets and inverse-propensity weights."""

from __future__ import annotations

import copy
import pickle

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from sklearn.base import clone

import gbrank
from gbrank import GBRankClassifier, GBRankRegressor
from gbrank.lightgbm import LightGBMObjective
from gbrank.position import (
    DEFAULT_MAX_POSITION,
    LearnedPositionBias,
    PowerLawPropensity,
    TablePropensity,
    check_positions,
    ipw_weights,
)
from gbrank.xgboost import XGBoostObjective

from ._cases import SINGLE_SCORE_LOSSES
from .conftest import small_ranking, training_label

ADAPTERS = [LightGBMObjective, XGBoostObjective]


def _positions(group):
    """Positions 1..size in row order within each query."""
    return np.concatenate([np.arange(1, size + 1) for size in group])


def _click_data(n_queries=1500, docs=10, seed=0):
    """Clicks from relevance x examination (1/k); randomised display order.

    Relevance is a function of the features only, and positions are a random
    permutation per query, so the log examination curve is identifiable.
    """
    rng = np.random.default_rng(seed)
    group = np.full(n_queries, docs)
    n_rows = group.sum()
    X = rng.normal(size=(n_rows, 3))
    relevance = 1 / (1 + np.exp(-(2 * X[:, 0] - 1)))
    position = np.concatenate([rng.permutation(docs) + 1 for _ in group])
    click = (rng.random(n_rows) < relevance / position).astype(np.float64)
    qid = np.repeat(np.arange(n_queries), docs)
    return X, click, group, qid, position


@pytest.fixture(scope="module")
def clicks():
    return _click_data()


TRUE_LOG_BIAS = np.log(1 / np.arange(1, 11))


def _check_recovered(offsets):
    assert offsets.shape == (10,)
    assert offsets[0] == 0.0
    assert np.corrcoef(offsets, TRUE_LOG_BIAS)[0, 1] > 0.98, offsets
    # softmax's model is multiplicative in exp(score): the offsets are the curve
    assert np.abs(offsets - TRUE_LOG_BIAS).max() < 0.35, offsets


def test_lightgbm_dataset_route_recovers_the_bias(clicks):
    X, click, group, _, position = clicks
    objective = gbrank.get_loss("softmax").lgb_objective
    # LightGBM keeps position codes by first appearance: list the first query in
    # display order so that code c is position c + 1
    first = np.argsort(position[: group[0]])
    order = np.concatenate([first, np.arange(group[0], click.size)])
    dtrain = lgb.Dataset(X[order], click[order], group=group, position=position[order])
    params = {"objective": objective, "verbose": -1, "num_threads": 2, "seed": 0}
    booster = lgb.train({**params, "num_leaves": 7}, dtrain, 60)
    # lightgbm.train calls a deep copy; the offsets reach the caller's object
    _check_recovered(objective.position_offsets_)
    assert objective.position_bias.n_updates_ == 60
    # prediction ignores the offsets: the trees alone
    assert booster.predict(X).shape == (click.size,)


def test_xgboost_route_recovers_the_bias(clicks):
    X, click, group, _, position = clicks
    bias = LearnedPositionBias()
    objective = XGBoostObjective(
        gbrank.get_loss("softmax"), position=position, position_bias=bias
    )
    dtrain = xgb.DMatrix(X, click, group=group)
    params = {"max_depth": 3, "nthread": 2, "seed": 0, "base_score": 0.0}
    xgb.train(params, dtrain, 60, obj=objective)
    assert objective.position_bias is bias
    _check_recovered(bias.offsets_)
    np.testing.assert_array_equal(objective.position_offsets_, bias.offsets_)


@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_estimator_recovers_the_bias_and_predicts_without_it(clicks, backend):
    X, click, _, qid, position = clicks
    ranker = GBRankRegressor(
        loss="softmax",
        backend=backend,
        n_estimators=60,
        num_leaves=7,
        random_state=0,
        n_jobs=2,
    ).fit(X, click, qid=qid, position=position)
    _check_recovered(ranker.position_offsets_)
    assert isinstance(ranker.position_bias_, LearnedPositionBias)
    assert ranker.position_bias is None  # the parameter is left alone
    raw = (
        ranker.booster_.predict(X, raw_score=True)
        if backend == "lightgbm"
        else ranker.booster_.predict(xgb.DMatrix(X), output_margin=True)
    )
    np.testing.assert_allclose(ranker.predict(X), raw)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=["lightgbm", "xgboost"])
@pytest.mark.parametrize("name", SINGLE_SCORE_LOSSES)
def test_objective_evaluates_at_offsets_and_takes_a_newton_step(adapter, name):
    X, y, group = small_ranking()
    loss = gbrank.get_loss(name)
    y = training_label(loss, y)
    position = _positions(group)
    bias = LearnedPositionBias(learning_rate=0.5, reg_lambda=0.1)
    objective = adapter(loss, position=position, position_bias=bias)
    data = (
        lgb.Dataset(X, y, group=group).construct()
        if adapter is LightGBMObjective
        else xgb.DMatrix(X, y, group=group)
    )
    preds = np.random.default_rng(2).normal(size=y.size)
    # first round: offsets start at 0
    grad, hess = objective(preds, data)
    expected = objective.loss.booster_grad_hess(y, preds, group=group)
    np.testing.assert_array_equal(grad, expected[0])
    np.testing.assert_array_equal(hess, expected[1])
    index = position - 1
    g_sum = np.bincount(index, weights=grad)
    h_sum = np.bincount(index, weights=hess)
    step = 0.5 * g_sum / (h_sum + 0.1)
    step[0] = 0.0
    np.testing.assert_allclose(bias.offsets_, -step, rtol=1e-12, atol=1e-15)
    # second round: the loss is evaluated at scores plus offsets
    offsets = bias.offsets_.copy()
    grad, hess = objective(preds, data)
    expected = objective.loss.booster_grad_hess(y, preds + offsets[index], group=group)
    np.testing.assert_array_equal(grad, expected[0])
    np.testing.assert_array_equal(hess, expected[1])
    g_sum = np.bincount(index, weights=grad)
    h_sum = np.bincount(index, weights=hess)
    step = 0.5 * (g_sum + 0.1 * offsets) / (h_sum + 0.1)
    step[0] = 0.0
    np.testing.assert_allclose(bias.offsets_, offsets - step, rtol=1e-12, atol=1e-15)
    assert bias.n_updates_ == 2
    # reset starts again from 0
    objective.reset()
    objective(preds, data)
    assert bias.n_updates_ == 1


@pytest.mark.parametrize("adapter", ADAPTERS, ids=["lightgbm", "xgboost"])
@pytest.mark.parametrize("name", SINGLE_SCORE_LOSSES)
def test_ipw_gradients_equal_explicit_weights(adapter, name):
    X, y, group = small_ranking()
    loss = gbrank.get_loss(name)
    y = training_label(loss, y)
    position = _positions(group)
    propensity = PowerLawPropensity(eta=0.7, max_weight=5.0)
    objective = adapter(loss, position=position, position_bias=propensity)
    data = (
        lgb.Dataset(X, y, group=group).construct()
        if adapter is LightGBMObjective
        else xgb.DMatrix(X, y, group=group)
    )
    preds = np.random.default_rng(3).normal(size=y.size)
    grad, hess = objective(preds, data)
    weights = np.where(y > 0, np.minimum(position**0.7, 5.0), 1.0)
    expected = objective.loss.booster_grad_hess(
        y, preds, group=group, sample_weight=weights
    )
    np.testing.assert_allclose(grad, expected[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hess, expected[1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(propensity.weights(y, position), weights)


def test_ipw_multiplies_sample_weights_and_tables():
    y = np.array([1.0, 0.0, 2.0, 1.0])
    position = np.array([1, 2, 3, 9])
    weight = np.array([2.0, 3.0, 0.5, 1.0])
    got = PowerLawPropensity(eta=1.0).weights(y, position, weight)
    np.testing.assert_allclose(got, [2.0, 3.0, 1.5, 9.0])
    table = TablePropensity(propensities=[1.0, 0.5, 0.25])
    np.testing.assert_allclose(table.weights(y, position), [1.0, 1.0, 4.0, 4.0])
    np.testing.assert_allclose(
        ipw_weights(y, [1.0, 0.5, 0.25, 0.1], sample_weight=weight, max_weight=5),
        [2.0, 3.0, 2.0, 5.0],
    )


@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_estimator_ipw_equals_explicit_weights(clicks, backend):
    X, click, _, qid, position = clicks
    settings = {"backend": backend, "n_estimators": 5, "random_state": 0, "n_jobs": 1}
    ipw = GBRankRegressor(loss="softmax", position_bias="ipw", **settings).fit(
        X, click, qid=qid, position=position
    )
    weighted = GBRankRegressor(loss="softmax", **settings).fit(
        X, click, qid=qid, sample_weight=np.where(click > 0, position, 1.0)
    )
    np.testing.assert_allclose(ipw.predict(X), weighted.predict(X))
    assert ipw.position_bias_ == PowerLawPropensity()
    assert not hasattr(ipw, "position_offsets_")


@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_classifier_with_sigmoid_ce_and_positions(clicks, backend):
    X, click, _, _, position = clicks
    clf = GBRankClassifier(
        loss="sigmoid_cross_entropy",
        backend=backend,
        n_estimators=40,
        num_leaves=7,
        random_state=0,
        n_jobs=2,
    ).fit(X, click, position=position)
    offsets = clf.position_offsets_
    assert offsets[0] == 0.0
    assert np.corrcoef(offsets, TRUE_LOG_BIAS)[0, 1] > 0.95
    assert np.all(np.diff(offsets) < 0.1)
    assert clf.predict_proba(X).shape == (click.size, 2)


def test_unsorted_qid_sorts_positions_with_the_rows(clicks):
    X, click, _, qid, position = clicks
    rows = np.random.default_rng(0).permutation(click.size)
    settings = {"loss": "softmax", "n_estimators": 3, "random_state": 0, "n_jobs": 1}
    sorted_fit = GBRankRegressor(**settings).fit(X, click, qid=qid, position=position)
    shuffled = GBRankRegressor(**settings).fit(
        X[rows], click[rows], qid=qid[rows], position=position[rows]
    )
    np.testing.assert_allclose(
        sorted_fit.position_offsets_, shuffled.position_offsets_, rtol=1e-10
    )


@pytest.mark.parametrize(
    ("position", "match"),
    [
        (np.array([1.0, 2.5, 3.0, 4.0]), r"position must hold integers; position\[1\]"),
        (np.array([1, 0, 2, 3]), r"position must be >= 1 .*position\[1\] = 0"),
        (np.array([1, 2, -3, 4]), r"position must be >= 1"),
        (np.array([1.0, np.nan, 2.0, 3.0]), r"position contains NaN or inf at index 1"),
        (np.array([1, 2, 3]), r"position has 3 entries for 4 rows"),
        (np.ones((2, 2)), r"position must be 1-D"),
        (np.array([], dtype=int), r"position is empty"),
    ],
)
def test_bad_positions(position, match):
    with pytest.raises(ValueError, match=match):
        check_positions(position, 4)


def test_bad_position_types_and_estimator_errors(clicks):
    with pytest.raises(TypeError, match="position must hold integers >= 1"):
        check_positions(np.array(["1", "2"]), 2)
    X, click, _, qid, position = clicks
    ranker = GBRankRegressor(loss="softmax", n_estimators=2)
    with pytest.raises(ValueError, match=r"position has 9 entries for 15000 rows"):
        ranker.fit(X, click, qid=qid, position=position[:9])
    with pytest.raises(ValueError, match="position must be >= 1"):
        ranker.fit(X, click, qid=qid, position=position - 1)
    with pytest.raises(
        ValueError, match=r"position_bias='ipw' needs display positions"
    ):
        GBRankRegressor(position_bias="ipw").fit(X, click, qid=qid)
    with pytest.raises(ValueError, match="position_bias='clicks' is not supported"):
        GBRankRegressor(position_bias="clicks").fit(
            X, click, qid=qid, position=position
        )
    with pytest.raises(ValueError, match="'categorical_cross_entropy' is multiclass"):
        GBRankClassifier(n_estimators=2).fit(X, click, position=position)


def test_objective_errors():
    X, y, group = small_ranking()
    position = _positions(group)
    loss = gbrank.get_loss("softmax")
    with pytest.raises(ValueError, match="'categorical_cross_entropy' is multiclass"):
        LightGBMObjective(gbrank.get_loss("categorical_cross_entropy"), position=[1])
    objective = XGBoostObjective(loss, position=position[:-1])
    with pytest.raises(ValueError, match="position has 49 entries but the training"):
        objective(np.zeros(y.size), xgb.DMatrix(X, y, group=group))
    with pytest.raises(ValueError, match="position must be >= 1"):
        LightGBMObjective(loss, position=position - 1)
    with pytest.raises(
        ValueError, match=r"learning_rate must be a finite number in \(0, 1\]"
    ):
        LightGBMObjective(loss, position_bias=LearnedPositionBias(learning_rate=0))
    with pytest.raises(
        ValueError, match="max_position must be None or an integer >= 1"
    ):
        LearnedPositionBias(max_position=0).check()
    with pytest.raises(ValueError, match="reg_lambda must be a finite number"):
        LearnedPositionBias(reg_lambda=-1).check()
    with pytest.raises(ValueError, match="eta must be a finite number >= 0"):
        PowerLawPropensity(eta=np.nan).check()
    with pytest.raises(ValueError, match=r"propensities must lie in \(0, 1\]"):
        TablePropensity(propensities=[1.0, 0.0]).check()
    with pytest.raises(ValueError, match="max_weight must be a finite number >= 1"):
        PowerLawPropensity(max_weight=0.5).check()
    with pytest.raises(ValueError, match=r"propensity must lie in \(0, 1\]"):
        ipw_weights([1, 0], [0.5, 1.5])


def test_max_position_shares_the_last_offset():
    bias = LearnedPositionBias(max_position=3)
    position = np.array([1, 2, 3, 4, 7])
    bias.start(position)
    bias.update(position, np.array([0.0, 1.0, 1.0, 1.0, 1.0]), np.ones(5))
    np.testing.assert_allclose(bias.offsets_, [0.0, -1.0, -1.0])
    np.testing.assert_allclose(bias.offset(position), [0, -1, -1, -1, -1])


def test_positions_are_bounded_so_a_stray_one_costs_no_memory():
    """One row at position 1e8 used to allocate 763 MiB of offsets."""
    bias = LearnedPositionBias()
    bias.start(np.array([1, 2, 3]))
    assert bias.offsets_.shape == (3,)  # the positions seen, up to the default cap
    bias.start(np.array([1, 5000, 10**8]))
    assert bias.offsets_.shape == (DEFAULT_MAX_POSITION,)
    bias.update(np.array([1, 5000, 10**8]), np.array([0.0, 1.0, 1.0]), np.ones(3))
    np.testing.assert_allclose(bias.offset(np.array([1000, 5000, 10**8])), -1.0)
    with pytest.raises(
        ValueError,
        match=r"max_position=10000000000 is too large: it must be an integer in "
        r"\[1, 1000000\]",
    ):
        LearnedPositionBias(max_position=10**10).check()
    with pytest.raises(ValueError, match=r"position must be at most 2\*\*62"):
        check_positions(np.array([1.0, 1e30]))


def test_objects_pickle_compare_and_clone():
    objects = [
        LearnedPositionBias(max_position=5, learning_rate=0.5),
        PowerLawPropensity(eta=0.5),
        TablePropensity(propensities=np.array([1.0, 0.5])),
    ]
    for obj in objects:
        assert pickle.loads(pickle.dumps(obj)) == obj
        assert obj.fresh() == obj
        assert obj != LearnedPositionBias(reg_lambda=2.0)
    assert repr(objects[0]) == "LearnedPositionBias(max_position=5, learning_rate=0.5)"
    fitted = LearnedPositionBias()
    fitted.start(np.array([1, 2]))
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.offsets_, fitted.offsets_)
    ranker = GBRankRegressor(position_bias=objects[0])
    assert clone(ranker).get_params()["position_bias"] == objects[0]
    assert ranker.get_params()["position_bias"] is objects[0]


def test_objectives_with_positions_pickle_and_deepcopy():
    _, _, group = small_ranking()
    position = _positions(group)
    loss = gbrank.get_loss("softmax")
    for adapter in ADAPTERS:
        objective = adapter(loss, position=position, position_bias="ipw")
        assert pickle.loads(pickle.dumps(objective)) == objective
        assert objective != adapter(loss, position=position)
        assert objective != adapter(loss, position=position + 1, position_bias="ipw")
        copied = copy.deepcopy(objective)
        assert copied == objective
        assert copied.position_bias is objective.position_bias
    assert repr(LightGBMObjective(loss, position=position, position_bias="ipw")) == (
        "LightGBMObjective(loss=SoftmaxLoss(), position=<array of shape (50,)>, "
        "position_bias=PowerLawPropensity())"
    )
    with pytest.raises(AttributeError, match="position_offsets_ exists after"):
        _ = LightGBMObjective(loss).position_offsets_
