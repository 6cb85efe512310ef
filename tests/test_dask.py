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
from gbrank.dask import (
    DaskGBRankClassifier,
    DaskGBRankRegressor,
    check_query_partitions,
    partition_by_query,
)
from gbrank.datasets import make_ranking

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
    ranker = DaskGBRankRegressor(loss="softmax", **SETTINGS).fit(
        parts.X, parts.y, qid=parts.qid, sample_weight=parts.sample_weight
    )
    assert list(ranker.feature_names_in_) == list(parts.X.columns)
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
    clf = DaskGBRankClassifier(**params).fit(
        da.from_array(X, chunks=(200, -1)), da.from_array(labels, chunks=200)
    )
    local = gbrank.GBRankClassifier(**params).fit(X, labels)
    assert list(clf.classes_) == ["a", "b", "c"]
    proba = clf.predict_proba(da.from_array(X, chunks=(150, -1))).compute()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba, clf.to_local().predict_proba(X))
    accuracy = np.mean(clf.predict(X) == labels)
    local_accuracy = np.mean(local.predict(X) == labels)
    assert abs(accuracy - local_accuracy) <= 0.05
    assert accuracy > 0.8
