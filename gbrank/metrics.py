r"""Grouped ranking metrics: NDCG@k, MAP@k, MRR@k and precision@k.

Every metric takes flat rows with their query structure (``group`` sizes or
per-row ``qid``; without either it raises ``ValueError``, and ``group=[n]``
ranks all ``n`` rows as one query) and returns the mean of its per-query
values. Rows are ranked by score, descending; ties keep row order (a stable
sort, as LightGBM's ``std::stable_sort`` and XGBoost's stable argsort do). Rows
with a negative label are ignored (gbrank's convention). ``k=None`` ranks the
whole list; a query shorter than ``k`` is cut at its length.

A query with no relevant row (NDCG: ideal DCG 0, i.e. all labels 0; the others:
no label > 0) scores ``no_relevant``: 1.0 by default, as LightGBM and XGBoost
score it; TF-Ranking uses 0.0.

The metrics are also given as scikit-learn scorers (:class:`RankingScorer`,
:func:`ndcg_scorer`), and by the engines as LightGBM ``feval``
(``gbrank.lightgbm.ranking_metric``; :func:`lgb_eval` is an alias) and XGBoost
``custom_metric`` (``gbrank.xgboost.ranking_metric``; :func:`xgb_eval`).

Examples
--------
>>> from gbrank import metrics
>>> y = [2, 0, 1, 0, 1]
>>> s = [0.3, 0.9, 0.1, 0.2, 0.8]
>>> round(metrics.ndcg(y, s, group=[3, 2], k=2), 4)
0.7606
>>> metrics.mrr(y, s, group=[3, 2])
0.75
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gbrank._aliases import engine_function
from gbrank._groups import Groups, make_groups, missing_queries
from gbrank._kernels import metrics as kernels
from gbrank._kernels.threads import run_groups
from gbrank._params import Configured
from gbrank._validation import (
    as_float_array,
    check_choice,
    check_gain_labels,
    check_int,
    check_nonnegative,
    check_real,
    check_same_shape,
)

if TYPE_CHECKING:
    from sklearn.utils.metadata_routing import MetadataRequest

METRICS = {
    "ndcg": kernels.Metric.NDCG,
    "map": kernels.Metric.MAP,
    "mrr": kernels.Metric.MRR,
    "precision": kernels.Metric.PRECISION,
}
"""Metric names accepted by :func:`ranking_metric` and the eval factories."""

ROUTING_HINT = (
    "In cross_validate, GridSearchCV and Pipelines, turn on scikit-learn's "
    "metadata routing (sklearn.set_config(enable_metadata_routing=True)) and ask "
    "for qid (ranker.set_fit_request(qid=True).set_score_request(qid=True)); then "
    "fit(X, y, qid=qid) passes each fold's query ids to fitting and scoring (with "
    "GroupKFold: fit(X, y, qid=qid, groups=qid))"
)
"""How to get ``qid`` to scikit-learn's scoring (messages of the rankers)."""

METRIC_ROW_NS = 40.0
"""Estimated nanoseconds of metric work per row, for cutting work into chunks."""


def _config(metric: str, k: int | None, no_relevant: float) -> kernels.MetricConfig:
    """Validate the metric's parameters; ``k=None`` becomes 0 (the whole list)."""
    check_choice(metric, "metric", METRICS)
    cutoff = check_int(k, "k", allow_none=True) or 0
    missing = check_real(no_relevant, "no_relevant", low=0.0, high=1.0)
    return kernels.MetricConfig(int(METRICS[metric]), cutoff, float(missing))


def _per_query(
    config: kernels.MetricConfig,
    labels: NDArray[np.float64],
    scores: NDArray[np.float64],
    groups: Groups,
) -> NDArray[np.float64]:
    """Compute the per-query values of a validated metric."""
    check_same_shape(labels, "y_true", scores, "y_pred")
    if config.metric == kernels.Metric.NDCG:
        check_gain_labels(labels, "NDCG", "")
    out = np.empty(groups.n_groups)
    offsets = groups.offsets
    run_groups(
        lambda first, stop: kernels.ranking_metric(
            first, stop, labels, scores, offsets, config, out
        ),
        groups.sizes * METRIC_ROW_NS,
    )
    return out


