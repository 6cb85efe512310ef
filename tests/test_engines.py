"""The engine contract, checked on every registered engine.

Estimators, the command line, ``gbrank compare`` and the Dask estimators reach
an engine only through :func:`gbrank.engines.get_engine`; these tests check
what they rely on: objectives are called, gbrank losses and native objectives
train through one ``train`` and record the same metric, models round-trip
through the engine's file format bit for bit, and a third engine plugs in.
"""

from __future__ import annotations

import dataclasses
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


@pytest.mark.parametrize(
    ("loss", "booster_params"),
    [
        (gbrank.SoftmaxLoss(), {}),
        (gbrank.CategoricalCrossEntropyLoss(), {}),  # one tree per class and round
        (gbrank.SoftmaxLoss(), {"subsample": 0.7, "colsample_bytree": 0.5}),
    ],
    ids=["ranking", "multiclass", "subsampled"],
)
def test_staged_scores_and_truncation_equal_predictions(
    engine, data, loss, booster_params
):
    """What the Dask estimators score eval sets and cut models with."""
    n_classes = 3 if loss.is_multiclass else None
    labels = np.minimum(data.y, 2.0) if loss.is_multiclass else data.y
    groups = None if loss.is_multiclass else data.groups
    settings = Settings(
        n_estimators=12,
        learning_rate=0.3,
        random_state=0,
        n_jobs=1,
        n_classes=n_classes,
        booster_params=booster_params,
    )
    train = TrainingSet(data.X, labels, groups)
    fitted = engine.train(loss, settings, train, [], metric=None)
    staged = list(engine.staged_raw_scores(fitted.booster, data.X, 12))
    assert len(staged) == 12
    for rounds, scores in enumerate(staged, start=1):
        expected = engine.predict_raw(fitted.booster, data.X, rounds)
        np.testing.assert_array_equal(scores, expected)  # bit for bit
    cut = engine.truncate(fitted.booster, 7)
    for rounds in (1, 7):
        np.testing.assert_array_equal(
            engine.predict_raw(cut, data.X, rounds),
            engine.predict_raw(fitted.booster, data.X, rounds),
        )
    # the generic version (one prediction per round) agrees
    generic = gbrank.engines.Engine.staged_raw_scores(engine, fitted.booster, data.X, 3)
    for scores, expected in zip(generic, staged, strict=False):
        np.testing.assert_array_equal(scores, expected)


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


# -- engine parameters: refused, smuggled, unknown ------------------------------------


@pytest.mark.parametrize(
    ("key", "instead"),
    [
        ("objective", r"replace the gbrank loss; choose the loss with loss= .* --loss"),
        ("num_class", r"change the number of scores .* GBRankClassifier counts"),
    ],
)
def test_parameters_gbrank_sets_are_refused_naming_the_argument(engine, key, instead):
    with pytest.raises(ValueError, match=rf"booster_params: '{key}' would {instead}"):
        engine.check_booster_params({key: "binary" if key == "objective" else 3})


def test_every_alias_of_a_refused_parameter_is_refused(engine):
    refused = engine.refused_params()
    for key in refused:
        with pytest.raises(ValueError, match=rf"'{key}' would "):
            engine.check_booster_params({key: 1})
    # the metric wiring and the number of rounds belong to gbrank on every engine
    reasons = " ".join(refused.values())
    assert "metrics gbrank evaluates" in reasons
    assert "n_estimators" in reasons


def test_lightgbm_refuses_each_alias_of_its_own_parameters():
    refused = get_engine("lightgbm").refused_params()
    assert {"loss", "application", "num_classes", "metrics", "num_boost_round"} <= (
        set(refused)
    )


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"seed": "1 lambda_l2=1000000000"}, ValueError, r"holds ' ', which lightgbm"),
        ({"metric_freq": "1\nnum_leaves=2"}, ValueError, r"holds '\\n'"),
        ({"a b": 1}, ValueError, r"'a b' is not a parameter name"),
        ({3: 1}, ValueError, r"3 is not a parameter name"),
        ({"lambda_l2": np.nan}, ValueError, r"lambda_l2=nan is not a finite number"),
        ({"max_bin": {"a": 1}}, TypeError, r"max_bin has type dict"),
        (["num_leaves"], TypeError, r"booster_params must be a dict"),
    ],
)
def test_values_that_would_smuggle_or_break_parameters(params, error, message):
    with pytest.raises(error, match=message):
        get_engine("lightgbm").check_booster_params(params)


