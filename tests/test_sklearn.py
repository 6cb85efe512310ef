"""The scikit-learn estimators, with both backends."""

from __future__ import annotations

import json
import pickle
import re
import warnings

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.datasets import load_iris, load_wine
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    RandomizedSearchCV,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import gbrank
from gbrank import GBRankClassifier, GBRankRegressor, metrics
from gbrank.datasets import make_ranking

BACKENDS = ["lightgbm", "xgboost"]
SMALL = {"n_estimators": 15, "random_state": 0, "n_jobs": 1}


@pytest.fixture(scope="module")
def ranking():
    return make_ranking(n_queries=40, docs_per_query=15, n_features=8, random_state=1)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def test_fit_predict_score(ranking, backend):
    X, y, group, qid = ranking
    ranker = GBRankRegressor(backend=backend, **SMALL).fit(X, y, group=group)
    scores = ranker.predict(X)
    assert scores.shape == (X.shape[0],)
    assert ranker.score(X, y, group=group) == metrics.ndcg(y, scores, group=group, k=10)
    assert ranker.score(X, y, qid=qid) == pytest.approx(ranker.score(X, y, group=group))
    assert ranker.score(X, y, qid=qid) > 0.8
    assert ranker.n_features_in_ == X.shape[1]
    assert ranker.best_iteration_ == 15
    assert ranker.loss_ == gbrank.YetiRankLoss()
    importances = ranker.feature_importances_
    assert importances.shape == (X.shape[1],)
    assert importances.sum() == pytest.approx(1.0)


def test_group_and_qid_give_identical_models(ranking, backend):
    X, y, group, qid = ranking
    by_group = GBRankRegressor(backend=backend, **SMALL).fit(X, y, group=group)
    by_qid = GBRankRegressor(backend=backend, **SMALL).fit(X, y, qid=qid)
    np.testing.assert_array_equal(by_group.predict(X), by_qid.predict(X))


def test_unsorted_qid_is_sorted_for_training(ranking, backend):
    X, y, _, qid = ranking
    rng = np.random.default_rng(0)
    rows = rng.permutation(X.shape[0])
    shuffled = GBRankRegressor(backend=backend, **SMALL).fit(
        X[rows], y[rows], qid=qid[rows]
    )
    assert shuffled.score(X, y, qid=qid) > 0.8
    assert shuffled.score(X[rows], y[rows], qid=qid[rows]) == pytest.approx(
        shuffled.score(X, y, qid=qid)
    )


def test_loss_instance_and_name(ranking):
    X, y, group, _ = ranking
    by_name = GBRankRegressor(loss="softmax", **SMALL).fit(X, y, group=group)
    by_instance = GBRankRegressor(loss=gbrank.SoftmaxLoss(), **SMALL).fit(
        X, y, group=group
    )
    np.testing.assert_array_equal(by_name.predict(X), by_instance.predict(X))


