"""XGBoost: gbrank losses as custom objectives and metrics, and the engine.

Use the adapters with the learning API,
``xgboost.train(params, dtrain, obj=objective(loss),
custom_metric=loss_metric(loss))`` (``loss.xgb_objective`` and
``loss.xgb_metric`` are aliases); ``XGBRanker`` does not accept a custom
objective. Query groups come from the ``DMatrix`` (``group=`` or ``qid=``).
:class:`XGBoostEngine` is what the estimators, the command line and the Dask
estimators use (``gbrank.engines.get_engine("xgboost")``).
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xgboost as xgb
from numpy.typing import ArrayLike, NDArray

from gbrank._groups import Groups, groups_from_offsets, missing_queries
from gbrank._persist import TAGS
from gbrank._validation import as_float_array, check_nonnegative
from gbrank.engines.base import (
    Engine,
    Fitted,
    LossAdapter,
    ObjectiveAdapter,
    Refused,
    Settings,
    TrainingSet,
    drop_none,
)
from gbrank.losses.base import Loss
from gbrank.metrics import RankingMetric
from gbrank.position import PositionBias

Array = NDArray[np.float64]
DMatrix = xgb.DMatrix


def dmatrix_groups(dmatrix: DMatrix, n_rows: int) -> Groups | None:
    """Query groups of a DMatrix (``group_ptr``), or None if it has none.

    Parameters
    ----------
    dmatrix : xgboost.DMatrix
    n_rows : int
        Number of rows of the predictions.

    Returns
    -------
    Groups or None
    """
    ptr = dmatrix.get_uint_info("group_ptr")
    return groups_from_offsets(ptr, n_rows) if ptr.size >= 2 else None


def _no_qid(which: str, n_rows: int) -> ValueError:
    """Return the error for a ranking loss/metric on a DMatrix without query ids."""
    return missing_queries(
        f"the {which} xgboost.DMatrix",
        "build it with xgboost.DMatrix(X, y, qid=qid), a query id per row (or "
        "group=group_sizes)",
        f"pass qid=numpy.zeros({n_rows})",
    )


def _row_weights(dmatrix: DMatrix, groups: Groups | None, n_rows: int) -> Array | None:
    """Per-row weights of a DMatrix (None when it has none).

    XGBoost stores one weight per query for a ranking DMatrix; those are repeated
    over the query's rows. Per-row weights are accepted as well.
    """
    weights = dmatrix.get_weight().astype(np.float64)
    if weights.size == 0:
        return None
    if groups is not None and weights.size == groups.n_groups:
        return np.repeat(weights, groups.sizes)
    if weights.size == n_rows:
        return weights
    expected = f"{n_rows} (one per row)"
    if groups is not None:
        expected += f" or {groups.n_groups} (one per query)"
    raise ValueError(f"the DMatrix has {weights.size} weights; expected {expected}.")


class XGBoostObjective(ObjectiveAdapter):
    """Custom objective for ``xgboost.train(params, dtrain, obj=...)``.

    A ranking loss on a DMatrix without ``group``/``qid`` raises ``ValueError``
    (``qid=numpy.zeros(n_rows)`` is one query on purpose); losses that need no
    groups ignore them.

    Parameters
    ----------
    loss : Loss
        The gbrank loss; stored as ``loss.for_engine("xgboost")``.
    sample_weight : array-like of shape (n_rows,), optional
        Per-row weights of the training rows, used instead of the DMatrix's.
        XGBoost refuses a ranking DMatrix with per-row weights ("Size of weight
        must equal to the number of query groups"), so per-row weights that vary
        within a query (e.g. inverse-propensity weights) are given here.
    position : array-like of int, shape (n_rows,), optional
        Display position (1 = top) of every training row. A DMatrix has no
        position field, so positions are given here, in the DMatrix's row order.
    position_bias : {"learned", "ipw"}, PositionBias or None, default None
        Correction applied when ``position`` is given: None or ``"learned"``
        learns one score offset per position
        (:class:`~gbrank.position.LearnedPositionBias`), ``"ipw"`` weights
        clicked rows by ``1 / p(position)`` with ``p(k) = 1/k``; or an object of
        :mod:`gbrank.position`, which holds the fitted offsets afterwards.

    Attributes
    ----------
    position_bias : PositionBias
    position_offsets_ : ndarray
        Learned offsets of positions 1, 2, ... once trained (learned offsets).

    Notes
    -----
    Learned offsets start at the objective's first call; to train again with
    the same objective, call :meth:`reset` first (``xgboost.train`` does not
    copy it).

    Examples
    --------
    >>> import numpy as np
    >>> import xgboost as xgb
    >>> import gbrank
    >>> from gbrank.xgboost import XGBoostObjective
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(60, 3)), rng.integers(0, 2, size=60)
    >>> qid, position = np.repeat(np.arange(6), 10), np.tile(np.arange(1, 11), 6)
    >>> obj = XGBoostObjective(gbrank.get_loss("softmax"), position=position)
    >>> booster = xgb.train({"max_depth": 2}, xgb.DMatrix(X, y, qid=qid), 3, obj=obj)
    >>> obj.position_offsets_.shape
    (10,)
    """

    engine = "xgboost"

    def __init__(
        self,
        loss: Loss,
        *,
        sample_weight: ArrayLike | None = None,
        position: ArrayLike | None = None,
        position_bias: str | PositionBias | None = None,
    ):
        super().__init__(loss, position=position, position_bias=position_bias)
        self.sample_weight = (
            None
            if sample_weight is None
            else as_float_array(sample_weight, "sample_weight", ndim=(1,)).copy()
        )
        if self.sample_weight is not None:
            check_nonnegative(self.sample_weight, "sample_weight")

    def __call__(self, predt: Array, dtrain: DMatrix) -> tuple[Array, Array]:
        """Gradient and hessian of the summed loss at ``predt``.

        Parameters
        ----------
        predt : ndarray, shape (n_rows,) or (n_rows, n_classes)
            Raw margins.
        dtrain : xgboost.DMatrix
            The training set.

        Returns
        -------
        grad, hess : ndarray of float64, shape of ``predt``
            (n_rows, n_classes) for multiclass, as XGBoost >= 2.1 requires.
        """
        n_rows = np.shape(predt)[0]
        groups = dmatrix_groups(dtrain, n_rows)
        if self.sample_weight is None:
            weights = _row_weights(dtrain, groups, n_rows)
        elif self.sample_weight.size != n_rows:
            raise ValueError(
                f"sample_weight has {self.sample_weight.size} entries but the "
                f"training DMatrix has {n_rows} rows."
            )
        else:
            weights = self.sample_weight
        positions = self._training_positions(None, n_rows)
        return self._objective(dtrain.get_label(), predt, groups, weights, positions)

    def _missing_groups(self, n_rows: int) -> ValueError:
        return _no_qid("training", n_rows)


class XGBoostMetric(LossAdapter):
    """Custom metric (``custom_metric=``) reporting the loss value.

    Lower is better: set ``"disable_default_eval_metric": 1`` or
    ``maximize=False`` as usual. XGBoost passes raw margins to the metric when
    the objective is a custom one; the value uses the loss's default reduction.

    Parameters
    ----------
    loss : Loss
        The gbrank loss; stored as ``loss.for_engine("xgboost")``.
    """

    engine = "xgboost"

    def __call__(self, predt: Array, dmatrix: DMatrix) -> tuple[str, float]:
        """Loss value on an eval set.

        Parameters
        ----------
        predt : ndarray, shape (n_rows,) or (n_rows, n_classes)
            Raw margins.
        dmatrix : xgboost.DMatrix
            The eval set.

        Returns
        -------
        name : str
            ``loss.name``.
        value : float
        """
        n_rows = np.shape(predt)[0]
        groups = dmatrix_groups(dmatrix, n_rows)
        weights = _row_weights(dmatrix, groups, n_rows)
        return self.loss.name, self._value(dmatrix.get_label(), predt, groups, weights)

    def _missing_groups(self, n_rows: int) -> ValueError:
        return _no_qid("eval", n_rows)


class _Metrics:
    """Several eval callables as one ``custom_metric`` (a list of name, value)."""

    def __init__(self, metrics: Sequence[Any]) -> None:
        self.metrics = list(metrics)

    def __call__(self, predt: Array, dmatrix: DMatrix) -> list[tuple[str, float]]:
        """Return ``[(name, value), ...]`` in the order of the metrics."""
        return [metric(predt, dmatrix) for metric in self.metrics]


class XGBoostEval(RankingMetric):
    """XGBoost ``custom_metric`` computing a ranking metric on the DMatrix groups.

    Parameters
    ----------
    metric : {"ndcg", "map", "mrr", "precision"}, default "ndcg"
    k : int or None, default 10
    no_relevant : float, default 1.0
    """

    def __call__(self, predt: ArrayLike, dmatrix: DMatrix) -> tuple[str, float]:
        """Return ``(name, value)``; set ``maximize=True`` for early stopping."""
        n_rows = np.shape(predt)[0]
        groups = dmatrix_groups(dmatrix, n_rows)
        if groups is None:
            raise _no_qid("eval", n_rows)
        return self.name, self.value(dmatrix.get_label(), predt, groups)


def objective(loss: Loss, **options: Any) -> XGBoostObjective:
    """Return the objective of ``xgboost.train(..., obj=objective(loss))``.

    ``options`` are those of :class:`XGBoostObjective` (``sample_weight=``,
    ``position=``, ``position_bias=``). ``loss.xgb_objective`` is an alias.
    """
    return XGBoostObjective(loss, **options)


def loss_metric(loss: Loss) -> XGBoostMetric:
    """Return a ``custom_metric`` giving the loss value (alias ``loss.xgb_metric``)."""
    return XGBoostMetric(loss)


def ranking_metric(
    metric: str = "ndcg", k: int | None = 10, *, no_relevant: float = 1.0
) -> XGBoostEval:
    """Return a ``custom_metric`` of a :mod:`gbrank.metrics` ranking metric.

    ``gbrank.metrics.xgb_eval`` is an alias.
    """
    return XGBoostEval(metric=metric, k=k, no_relevant=no_relevant)


def _dmatrix(part: TrainingSet, native: bool) -> Any:
    """DMatrix of ``part``; a ranking DMatrix gets per-row weights only if native.

    A ranking DMatrix holds one weight per query, so the per-row training
    weights of a gbrank loss reach the objective directly
    (``XGBoostObjective(..., sample_weight=)``); a native ranking objective gets
    one weight per query, which the rows' weights must then be.
    """
    if part.groups is None:
        return xgb.DMatrix(part.X, label=part.y, weight=part.weights)
    data = xgb.DMatrix(part.X, label=part.y)
    data.set_group(part.groups.sizes)
    if native and part.weights is not None:
        first = part.weights[part.groups.offsets[:-1]]
        if not np.array_equal(np.repeat(first, part.groups.sizes), part.weights):
            raise ValueError(
                "XGBoost's native ranking objectives take one weight per query; "
                "these sample weights vary within a query."
            )
        data.set_weight(first)
    return data


def _scores(booster: Any, importance_type: str) -> Array:
    """``booster.get_score(importance_type)`` for every feature (0: unused)."""
    scores = booster.get_score(importance_type=importance_type)
    n_features = booster.num_features()
    names = booster.feature_names or [f"f{i}" for i in range(n_features)]
    return np.array([scores.get(name, 0.0) for name in names], dtype=np.float64)


# parameters gbrank sets itself (the last three xgboost.train would ignore)
_REFUSED = {
    "objective": Refused.OBJECTIVE,
    "num_class": Refused.CLASSES,
    "eval_metric": Refused.METRICS,
    "disable_default_eval_metric": Refused.METRICS,
    "n_estimators": Refused.ROUNDS,
    "num_boost_round": Refused.ROUNDS,
    "early_stopping_rounds": Refused.EARLY_STOPPING,
}

_NOT_USED = re.compile(r"Parameters: \{(.*?)\} (?:are|is) not used", re.DOTALL)


@functools.cache
def _tiny_dmatrix() -> DMatrix:
    return xgb.DMatrix(np.zeros((1, 1)), label=np.zeros(1))


def _config_keys(config: Any) -> set[str]:
    """Leaf keys of a booster's JSON configuration (its parameter names)."""
    if not isinstance(config, dict):
        return set()
    keys: set[str] = set()
    for key, value in config.items():
        keys |= {key} if isinstance(value, str) else _config_keys(value)
    return keys