@pytest.mark.parametrize(
    ("engine_name", "typo", "closest"),
    [("lightgbm", "num_leavs", "num_leaves"), ("xgboost", "max_dept", "max_depth")],
)
def test_unknown_parameters_are_reported_with_the_closest_name(
    engine_name, typo, closest
):
    engine = get_engine(engine_name)
    notes = engine.check_booster_params({typo: 7, "nonsense_param": 3})
    assert notes[0] == (
        f"booster_params: {engine_name} does not use the parameter {typo!r} (did you "
        f"mean {closest!r}?); it would be ignored."
    )
    assert "'nonsense_param'; it would be ignored" in notes[1]
    assert engine.check_booster_params({closest: 3, "learning_rate": 0.1}) == []


def test_xgboost_validates_parameter_values_before_any_data():
    from xgboost.core import XGBoostError

    with pytest.raises(XGBoostError, match="max_depth"):
        get_engine("xgboost").check_booster_params({"max_depth": "deep"})


# -- model files carry gbrank's entries ------------------------------------------------


@pytest.mark.parametrize("name", ["model.txt", "model.json", "model.ubj"])
def test_gbrank_entries_travel_with_the_booster_and_its_file(
    engine, data, tmp_path, name
):
    loss = gbrank.PairwiseLogisticLoss(lambda_weight="ndcg")
    fitted = engine.train(loss, SETTINGS, data, [], metric=None)
    booster = fitted.booster
    objective = engine.model_tags(booster)["gbrank_objective"]
    assert gbrank._persist.loads(objective) == loss
    path = tmp_path / name
    entry = {"gbrank_estimator": 'a "value" with = and\nline breaks %3D'}
    path.write_bytes(engine.model_bytes(booster, path, entry))
    head = path.read_bytes()[:64]
    assert engine.recognizes(head)
    assert not any(
        get_engine(other).recognizes(head)
        for other in available_engines()
        if other != engine.name
    )
    loaded = engine.load_model(path)
    assert engine.model_tags(loaded) == {"gbrank_objective": objective, **entry}
    assert "gbrank_estimator" not in engine.model_tags(booster)  # not set on it
    np.testing.assert_array_equal(
        engine.predict_raw(loaded, data.X, 5), engine.predict_raw(booster, data.X, 5)
    )
    cut = engine.truncate(booster, 2)
    assert engine.model_tags(cut)["gbrank_objective"] == objective
    assert engine.n_rounds(cut) == 2
    assert engine.n_rounds(loaded) == 5
    assert engine.n_features(loaded) == data.X.shape[1]


def test_native_objectives_record_no_gbrank_objective(engine, data):
    fitted = engine.train(engine.native_objectives[0], SETTINGS, data, [], metric=None)
    assert engine.model_tags(fitted.booster) == {}


def test_split_importances_count_splits(engine, data):
    fitted = engine.train(gbrank.SoftmaxLoss(), SETTINGS, data, [], metric=None)
    splits = engine.importances(fitted.booster, "split")
    gains = engine.importances(fitted.booster, "gain")
    assert splits.shape == gains.shape == (data.X.shape[1],)
    assert np.array_equal(splits > 0, gains > 0)
    assert np.all(splits == np.round(splits))


def test_strict_parameter_checks_raise_naming_the_closest(engine):
    typo = {"lightgbm": "num_leavs", "xgboost": "max_dept"}[engine.name]
    with pytest.raises(ValueError, match=rf"^kw: {engine.name} has no parameter"):
        engine.check_booster_params({typo: 3}, name="kw", strict=True)


def test_a_lightgbm_alias_replaces_the_main_name_gbrank_sets():
    params = get_engine("lightgbm").params(
        Settings(
            n_estimators=3,
            learning_rate=0.1,
            subsample=0.5,
            booster_params={"eta": 0.3, "subsample_freq": 4},
        )
    )
    assert params["eta"] == 0.3
    assert "learning_rate" not in params
    assert params["subsample_freq"] == 4
    assert "bagging_freq" not in params
    assert params["bagging_fraction"] == 0.5


def test_lightgbm_fixes_its_histogram_layout_unless_the_user_chooses_one():
    engine = get_engine("lightgbm")
    chosen = {"force_row_wise": True}
    assert engine.params(SETTINGS)["force_col_wise"] is True
    params = engine.params(dataclasses.replace(SETTINGS, booster_params=chosen))
    assert params["force_row_wise"] is True
    assert "force_col_wise" not in params


def test_a_lightgbm_layout_the_user_chooses_trains(data):
    """LightGBM refuses both layouts at once: gbrank's yields to the user's."""
    ranker = GBRankRegressor(
        n_estimators=2, booster_params={"force_row_wise": True, "verbose": -1}
    ).fit(data.X, data.y, group=np.diff(data.groups.offsets))
    assert np.isfinite(ranker.predict(data.X)).all()
