"""LightGBM: gbrank losses as custom objectives and eval functions, and the engine.

Build the adapters of a loss with :func:`objective`, :func:`sklearn_objective`
and :func:`loss_metric` (``loss.lgb_objective``, ``loss.lgb_sklearn_objective``
and ``loss.lgb_metric`` are aliases), and ranking metrics with
:func:`ranking_metric`. They are small picklable objects: LightGBM's
scikit-learn wrapper trains on a copy of the objective. :class:`LightGBMEngine`
is what the estimators, the command line and the Dask estimators use
(``gbrank.engines.get_engine("lightgbm")``).
"""

from __future__ import annotations

import functools
import urllib.parse
import warnings
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from gbrank._groups import Groups, groups_from_sizes, missing_queries, query_folds
from gbrank._persist import TAGS
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
Dataset = lgb.Dataset


_FOLD_ROWS: weakref.WeakKeyDictionary[Dataset, NDArray[np.int64]] = (
    weakref.WeakKeyDictionary()
)


def _fold_rows(data: Dataset, whole_queries: bool) -> NDArray[np.int64] | None:
    """Rows of the full Dataset that a subset (a ``lightgbm.cv`` fold) holds.

    None for a Dataset that is no subset. With ``whole_queries``, a subset that
    holds part of a query of the full Dataset raises: ``lightgbm.cv`` keeps
    queries whole only for LightGBM's own ranking objectives.
    """
    used = getattr(data, "used_indices", None)
    if used is None or data.reference is None:
        return None
    rows = _FOLD_ROWS.get(data)
    if rows is None:
        rows = np.asarray(used, dtype=np.int64)
        _FOLD_ROWS[data] = rows
    group = data.reference.get_group()
    if whole_queries and group is not None:
        full = groups_from_sizes(np.asarray(group), data.reference.num_data())
        query = np.searchsorted(full.offsets, rows, side="right") - 1
        held = np.bincount(query, minlength=full.n_groups)
        split = np.flatnonzero((held > 0) & (held < full.sizes))
        if split.size:
            q = int(split[0])
            raise ValueError(
                f"this training or eval set (a subset, e.g. a lightgbm.cv fold) "
                f"holds {held[q]} of the {full.sizes[q]} rows of query {q}: "
                "lightgbm.cv keeps queries whole only for LightGBM's own ranking "
                "objectives, and a ranking loss or metric needs whole queries. "
                "Use gbrank.lightgbm.cv(params, train_set, ...) or pass "
                "folds=gbrank.lightgbm.query_folds(group) to lightgbm.cv."
            )
    return rows


def _fields(
    data: Dataset, n_rows: int, whole_queries: bool
) -> tuple[Array, Groups | None, Array | None]:
    """Labels, groups (None: no query structure) and weights of a Dataset.

    ``whole_queries``: refuse a subset that splits queries (see
    :func:`_fold_rows`).
    """
    _fold_rows(data, whole_queries)
    group, weight = data.get_group(), data.get_weight()
    return (
        np.asarray(data.get_label(), dtype=np.float64),
        None if group is None else groups_from_sizes(np.asarray(group), n_rows),
        None if weight is None else np.asarray(weight, dtype=np.float64),
    )


def _no_group(which: str, n_rows: int) -> ValueError:
    """Return the error for a ranking loss/metric on a Dataset without ``group``."""
    return missing_queries(
        f"the {which} lightgbm.Dataset",
        "build it with lightgbm.Dataset(X, y, group=group_sizes), the number of "
        "rows of each query in row order (LGBMRanker: fit(X, y, group=...))",
        f"pass group=[{n_rows}]",
    )


def _data_positions(data: Dataset, fold: NDArray[np.int64] | None) -> Any:
    """Display positions stored in a Dataset (a fold's from its full Dataset)."""
    source = data if fold is None else data.reference
    codes = None if source is None else source.get_position()
    if codes is None:
        return None
    positions = np.asarray(codes, np.int64) + 1
    return positions if fold is None else positions[fold]