def test_sample_weight_changes_the_model(ranking, backend):
    X, y, group, _ = ranking
    weights = np.where(np.arange(X.shape[0]) < X.shape[0] // 2, 0.0, 1.0)
    plain = GBRankRegressor(backend=backend, **SMALL).fit(X, y, group=group)
    weighted = GBRankRegressor(backend=backend, **SMALL).fit(
        X, y, group=group, sample_weight=weights
    )
    assert not np.allclose(plain.predict(X), weighted.predict(X))


def test_early_stopping(ranking, backend):
    X, y, _, qid = ranking
    train, valid = qid < 30, qid >= 30
    ranker = GBRankRegressor(
        backend=backend, n_estimators=300, learning_rate=0.3, random_state=0
    ).fit(
        X[train],
        y[train],
        qid=qid[train],
        eval_set=[(X[valid], y[valid])],
        eval_qid=[qid[valid]],
        early_stopping_rounds=5,
    )
    assert ranker.best_iteration_ < 300
    history = ranker.evals_result_["valid_0"]["ndcg@10"]
    assert len(history) < 300
    assert max(history) == pytest.approx(history[ranker.best_iteration_ - 1])


def stopping_rule(curve, rounds):
    """Rounds trained and best round (1-based) of patience-``rounds`` stopping."""
    best = 0
    for index in range(1, len(curve)):
        if curve[index] > curve[best]:
            best = index
        elif index - best >= rounds:
            return index + 1, best + 1
    return len(curve), best + 1


@pytest.mark.parametrize("swap", [False, True])
def test_early_stopping_watches_the_first_eval_set_only(ranking, backend, swap):
    X, y, _, qid = ranking
    train, valid = qid < 30, qid >= 30
    noise = np.random.default_rng(0).permutation(y[valid])  # peaks by chance
    sets = [(X[valid], y[valid]), (X[valid], noise)]
    sets = sets[::-1] if swap else sets
    ranker = GBRankRegressor(
        backend=backend, n_estimators=200, learning_rate=0.3, random_state=0
    ).fit(
        X[train], y[train], qid=qid[train], eval_set=sets,
        eval_qid=[qid[valid]] * 2, early_stopping_rounds=4,
    )  # fmt: skip
    first = ranker.evals_result_["valid_0"]["ndcg@10"]
    second = ranker.evals_result_["valid_1"]["ndcg@10"]
    trained = len(first)
    assert stopping_rule(first, 4) == (trained, ranker.best_iteration_)
    # the second set alone would have stopped elsewhere: the test can tell
    assert stopping_rule(second, 4) != (trained, ranker.best_iteration_)


def test_early_stopping_needs_an_eval_set(ranking):
    X, y, group, _ = ranking
    with pytest.raises(
        ValueError, match="early_stopping_rounds needs at least one eval_set"
    ):
        GBRankRegressor(**SMALL).fit(X, y, group=group, early_stopping_rounds=3)


def test_pipeline_routes_qid(ranking):
    X, y, _, qid = ranking
    with sklearn.config_context(enable_metadata_routing=True):
        ranker = (
            GBRankRegressor(**SMALL)
            .set_fit_request(qid=True)
            .set_score_request(qid=True)
        )
        pipeline = make_pipeline(StandardScaler(), ranker).fit(X, y, qid=qid)
        assert pipeline.score(X, y, qid=qid) > 0.8


def test_grid_search_over_losses_and_their_parameters(ranking):
    X, y, _, qid = ranking
    grid = [
        {"loss": [gbrank.PairwiseHingeLoss()], "loss__temperature": [0.5, 2.0]},
        {"loss": ["softmax"]},
    ]
    with sklearn.config_context(enable_metadata_routing=True):
        ranker = GBRankRegressor(n_estimators=10, random_state=0)
        ranker = ranker.set_fit_request(qid=True).set_score_request(qid=True)
        search = GridSearchCV(ranker, grid, cv=GroupKFold(n_splits=3)).fit(
            X, y, qid=qid, groups=qid
        )  # routing passes groups= on to GroupKFold and qid= to fit and score
    assert len(search.cv_results_["params"]) == 3
    assert 0.7 < search.best_score_ <= 1.0
    assert search.best_estimator_.score(X, y, qid=qid) > 0.8


def test_randomized_search_and_cross_val_score(ranking):
    X, y, _, qid = ranking
    with sklearn.config_context(enable_metadata_routing=True):
        ranker = GBRankRegressor(n_estimators=10, random_state=0)
        ranker = ranker.set_fit_request(qid=True).set_score_request(qid=True)
        scores = cross_val_score(
            ranker, X, y, cv=GroupKFold(3), params={"qid": qid, "groups": qid}
        )
        search = RandomizedSearchCV(
            ranker,
            {"learning_rate": [0.05, 0.1, 0.2], "num_leaves": [7, 15]},
            n_iter=2,
            cv=GroupKFold(2),
            random_state=0,
        ).fit(X, y, qid=qid, groups=qid)
    assert scores.shape == (3,)
    assert np.all(scores > 0.7)
    assert search.best_params_


def test_clone_keeps_parameters_and_drops_fit():
    ranker = GBRankRegressor(
        loss=gbrank.PairwiseHingeLoss(temperature=0.5), backend="xgboost"
    )
    copy = clone(ranker)
    assert copy.get_params()["loss"] == gbrank.PairwiseHingeLoss(temperature=0.5)
    assert copy.get_params()["loss"] is not ranker.loss
    assert copy.backend == "xgboost"


@pytest.mark.parametrize("dump", [pickle.dumps, None])
def test_persistence(ranking, backend, dump, tmp_path):
    X, y, group, _ = ranking
    ranker = GBRankRegressor(backend=backend, **SMALL).fit(X, y, group=group)
    if dump is None:
        joblib.dump(ranker, tmp_path / "model.joblib")
        restored = joblib.load(tmp_path / "model.joblib")
    else:
        restored = pickle.loads(dump(ranker))
    np.testing.assert_array_equal(restored.predict(X), ranker.predict(X))


def test_native_model_round_trip(ranking, backend, tmp_path):
    X, y, group, _ = ranking
    ranker = GBRankRegressor(backend=backend, **SMALL).fit(X, y, group=group)
    path = tmp_path / ("model.txt" if backend == "lightgbm" else "model.json")
    ranker.booster_.save_model(str(path))
    if backend == "lightgbm":
        import lightgbm as lgb

        restored = lgb.Booster(model_file=str(path)).predict(X, raw_score=True)
    else:
        import xgboost as xgb

        booster = xgb.Booster(model_file=str(path))
        restored = booster.predict(xgb.DMatrix(X), output_margin=True)
    np.testing.assert_array_equal(restored, ranker.predict(X))


def test_training_is_deterministic_for_a_seed(ranking, backend):
    X, y, group, _ = ranking
    params = {**SMALL, "subsample": 0.8, "colsample_bytree": 0.8}
    first = GBRankRegressor(backend=backend, **params).fit(X, y, group=group)
    second = GBRankRegressor(backend=backend, **params).fit(X, y, group=group)
    np.testing.assert_array_equal(first.predict(X), second.predict(X))


def test_dataframe_feature_names(ranking):
    pd = pytest.importorskip("pandas")
    X, y, group, _ = ranking
    frame = pd.DataFrame(X, columns=[f"feature_{i}" for i in range(X.shape[1])])
    ranker = GBRankRegressor(**SMALL).fit(frame, y, group=group)
    assert list(ranker.feature_names_in_) == list(frame.columns)
    reordered = frame[frame.columns[::-1]]
    with pytest.raises(ValueError, match="feature names should match"):
        ranker.predict(reordered)
    np.testing.assert_array_equal(
        ranker.predict(frame), ranker.booster_.predict(X, raw_score=True)
    )


def test_regressor_rejects_classification_loss(ranking):
    X, y, group, _ = ranking
    with pytest.raises(
        ValueError, match="is a classification loss; use GBRankClassifier"
    ):
        GBRankRegressor(loss="categorical_cross_entropy").fit(X, y, group=group)


def test_bad_backend(ranking):
    X, y, group, _ = ranking
    with pytest.raises(ValueError, match="unknown engine \\(backend\\) 'catboost'"):
        GBRankRegressor(backend="catboost").fit(X, y, group=group)


def test_qid_and_group_together(ranking):
    X, y, group, qid = ranking
    with pytest.raises(ValueError, match="pass qid or group, not both"):
        GBRankRegressor(**SMALL).fit(X, y, group=group, qid=qid)


# -- no query structure: an error, never one silent query ----------------------------


def test_fit_without_query_structure_raises(ranking, backend):
    X, y, _, _ = ranking
    with pytest.raises(
        ValueError,
        match=r"the query structure of the training rows of the ranking loss "
        r"'yetirank' is missing .*fit\(X, y, qid=qid\) .* or "
        rf"group=group_sizes .* on purpose, pass group=\[{y.size}\]\.",
    ):
        GBRankRegressor(backend=backend, **SMALL).fit(X, y)


def test_one_query_on_purpose_is_explicit(ranking):
    X, y, _, _ = ranking
    one = GBRankRegressor(**SMALL).fit(X, y, group=[y.size])
    same = GBRankRegressor(**SMALL).fit(X, y, qid=np.zeros(y.size))
    np.testing.assert_array_equal(one.predict(X), same.predict(X))
    assert one.score(X, y, group=[y.size]) == metrics.ndcg(
        y, one.predict(X), group=[y.size], k=10
    )


def test_score_without_query_structure_raises(ranking):
    X, y, _, qid = ranking
    ranker = GBRankRegressor(**SMALL).fit(X, y, qid=qid)
    with pytest.raises(
        ValueError,
        match=r"the query structure of the rows to score is missing .*"
        r"score\(X, y, qid=qid\) .*set_score_request\(qid=True\)",
    ):
        ranker.score(X, y)


def test_eval_set_without_query_structure_raises(ranking, backend):
    X, y, _, qid = ranking
    valid = qid >= 30
    with pytest.raises(
        ValueError,
        match=r"the query structure of eval_set\[1\] .* is missing .*eval_qid=",
    ):
        GBRankRegressor(backend=backend, **SMALL).fit(
            X, y, qid=qid, eval_set=[(X[valid], y[valid])] * 2,
            eval_qid=[qid[valid], None], early_stopping_rounds=3,
        )  # fmt: skip


def test_losses_without_groups_train_without_them(ranking, backend):
    X, y, _, qid = ranking
    for loss in ("pointwise_mse", "ordinal"):
        ranker = GBRankRegressor(loss=loss, backend=backend, **SMALL).fit(X, y)
        assert ranker.score(X, y, qid=qid) > 0.7  # scoring still needs queries


@pytest.mark.parametrize("search", ["grid", "cross_val_score"])
def test_cross_validation_without_metadata_routing_raises(ranking, search):
    """With routing off, qid reaches fit but not score: each fold one query."""
    X, y, _, qid = ranking
    ranker = GBRankRegressor(n_estimators=3, random_state=0)
    message = (
        r"the query structure of each test fold is missing: .*metadata routing "
        r"off.*sklearn\.set_config\(enable_metadata_routing=True\)"
    )
    if search == "grid":
        grid = GridSearchCV(ranker, {"learning_rate": [0.1, 0.2]}, cv=GroupKFold(3))
        with pytest.raises(ValueError, match=message):
            grid.fit(X, y, qid=qid, groups=qid)
    else:
        with pytest.raises(ValueError, match=message):
            cross_val_score(
                ranker, X, y, groups=qid, cv=GroupKFold(3), params={"qid": qid}
            )


def test_cross_validation_without_routing_is_fine_when_scoring_needs_no_queries(
    ranking,
):
    X, y, _, qid = ranking
    ranker = GBRankRegressor(loss="pointwise_mse", n_estimators=3, random_state=0)
    scores = cross_val_score(
        ranker, X, y, cv=GroupKFold(3), groups=qid, scoring="neg_mean_squared_error"
    )
    assert np.isfinite(scores).all()


# -- classifier ----------------------------------------------------------------------


def test_classifier_multiclass(backend):
    X, y = load_wine(return_X_y=True)
    clf = GBRankClassifier(backend=backend, n_estimators=30, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, y) > 0.95
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])