@functools.cache
def _param_names() -> frozenset[str]:
    """Parameters of XGBoost's tree, dart and linear boosters and global config."""
    names = set(xgb.get_config())
    for booster in ("gbtree", "dart", "gblinear"):
        config = xgb.Booster({"booster": booster}, [_tiny_dmatrix()]).save_config()
        names |= _config_keys(json.loads(config))
    return frozenset(names)


class XGBoostEngine(Engine):
    """``xgboost.train(params, DMatrix(qid=...), obj=loss.xgb_objective)``."""

    name = "xgboost"
    native_objectives = ("rank:ndcg", "rank:pairwise")
    compare_tree: ClassVar[dict[str, Any]] = {"max_depth": 4, "booster_params": {}}

    def objective(self, loss: Loss, **options: Any) -> XGBoostObjective:
        """Return the module function :func:`objective`'s adapter."""
        return objective(loss, **options)

    def loss_metric(self, loss: Loss) -> XGBoostMetric:
        """Return the module function :func:`loss_metric`'s adapter."""
        return loss_metric(loss)

    def ranking_metric(
        self, metric: str = "ndcg", k: int | None = 10, no_relevant: float = 1.0
    ) -> XGBoostEval:
        """Return the module function :func:`ranking_metric`'s adapter."""
        return ranking_metric(metric, k, no_relevant=no_relevant)

    def refused_params(self) -> dict[str, str]:
        """Return the objective, classes, metrics, rounds and early stopping."""
        return dict(_REFUSED)

    def param_names(self) -> frozenset[str]:
        """Parameter names in XGBoost's booster configurations (for suggestions)."""
        return _param_names()

    def unused_params(self, params: dict[str, Any]) -> list[str]:
        """Names XGBoost's own validation reports as not used.

        A booster is configured with ``params`` and ``validate_parameters=True``
        (no data, no training); XGBoost knows which parameters its booster,
        tree method and objective read. Bad values raise ``XGBoostError`` here.
        """
        params = {**params, "validate_parameters": True, "verbosity": 1}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            xgb.Booster(params, [_tiny_dmatrix()]).save_config()
        unused = []
        for warning in caught:
            match = _NOT_USED.search(str(warning.message))
            if match:
                unused += re.findall(r'"([^"]+)"', match.group(1))
        return unused

    def params(self, settings: Settings) -> dict[str, Any]:
        """XGBoost parameters for ``settings``; ``booster_params`` come last."""
        lossguide = settings.num_leaves is not None
        n_jobs = settings.n_jobs
        max_depth = settings.max_depth
        params = drop_none(
            {
                "eta": settings.learning_rate,
                "max_depth": 0 if max_depth is None and lossguide else max_depth,
                "max_leaves": settings.num_leaves,
                "grow_policy": "lossguide" if lossguide else None,
                "min_child_weight": settings.min_child_weight,
                "subsample": settings.subsample,
                "colsample_bytree": settings.colsample_bytree,
                "alpha": settings.reg_alpha,
                "lambda": settings.reg_lambda,
                "seed": settings.random_state,
                "nthread": None if n_jobs is None or n_jobs < 0 else n_jobs,
                "num_class": settings.n_classes,
                "tree_method": "hist",
                "base_score": 0.0,
                "disable_default_eval_metric": 1,
                "verbosity": 0,
            }
        )
        return {**params, **settings.booster_params}

    def train(
        self,
        objective: Loss | str,
        settings: Settings,
        train: TrainingSet,
        valid: list[TrainingSet],
        *,
        metric: Any,
        early_stopping_rounds: int | None = None,
        position_bias: PositionBias | None = None,
        callbacks: Sequence[Any] = (),
        verbose: int = 0,
    ) -> Fitted:
        """Train with ``xgboost.train``."""
        params, custom = self._training_params(
            objective, settings, train, position_bias, sample_weight=train.weights
        )
        native = custom is None
        evals = [(_dmatrix(part, native), f"valid_{i}") for i, part in enumerate(valid)]
        evals_result: dict[str, dict[str, list[float]]] = {}
        metrics = list(metric) if isinstance(metric, (list, tuple)) else [metric]
        wired = []
        if early_stopping_rounds is not None and valid:
            # the first eval set (xgboost.train's own rule watches the last one)
            # and the first gbrank metric
            wired.append(
                xgb.callback.EarlyStopping(
                    rounds=early_stopping_rounds,
                    metric_name=getattr(metrics[0], "name", None),
                    data_name="valid_0",
                    maximize=getattr(metrics[0], "higher_is_better", False),
                )
            )
        booster = xgb.train(
            params,
            _dmatrix(train, native),
            num_boost_round=settings.n_estimators,
            obj=custom,
            evals=evals,
            custom_metric=(metrics[0] if len(metrics) == 1 else _Metrics(metrics))
            if valid
            else None,
            evals_result=evals_result,
            verbose_eval=int(verbose) if verbose and valid else False,
            callbacks=[*wired, *callbacks],
        )
        best = (
            booster.best_iteration + 1
            if early_stopping_rounds is not None and valid
            else booster.num_boosted_rounds()
        )
        return self._fitted(booster, objective, best, evals_result)

    def predict_raw(self, booster: Any, X: Any, n_iterations: int) -> Array:
        """Raw margins, (n,) or (n, n_classes), using the first ``n_iterations``."""
        return np.asarray(
            booster.predict(
                xgb.DMatrix(X), output_margin=True, iteration_range=(0, n_iterations)
            ),
            dtype=np.float64,
        )

    def staged_raw_scores(
        self, booster: Any, X: Any, n_iterations: int
    ) -> Iterator[Array]:
        """Raw margins after rounds 1, 2, ..., ``n_iterations``.

        Each is :meth:`predict_raw`'s call on one ``DMatrix``: XGBoost caches
        a DMatrix's margins (``GBTree::PredictBatchImpl``) and, asked for rounds
        ``[0, j + 1)`` after ``[0, j)``, adds the new round's trees to them in
        float32 as a fresh prediction adds every tree, so each round costs
        one round of trees and gives the same bits (DART predicts afresh).
        """
        data = xgb.DMatrix(X)
        for n in range(1, n_iterations + 1):
            yield np.asarray(
                booster.predict(data, output_margin=True, iteration_range=(0, n)),
                dtype=np.float64,
            )

    def truncate(self, booster: Any, n_iterations: int) -> Any:
        """Return the first ``n_iterations`` rounds, ``booster[:n_iterations]``."""
        return booster[:n_iterations]

    def gain_importances(self, booster: Any) -> Array:
        """Total split gain of each feature."""
        return _scores(booster, "total_gain")

    def split_importances(self, booster: Any) -> Array:
        """Return the number of splits on each feature (XGBoost's ``weight``)."""
        return _scores(booster, "weight")

    def n_rounds(self, booster: Any) -> int:
        """``booster.num_boosted_rounds()``."""
        return int(booster.num_boosted_rounds())

    def n_features(self, booster: Any) -> int:
        """``booster.num_features()``."""
        return int(booster.num_features())

    def model_bytes(
        self, booster: Any, path: Path, tags: Mapping[str, str] | None = None
    ) -> bytes:
        """UBJSON for a ``.ubj`` path, JSON otherwise; tags as attributes."""
        if tags:
            booster = booster.copy()
            self.set_model_tags(booster, tags)
        return bytes(booster.save_raw("ubj" if path.suffix == ".ubj" else "json"))

    def load_model(self, path: Path) -> Any:
        """``xgboost.Booster(model_file=path)``."""
        return xgb.Booster(model_file=str(path))

    def recognizes(self, head: bytes) -> bool:
        """XGBoost's JSON and UBJSON models are objects: they start with ``{``."""
        return head.lstrip()[:1] == b"{"

    def set_model_tags(self, booster: Any, tags: Mapping[str, str]) -> None:
        """``booster.set_attr(**tags)``: the model file's ``learner.attributes``."""
        booster.set_attr(**tags)

    def model_tags(self, booster: Any) -> dict[str, str]:
        """Return gbrank's entries among ``booster.attributes()``."""
        attributes = booster.attributes()
        return {key: attributes[key] for key in TAGS if key in attributes}

    def train_dask(
        self,
        client: Any,
        loss: Loss,
        settings: Settings,
        X: Any,
        y: Any,
        *,
        group: Any = None,
        qid: Any = None,
        sample_weight: Any = None,
    ) -> Fitted:
        """``xgboost.dask.train`` on a ``DaskDMatrix`` with ``qid``."""
        from xgboost import dask as dxgb

        if qid is not None and sample_weight is not None:
            raise NotImplementedError(
                "sample_weight with backend='xgboost' is not supported for ranking "
                "on Dask: xgboost.dask.DaskDMatrix refuses weights together with "
                "qid. Use backend='lightgbm'."
            )
        dtrain = dxgb.DaskDMatrix(client, X, y, qid=qid, weight=sample_weight)
        result = dxgb.train(
            client,
            self.params(settings),
            dtrain,
            settings.n_estimators,
            obj=XGBoostObjective(loss),
            verbose_eval=False,
        )
        booster = result["booster"]
        # predict like a locally trained model: on arrays, without column names
        booster.feature_names = None
        booster.feature_types = None
        return self._fitted(booster, loss, booster.num_boosted_rounds())
