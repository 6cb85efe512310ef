"""gbrank.dask: query-aligned partitions and training on a local process cluster."""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

import cloudpickle
import dask.array as da
import dask.dataframe as dd
import pandas as pd
from distributed import Client, LocalCluster
from sklearn.datasets import make_classification

import gbrank
from gbrank import metrics
from gbrank._dask_eval import early_stopping
from gbrank.dask import (
    DaskGBRankClassifier,
    DaskGBRankRegressor,
    QueryPartitions,
    check_query_partitions,
    partition_by_query,
)
from gbrank.datasets import make_ranking
from gbrank.engines import get_engine

pytestmark = pytest.mark.slow  # trains real models; CI runs them

SETTINGS = {"n_estimators": 30, "num_leaves": 15, "random_state": 0}


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client


@pytest.fixture(scope="module")
def ranking():
    """480 training queries and 400 held-out queries of one synthetic set.

    Distributed training bins features from merged per-worker samples, so its
    trees differ from local ones; with 120 training queries and 40 test queries
    that alone moved NDCG@10 by up to 0.03 (as local models with ``max_bin`` 63,
    127 or 255 do), more than the distributed-vs-local check allows.
    """
    data = make_ranking(n_queries=880, docs_per_query=20, n_features=10, random_state=0)
    train = data.qid < 480
    return (
        data.X[train],
        data.y[train],
        data.qid[train],
        data.X[~train],
        data.y[~train],
        data.qid[~train],
    )


@pytest.fixture(scope="module")
def dask_ranking(ranking, client):
    """Training rows as Dask arrays cut into 4 partitions at query boundaries."""
    X, y, qid, *_ = ranking
    chunks = 500  # cuts through queries
    return partition_by_query(
        da.from_array(X, chunks=(chunks, -1)),
        da.from_array(y, chunks=chunks),
        da.from_array(qid, chunks=chunks),
        npartitions=4,
    )