def test_classifier_string_and_noncontiguous_labels(backend):
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    codes = np.array([3, 10, 42])[y]
    by_name = GBRankClassifier(backend=backend, n_estimators=10).fit(X, names)
    by_code = GBRankClassifier(backend=backend, n_estimators=10).fit(X, codes)
    assert set(by_name.predict(X)) <= set(names)
    np.testing.assert_array_equal(by_code.classes_, [3, 10, 42])
    np.testing.assert_allclose(by_name.predict_proba(X), by_code.predict_proba(X))


def test_binary_classifier_with_sigmoid_cross_entropy(backend):
    X, y = load_iris(return_X_y=True)
    binary = y == 2
    clf = GBRankClassifier(
        loss="sigmoid_cross_entropy", backend=backend, n_estimators=20
    ).fit(X, binary)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 2)
    assert clf.score(X, binary) > 0.95


def test_classifier_rejects_ranking_loss_and_bad_targets():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="is a ranking loss; use GBRankRegressor"):
        GBRankClassifier(loss="pairwise_hinge").fit(X, y)
    with pytest.raises(ValueError, match="is binary but y has 3 classes"):
        GBRankClassifier(loss="sigmoid_cross_entropy").fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        GBRankClassifier().fit(X, np.zeros(len(y)))


def test_classifier_early_stopping(backend):
    X, y = load_wine(return_X_y=True)
    rows = np.random.default_rng(0).permutation(len(y))
    train, valid = rows[:120], rows[120:]
    clf = GBRankClassifier(backend=backend, n_estimators=500, learning_rate=0.3).fit(
        X[train], y[train], eval_set=[(X[valid], y[valid])], early_stopping_rounds=5
    )
    assert clf.best_iteration_ < 500
    assert "categorical_cross_entropy" in clf.evals_result_["valid_0"]