class LightGBMObjective(ObjectiveAdapter):
    """Custom objective for ``lightgbm.train({"objective": obj}, dtrain)``.

    Labels, group sizes, weights and display positions come from the training
    ``Dataset``. A ranking loss on a ``Dataset`` without ``group`` raises
    ``ValueError`` (``group=[n_rows]`` is one query on purpose); losses that
    need no groups (``needs_groups = False``) ignore them.

    Parameters
    ----------
    loss : Loss
        The gbrank loss; stored as ``loss.for_engine("lightgbm")``.
    position : array-like of int, shape (n_rows,), optional
        Display position (1 = top) of every training row. Takes precedence over
        the ``Dataset``'s ``position`` (see Notes).
    position_bias : {"learned", "ipw"}, PositionBias or None, default None
        Correction applied when there are positions: None or ``"learned"``
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
    ``lgb.Dataset(..., position=pos)``: LightGBM keeps only a code per distinct
    position, numbered 0, 1, 2, ... in order of first appearance in the rows,
    and ``get_position()`` returns those codes. gbrank reads code ``c`` as
    position ``c + 1``, which is exact when positions first appear in
    increasing order (e.g. the first query lists positions 1, 2, 3, ... in
    order). Otherwise pass ``position=`` here, which is always exact; IPW and
    the reported offsets need the real positions, while learned offsets only
    need rows of the same position to share a code.

    ``lightgbm.train`` calls a deep copy of the objective; the copy shares
    ``position_bias``, so read the offsets from the object you passed.

    In ``lightgbm.cv`` each fold is a subset of the full ``Dataset``: a fold
    that splits a query raises (use :func:`gbrank.lightgbm.cv`, whose folds keep
    queries whole), and positions (the ``Dataset``'s, or ``position=`` for the
    full data) follow the fold's rows. Learned offsets are refused there (the
    folds would share one set); IPW works.

    Examples
    --------
    >>> import lightgbm as lgb
    >>> import numpy as np
    >>> import gbrank
    >>> from gbrank.lightgbm import LightGBMObjective
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(60, 3)), rng.integers(0, 2, size=60)
    >>> position = np.tile(np.arange(1, 11), 6)
    >>> obj = LightGBMObjective(gbrank.get_loss("sigmoid_cross_entropy"))
    >>> dtrain = lgb.Dataset(X, y, position=position)
    >>> params = {"objective": obj, "verbose": -1, "min_data_in_leaf": 5}
    >>> booster = lgb.train(params, dtrain, num_boost_round=3)
    >>> obj.position_offsets_.shape
    (10,)
    """

    engine = "lightgbm"

    def __call__(self, preds: Array, train_data: Dataset) -> tuple[Array, Array]:
        """Gradient and hessian of the summed loss at ``preds``.

        Parameters
        ----------
        preds : ndarray, shape (n_rows,) or (n_rows, n_classes)
            Raw scores (2-D for multiclass boosters, as LightGBM >= 4 passes them).
        train_data : lightgbm.Dataset
            The constructed training set.

        Returns
        -------
        grad, hess : ndarray of float64, shape of ``preds``
        """
        if not isinstance(train_data, Dataset):
            raise TypeError(
                "LightGBMObjective is the objective of lightgbm.train and "
                "lightgbm.cv (params['objective'] = loss.lgb_objective), called as "
                "f(preds, Dataset); LightGBM's scikit-learn estimators (LGBMRanker, "
                "LGBMRegressor, ...) need objective=loss.lgb_sklearn_objective."
            )
        n_rows = np.shape(preds)[0]
        needs_groups = self.loss.needs_groups
        labels, groups, weights = _fields(train_data, n_rows, needs_groups)
        fold = _fold_rows(train_data, whole_queries=False)  # checked by _fields
        from_data = _data_positions(train_data, fold)
        positions = self._training_positions(from_data, n_rows, fold)
        return self._objective(labels, preds, groups, weights, positions)

    def _missing_groups(self, n_rows: int) -> ValueError:
        return _no_group("training", n_rows)