@pytest.fixture(scope="module")
def eval_data(ranking):
    """120 held-out queries: in memory, and in 3 partitions of whole queries.

    The rows keep their order (sorted by query id), so that local checks score
    the same lists, ties included.
    """
    *_, X_test, y_test, qid_test = ranking
    rows = qid_test < qid_test.min() + 120
    order = np.argsort(qid_test[rows], kind="stable")
    X, y, qid = X_test[rows][order], y_test[rows][order], qid_test[rows][order]
    starts = np.flatnonzero(np.diff(qid)) + 1
    cuts = [0, *starts[[len(starts) // 3, 2 * len(starts) // 3]], len(qid)]
    chunks = tuple(np.diff(cuts).tolist())
    parts = QueryPartitions(
        X=da.from_array(X, chunks=(chunks, -1)),
        y=da.from_array(y, chunks=(chunks,)),
        qid=da.from_array(qid, chunks=(chunks,)),
        sample_weight=None,
        group=None,
    )
    return parts, X, y, qid


# -- partitions -----------------------------------------------------------------------


def test_straddling_query_is_reported(ranking):
    _, _, qid, *_ = ranking
    with pytest.raises(ValueError, match=r"query id \d+ straddles partitions 0 and 1"):
        check_query_partitions(da.from_array(qid, chunks=500))


def test_non_contiguous_query_is_reported():
    qid = da.from_array(np.array([0, 1, 0, 2, 2, 2]), chunks=3)
    with pytest.raises(ValueError, match="query id 0 is not contiguous in partition 0"):
        check_query_partitions(qid)


def test_partition_by_query_fixes_straddling(ranking, dask_ranking):
    X, y, qid, *_ = ranking
    sizes = check_query_partitions(dask_ranking.qid)
    assert len(sizes) == 4
    assert all(part.size > 0 for part in sizes)
    # each partition holds whole queries; together all queries, in qid order
    assert np.array_equal(np.concatenate(sizes), np.bincount(qid))
    assert [part.tolist() for part in sizes] == [
        block.compute().tolist() for block in dask_ranking.group.blocks
    ]
    assert dask_ranking.X.chunks[0] == tuple(int(part.sum()) for part in sizes)
    # same rows: per-query sums of features and labels are unchanged
    qid_out = dask_ranking.qid.compute()
    assert np.array_equal(qid_out, np.sort(qid))
    X_out, y_out = dask_ranking.X.compute(), dask_ranking.y.compute()
    for column in (0, 3):
        assert np.allclose(
            np.bincount(qid_out, X_out[:, column]), np.bincount(qid, X[:, column])
        )
    assert np.allclose(np.bincount(qid_out, y_out), np.bincount(qid, y))


def test_partition_by_query_dataframe_with_column_names():
    frame = pd.DataFrame(
        {
            "a": np.arange(9.0),
            "qid": [3, 3, 1, 1, 1, 2, 3, 2, 2],
            "label": [0, 1, 2, 0, 1, 0, 2, 1, 0],
        }
    )
    ddf = dd.from_pandas(frame, npartitions=3)
    with pytest.raises(ValueError, match="query id 1 straddles partitions 0 and 1"):
        check_query_partitions(ddf["qid"])
    parts = partition_by_query(ddf, "label", "qid", npartitions=2)
    assert list(parts.X.columns) == ["a"]
    sizes = check_query_partitions(parts.qid)
    assert np.concatenate(sizes).tolist() == [3, 3, 3]  # qid 1, 2, 3
    result = parts.X.compute().assign(qid=parts.qid.compute(), y=parts.y.compute())
    expected = frame.rename(columns={"label": "y"})
    pd.testing.assert_frame_equal(
        result.sort_values("a").reset_index(drop=True),
        expected[["a", "qid", "y"]].sort_values("a").reset_index(drop=True),
        check_dtype=False,
    )


def test_missing_query_ids_are_refused():
    """partition_by_query used to drop NaN ids silently (wrong row counts)."""
    X = da.zeros((6, 2), chunks=(3, 2))
    qid = da.from_array(np.array([0, 0, np.nan, 1, 1, 2.0]), chunks=3)
    with pytest.raises(ValueError, match="qid is missing \\(NaN\\) on 1 rows"):
        partition_by_query(X, da.zeros(6, chunks=3), qid, npartitions=2)
    frame = dd.from_pandas(
        pd.DataFrame({"a": np.arange(6.0), "y": 0.0, "q": [0, 0, None, 1, 1, 2]}),
        npartitions=2,
    )
    with pytest.raises(ValueError, match="qid is missing \\(NaN\\) on 1 rows"):
        partition_by_query(frame, "y", "q", npartitions=2)
    with pytest.raises(
        ValueError, match=r"qid of partition 0 contains NaN or inf at row 2"
    ):
        check_query_partitions(qid)


def test_import_gbrank_does_not_import_dask():
    code = "import sys, gbrank; print(sorted({'dask', 'distributed'} & {*sys.modules}))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


# -- pickling and workers -------------------------------------------------------------


@pytest.mark.parametrize("name", ["pairwise_hinge", "softmax", "listmle"])
def test_losses_and_adapters_pickle(name):
    loss = gbrank.get_loss(name)
    for obj in (
        loss,
        loss.lgb_objective,
        loss.lgb_sklearn_objective,
        loss.lgb_metric,
        loss.xgb_objective,
        loss.xgb_metric,
    ):
        assert pickle.loads(pickle.dumps(obj)) == obj
        assert cloudpickle.loads(cloudpickle.dumps(obj)) == obj


def test_gradients_on_process_workers_match_local(client):
    rng = np.random.default_rng(0)
    y, scores = rng.integers(0, 3, 40).astype(float), rng.normal(size=40)
    group = np.array([10, 15, 15])
    loss = gbrank.get_loss("pairwise_logistic", lambda_weight="ndcg")
    local = loss.lgb_sklearn_objective(y, scores, None, group)
    futures = [
        client.submit(loss.lgb_sklearn_objective, y, scores, None, group, workers=[w])
        for w in client.scheduler_info()["workers"]
    ]
    for remote in client.gather(futures):
        np.testing.assert_array_equal(remote[0], local[0])
        np.testing.assert_array_equal(remote[1], local[1])


# lightgbm.dask sets threads per worker and says so for the n_jobs it always gets
@pytest.mark.filterwarnings("ignore:Parameter n_jobs will be ignored:UserWarning")
def test_lgb_sklearn_objective_gets_group_per_worker(client, dask_ranking, tmp_path):
    from lightgbm.dask import DaskLGBMRanker

    inner = gbrank.get_loss("softmax").lgb_sklearn_objective
    folder = str(tmp_path)

    def objective(y_true, y_pred, weight, group):
        np.save(Path(folder) / f"{os.getpid()}.npy", np.asarray(group))
        return inner(y_true, y_pred, weight, group)

    DaskLGBMRanker(
        client=client, objective=objective, n_estimators=2, verbosity=-1
    ).fit(dask_ranking.X, dask_ranking.y, group=dask_ranking.group)
    seen = [np.load(path) for path in sorted(tmp_path.glob("*.npy"))]
    # one file per worker process that holds partitions (the scheduler may put
    # all 4 on one worker); each saw the group sizes of its own rows only
    assert 1 <= len(seen) <= 2
    all_sizes = np.concatenate(check_query_partitions(dask_ranking.qid))
    assert sum(part.sum() for part in seen) == all_sizes.sum()
    assert sorted(np.concatenate(seen).tolist()) == sorted(all_sizes.tolist())


# -- ranking --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
@pytest.mark.parametrize("loss", ["pairwise_hinge", "softmax"])
def test_distributed_ranking_matches_local(
    client, ranking, dask_ranking, backend, loss
):
    X, y, qid, X_test, y_test, qid_test = ranking
    params = {"loss": loss, "backend": backend, **SETTINGS}
    ranker = DaskGBRankRegressor(**params).fit(
        dask_ranking.X, dask_ranking.y, qid=dask_ranking.qid, client=client
    )
    local = gbrank.GBRankRegressor(**params).fit(X, y, qid=qid)

    distributed_ndcg = metrics.ndcg(y_test, ranker.predict(X_test), qid=qid_test, k=10)
    local_ndcg = metrics.ndcg(y_test, local.predict(X_test), qid=qid_test, k=10)
    print(f"{backend} {loss}: dask {distributed_ndcg:.4f} local {local_ndcg:.4f}")  # noqa: T201
    assert abs(distributed_ndcg - local_ndcg) <= 0.02
    assert distributed_ndcg > 0.6

    to_local = ranker.to_local()
    assert type(to_local) is gbrank.GBRankRegressor
    assert to_local.get_params() == ranker.get_params()
    lazy = ranker.predict(da.from_array(X_test, chunks=(300, -1)))
    np.testing.assert_array_equal(lazy.compute(), to_local.predict(X_test))
    restored = pickle.loads(pickle.dumps(ranker))
    np.testing.assert_array_equal(restored.predict(X_test), to_local.predict(X_test))


def test_dataframe_ranking_with_weights(client, ranking):
    X, y, qid, X_test, *_ = ranking
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame = frame.assign(qid=qid, y=y, w=1.0)
    parts = partition_by_query(
        dd.from_pandas(frame, npartitions=3), "y", "qid", sample_weight="w"
    )
    # the same rows (and row order) for the eval set and the local check
    X_eval, y_eval, qid_eval, w_eval = client.persist(
        [parts.X, parts.y, parts.qid, parts.sample_weight]
    )
    ranker = DaskGBRankRegressor(loss="softmax", **SETTINGS).fit(
        parts.X,
        parts.y,
        qid=parts.qid,
        sample_weight=parts.sample_weight,
        eval_set=[(X_eval, y_eval)],
        eval_qid=[qid_eval],
        eval_sample_weight=[w_eval],
    )
    assert list(ranker.feature_names_in_) == list(parts.X.columns)
    # DataFrame partitions are scored too; NDCG@10 is unweighted, as locally
    curve = ranker.evals_result_["valid_0"]["ndcg@10"]
    assert len(curve) == ranker.best_iteration_ == SETTINGS["n_estimators"]
    scores = ranker.to_local().predict(X_eval.compute())
    expected = metrics.ndcg(y_eval.compute(), scores, qid=qid_eval.compute())
    assert curve[-1] == pytest.approx(expected, rel=0, abs=1e-9)
    test = pd.DataFrame(X_test, columns=list(parts.X.columns))
    lazy = ranker.predict(dd.from_pandas(test, npartitions=2))
    np.testing.assert_array_equal(lazy.compute(), ranker.to_local().predict(test))


def test_fit_rejects_straddling_queries(client, ranking):
    X, y, qid, *_ = ranking
    with pytest.raises(ValueError, match="straddles partitions"):
        DaskGBRankRegressor(n_estimators=2).fit(
            da.from_array(X, chunks=(500, -1)),
            da.from_array(y, chunks=500),
            qid=da.from_array(qid, chunks=500),
        )


def test_xgboost_ranking_weights_not_supported(client, dask_ranking):
    with pytest.raises(NotImplementedError, match="backend='lightgbm'"):
        DaskGBRankRegressor(backend="xgboost", n_estimators=2).fit(
            dask_ranking.X,
            dask_ranking.y,
            qid=dask_ranking.qid,
            sample_weight=da.ones_like(dask_ranking.y),
        )


# -- classification -------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_distributed_classifier(client, backend):
    X, y = make_classification(
        n_samples=600, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    labels = np.array(["a", "b", "c"])[y]
    params = {"loss": "categorical_cross_entropy", "backend": backend, **SETTINGS}
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=X.shape[0])
    clf = DaskGBRankClassifier(**params).fit(
        da.from_array(X, chunks=(200, -1)),
        da.from_array(labels, chunks=200),
        eval_set=[(da.from_array(X, chunks=(250, -1)), da.from_array(labels, 250))],
        eval_sample_weight=[da.from_array(weights, chunks=250)],
    )
    local = gbrank.GBRankClassifier(**params).fit(
        X, labels, eval_set=[(X, labels)], eval_sample_weight=[weights]
    )
    assert list(clf.classes_) == ["a", "b", "c"]
    # the loss the local classifier records, per round, over the whole eval set
    curve = clf.evals_result_["valid_0"]["categorical_cross_entropy"]
    assert local.evals_result_.keys() == clf.evals_result_.keys()
    assert local.evals_result_["valid_0"].keys() == clf.evals_result_["valid_0"].keys()
    assert len(curve) == clf.best_iteration_ == SETTINGS["n_estimators"]
    engine = get_engine(backend)
    loss = clf.loss_.for_engine(backend)
    codes = np.searchsorted(clf.classes_, labels)
    for rounds in (1, 7, len(curve)):
        scores = engine.predict_raw(clf.booster_, X, rounds)
        expected = loss.loss(codes, scores, sample_weight=weights)
        assert curve[rounds - 1] == pytest.approx(expected, rel=1e-12)
    proba = clf.predict_proba(da.from_array(X, chunks=(150, -1))).compute()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba, clf.to_local().predict_proba(X))
    accuracy = np.mean(clf.predict(X) == labels)
    local_accuracy = np.mean(local.predict(X) == labels)
    assert abs(accuracy - local_accuracy) <= 0.05
    assert accuracy > 0.8


# -- eval sets and early stopping -----------------------------------------------------


def _oracle_stop(curve, rounds, maximize):
    """Early stopping as a plain loop: rounds trained, best round (1-based)."""
    best_value, best, since = None, 0, 0
    for index, value in enumerate(curve):
        better = best_value is None or (
            value > best_value if maximize else value < best_value
        )
        if better:
            best_value, best, since = value, index, 0
        else:
            since += 1
            if since >= rounds:
                return index + 1, best + 1
    return len(curve), best + 1


def _lightgbm_stop(curve, rounds, maximize):
    """Rounds trained and best round by lightgbm.early_stopping itself."""
    import lightgbm as lgb

    callback = lgb.early_stopping(rounds, first_metric_only=True, verbose=False)
    # LightGBM >= 4.7 passes EvalResult tuples, older versions plain tuples
    result = getattr(lgb, "EvalResult", lambda *fields: fields)
    for index, value in enumerate(curve):
        env = lgb.callback.CallbackEnv(
            model=None,
            params={},
            iteration=index,
            begin_iteration=0,
            end_iteration=len(curve),
            evaluation_result_list=[result("valid_0", "metric", value, maximize)],
        )
        try:
            callback(env)
        except lgb.callback.EarlyStopException as stop:
            return index + 1, stop.best_iteration + 1
    raise AssertionError("lightgbm.early_stopping always stops at the last round")


def _xgboost_stop(curve, rounds, maximize):
    """Rounds trained and best round by XGBoost's EarlyStopping callback."""
    import xgboost as xgb

    callback = xgb.callback.EarlyStopping(rounds=rounds, maximize=maximize)
    model = xgb.Booster()
    history = {"valid_0": {"metric": []}}
    for index, value in enumerate(curve):
        history["valid_0"]["metric"].append(value)
        if callback.after_iteration(model, index, history):
            break
    return index + 1, int(model.attr("best_iteration")) + 1


@pytest.mark.parametrize("maximize", [True, False], ids=["maximize", "minimize"])
def test_early_stopping_rule_is_the_engines(maximize):
    rng = np.random.default_rng(0)
    for _ in range(200):
        size, rounds = int(rng.integers(1, 25)), int(rng.integers(1, 6))
        curve = rng.integers(0, 4, size=size) / 4.0  # many ties between rounds
        expected = _oracle_stop(curve, rounds, maximize)
        assert early_stopping(curve, rounds, maximize) == expected
        assert _lightgbm_stop(curve, rounds, maximize) == expected
        assert _xgboost_stop(curve, rounds, maximize) == expected


@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_eval_sets_and_early_stopping(client, dask_ranking, eval_data, backend):
    parts, X_eval, y_eval, qid_eval = eval_data
    reversed_y = y_eval.max() - y_eval  # gets worse as the model learns
    patience = 10
    ranker = DaskGBRankRegressor(loss="softmax", backend=backend, **SETTINGS).fit(
        dask_ranking.X,
        dask_ranking.y,
        qid=dask_ranking.qid,
        eval_set=[(parts.X, parts.y.max() - parts.y), (parts.X, parts.y)],
        eval_qid=[parts.qid, parts.qid],
        early_stopping_rounds=patience,
    )
    result = ranker.evals_result_
    assert list(result) == ["valid_0", "valid_1"]
    assert all(list(curves) == ["ndcg@10"] for curves in result.values())
    kept = len(result["valid_0"]["ndcg@10"])
    assert len(result["valid_1"]["ndcg@10"]) == kept
    assert kept < SETTINGS["n_estimators"]  # it stopped early

    # every round's value is NDCG@10 of the model with that many rounds
    local = ranker.to_local()
    engine = get_engine(backend)
    for rounds in range(1, kept + 1):
        scores = engine.predict_raw(local.booster_, X_eval, rounds)
        for name, labels in (("valid_0", reversed_y), ("valid_1", y_eval)):
            expected = metrics.ndcg(labels, scores, qid=qid_eval, k=10)
            assert result[name]["ndcg@10"][rounds - 1] == pytest.approx(
                expected, rel=0, abs=1e-9
            )
    # stopped where the rule says, on the first eval set; the model is cut there
    curve = result["valid_0"]["ndcg@10"]
    assert (kept, ranker.best_iteration_) == _oracle_stop(curve, patience, True)
    assert kept == ranker.best_iteration_ + patience
    booster = local.booster_
    trained = (
        booster.current_iteration()
        if backend == "lightgbm"
        else booster.num_boosted_rounds()
    )
    assert trained == kept
    # predictions use the best round
    best = engine.predict_raw(booster, X_eval, ranker.best_iteration_)
    np.testing.assert_array_equal(ranker.predict(X_eval), best)
    np.testing.assert_array_equal(local.predict(X_eval), best)
    assert not np.array_equal(best, engine.predict_raw(booster, X_eval, kept))
    # or the rounds asked for; the best round's values are best_score_
    every = engine.predict_raw(booster, X_eval, kept)
    np.testing.assert_array_equal(ranker.predict(X_eval, num_iteration=kept), every)
    assert ranker.best_score_ == {
        name: {"ndcg@10": curves["ndcg@10"][ranker.best_iteration_ - 1]}
        for name, curves in result.items()
    }


def test_eval_query_straddling_partitions_is_refused(client, dask_ranking, eval_data):
    parts, X_eval, y_eval, qid_eval = eval_data
    ranker = DaskGBRankRegressor(n_estimators=2)
    with pytest.raises(
        ValueError,
        match=r"eval_set\[1\] \(eval_qid\[1\]\): query id \d+ straddles partitions",
    ):
        ranker.fit(
            dask_ranking.X,
            dask_ranking.y,
            qid=dask_ranking.qid,
            eval_set=[
                (parts.X, parts.y),
                (da.from_array(X_eval, (500, -1)), da.from_array(y_eval, 500)),
            ],
            eval_qid=[parts.qid, da.from_array(qid_eval, 500)],
        )
    assert not hasattr(ranker, "booster_")


def test_eval_set_needs_eval_qid(client, dask_ranking, eval_data):
    parts, *_ = eval_data
    with pytest.raises(
        ValueError, match=r"eval_set\[0\] has no query ids: pass eval_qid"
    ):
        DaskGBRankRegressor(n_estimators=2).fit(
            dask_ranking.X,
            dask_ranking.y,
            qid=dask_ranking.qid,
            eval_set=[(parts.X, parts.y)],
        )


def test_eval_set_partitions_must_line_up(client, dask_ranking, eval_data):
    parts, *_ = eval_data
    with pytest.raises(ValueError, match=r"eval_qid\[0\] has 2 partitions but"):
        DaskGBRankRegressor(n_estimators=2).fit(
            dask_ranking.X,
            dask_ranking.y,
            qid=dask_ranking.qid,
            eval_set=[(parts.X, parts.y)],
            eval_qid=[parts.qid.rechunk(parts.qid.shape[0] // 2 + 1)],
        )


@pytest.mark.parametrize("estimator", [DaskGBRankRegressor, DaskGBRankClassifier])
def test_early_stopping_needs_an_eval_set(client, dask_ranking, estimator):
    extra = {"qid": dask_ranking.qid} if estimator is DaskGBRankRegressor else {}
    with pytest.raises(
        ValueError, match="early_stopping_rounds needs at least one eval_set"
    ):
        estimator(n_estimators=2).fit(
            dask_ranking.X, dask_ranking.y, early_stopping_rounds=3, **extra
        )