# -- scikit-learn's estimator checks ---------------------------------------------------

WEIGHT_CHECKS = (
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
)


def _expected_failed_checks(estimator):
    if isinstance(estimator, GBRankRegressor):
        # A ranking loss compares the rows of a query (one query here): repeating a
        # row adds pairs, weighting it scales the pairs it leads, so a weight is
        # not a repetition count.
        return dict.fromkeys(WEIGHT_CHECKS, "pairwise weights are not counts")
    if estimator._engine_name() == "lightgbm":
        # LightGBM's min_data_in_leaf and histogram bins count rows, so a
        # zero-weight row still shapes the trees.
        return dict.fromkeys(WEIGHT_CHECKS, "LightGBM counts rows, not weights")
    return {}


class OneQueryRanker(GBRankRegressor):
    """A ranker whose fit and score rank all rows as one query unless told otherwise.

    scikit-learn's checks call ``fit(X, y)`` and ``score(X, y)`` without query
    structure, which a ranking loss refuses; this passes ``group=[n_rows]``
    explicitly, as a user ranking one query on purpose does.
    """

    def fit(self, X, y, *, qid=None, group=None, sample_weight=None, **kwargs):
        group = _one_query(y, qid, group)
        return super().fit(
            X, y, qid=qid, group=group, sample_weight=sample_weight, **kwargs
        )

    def score(self, X, y, *, qid=None, group=None, sample_weight=None):
        group = _one_query(y, qid, group)
        return super().score(X, y, qid=qid, group=group, sample_weight=sample_weight)


def _one_query(y, qid, group):
    """``group`` or, without any query structure, one group of all rows."""
    n_rows = len(np.asarray(y)) if y is not None else 0
    return [n_rows] if qid is None and group is None and n_rows else group


def test_one_query_ranker_passes_one_group(ranking):
    X, y, _, _ = ranking
    checked = OneQueryRanker(**SMALL).fit(X, y)
    direct = GBRankRegressor(**SMALL).fit(X, y, group=[y.size])
    np.testing.assert_array_equal(checked.predict(X), direct.predict(X))


# small leaves, so that the checks' tiny data sets grow real trees
CHECKED = {"n_estimators": 5, "n_jobs": 1, "random_state": 0, "min_child_weight": 1e-3}
LGB_SMALL_LEAVES = {"booster_params": {"min_data_in_leaf": 2}}