class LightGBMSklearnObjective(LossAdapter):
    """Custom objective for LightGBM's scikit-learn estimators.

    ``LGBMRanker(objective=loss.lgb_sklearn_objective)``: the wrapper counts the
    parameters of ``__call__`` and passes ``group`` only to a 4-parameter callable,
    which this is.

    Parameters
    ----------
    loss : Loss
        The gbrank loss; stored as ``loss.for_engine("lightgbm")``.
    """

    engine = "lightgbm"

    def __call__(
        self,
        y_true: ArrayLike,
        y_pred: Array,
        weight: ArrayLike | None,
        group: ArrayLike | None,
    ) -> tuple[Array, Array]:
        """Gradient and hessian of the summed loss at ``y_pred``.

        Parameters
        ----------
        y_true : array-like, shape (n_rows,)
            Labels (class ids for multiclass).
        y_pred : ndarray, shape (n_rows,) or (n_rows, n_classes)
            Raw scores.
        weight : array-like of shape (n_rows,) or None
            Sample weights.
        group : array-like of int or None
            Group sizes (``LGBMRanker``); None for classifiers and regressors.

        Returns
        -------
        grad, hess : ndarray of float64, shape of ``y_pred``
        """
        n_rows = np.shape(y_pred)[0]
        groups = None if group is None else groups_from_sizes(group, n_rows)
        return self._grad_hess(y_true, y_pred, groups, weight)

    def _missing_groups(self, n_rows: int) -> ValueError:
        return missing_queries(
            "the rows LightGBM's scikit-learn estimator passed",
            "train a ranking loss with lightgbm.LGBMRanker(objective="
            "loss.lgb_sklearn_objective).fit(X, y, group=group_sizes); "
            "LGBMRegressor and LGBMClassifier pass no groups",
            f"pass group=[{n_rows}] to LGBMRanker.fit",
        )


class LightGBMMetric(LossAdapter):
    """Eval function (``feval``) reporting the loss value; lower is better.

    Works in ``lightgbm.train(..., feval=metric)``, with early stopping and in
    ``lightgbm.cv``. The value uses the loss's default reduction
    (``reduction="auto"``) and the eval set's own groups and weights.

    Parameters
    ----------
    loss : Loss
        The gbrank loss; stored as ``loss.for_engine("lightgbm")``.
    """

    engine = "lightgbm"

    def __call__(self, preds: Array, eval_data: Dataset) -> tuple[str, float, bool]:
        """Loss value on an eval set.

        Parameters
        ----------
        preds : ndarray, shape (n_rows,) or (n_rows, n_classes)
            Raw scores of a booster trained with a custom objective.
        eval_data : lightgbm.Dataset
            The eval set.

        Returns
        -------
        name : str
            ``loss.name``.
        value : float
        is_higher_better : bool
            Always False.
        """
        n_rows = np.shape(preds)[0]
        labels, groups, weights = _fields(eval_data, n_rows, self.loss.needs_groups)
        return self.loss.name, self._value(labels, preds, groups, weights), False

    def _missing_groups(self, n_rows: int) -> ValueError:
        return _no_group("eval", n_rows)


class LightGBMEval(RankingMetric):
    """LightGBM ``feval`` computing a ranking metric on an eval set's groups.

    Parameters
    ----------
    metric : {"ndcg", "map", "mrr", "precision"}, default "ndcg"
    k : int or None, default 10
    no_relevant : float, default 1.0
    """

    def __call__(self, preds: ArrayLike, eval_data: Dataset) -> tuple[str, float, bool]:
        """Return ``(name, value, True)``: higher is better."""
        n_rows = np.shape(preds)[0]
        labels, groups, _ = _fields(eval_data, n_rows, whole_queries=True)
        if groups is None:
            raise _no_group("eval", n_rows)
        return self.name, self.value(labels, preds, groups), True


