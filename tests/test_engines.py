"""The engine contract, checked on every registered engine.

Estimators, the command line, ``gbrank compare`` and the Dask estimators reach
an engine only through :func:`gbrank.engines.get_engine`; these tests check
what they rely on: objectives are called, gbrank losses and native objectives
train through one ``train`` and record the same metric, models round-trip
through the engine's file format bit for bit, and a third engine plugs in.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import gbrank
from gbrank import GBRankRegressor, metrics
from gbrank._groups import groups_from_sizes
from gbrank.datasets import make_ranking
from gbrank.engines import (
    Settings,
    TrainingSet,
    available_engines,
    get_engine,
    register_engine,
)
from gbrank.engines.lightgbm import LightGBMEngine

SETTINGS = Settings(n_estimators=5, learning_rate=0.3, random_state=0, n_jobs=1)


@pytest.fixture(scope="module")
def data():
    X, y, group, _ = make_ranking(n_queries=30, docs_per_query=12, random_state=3)
    return TrainingSet(X, y, groups_from_sizes(group, y.size))


@pytest.fixture(params=available_engines())
def engine(request):
    return get_engine(request.param)


class _Boom(gbrank.SoftmaxLoss):
    def compute(self, batch, need_loss=True):
        raise RuntimeError("objective was called")


def test_unknown_engines_raise_naming_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown engine \(backend\) 'catboost'"):
        get_engine("catboost")
    with pytest.raises(ValueError, match="'lightgbm', 'xgboost'"):
        GBRankRegressor(backend="LightGBM").fit([[0.0], [1.0]], [0.0, 1.0])


def test_the_objective_is_called(engine, data):
    with pytest.raises(RuntimeError, match="objective was called"):
        engine.train(_Boom(), SETTINGS, data, [], metric=None)


@pytest.mark.parametrize("native", [True, False])
def test_native_objectives_and_gbrank_losses_train_alike(engine, data, native):
    objective = engine.native_objectives[0] if native else gbrank.SoftmaxLoss()
    metric = engine.ranking_metric("ndcg", 10)
    fitted = engine.train(objective, SETTINGS, data, [data], metric=metric)
    curve = fitted.evals_result["valid_0"]["ndcg@10"]
    assert len(curve) == SETTINGS.n_estimators == fitted.best_iteration
    scores = engine.predict_raw(fitted.booster, data.X, fitted.best_iteration)
    final = metrics.ndcg(data.y, scores, group=data.groups.sizes, k=10)
    assert final == pytest.approx(curve[-1], rel=1e-6)
    assert final > 0.7  # learned something on its training data
    importances = engine.gain_importances(fitted.booster)
    assert importances.shape == (data.X.shape[1],)
    assert importances.sum() > 0


def test_models_round_trip_bit_for_bit(engine, data, tmp_path):
    fitted = engine.train(
        gbrank.PairwiseLogisticLoss(), SETTINGS, data, [], metric=None
    )
    path = tmp_path / "model.ubj"
    path.write_bytes(engine.model_bytes(fitted.booster, path))
    loaded = engine.load_model(path)
    np.testing.assert_array_equal(
        engine.predict_raw(loaded, data.X, fitted.best_iteration),
        engine.predict_raw(fitted.booster, data.X, fitted.best_iteration),
    )


def test_adapters_pickle_and_compare_by_loss(engine):
    loss = gbrank.PairwiseHingeLoss(temperature=0.5)
    for adapter in (
        engine.objective(loss),
        engine.loss_metric(loss),
        engine.ranking_metric("map", 5),
    ):
        assert pickle.loads(pickle.dumps(adapter)) == adapter
    assert engine.objective(loss) != engine.objective(gbrank.PairwiseHingeLoss())


def test_settings_reach_the_engine_parameters(engine):
    params = engine.params(
        Settings(n_estimators=3, learning_rate=0.25, booster_params={"extra": 1})
    )
    assert 0.25 in params.values()
    assert params["extra"] == 1


class _RenamedLightGBM(LightGBMEngine):
    name = "lightgbm_renamed"


def test_a_third_engine_plugs_into_the_estimators(monkeypatch, data):
    from gbrank import engines

    monkeypatch.setitem(engines._ENGINES, "lightgbm_renamed", _RenamedLightGBM())
    assert "lightgbm_renamed" in available_engines()
    ranker = GBRankRegressor(loss="softmax", backend="lightgbm_renamed", n_estimators=3)
    ranker.fit(data.X, data.y, group=data.groups.sizes)
    reference = GBRankRegressor(loss="softmax", n_estimators=3)
    reference.fit(data.X, data.y, group=data.groups.sizes)
    np.testing.assert_array_equal(ranker.predict(data.X), reference.predict(data.X))


def test_register_engine_takes_engine_instances_only():
    with pytest.raises(TypeError, match="needs an Engine instance"):
        register_engine(LightGBMEngine)
