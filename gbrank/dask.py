"""Distributed training on Dask: gbrank losses with ``lightgbm.dask``, ``xgboost.dask``.

Install the extra with ``pip install "gbrank[dask]"``; ``import gbrank`` never
imports Dask, and this module imports it only when a function needs it.

What runs where
---------------
The client sends the loss object (a small picklable object without per-process
state) to every worker. Each worker computes the gradients and hessians of its
own rows, query by query, with the same kernels as in a single process; the
engine then builds every tree collectively (LightGBM's data-parallel learner,
XGBoost's allreduce of gradient histograms), so all workers hold the same model.
A gradient of a ranking loss depends on every row of the query, so **each query
must lie in one partition**: :func:`partition_by_query` arranges that and
:func:`check_query_partitions` verifies it (a straddling query would silently be
treated as two smaller queries).

Eval sets and early stopping
----------------------------
``fit(eval_set=..., early_stopping_rounds=...)`` records the same metric as the
in-memory estimators (NDCG@10 for rankers, the loss for classifiers) in the
same ``evals_result_`` layout, and sets ``best_iteration_`` by the same rule.
The engines' own distributed evaluation is not used: LightGBM's Dask estimators
evaluate each worker's rows only and hang with early stopping (LightGBM issues
#4189, #6351, #7009), and XGBoost averages a Python metric's per-worker values,
which is not the metric of the whole eval set. Instead, after
``n_estimators`` rounds, every worker scores its partitions of each eval set
round by round (``Engine.staged_raw_scores``: the model's predictions with 1,
2, ... rounds) with gbrank's metric kernels, and returns, per round, a sum and
a count (per-query NDCG values and the number of queries; the summed loss and
its divisor); their totals give the exact metric of the whole set. Early
stopping then applies LightGBM's and XGBoost's rule (stop once the first eval
set's metric has not strictly improved for ``early_stopping_rounds`` rounds)
to that curve and cuts the model and the curves at the stopping round; the
rounds after it were trained anyway. Eval queries, like training queries,
must each lie in one partition.

Examples
--------
>>> import dask.array as da
>>> import numpy as np
>>> from gbrank.dask import check_query_partitions, partition_by_query
>>> qid = da.from_array(np.array([0, 0, 1, 1, 1, 2]), chunks=3)
>>> check_query_partitions(qid)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: query id 1 straddles partitions 0 and 1: ...partition_by_query(X, y, qid).
>>> X = da.zeros((6, 2), chunks=(3, 2))
>>> parts = partition_by_query(X, da.zeros(6, chunks=3), qid, npartitions=2)
>>> [sizes.tolist() for sizes in check_query_partitions(parts.qid)]
[[2, 3], [1]]

Training needs a ``distributed.Client`` (here a local cluster):

>>> from distributed import Client, LocalCluster  # doctest: +SKIP
>>> from gbrank.dask import DaskGBRankRegressor  # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
>>> ranker = DaskGBRankRegressor(loss="softmax").fit(
...     parts.X, parts.y, qid=parts.qid)  # doctest: +SKIP
>>> local = ranker.to_local()  # a GBRankRegressor for in-memory data  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils.validation import check_is_fitted

from gbrank._dask_eval import (
    EvalSets,
    LossScorer,
    NDCGScorer,
    Scorer,
    check_dask,
    early_stopping,
    eval_sets,
    partitions,
    qid_runs,
    query_sizes,
    score_eval_sets,
)
from gbrank.engines import Engine, Fitted
from gbrank.losses import Loss
from gbrank.sklearn import (
    GBRankClassifier,
    GBRankRegressor,
    _GBRankModel,
    check_classes,
)

if TYPE_CHECKING:
    from distributed import Client

Array = NDArray[np.float64]

_QID, _Y, _W, _KEY = "_gbrank_qid", "_gbrank_y", "_gbrank_w", "_gbrank_key"

# -- query-aligned partitions ---------------------------------------------------------


@dataclass(frozen=True)
class QueryPartitions:
    """Training data whose partitions each hold whole queries.

    Attributes
    ----------
    X : dask.array.Array or dask.dataframe.DataFrame
        Features (the type of the input), rows sorted by query id.
    y, qid : dask.array.Array or dask.dataframe.Series
        Labels and query ids, partitioned like ``X``.
    sample_weight : dask.array.Array, dask.dataframe.Series or None
    group : dask.array.Array of int64
        Group sizes; chunk ``i`` holds the sizes of the queries of partition
        ``i`` (``lightgbm.dask``'s ``group=`` layout).
    """

    X: Any
    y: Any
    qid: Any
    sample_weight: Any
    group: Any


def check_query_partitions(qid: Any) -> list[NDArray[np.int64]]:
    """Check that every query lies in one partition and is contiguous in it.

    Parameters
    ----------
    qid : dask.array.Array or dask.dataframe.Series
        Query id of every row, partitioned like the features.

    Returns
    -------
    list of ndarray of int64
        Group sizes of each partition, queries in row order.

    Raises
    ------
    ValueError
        Naming the first query id found in two partitions (or twice in one
        partition, not contiguously) and where.
    """
    import dask

    runs = dask.compute(
        *[
            dask.delayed(qid_runs)(part, index)
            for index, part in enumerate(partitions(qid))
        ]
    )
    return query_sizes(runs)


def _frame(X: Any, columns: dict[str, Any]) -> tuple[Any, list[Any], bool]:
    """One Dask DataFrame of features and extra columns; feature names; was-array."""
    import dask.array as da
    import dask.dataframe as dd

    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got a Dask array of shape {X.shape}.")
        X = X.rechunk({1: -1})
        features = [f"f{i}" for i in range(X.shape[1])]
        frame = dd.from_dask_array(X, columns=features)
        extra = {}
        for name, value in columns.items():
            if isinstance(value, str):
                raise TypeError(
                    f"{name.removeprefix('_gbrank_')} is the column name "
                    f"{value!r}, but X is a Dask array; pass a Dask array."
                )
            extra[name] = dd.from_dask_array(
                da.asarray(value).rechunk(X.chunks[0]), index=frame.index
            )
        return frame.assign(**extra), features, True
    if not isinstance(X, dd.DataFrame):
        raise TypeError(
            "X must be a dask.array.Array or dask.dataframe.DataFrame, got "
            f"{type(X).__name__}."
        )
    named = [value for value in columns.values() if isinstance(value, str)]
    features = [column for column in X.columns if column not in named]
    extra = {
        name: X[value] if isinstance(value, str) else value
        for name, value in columns.items()
    }
    return X[features].assign(**extra), features, False


def partition_by_query(
    X: Any,
    y: Any,
    qid: Any,
    *,
    sample_weight: Any = None,
    npartitions: int | None = None,
) -> QueryPartitions:
    """Sort rows by query id and cut partitions at query boundaries.

    Partitions get about the same number of rows (whole queries only). Query
    sizes are counted on the cluster (one number per query comes back to the
    client); the rows move with one shuffle (``set_index`` with known
    divisions).

    Parameters
    ----------
    X : dask.array.Array or dask.dataframe.DataFrame
        Features.
    y, qid : dask.array.Array, dask.dataframe.Series or str
        Labels and query ids, partitioned like ``X``, or names of columns of a
        DataFrame ``X`` (those columns are then dropped from the features).
    sample_weight : dask.array.Array, dask.dataframe.Series, str or None
        Per-row weights, like ``y``.
    npartitions : int or None, default None
        Number of partitions (at most the number of queries); None keeps
        ``X``'s.

    Returns
    -------
    QueryPartitions
        ``X``, ``y``, ``qid``, ``sample_weight`` of the same kinds as given
        (arrays with known chunk sizes) and ``group`` sizes per partition.
    """
    import dask.array as da

    columns = {_QID: qid, _Y: y}
    if sample_weight is not None:
        columns[_W] = sample_weight
    frame, features, was_array = _frame(X, columns)
    n_parts = frame.npartitions if npartitions is None else npartitions
    if not isinstance(n_parts, int) or n_parts < 1:
        raise ValueError(f"npartitions must be an integer >= 1, got {npartitions!r}.")

    counts = frame[_QID].value_counts(dropna=False).compute()
    if counts.index.isna().any():
        raise ValueError(
            f"qid is missing (NaN) on {int(counts[counts.index.isna()].sum())} rows; "
            "every row needs a query id: drop those rows or give them one."
        )
    counts = counts.sort_index()
    ids, sizes = counts.index.to_numpy(), counts.to_numpy().astype(np.int64)
    ends = np.cumsum(sizes)
    targets = ends[-1] * np.arange(1, n_parts) / n_parts
    cuts = np.unique(np.searchsorted(ends, targets, side="left") + 1)
    cuts = cuts[(cuts > 0) & (cuts < ids.size)]
    divisions = [ids[0], *ids[cuts].tolist(), ids[-1]]

    frame = frame.assign(**{_KEY: frame[_QID]})
    frame = frame.set_index(_KEY, divisions=divisions, sort=True)
    part_sizes = np.split(sizes, cuts)
    lengths = tuple(int(part.sum()) for part in part_sizes)
    group = da.concatenate(
        [da.from_array(part, chunks=part.size) for part in part_sizes]
    )

    def column(name: str) -> Any:
        return frame[name].to_dask_array(lengths=lengths) if was_array else frame[name]

    return QueryPartitions(
        X=frame[features].to_dask_array(lengths=lengths)
        if was_array
        else frame[features],
        y=column(_Y),
        qid=column(_QID),
        sample_weight=column(_W) if sample_weight is not None else None,
        group=group,
    )


# -- training -------------------------------------------------------------------------


def _client(client: Client | None) -> Client:
    from distributed import default_client

    return default_client() if client is None else client


def _to_array(collection: Any) -> Any:
    """Return a 1-D Dask Series or Array as a Dask array."""
    import dask.array as da

    return (
        collection if isinstance(collection, da.Array) else collection.to_dask_array()
    )


class _DaskMixin:
    """Fitting on a Dask cluster, prediction of Dask collections, ``to_local``."""

    _local_class: type[_GBRankModel]

    def _fit_dask(
        self,
        client: Client,
        loss: Loss,
        n_classes: int | None,
        X: Any,
        y: Any,
        train: dict[str, Any],
        evals: EvalSets,
        scorer: Scorer,
        early_stopping_rounds: int | None,
    ) -> None:
        """Train on the cluster, score the eval sets, apply early stopping."""
        engine: Engine = self._engine()  # type: ignore[attr-defined]
        settings = self._settings(n_classes)  # type: ignore[attr-defined]
        fitted = engine.train_dask(client, loss, settings, X, y, **train)
        if evals.parts:
            n_rounds = fitted.best_iteration
            curves = score_eval_sets(
                client, engine, fitted.booster, n_rounds, scorer, evals
            )
            kept, best = n_rounds, n_rounds
            if early_stopping_rounds is not None:
                kept, best = early_stopping(
                    curves[0], early_stopping_rounds, scorer.higher_is_better
                )
            booster = fitted.booster
            if kept < n_rounds:
                booster = engine.truncate(booster, kept)
            fitted = Fitted(
                booster,
                best,
                {
                    f"valid_{i}": {scorer.name: curve[:kept].tolist()}
                    for i, curve in enumerate(curves)
                },
            )
        self._set_fitted(X, loss, fitted)

    def _set_fitted(self, X: Any, loss: Loss, fitted: Fitted) -> None:
        self._set_booster(loss, fitted)  # type: ignore[attr-defined]
        self.n_features_in_ = int(X.shape[1])
        if hasattr(X, "columns") and all(isinstance(c, str) for c in X.columns):
            self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)

    def to_local(self) -> Any:
        """Return the fitted model as an in-memory gbrank estimator.

        Its predictions on in-memory data equal this model's.

        Returns
        -------
        GBRankRegressor or GBRankClassifier
        """
        check_is_fitted(self, "booster_")
        local = self._local_class(**self.get_params())  # type: ignore[attr-defined]
        for name, value in vars(self).items():
            if (name.endswith("_") and not name.startswith("__")) or name == "_encoder":
                setattr(local, name, value)
        return local

    def predict(self, X: Any, num_iteration: int | None = None) -> Any:
        """Ranking scores, or the most probable class; a lazy Dask array for Dask input.

        Parameters
        ----------
        X : dask.array.Array, dask.dataframe.DataFrame or array-like
        num_iteration : int, optional
            Rounds to predict with; default ``best_iteration_``.

        Returns
        -------
        dask.array.Array or ndarray of shape (n_samples,)
        """
        return self._map_rows(X, "predict", (), num_iteration)

    def _map_rows(
        self,
        X: Any,
        method: str,
        trailing: tuple[int, ...],
        num_iteration: int | None = None,
    ) -> Any:
        """Apply the local model's ``method`` to the row blocks of ``X``.

        Dask input gives a Dask array (lazy); in-memory input is predicted now.
        """
        import dask
        import dask.array as da
        import dask.dataframe as dd

        function = functools.partial(
            getattr(self.to_local(), method), num_iteration=num_iteration
        )
        if not isinstance(X, (da.Array, dd.DataFrame)):
            return function(X)
        dtype = (
            self.classes_.dtype  # type: ignore[attr-defined]
            if method == "predict" and hasattr(self, "classes_")
            else np.dtype(np.float64)
        )
        if isinstance(X, dd.DataFrame):
            blocks = [
                da.from_delayed(
                    dask.delayed(function)(part), shape=(np.nan, *trailing), dtype=dtype
                )
                for part in partitions(X)
            ]
            return da.concatenate(blocks)
        X = X.rechunk({1: -1})
        if not trailing:
            return X.map_blocks(function, drop_axis=1, dtype=dtype)
        return X.map_blocks(function, chunks=(X.chunks[0], trailing), dtype=dtype)


def _group_array(sizes: list[NDArray[np.int64]]) -> Any:
    """Group sizes as a Dask array with one chunk per data partition."""
    import dask.array as da

    for index, part in enumerate(sizes):
        if part.size == 0:
            raise ValueError(
                f"partition {index} is empty; every partition needs rows (use "
                "gbrank.dask.partition_by_query or repartition the data)."
            )
    return da.concatenate([da.from_array(part, chunks=part.size) for part in sizes])


class DaskGBRankRegressor(_DaskMixin, GBRankRegressor):
    """:class:`gbrank.GBRankRegressor` trained on a Dask cluster.

    Same parameters as :class:`gbrank.GBRankRegressor`. LightGBM trains through
    ``lightgbm.dask.DaskLGBMRanker(objective=loss.lgb_sklearn_objective)``,
    XGBoost through ``xgboost.dask.train(client, params, DaskDMatrix(..., qid=),
    obj=loss.xgb_objective)``. Every query must lie in one partition
    (:func:`partition_by_query`).

    Parameters
    ----------
    loss, backend, n_estimators, learning_rate, max_depth, num_leaves, \
min_child_weight, subsample, colsample_bytree, reg_alpha, reg_lambda, \
random_state, n_jobs, booster_params
        As for :class:`gbrank.GBRankRegressor` (``n_jobs`` is ignored: each
        worker uses its Dask threads).

    Attributes
    ----------
    booster_, loss_, n_features_in_, feature_names_in_
        As for :class:`gbrank.GBRankRegressor`.
    best_iteration_ : int
        Number of rounds used for prediction: the best round with early
        stopping, else all rounds.
    evals_result_ : dict
        NDCG@10 of each eval set per round, ``{"valid_0": {"ndcg@10": [...]}}``,
        as :class:`gbrank.GBRankRegressor` records it ({} without eval sets).

    Notes
    -----
    Gradients are computed per worker on its own partitions; trees are built
    collectively by the engine. With ``backend="xgboost"`` per-row weights are
    not supported (``DaskDMatrix`` refuses weights with ``qid``).

    Eval sets are scored after training, on the workers that hold them: for
    every round, each partition's sum of per-query NDCG@10 and its number of
    queries are added up, so ``evals_result_`` holds the exact NDCG@10 of each
    whole eval set. With ``early_stopping_rounds`` the model and the curves are
    then cut where training would have stopped (the first eval set's NDCG@10 not
    improved for that many rounds) and ``best_iteration_`` is the best round;
    all ``n_estimators`` rounds are trained first, because LightGBM's Dask
    early stopping hangs. The eval sets stay in cluster memory until then.
    """

    _local_class = GBRankRegressor
    _classifier = "DaskGBRankClassifier"

    def fit(  # type: ignore[override]
        self,
        X: Any,
        y: Any,
        *,
        qid: Any,
        sample_weight: Any = None,
        eval_set: list[tuple[Any, Any]] | None = None,
        eval_qid: list[Any] | None = None,
        eval_sample_weight: list[Any] | None = None,
        early_stopping_rounds: int | None = None,
        client: Client | None = None,
    ) -> DaskGBRankRegressor:
        """Fit the ranker on Dask collections.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame
        y : dask.array.Array or dask.dataframe.Series
            Relevance labels.
        qid : dask.array.Array or dask.dataframe.Series
            Query id of every row; each query within one partition, its rows
            adjacent.
        sample_weight : dask.array.Array or dask.dataframe.Series, optional
            Per-row weights (LightGBM only).
        eval_set : list of (X, y) pairs of Dask collections, optional
            Validation sets; NDCG@10 of each is recorded per round in
            ``evals_result_`` (see Notes).
        eval_qid : list of dask.array.Array or dask.dataframe.Series, optional
            Query ids of each eval set, partitioned like it, each query within
            one partition (:func:`partition_by_query`); needed with ``eval_set``.
        eval_sample_weight : list of Dask collections or None, optional
            Per-row weights of each eval set. As for
            :class:`gbrank.GBRankRegressor`, NDCG@10 on eval sets is unweighted;
            the weights are only checked (finite, >= 0).
        early_stopping_rounds : int, optional
            Keep the rounds up to where NDCG@10 on the first eval set has not
            improved for this many rounds; ``best_iteration_`` is its best round.
        client : distributed.Client, optional
            Default: the current default client.

        Returns
        -------
        self : DaskGBRankRegressor
        """
        loss = self._start_fit(early_stopping_rounds, eval_set)
        check_dask(X, y, qid, sample_weight)
        client = _client(client)
        group = _group_array(check_query_partitions(qid))
        evals = eval_sets(client, X, eval_set, eval_qid, eval_sample_weight, True)
        self._fit_dask(
            client,
            loss,
            None,
            X,
            y,
            {"group": group, "qid": qid, "sample_weight": sample_weight},
            evals,
            NDCGScorer(),
            early_stopping_rounds,
        )
        return self


class DaskGBRankClassifier(_DaskMixin, GBRankClassifier):
    """:class:`gbrank.GBRankClassifier` trained on a Dask cluster.

    Same parameters as :class:`gbrank.GBRankClassifier`. Classes are found on the
    cluster and labels encoded once; LightGBM trains through
    ``lightgbm.dask.DaskLGBMRegressor`` with ``num_class`` and
    ``objective=loss.lgb_sklearn_objective``, XGBoost through
    ``xgboost.dask.train(..., obj=loss.xgb_objective)``.

    Parameters
    ----------
    loss, backend, n_estimators, learning_rate, max_depth, num_leaves, \
min_child_weight, subsample, colsample_bytree, reg_alpha, reg_lambda, \
random_state, n_jobs, booster_params
        As for :class:`gbrank.GBRankClassifier`.

    Attributes
    ----------
    classes_, booster_, loss_, n_features_in_, feature_names_in_
        As for :class:`gbrank.GBRankClassifier`.
    best_iteration_, evals_result_
        As for :class:`DaskGBRankRegressor`; eval sets record the loss value
        (the loss's default reduction, weighted by ``eval_sample_weight``),
        ``{"valid_0": {"categorical_cross_entropy": [...]}}``.

    Notes
    -----
    Eval sets are scored after training, as for :class:`DaskGBRankRegressor`:
    each partition's summed loss and divisor (rows, valid rows or weights) are
    added up over the eval set, per round; early stopping keeps the rounds up to
    where the first eval set's loss stopped improving.
    """

    _local_class = GBRankClassifier
    _ranker = "DaskGBRankRegressor"

    def fit(  # type: ignore[override]
        self,
        X: Any,
        y: Any,
        *,
        sample_weight: Any = None,
        eval_set: list[tuple[Any, Any]] | None = None,
        eval_sample_weight: list[Any] | None = None,
        early_stopping_rounds: int | None = None,
        client: Client | None = None,
    ) -> DaskGBRankClassifier:
        """Fit the classifier on Dask collections.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame
        y : dask.array.Array or dask.dataframe.Series
            Class labels.
        sample_weight : dask.array.Array or dask.dataframe.Series, optional
        eval_set : list of (X, y) pairs of Dask collections, optional
            Validation sets; the loss value (its default reduction) of each is
            recorded per round in ``evals_result_``.
        eval_sample_weight : list of Dask collections or None, optional
            Per-row weights of each eval set, used in its loss value.
        early_stopping_rounds : int, optional
            Keep the rounds up to where the loss on the first eval set has not
            improved for this many rounds; ``best_iteration_`` is its best round.
        client : distributed.Client, optional
            Default: the current default client.

        Returns
        -------
        self : DaskGBRankClassifier
        """
        import dask.array as da
        from sklearn.preprocessing import LabelEncoder

        loss = self._start_fit(early_stopping_rounds, eval_set)
        check_dask(X, y, None, sample_weight)
        client = _client(client)
        evals = eval_sets(client, X, eval_set, None, eval_sample_weight, False)
        labels = _to_array(y)
        classes = np.asarray(da.unique(labels).compute())
        self._encoder = LabelEncoder().fit(classes)
        self.classes_ = self._encoder.classes_
        n_classes = check_classes(self.classes_, loss)
        encoded = labels.map_blocks(_encode, self.classes_, dtype=np.float64)
        engine_loss = loss.for_engine(self._engine().name)
        self._fit_dask(
            client,
            loss,
            n_classes if loss.is_multiclass else None,
            X,
            encoded,
            {"sample_weight": sample_weight},
            evals,
            LossScorer(engine_loss, self.classes_),
            early_stopping_rounds,
        )
        return self

    def predict_proba(self, X: Any, num_iteration: int | None = None) -> Any:
        """Class probabilities; a lazy Dask array for Dask input.

        Parameters are those of :meth:`predict`.

        Returns
        -------
        dask.array.Array or ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "classes_")
        trailing = (len(self.classes_),)
        return self._map_rows(X, "predict_proba", trailing, num_iteration)


def _encode(labels: ArrayLike, classes: NDArray[Any]) -> Array:
    """Class indices of ``labels`` (float64, as the engines take labels)."""
    return np.searchsorted(classes, np.asarray(labels)).astype(np.float64)