def objective(loss: Loss, **options: Any) -> LightGBMObjective:
    """Return the objective of ``lightgbm.train`` (``params["objective"]``).

    ``options`` are those of :class:`LightGBMObjective` (``position=``,
    ``position_bias=``). ``loss.lgb_objective`` is an alias.
    """
    return LightGBMObjective(loss, **options)


def sklearn_objective(loss: Loss) -> LightGBMSklearnObjective:
    """Return the objective of LightGBM's estimators (``LGBMRanker(objective=)``).

    ``loss.lgb_sklearn_objective`` is an alias.
    """
    return LightGBMSklearnObjective(loss)


def loss_metric(loss: Loss) -> LightGBMMetric:
    """Return a ``feval`` giving the loss value; ``loss.lgb_metric`` is an alias."""
    return LightGBMMetric(loss)


def ranking_metric(
    metric: str = "ndcg", k: int | None = 10, *, no_relevant: float = 1.0
) -> LightGBMEval:
    """Return a ``feval`` of a :mod:`gbrank.metrics` ranking metric (``"ndcg@10"``).

    ``gbrank.metrics.lgb_eval`` is an alias.
    """
    return LightGBMEval(metric=metric, k=k, no_relevant=no_relevant)


# LightGBM's main parameter names (as :meth:`LightGBMEngine.params` writes them)
# -> the names of its scikit-learn API, which lightgbm.dask takes
_SKLEARN_NAMES = {
    "bagging_fraction": "subsample",
    "bagging_freq": "subsample_freq",
    "feature_fraction": "colsample_bytree",
    "lambda_l1": "reg_alpha",
    "lambda_l2": "reg_lambda",
    "seed": "random_state",
    "min_sum_hessian_in_leaf": "min_child_weight",
}


# parameters gbrank sets itself (LightGBM's main names; their aliases too)
_REFUSED = {
    "objective": Refused.OBJECTIVE,
    "num_class": Refused.CLASSES,
    "metric": Refused.METRICS,
    "num_iterations": Refused.ROUNDS,
    "early_stopping_round": Refused.EARLY_STOPPING,
}


@functools.cache
def _aliases() -> dict[str, list[str]]:
    """LightGBM's parameters, each with its aliases (its own list)."""
    return dict(lgb.basic._ConfigAliases._get_all_param_aliases())


@functools.cache
def _main_names() -> dict[str, str]:
    """Every LightGBM parameter name and alias -> the parameter's main name."""
    return {alias: main for main, names in _aliases().items() for alias in names}