@pytest.mark.slow
@parametrize_with_checks(
    [
        OneQueryRanker(**CHECKED, **LGB_SMALL_LEAVES),
        OneQueryRanker(**CHECKED, backend="xgboost"),
        # the engines' parameters as keyword arguments, and engine= for backend=
        OneQueryRanker(**CHECKED, min_child_samples=2),
        GBRankClassifier(**CHECKED, engine="xgboost", max_bin=16),
        GBRankClassifier(**CHECKED, **LGB_SMALL_LEAVES),
        GBRankClassifier(**CHECKED, backend="xgboost"),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# -- bad parameters and data: named before any data or engine is touched --------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"learning_rate": np.nan}, "learning_rate must be a finite number > 0"),
        ({"learning_rate": np.inf}, "learning_rate must be a finite number > 0"),
        ({"learning_rate": 0.0}, "learning_rate must be a finite number > 0"),
        ({"learning_rate": "0.1"}, "learning_rate must be a finite number > 0"),
        ({"reg_alpha": np.nan}, "reg_alpha must be None or a finite number >= 0"),
        ({"reg_lambda": np.nan}, "reg_lambda must be None or a finite number >= 0"),
        ({"booster_params": {"num_class": 3}}, r"'num_class' would change the number"),
        ({"booster_params": {"objective": "binary"}}, r"would replace the gbrank loss"),
        ({"booster_params": {"metric": "ndcg"}}, "metrics gbrank evaluates"),
        ({"booster_params": {"n_estimators": 5}}, "use n_estimators="),
        ({"booster_params": {"seed": "1 lambda_l2=1e9"}}, "treats as a separator"),
        (
            {"backend": "xgboost", "booster_params": {"eval_metric": "ndcg"}},
            "metrics gbrank evaluates",
        ),
        (
            {"position_bias": gbrank.position.LearnedPositionBias(learning_rate=2)},
            r"learning_rate must be a finite number in \(0, 1\]",
        ),
    ],
)
@pytest.mark.parametrize("estimator", [GBRankRegressor, GBRankClassifier])
def test_bad_parameters_raise_before_any_data_is_read(estimator, params, message):
    with pytest.raises(ValueError, match=message):
        estimator(**params).fit(None, None)  # the data would fail differently


@pytest.mark.parametrize("rounds", [0, -1, 2.5])
def test_bad_early_stopping_rounds_raise_before_any_data(rounds):
    with pytest.raises(ValueError, match="early_stopping_rounds must be None or an"):
        GBRankRegressor().fit(None, None, early_stopping_rounds=rounds)


@pytest.mark.parametrize(
    ("backend", "typo", "closest"),
    [("lightgbm", "num_leavs", "num_leaves"), ("xgboost", "max_dept", "max_depth")],
)
def test_unknown_booster_params_warn_naming_the_closest(
    ranking, backend, typo, closest
):
    X, y, group, _ = ranking
    ranker = GBRankRegressor(backend=backend, booster_params={typo: 7}, **SMALL)
    with pytest.warns(UserWarning, match=rf"{typo!r} \(did you mean {closest!r}\?\)"):
        ranker.fit(X, y, group=group)


def test_string_labels_name_the_ranker_and_the_fix(ranking):
    X, _, group, _ = ranking
    labels = np.where(np.arange(X.shape[0]) % 2, "good", "bad")
    with pytest.raises(
        ValueError,
        match=r"GBRankRegressor needs numeric relevance labels y .* y\[0\] = 'bad'\. "
        "Map the labels to numbers first, or use GBRankClassifier",
    ):
        GBRankRegressor(**SMALL).fit(X, labels, group=group)


@pytest.mark.parametrize("kind", ["category", "string"])
@pytest.mark.parametrize("estimator", [GBRankRegressor, GBRankClassifier])
def test_non_numeric_columns_are_named(ranking, estimator, kind):
    pd = pytest.importorskip("pandas")
    X, y, _, qid = ranking
    frame = pd.DataFrame(X[:, :3], columns=["a", "b", "c"])
    classifier = estimator is GBRankClassifier
    queries = {} if classifier else {"qid": qid}
    fitted = estimator(**SMALL).fit(frame, y > 1 if classifier else y, **queries)
    words = np.array(["x", "y", "z"])[np.arange(len(frame)) % 3]
    frame["c"] = pd.Series(words).astype(kind if kind == "category" else object)
    described = "categorical" if kind == "category" else "of dtype object"
    with pytest.raises(
        TypeError, match=rf"X column 'c' is {described}; .* Encode it first"
    ):
        estimator(**SMALL).fit(frame, y, **queries)
    with pytest.raises(TypeError, match=rf"X column 'c' is {described}"):
        fitted.predict(frame)


@pytest.mark.parametrize(
    ("qid", "error", "message"),
    [
        ("mixed", TypeError, r"qid\[0\] is int 0 but qid\[1\] is str 'q'"),
        ("nan", ValueError, r"qid contains NaN or inf at row 3; every row needs"),
    ],
)
def test_bad_qid_is_named_in_the_callers_row_order(ranking, qid, error, message):
    X, y, _, ids = ranking
    if qid == "mixed":
        bad = np.array([0, "q", *ids[2:]], dtype=object)
    else:
        bad = np.where(np.arange(ids.size) == 3, np.nan, ids)
    with pytest.raises(error, match=message):
        GBRankRegressor(**SMALL).fit(X, y, qid=bad)


def test_score_checks_the_weights_length(ranking):
    X, y, _, qid = ranking
    ranker = GBRankRegressor(**SMALL).fit(X, y, qid=qid)
    with pytest.raises(
        ValueError, match=rf"sample_weight has 5 entries for {X.shape[0]} rows"
    ):
        ranker.score(X, y, qid=qid, sample_weight=np.ones(5))


# -- the engines' conventions: their parameter names, fit and predict options ------

ENGINE_KEYWORDS = [("lightgbm", {"min_child_samples": 50}), ("xgboost", {"max_bin": 7})]


