"""The scikit-learn estimators, with both backends."""

from __future__ import annotations

import pickle

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
    assert ranker.loss_ == gbrank.PairwiseHingeLoss()
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
    if estimator.backend == "lightgbm":
        # LightGBM's min_data_in_leaf and histogram bins count rows, so a
        # zero-weight row still shapes the trees.
        return dict.fromkeys(WEIGHT_CHECKS, "LightGBM counts rows, not weights")
    return {}


# small leaves, so that the checks' tiny data sets grow real trees
CHECKED = {"n_estimators": 5, "n_jobs": 1, "random_state": 0}
LGB_SMALL_LEAVES = {"booster_params": {"min_data_in_leaf": 2}}


@pytest.mark.slow
@parametrize_with_checks(
    [
        GBRankRegressor(**CHECKED, **LGB_SMALL_LEAVES),
        GBRankRegressor(**CHECKED, backend="xgboost"),
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
    X, y, _, _ = ranking
    frame = pd.DataFrame(X[:, :3], columns=["a", "b", "c"])
    fitted = estimator(**SMALL).fit(
        frame, y > 1 if estimator is GBRankClassifier else y
    )
    words = np.array(["x", "y", "z"])[np.arange(len(frame)) % 3]
    frame["c"] = pd.Series(words).astype(kind if kind == "category" else object)
    described = "categorical" if kind == "category" else "of dtype object"
    with pytest.raises(
        TypeError, match=rf"X column 'c' is {described}; .* Encode it first"
    ):
        estimator(**SMALL).fit(frame, y)
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