def _override(params: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` updated by ``extra``, an alias replacing its parameter's value.

    LightGBM keeps a parameter's main name over an alias given alongside it
    (``learning_rate`` over ``eta``), so a user's alias must replace gbrank's
    entry rather than sit next to it.
    """
    main = _main_names()
    given = {main.get(key, key) for key in extra}
    kept = {key: v for key, v in params.items() if main.get(key, key) not in given}
    return {**kept, **extra}


def _histogram_layout(extra: Mapping[str, Any]) -> dict[str, bool]:
    """Fix LightGBM's histogram layout unless ``extra`` chooses one.

    Left alone, LightGBM times its column-wise and row-wise histograms on the
    data and keeps the faster, so a model depends on how busy the machine was
    (measured: MQ2008 fold 3, ``yetirank`` and ``pairwise_logistic`` give two
    different models, one per layout). Column-wise is the faster layout on
    large data (800k rows x 136 features, two threads, four runs of 10 rounds:
    0.36-0.55 s per round against 0.66-0.78 s row-wise for LightGBM's
    ``lambdarank``, 0.36-0.54 s against 0.56-0.70 s for LambdaMART) and the
    slower on small data (the bundled 3,000-row sample: 200 rounds in 3.5-4.4 s
    against 3.0-3.4 s), where a fit takes seconds either way.
    """
    main = _main_names()
    if {main.get(key, key) for key in extra} & {"force_col_wise", "force_row_wise"}:
        return {}
    return {"force_col_wise": True}


_TAGS_ATTRIBUTE = "_gbrank_tags"  # where a lightgbm.Booster keeps gbrank's tags


def _escape(value: str) -> str:
    """Escape a value for a line of LightGBM's model header (``=``, breaks)."""
    for char in "%=\r\n":
        value = value.replace(char, urllib.parse.quote(char))
    return value


def _with_tags(model: str, tags: Mapping[str, str]) -> str:
    """LightGBM's model text with ``key=value`` header lines for gbrank's tags.

    LightGBM's loader reads the header's ``key=value`` lines into a map and
    ignores keys it does not know (checked for LightGBM 4), so the lines sit
    after ``version=`` and the file loads anywhere.
    """
    if not tags:
        return model
    lines = model.split("\n")
    at = next((i for i, line in enumerate(lines) if line.startswith("version=")), 0)
    extra = [f"{key}={_escape(value)}" for key, value in tags.items()]
    return "\n".join([*lines[: at + 1], *extra, *lines[at + 1 :]])


def _read_tags(path: Path) -> dict[str, str]:
    """Read the gbrank tags in the header of a LightGBM model file."""
    tags = {}
    with open(path, "rb") as stream:
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("Tree=") or line == "end of trees":
                break
            key, sep, value = line.partition("=")
            if sep and key in TAGS:
                tags[key] = urllib.parse.unquote(value)
    return tags


class FirstEvalSetStopping:
    """Early stopping on the first metric of the first eval set only.

    ``lightgbm.early_stopping`` stops when *any* eval set runs out of patience;
    gbrank's estimators document the first eval set (as their Dask versions
    and XGBoost's ``EarlyStopping(data_name=...)`` do). Same rule otherwise: a
    strictly better value makes a round the best; training stops ``rounds``
    rounds after it, and the booster's ``best_iteration`` is the best round
    (also when every round is trained).

    Parameters
    ----------
    rounds : int
        Rounds without improvement before training stops.
    """

    def __init__(self, rounds: int) -> None:
        # where lightgbm.early_stopping runs among the callbacks, after
        # record_evaluation (20); an instance attribute, as lightgbm.train gives
        # every callback without one an order before all others
        self.order = 30
        self.rounds = rounds
        self.best_iteration = -1
        self.best_score: list[Any] = []

    def __call__(self, env: lgb.callback.CallbackEnv) -> None:
        """Record the round; raise ``EarlyStopException`` to stop."""
        results = env.evaluation_result_list or []
        first = next(r for r in results if r[0] == "valid_0")
        value, higher_is_better = first[2], first[3]
        if self.best_iteration < 0 or (
            value > self.best_score[0][2]
            if higher_is_better
            else value < self.best_score[0][2]
        ):
            self.best_iteration, self.best_score = env.iteration, [first]
        stop = env.iteration - self.best_iteration >= self.rounds
        if stop or env.iteration == env.end_iteration - 1:
            raise lgb.callback.EarlyStopException(self.best_iteration, self.best_score)


class LightGBMEngine(Engine):
    """``lightgbm.train`` with ``params["objective"] = loss.lgb_objective``."""

    name = "lightgbm"
    value_separators = " ="  # LightGBM joins parameters into "key=value key=value"
    native_objectives = ("lambdarank", "rank_xendcg")
    compare_tree: ClassVar[dict[str, Any]] = {
        "num_leaves": 31,
        "booster_params": {"min_data_in_leaf": 50},
    }

    def objective(self, loss: Loss, **options: Any) -> LightGBMObjective:
        """Return the module function :func:`objective`'s adapter."""
        return objective(loss, **options)

    def sklearn_objective(self, loss: Loss) -> LightGBMSklearnObjective:
        """Return the module function :func:`sklearn_objective`'s adapter."""
        return sklearn_objective(loss)

    def loss_metric(self, loss: Loss) -> LightGBMMetric:
        """Return the module function :func:`loss_metric`'s adapter."""
        return loss_metric(loss)

    def ranking_metric(
        self, metric: str = "ndcg", k: int | None = 10, no_relevant: float = 1.0
    ) -> LightGBMEval:
        """Return the module function :func:`ranking_metric`'s adapter."""
        return ranking_metric(metric, k, no_relevant=no_relevant)

    def refused_params(self) -> dict[str, str]:
        """Return the objective, classes, metrics, rounds, early stopping, aliased."""
        aliases = _aliases()
        return {
            alias: reason
            for key, reason in _REFUSED.items()
            for alias in aliases.get(key, [key])
        }

    def param_names(self) -> frozenset[str]:
        """LightGBM's parameters and their aliases."""
        return frozenset(alias for names in _aliases().values() for alias in names)

    def params(self, settings: Settings) -> dict[str, Any]:
        """LightGBM parameters for ``settings``; ``booster_params`` come last."""
        n_jobs = settings.n_jobs
        params = drop_none(
            {
                "learning_rate": settings.learning_rate,
                "max_depth": settings.max_depth,
                "num_leaves": settings.num_leaves,
                "min_sum_hessian_in_leaf": settings.min_child_weight,
                "bagging_fraction": settings.subsample,
                "bagging_freq": 1 if settings.subsample < 1 else 0,
                "feature_fraction": settings.colsample_bytree,
                "lambda_l1": settings.reg_alpha,
                "lambda_l2": settings.reg_lambda,
                "seed": settings.random_state,
                "num_threads": None if n_jobs is None else max(n_jobs, 0),
                "num_class": settings.n_classes,
                "metric": "None",
                "verbosity": -1,
                # keep unsplittable features: with a custom objective LightGBM
                # aborts when pre-filtering leaves no feature (tiny data sets)
                "feature_pre_filter": False,
                **_histogram_layout(settings.booster_params),
            }
        )
        return _override(params, settings.booster_params)

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
        """Train with ``lightgbm.train`` (positions reach the objective directly)."""

        def dataset(part: TrainingSet, reference: Any = None) -> Any:
            group = None if part.groups is None else part.groups.sizes
            return lgb.Dataset(
                part.X, part.y, group=group, weight=part.weights, reference=reference
            )

        train_set = dataset(train)
        valid_sets = [dataset(part, train_set) for part in valid]
        evals_result: dict[str, dict[str, list[float]]] = {}
        wired: list[Any] = [lgb.record_evaluation(evals_result)]
        if early_stopping_rounds is not None:
            wired.append(FirstEvalSetStopping(early_stopping_rounds))
        if verbose and valid:
            wired.append(lgb.log_evaluation(int(verbose)))
        params, custom = self._training_params(
            objective, settings, train, position_bias
        )
        if custom is not None:
            params["objective"] = custom
        booster = lgb.train(
            params,
            train_set,
            num_boost_round=settings.n_estimators,
            valid_sets=valid_sets,
            valid_names=[f"valid_{i}" for i in range(len(valid))],
            feval=metric if valid else None,
            callbacks=[*wired, *callbacks],
        )
        best = booster.best_iteration or booster.current_iteration()
        return self._fitted(booster, objective, best, evals_result)

    def predict_raw(self, booster: Any, X: Any, n_iterations: int) -> Array:
        """Raw scores, (n,) or (n, n_classes), using the first ``n_iterations``."""
        if sparse.issparse(X) and not isinstance(X, sparse.spmatrix):
            X = sparse.csr_matrix(X)  # LightGBM reads sparse matrices, not arrays
        return np.asarray(
            booster.predict(X, raw_score=True, num_iteration=n_iterations)
        )

    def staged_raw_scores(
        self, booster: Any, X: Any, n_iterations: int
    ) -> Iterator[Array]:
        """Raw scores after rounds 1, 2, ..., ``n_iterations``, one round each.

        LightGBM's raw prediction starts at 0 and adds the trees of each round
        in order, in float64 (``GBDT::PredictRaw``; no averaging, even for
        ``boosting="rf"``), so adding the output of round ``i`` alone
        (``start_iteration=i, num_iteration=1``) to the sum of the rounds before
        gives :meth:`predict_raw`'s scores bit for bit.
        """
        if sparse.issparse(X) and not isinstance(X, sparse.spmatrix):
            X = sparse.csr_matrix(X)
        scores: Any = 0.0
        for start in range(n_iterations):
            scores = scores + np.asarray(
                booster.predict(
                    X, raw_score=True, start_iteration=start, num_iteration=1
                )
            )
            yield scores

    def truncate(self, booster: Any, n_iterations: int) -> Any:
        """Return the first ``n_iterations`` rounds (through the model string)."""
        model = booster.model_to_string(num_iteration=n_iterations)
        cut = lgb.Booster(model_str=model)
        self.set_model_tags(cut, self.model_tags(booster))
        return cut

    def gain_importances(self, booster: Any) -> Array:
        """Total split gain of each feature."""
        return np.asarray(booster.feature_importance("gain"), dtype=np.float64)

    def split_importances(self, booster: Any) -> Array:
        """Return the number of splits on each feature."""
        return np.asarray(booster.feature_importance("split"), dtype=np.float64)

    def n_rounds(self, booster: Any) -> int:
        """``booster.current_iteration()``."""
        return int(booster.current_iteration())

    def n_features(self, booster: Any) -> int:
        """``booster.num_feature()``."""
        return int(booster.num_feature())

    def model_bytes(
        self, booster: Any, path: Path, tags: Mapping[str, str] | None = None
    ) -> bytes:
        """LightGBM's text model format, gbrank's tags as header lines."""
        entries = {**self.model_tags(booster), **(tags or {})}
        return _with_tags(str(booster.model_to_string()), entries).encode()

    def load_model(self, path: Path) -> Any:
        """``lightgbm.Booster(model_file=path)`` with the file's gbrank tags."""
        booster = lgb.Booster(model_file=str(path))
        self.set_model_tags(booster, _read_tags(Path(path)))
        return booster

    def recognizes(self, head: bytes) -> bool:
        """LightGBM's text models start with the line ``tree``."""
        return head.startswith((b"tree\n", b"tree\r\n"))

    def set_model_tags(self, booster: Any, tags: Mapping[str, str]) -> None:
        """Keep ``tags`` on the booster object (written by :meth:`model_bytes`).

        ``lightgbm.Booster`` has no attributes of its own to hold them; they
        are an attribute of the Python object, which pickles with it.
        """
        setattr(booster, _TAGS_ATTRIBUTE, {**self.model_tags(booster), **tags})

    def model_tags(self, booster: Any) -> dict[str, str]:
        """Return the gbrank entries kept on the booster object."""
        return dict(getattr(booster, _TAGS_ATTRIBUTE, {}))

    def dask_params(self, settings: Settings, loss: Loss) -> dict[str, Any]:
        """Keyword arguments of ``lightgbm.dask.DaskLGBM*`` for ``settings``.

        The objective is ``loss.lgb_sklearn_objective`` (4 parameters, so each
        worker passes it the group sizes of its own rows); other parameters are
        those of :meth:`params` under their scikit-learn names.
        """
        params = self.params(replace(settings, booster_params={}))
        params.pop("num_threads", None)  # Dask sets threads per worker
        kwargs = {_SKLEARN_NAMES.get(key, key): value for key, value in params.items()}
        return {
            **_override(kwargs, settings.booster_params),
            "objective": LightGBMSklearnObjective(loss),
            "n_estimators": settings.n_estimators,
        }

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
        """``DaskLGBMRanker`` with ``group`` sizes per partition, else a regressor.

        ``DaskLGBMClassifier`` would label-encode on each worker separately (a
        worker missing a class breaks it): classifiers train as multi-output
        regressors on labels encoded once, with ``num_class`` set.
        """
        from lightgbm.dask import DaskLGBMRanker, DaskLGBMRegressor

        factory = DaskLGBMRanker if group is not None else DaskLGBMRegressor
        model = factory(client=client, **self.dask_params(settings, loss))
        extra = {} if group is None else {"group": group}
        with warnings.catch_warnings():
            # threads are set per worker by lightgbm.dask, as intended
            warnings.filterwarnings("ignore", "Parameter n_jobs will be ignored")
            model.fit(X, y, sample_weight=sample_weight, **extra)
        booster = model.booster_
        return self._fitted(booster, loss, booster.current_iteration())


def cv(
    params: dict[str, Any],
    train_set: Dataset,
    num_boost_round: int = 100,
    *,
    nfold: int = 5,
    shuffle: bool = True,
    seed: int = 0,
    **kwargs: Any,
) -> dict[str, Any]:
    """``lightgbm.cv`` with folds that keep every query (and its positions) whole.

    ``lightgbm.cv`` chooses query-aware folds only for LightGBM's own ranking
    objectives; with a gbrank objective it would split queries between folds
    (gbrank's objective and metrics then raise). This passes
    ``folds=query_folds(train_set.get_group(), nfold, ...)``; display positions
    of ``train_set`` (or given to :class:`LightGBMObjective`) follow each fold's
    rows. Learned position offsets cannot be cross-validated (the folds would
    share them); inverse-propensity weights can.

    Parameters
    ----------
    params : dict
        As for ``lightgbm.cv``, e.g. ``{"objective": loss.lgb_objective}``.
    train_set : lightgbm.Dataset
        Training data with ``group=``.
    num_boost_round : int, default 100
    nfold : int, default 5
        Number of folds (at least 2, at most the number of queries).
    shuffle : bool, default True
        Assign queries to folds in a random order.
    seed : int, default 0
        Seed of that order (and of ``lightgbm.cv``).
    **kwargs
        Other arguments of ``lightgbm.cv`` (``feval``, ``callbacks``, ...), but
        not ``folds``.

    Returns
    -------
    dict
        What ``lightgbm.cv`` returns: ``{"valid <metric>-mean": [...], ...}``.

    Examples
    --------
    >>> import lightgbm as lgb
    >>> import gbrank
    >>> from gbrank.datasets import make_ranking
    >>> X, y, group, _ = make_ranking(n_queries=30, docs_per_query=10, random_state=0)
    >>> loss = gbrank.get_loss("softmax")
    >>> params = {"objective": loss.lgb_objective, "metric": "None", "verbose": -1}
    >>> result = gbrank.lightgbm.cv(
    ...     params, lgb.Dataset(X, y, group=group), num_boost_round=3, nfold=3,
    ...     feval=gbrank.metrics.lgb_eval("ndcg", 10))
    >>> len(result["valid ndcg@10-mean"])
    3
    """
    if "folds" in kwargs:
        raise TypeError(
            "gbrank.lightgbm.cv makes the folds itself (whole queries); to pass "
            "your own folds= call lightgbm.cv."
        )
    group = train_set.group  # as given to lgb.Dataset(group=), or read when built
    if group is None and train_set._handle is not None:
        group = train_set.get_group()
    if group is None:
        raise ValueError(
            "train_set has no query groups: build it with "
            "lightgbm.Dataset(X, y, group=group_sizes), or call lightgbm.cv for "
            "data without queries."
        )
    folds = query_folds(np.asarray(group), nfold, shuffle=shuffle, random_state=seed)
    return dict(
        lgb.cv(params, train_set, num_boost_round, folds=folds, seed=seed, **kwargs)
    )