@pytest.mark.parametrize(("engine", "keywords"), ENGINE_KEYWORDS)
def test_engine_parameters_as_keywords_train_and_survive_clone(
    ranking, engine, keywords
):
    X, y, _, qid = ranking
    ranker = GBRankRegressor(backend=engine, **keywords, **SMALL)
    assert ranker.get_params().items() >= keywords.items()
    copy = clone(ranker)
    assert copy.get_params() == ranker.get_params()
    assert repr(copy) == repr(ranker)
    as_keywords = copy.fit(X, y, qid=qid).predict(X)
    as_booster_params = GBRankRegressor(
        backend=engine, booster_params=keywords, **SMALL
    ).fit(X, y, qid=qid)
    np.testing.assert_array_equal(as_keywords, as_booster_params.predict(X))
    default = GBRankRegressor(backend=engine, **SMALL).fit(X, y, qid=qid)
    assert not np.array_equal(as_keywords, default.predict(X))  # they had an effect
    assert pickle.loads(pickle.dumps(copy)).get_params() == copy.get_params()


def test_engine_parameters_in_set_params_and_grid_search(ranking):
    X, y, _, qid = ranking
    ranker = GBRankRegressor(**SMALL).set_params(min_child_samples=5)
    assert ranker.get_params()["min_child_samples"] == 5
    ranker.set_params(min_child_samples=40, learning_rate=0.2)
    assert ranker.get_params()["min_child_samples"] == 40
    assert ranker.learning_rate == 0.2
    with sklearn.config_context(enable_metadata_routing=True):
        ranker.set_fit_request(qid=True).set_score_request(qid=True)
        search = GridSearchCV(
            ranker, {"min_child_samples": [5, 200]}, cv=GroupKFold(n_splits=2)
        ).fit(X, y, qid=qid, groups=qid)
    tried = [params["min_child_samples"] for params in search.cv_results_["params"]]
    assert tried == [5, 200]
    assert search.best_estimator_.get_params()["min_child_samples"] in (5, 200)
    # 200 rows per leaf leave one leaf on 400-row folds: a constant ranker
    assert search.best_params_ == {"min_child_samples": 5}


@pytest.mark.parametrize(
    ("engine", "typo", "closest"),
    [("lightgbm", "min_child_sample", "min_child_samples"), ("xgboost", "max_dept",
     "max_depth")],
)  # fmt: skip
def test_unknown_engine_keyword_raises_naming_the_closest_one(engine, typo, closest):
    ranker = GBRankRegressor(backend=engine, **{typo: 3})  # as LGBMRanker: no error yet
    with pytest.raises(
        ValueError,
        match=rf"^GBRankRegressor keyword arguments: {engine} has no parameter "
        rf"'{typo}' \(did you mean '{closest}'\?\)\.$",
    ):
        ranker.fit(None, None)  # before any data is read


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"objective": "lambdarank"}, r"'objective' would replace the gbrank loss"),
        ({"num_iterations": 5}, r"use n_estimators= \(estimators\)"),
        ({"early_stopping_round": 5}, r"early_stopping_rounds=\) \(estimators\)"),
        (
            {"min_child_samples": 5, "booster_params": {"min_child_samples": 9}},
            r"'min_child_samples' is given both as a keyword argument and in "
            "booster_params",
        ),
        ({"importance_type": "cover"}, r"importance_type='cover' is not supported"),
        (
            {"engine": "lightgbm", "backend": "xgboost"},
            r"engine='lightgbm' and backend='xgboost' name different engines",
        ),
    ],
)
def test_engine_keywords_are_checked_before_any_data(keywords, message):
    with pytest.raises(ValueError, match=message):
        GBRankRegressor(**keywords).fit(None, None)