def ranking_metric(
    metric: str,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    group: ArrayLike | None = None,
    qid: ArrayLike | None = None,
    k: int | None = None,
    no_relevant: float = 1.0,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Mean over queries of a ranking metric chosen by name.

    Parameters
    ----------
    metric : {"ndcg", "map", "mrr", "precision"}
        See :func:`ndcg`, :func:`mean_average_precision`, :func:`mrr` and
        :func:`precision`.
    y_true : array-like of shape (n_rows,)
        Graded relevance labels; negative labels mark ignored rows.
    y_pred : array-like of shape (n_rows,)
        Scores; higher ranks first.
    group, qid : array-like
        Group sizes or per-row query ids: exactly one of them (neither raises
        ``ValueError``; ``group=[len(y_true)]`` ranks all rows as one query).
    k : int or None
        Cutoff; None ranks the whole list.
    no_relevant : float, default 1.0
        Value of a query with no relevant row.
    sample_weight : array-like of shape (n_rows,), optional
        Per-row weights; the mean over queries is then weighted, a query
        weighing the mean weight of its rows.

    Returns
    -------
    float
    """
    config = _config(metric, k, no_relevant)
    labels = as_float_array(y_true, "y_true", ndim=(1,))
    scores = as_float_array(y_pred, "y_pred", ndim=(1,))
    check_same_shape(labels, "y_true", scores, "y_pred")
    groups = make_groups(labels.size, group=group, qid=qid)
    values = _per_query(config, labels, scores, groups)
    if sample_weight is None:
        return float(values.mean())
    weights = as_float_array(sample_weight, "sample_weight", ndim=(1,))
    check_same_shape(weights, "sample_weight", labels, "y_true")
    check_nonnegative(weights, "sample_weight")
    query_weights = np.add.reduceat(weights, groups.offsets[:-1]) / groups.sizes
    if not query_weights.any():
        raise ValueError("sample_weight is all zeros: the weighted mean is undefined.")
    return float(np.average(values, weights=query_weights))


def ndcg(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    group: ArrayLike | None = None,
    qid: ArrayLike | None = None,
    k: int | None = 10,
    no_relevant: float = 1.0,
) -> float:
    r"""Normalised discounted cumulative gain at ``k``, mean over queries.

    Parameters are those of :func:`ranking_metric`.

    Notes
    -----
    With :math:`y_{(r)}` the label at rank r (1-based) by score and
    :math:`y^*_{(r)}` at rank r of the ideal (label-sorted) order:

    .. math::

        \mathrm{DCG@k} = \sum_{r=1}^{k} \frac{2^{y_{(r)}} - 1}{\log_2(r + 1)},
        \qquad \mathrm{NDCG@k} = \frac{\mathrm{DCG@k}}{\mathrm{IDCG@k}}

    This is LightGBM's ``ndcg@k`` (default ``label_gain``) and XGBoost's with
    ``ndcg_exp_gain=True``; a query with IDCG 0 scores ``no_relevant``. Labels
    may be any real numbers up to 961 (larger ones raise ``ValueError``: sums of
    their gains would overflow float64); LightGBM accepts integers up to 30 and
    XGBoost up to 31.

    Examples
    --------
    >>> from gbrank.metrics import ndcg
    >>> round(ndcg([0, 1], [1.0, 0.0], group=[2], k=None), 4)  # 1 / log2(3)
    0.6309
    """
    return ranking_metric(
        "ndcg", y_true, y_pred, group=group, qid=qid, k=k, no_relevant=no_relevant
    )


def mean_average_precision(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    group: ArrayLike | None = None,
    qid: ArrayLike | None = None,
    k: int | None = None,
    no_relevant: float = 1.0,
) -> float:
    r"""Mean average precision at ``k`` (relevant: label > 0).

    Parameters are those of :func:`ranking_metric`.

    Notes
    -----
    With :math:`\mathrm{rel}_r \in \{0, 1\}` at rank r, :math:`P@r` the
    precision of the top r and R the number of relevant rows of the query:

    .. math::

        \mathrm{AP@k} = \frac{1}{\min(R, k)} \sum_{r=1}^{k} \mathrm{rel}_r\, P@r

    as LightGBM's ``map@k``.

    Examples
    --------
    >>> from gbrank.metrics import mean_average_precision
    >>> mean_average_precision([1, 0, 1], [3.0, 2.0, 1.0], group=[3])  # (1 + 2/3) / 2
    0.8333333333333333
    """
    return ranking_metric(
        "map", y_true, y_pred, group=group, qid=qid, k=k, no_relevant=no_relevant
    )


def mrr(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    group: ArrayLike | None = None,
    qid: ArrayLike | None = None,
    k: int | None = None,
    no_relevant: float = 1.0,
) -> float:
    r"""Mean reciprocal rank of the first relevant row (label > 0) within ``k``.

    Parameters are those of :func:`ranking_metric`.

    Notes
    -----
    :math:`\mathrm{RR@k} = 1 / r_1` where :math:`r_1` is the rank of the first
    relevant row, or 0 when it is below rank k.

    Examples
    --------
    >>> from gbrank.metrics import mrr
    >>> mrr([0, 0, 1], [3.0, 2.0, 1.0], qid=[7, 7, 7])
    0.3333333333333333
    """
    return ranking_metric(
        "mrr", y_true, y_pred, group=group, qid=qid, k=k, no_relevant=no_relevant
    )


def precision(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    group: ArrayLike | None = None,
    qid: ArrayLike | None = None,
    k: int | None = 10,
    no_relevant: float = 1.0,
) -> float:
    r"""Precision at ``k``: share of relevant rows (label > 0) in the top k.

    Parameters are those of :func:`ranking_metric`.

    Notes
    -----
    :math:`\mathrm{P@k} = \frac{1}{\min(k, n)} \sum_{r=1}^{\min(k, n)}
    \mathrm{rel}_r` for a query of n (valid) rows, as TF-Ranking's
    ``PrecisionMetric``.

    Examples
    --------
    >>> from gbrank.metrics import precision
    >>> precision([1, 0, 1, 0], [4.0, 3.0, 2.0, 1.0], group=[4], k=2)
    0.5
    """
    return ranking_metric(
        "precision", y_true, y_pred, group=group, qid=qid, k=k, no_relevant=no_relevant
    )


class RankingMetric(Configured):
    """A metric with fixed ``k`` and ``no_relevant``, named like ``"ndcg@10"``.

    The base of the engines' eval callables and of :class:`RankingScorer`.

    Parameters
    ----------
    metric : {"ndcg", "map", "mrr", "precision"}, default "ndcg"
    k : int or None, default 10
    no_relevant : float, default 1.0
    """

    higher_is_better = True

    def __init__(
        self, *, metric: str = "ndcg", k: int | None = 10, no_relevant: float = 1.0
    ) -> None:
        _config(metric, k, no_relevant)
        self.metric = metric
        self.k = k
        self.no_relevant = no_relevant

    @property
    def name(self) -> str:
        """Metric name with its cutoff, e.g. ``"ndcg@10"``."""
        return self.metric if self.k is None else f"{self.metric}@{self.k}"

    def value(self, labels: ArrayLike, scores: ArrayLike, groups: Groups) -> float:
        """Mean of the metric over ``groups``."""
        return float(self.per_query(labels, scores, groups).mean())

    def per_query(
        self, labels: ArrayLike, scores: ArrayLike, groups: Groups
    ) -> NDArray[np.float64]:
        """Return the metric of each query of ``groups`` (:meth:`value`: the mean).

        Their sum over the queries of each part of a data set, over the number
        of queries, is the mean over the whole set: how the Dask estimators
        combine an eval set's partitions.
        """
        return _per_query(
            _config(self.metric, self.k, self.no_relevant),
            as_float_array(labels, "y_true", ndim=(1,)),
            as_float_array(scores, "y_pred", ndim=(1,)),
            groups,
        )


class RankingScorer(RankingMetric):
    """scikit-learn scorer ``scorer(estimator, X, y, qid=None, group=None)``.

    Scores ``estimator.predict(X)`` with the metric (higher is better). With
    metadata routing enabled (``sklearn.set_config(enable_metadata_routing=True)``)
    it requests ``qid`` and ``group`` from ``cross_validate``, ``GridSearchCV``
    and friends; per-row ``qid`` survives their row slicing, group sizes do not.

    Parameters
    ----------
    metric : {"ndcg", "map", "mrr", "precision"}, default "ndcg"
    k : int or None, default 10
    no_relevant : float, default 1.0
    """

    def __call__(
        self,
        estimator: Any,
        X: ArrayLike,
        y: ArrayLike,
        qid: ArrayLike | None = None,
        group: ArrayLike | None = None,
    ) -> float:
        """Mean metric of ``estimator.predict(X)`` over the queries of ``X``."""
        labels = as_float_array(y, "y", ndim=(1,))
        if group is None and qid is None:
            raise missing_queries(
                "the rows this scorer got",
                "it got neither qid nor group. " + ROUTING_HINT,
                f"call it with group=[{labels.size}]",
            )
        groups = make_groups(labels.size, group=group, qid=qid)
        return self.value(labels, estimator.predict(X), groups)

    def get_metadata_routing(self) -> MetadataRequest:
        """Request ``qid`` and ``group`` for scoring (scikit-learn routing)."""
        from sklearn.utils.metadata_routing import MetadataRequest

        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="qid", alias=True)
        request.score.add_request(param="group", alias=True)
        return request


def lgb_eval(
    metric: str = "ndcg", k: int | None = 10, *, no_relevant: float = 1.0
) -> Any:
    """Alias of ``gbrank.lightgbm.ranking_metric``: a LightGBM ``feval``."""
    build = engine_function("gbrank.lightgbm.ranking_metric")
    return build(metric, k, no_relevant=no_relevant)


def xgb_eval(
    metric: str = "ndcg", k: int | None = 10, *, no_relevant: float = 1.0
) -> Any:
    """Alias of ``gbrank.xgboost.ranking_metric``: an XGBoost ``custom_metric``."""
    build = engine_function("gbrank.xgboost.ranking_metric")
    return build(metric, k, no_relevant=no_relevant)


def ndcg_scorer(k: int | None = 10, *, no_relevant: float = 1.0) -> RankingScorer:
    """scikit-learn scorer of mean NDCG@k that accepts ``qid`` / ``group``."""
    return RankingScorer(metric="ndcg", k=k, no_relevant=no_relevant)


def ranking_scorer(
    metric: str = "ndcg", k: int | None = 10, *, no_relevant: float = 1.0
) -> RankingScorer:
    """scikit-learn scorer of any metric of :data:`METRICS` at ``k``."""
    return RankingScorer(metric=metric, k=k, no_relevant=no_relevant)