def test_engine_is_the_preferred_name_and_backend_still_works(ranking):
    X, y, _, qid = ranking
    by_engine = GBRankRegressor(engine="xgboost", **SMALL)
    by_backend = GBRankRegressor(backend="xgboost", **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither name warns
        first = by_engine.fit(X, y, qid=qid).predict(X)
        second = by_backend.fit(X, y, qid=qid).predict(X)
        GBRankRegressor(**SMALL).fit(X, y, qid=qid)
    np.testing.assert_array_equal(first, second)
    assert type(by_engine.booster_).__module__.startswith("xgboost")
    assert clone(by_engine).get_params()["engine"] == "xgboost"
    assert GBRankRegressor(engine="xgboost", backend="xgboost")._engine().name == (
        "xgboost"
    )


def test_a_lightgbm_alias_replaces_the_setting_it_names(ranking):
    """LightGBM keeps learning_rate over eta: eta= must replace it, not sit beside."""
    X, y, _, qid = ranking
    eta = GBRankRegressor(eta=0.3, **SMALL).fit(X, y, qid=qid)
    rate = GBRankRegressor(learning_rate=0.3, **SMALL).fit(X, y, qid=qid)
    np.testing.assert_array_equal(eta.predict(X), rate.predict(X))


@pytest.fixture(scope="module")
def stopped(ranking):
    """A ranker per engine trained with two eval cutoffs and early stopping."""
    X, y, _, qid = ranking
    train, valid = qid < 30, qid >= 30
    fitted = {}
    for engine in BACKENDS:
        fitted[engine] = GBRankRegressor(
            engine=engine, n_estimators=200, learning_rate=0.3, random_state=0
        ).fit(
            X[train], y[train], qid=qid[train], eval_set=[(X[valid], y[valid])],
            eval_qid=[qid[valid]], eval_at=[1, 10], early_stopping_rounds=4,
        )  # fmt: skip
    return fitted


def test_eval_at_best_score_and_stopping_on_the_first_cutoff(stopped, backend):
    ranker = stopped[backend]
    curves = ranker.evals_result_["valid_0"]
    assert set(curves) == {"ndcg@1", "ndcg@10"}
    trained = len(curves["ndcg@1"])
    assert stopping_rule(curves["ndcg@1"], 4) == (trained, ranker.best_iteration_)
    best = ranker.best_iteration_ - 1
    assert ranker.best_score_ == {
        "valid_0": {name: curve[best] for name, curve in curves.items()}
    }


def test_predict_uses_the_best_round_unless_told(ranking, stopped, backend):
    X = ranking.X
    ranker = stopped[backend]
    engine = gbrank.engines.get_engine(backend)
    held = engine.n_rounds(ranker.booster_)
    trained = len(ranker.evals_result_["valid_0"]["ndcg@1"])
    # LightGBM's train() keeps the rounds up to the best one, XGBoost all of them
    assert held == (ranker.best_iteration_ if backend == "lightgbm" else trained)
    assert 1 < ranker.best_iteration_ < trained
    best = ranker.predict(X)
    np.testing.assert_array_equal(
        best, ranker.predict(X, num_iteration=ranker.best_iteration_)
    )
    first = ranker.predict(X, num_iteration=1)
    assert not np.array_equal(best, first)
    np.testing.assert_array_equal(first, engine.predict_raw(ranker.booster_, X, 1))
    with pytest.raises(ValueError, match=rf"num_iteration={held + 1} is more than"):
        ranker.predict(X, num_iteration=held + 1)
    with pytest.raises(ValueError, match="num_iteration must be None or an integer"):
        ranker.predict(X, num_iteration=0)


def test_eval_at_must_hold_cutoffs(ranking):
    X, y, _, qid = ranking
    with pytest.raises(ValueError, match="eval_at is empty"):
        GBRankRegressor(**SMALL).fit(X, y, qid=qid, eval_at=[])
    with pytest.raises(ValueError, match=r"eval_at \(each NDCG cutoff\) must be"):
        GBRankRegressor(**SMALL).fit(X, y, qid=qid, eval_at=[10, 0])


def _counting_callback(engine, calls):
    if engine == "lightgbm":
        return lambda env: calls.append(env.iteration)

    import xgboost as xgb

    class Count(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            calls.append(epoch)
            return False

    return Count()


def test_engine_callbacks_run_every_round(ranking, backend):
    X, y, _, qid = ranking
    calls: list[int] = []
    callback = _counting_callback(backend, calls)
    GBRankRegressor(engine=backend, **SMALL).fit(X, y, qid=qid, callbacks=[callback])
    assert calls == list(range(SMALL["n_estimators"]))
    clf_calls: list[int] = []
    X_wine, y_wine = load_wine(return_X_y=True)
    GBRankClassifier(engine=backend, n_estimators=4).fit(
        X_wine, y_wine, callbacks=[_counting_callback(backend, clf_calls)]
    )
    assert clf_calls == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("engine", "line"),
    [
        ("lightgbm", r"^\[5\]\tvalid_0's ndcg@10: 0\.\d+$"),
        ("xgboost", r"^\[5\]\tvalid_0-ndcg@10:0\.\d+$"),
    ],
)
def test_verbose_prints_eval_lines_as_the_engine_does(ranking, capsys, engine, line):
    X, y, _, qid = ranking
    fit = {"qid": qid, "eval_set": [(X, y)], "eval_qid": [qid]}
    GBRankRegressor(engine=engine, **SMALL).fit(X, y, **fit)
    assert capsys.readouterr().out == ""
    GBRankRegressor(engine=engine, **SMALL).fit(X, y, verbose=5, **fit)
    out = capsys.readouterr().out
    assert re.search(line, out, re.M), out
    assert len(out.splitlines()) <= 4  # every 5th of 15 rounds (and XGBoost's 1st)
    with pytest.raises(ValueError, match=r"verbose \(the log period in rounds\)"):
        GBRankRegressor(engine=engine, **SMALL).fit(X, y, verbose=-1, **fit)


def test_importance_type_split_counts_splits(ranking, backend):
    X, y, _, qid = ranking
    gain = GBRankRegressor(engine=backend, **SMALL).fit(X, y, qid=qid)
    split = clone(gain).set_params(importance_type="split").fit(X, y, qid=qid)
    counts = gbrank.engines.get_engine(backend).split_importances(split.booster_)
    assert counts.sum() > 0
    assert np.all(counts == np.round(counts))
    np.testing.assert_array_equal(split.feature_importances_, counts / counts.sum())
    assert not np.allclose(split.feature_importances_, gain.feature_importances_)
    assert gain.feature_importances_.sum() == pytest.approx(1.0)


# -- model files: the engine's own format with gbrank's entries, no pickle ------------

MODEL_FILES = [("lightgbm", "model.txt"), ("xgboost", "model.json"),
               ("xgboost", "model.ubj")]  # fmt: skip


@pytest.mark.parametrize(("engine", "name"), MODEL_FILES)
def test_save_and_load_model_round_trip(ranking, stopped, tmp_path, engine, name):
    X, y, _, qid = ranking
    loss = gbrank.PairwiseLogisticLoss(
        temperature=0.7, lambda_weight=gbrank.NDCGLambdaWeight(topn=5)
    )
    keywords = dict(ENGINE_KEYWORDS)[engine]
    ranker = GBRankRegressor(loss=loss, engine=engine, **keywords, **SMALL)
    ranker.fit(X, y, qid=qid)
    for model in (ranker, stopped[engine]):
        path = tmp_path / name
        model.save_model(path)
        loaded = GBRankRegressor.load_model(path)
        assert type(loaded) is GBRankRegressor
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
        assert loaded.get_params() == model.get_params()
        assert loaded.loss_ == model.loss_
        for attribute in ("best_iteration_", "best_score_", "n_features_in_"):
            assert getattr(loaded, attribute) == getattr(model, attribute)
        np.testing.assert_array_equal(
            loaded.feature_importances_, model.feature_importances_
        )
        assert loaded.score(X, y, qid=qid) == model.score(X, y, qid=qid)
    assert repr(loaded.get_params()["loss"]) == repr(stopped[engine].loss)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temp file


def test_saved_models_load_in_the_engines_and_name_the_objective(ranking, tmp_path):
    import lightgbm as lgb
    import xgboost as xgb

    X, y, _, qid = ranking
    loss = gbrank.SoftmaxLoss()
    for engine, name in (("lightgbm", "m.txt"), ("xgboost", "m.json")):
        ranker = GBRankRegressor(loss=loss, engine=engine, **SMALL).fit(X, y, qid=qid)
        ranker.save_model(tmp_path / name)
        native = tmp_path / f"native_{name}"
        ranker.booster_.save_model(str(native))
        if engine == "lightgbm":
            scores = lgb.Booster(model_file=str(tmp_path / name)).predict(X)
            header = (tmp_path / name).read_text().split("Tree=")[0]
            objective = re.search(r"^gbrank_objective=(.*)$", header, re.M).group(1)
        else:
            booster = xgb.Booster(model_file=str(tmp_path / name))
            scores = booster.predict(xgb.DMatrix(X), output_margin=True)
            # the booster's own file (booster_.save_model) records it too
            model = json.loads(native.read_text())
            objective = model["learner"]["attributes"]["gbrank_objective"]
        np.testing.assert_array_equal(scores, ranker.predict(X))
        assert json.loads(objective) == {"loss": "softmax", "params": {}}


def test_a_classifier_round_trips_with_its_classes(tmp_path, backend):
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = GBRankClassifier(engine=backend, n_estimators=5, importance_type="split")
    clf.fit(frame, names)
    clf.save_model(tmp_path / "clf.model")
    loaded = GBRankClassifier.load_model(tmp_path / "clf.model")
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    np.testing.assert_array_equal(loaded.predict_proba(frame), clf.predict_proba(frame))
    np.testing.assert_array_equal(loaded.predict(frame), clf.predict(frame))
    assert list(loaded.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    assert loaded.importance_type == "split"
    with pytest.raises(ValueError, match=r"holds a GBRankClassifier \(classifier\)"):
        GBRankRegressor.load_model(tmp_path / "clf.model")


def test_learned_position_offsets_are_saved(tmp_path):
    X, y, _, qid = make_ranking(
        n_queries=30, docs_per_query=10, vary_group_size=False, random_state=0
    )
    position = np.tile(np.arange(1, 11), 30)
    ranker = GBRankRegressor(loss="softmax", **SMALL)
    ranker.fit(X, (y >= 2).astype(float), qid=qid, position=position)
    ranker.save_model(tmp_path / "m.txt")
    loaded = GBRankRegressor.load_model(tmp_path / "m.txt")
    np.testing.assert_array_equal(loaded.position_offsets_, ranker.position_offsets_)
    assert loaded.position_bias_ == ranker.position_bias_


def test_load_model_refuses_files_it_cannot_rebuild(ranking, tmp_path):
    import lightgbm as lgb

    X, y, _, _ = ranking
    plain = lgb.train({"objective": "regression", "verbose": -1}, lgb.Dataset(X, y), 2)
    plain.save_model(str(tmp_path / "plain.txt"))
    with pytest.raises(ValueError, match=r"plain\.txt is a lightgbm model without "):
        GBRankRegressor.load_model(tmp_path / "plain.txt")
    (tmp_path / "notes.txt").write_text("not a model\n")
    with pytest.raises(ValueError, match=r"is not a model file of lightgbm or xgboost"):
        GBRankRegressor.load_model(tmp_path / "notes.txt")


def test_save_model_needs_a_fitted_model(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet"):
        GBRankRegressor().save_model(tmp_path / "m.txt")
    assert list(tmp_path.iterdir()) == []
