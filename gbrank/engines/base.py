"""The engine interface: what gbrank needs from a boosting library.

An :class:`Engine` turns a gbrank loss into the library's objective and eval
callables, maps gbrank's common booster settings (:class:`Settings`) to the
library's parameters, trains (with a gbrank loss or, for comparisons, a native
objective), predicts, reports importances, saves and loads models and trains on
Dask. Every engine-specific line of gbrank lives in one module per engine
(:mod:`gbrank.engines.lightgbm`, :mod:`gbrank.engines.xgboost`); estimators, the
command line and the Dask estimators reach an engine only through the registry
(:func:`gbrank.engines.get_engine`).

The adapters' shared core is here too: :class:`LossAdapter` (a loss bound to an
engine) and :class:`ObjectiveAdapter` (an objective with position-bias
correction).
"""

from __future__ import annotations

import copy
import math
import numbers
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gbrank._groups import Groups, missing_queries
from gbrank._params import Configured
from gbrank._persist import OBJECTIVE_TAG, dumps
from gbrank._validation import did_you_mean
from gbrank.losses.base import Loss
from gbrank.position import (
    LearnedPositionBias,
    PositionBias,
    Propensity,
    check_positions,
    resolve_position_bias,
)

Array = NDArray[np.float64]

_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Refused:
    """Why an engine parameter is refused, and what to use instead.

    Each completes "<parameter> would ..."; engines map their parameter names
    (with aliases) to them in :meth:`Engine.refused_params`.
    """

    OBJECTIVE = (
        "replace the gbrank loss; choose the loss with loss= (estimators) or "
        "--loss (command line)"
    )
    CLASSES = (
        "change the number of scores per row, which gbrank sets: "
        "GBRankClassifier counts the classes of y, ranking losses need one score"
    )
    METRICS = (
        "change the metrics gbrank evaluates and stops early on (NDCG for "
        "rankers, the loss for classifiers); pass eval_set= (and eval_at=) to "
        "fit (estimators) or --valid (command line)"
    )
    ROUNDS = (
        "change the number of rounds, which gbrank sets; use n_estimators= "
        "(estimators) or --n-estimators (command line)"
    )
    EARLY_STOPPING = (
        "change the early stopping gbrank wires up; use fit(..., "
        "early_stopping_rounds=) (estimators) or --early-stopping-rounds "
        "(command line)"
    )


@dataclass(frozen=True)
class Settings:
    """Booster settings common to every engine (None: the engine's default)."""

    n_estimators: int
    learning_rate: float
    max_depth: int | None = None
    num_leaves: int | None = None
    min_child_weight: float | None = None
    subsample: float = 1.0
    colsample_bytree: float = 1.0
    reg_alpha: float | None = None
    reg_lambda: float | None = None
    random_state: int | None = None
    n_jobs: int | None = None
    n_classes: int | None = None
    booster_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingSet:
    """Rows of one data set as the engines get them (rows sorted by query)."""

    X: Any
    y: Array
    groups: Groups | None
    weights: Array | None = None
    positions: NDArray[np.int64] | None = None


@dataclass
class Fitted:
    """What an engine returns from training."""

    booster: Any
    best_iteration: int
    evals_result: dict[str, dict[str, list[float]]] = field(default_factory=dict)


def drop_none(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` without the entries whose value is None."""
    return {key: value for key, value in params.items() if value is not None}


class Engine(ABC):
    """A gradient-boosting library as gbrank uses it.

    Attributes
    ----------
    name : str
        Registry name (``gbrank.engines.get_engine(name)``).
    native_objectives : tuple of str
        The library's own ranking objectives, trained next to gbrank losses by
        ``gbrank compare``.
    compare_tree : dict
        Tree settings of ``gbrank compare`` (keywords of :class:`Settings`).
    """

    name: ClassVar[str]
    native_objectives: ClassVar[tuple[str, ...]]
    compare_tree: ClassVar[dict[str, Any]]

    def __repr__(self) -> str:
        """``<Name>Engine()``."""
        return f"{type(self).__name__}()"

    # -- adapters ------------------------------------------------------------------

    @abstractmethod
    def objective(self, loss: Loss, **options: Any) -> Any:
        """Return the custom objective for ``loss`` (options: positions, ...)."""

    def sklearn_objective(self, loss: Loss) -> Any:
        """Return the objective of the library's scikit-learn estimators."""
        raise NotImplementedError(
            f"{self.name} estimators take no custom ranking objective; use "
            "gbrank.GBRankRegressor(backend=...) or the engine's training API."
        )

    @abstractmethod
    def loss_metric(self, loss: Loss) -> Any:
        """Return an eval callable reporting the loss value (lower is better)."""

    @abstractmethod
    def ranking_metric(
        self, metric: str = "ndcg", k: int | None = 10, no_relevant: float = 1.0
    ) -> Any:
        """Return an eval callable of a :mod:`gbrank.metrics` ranking metric."""

    # -- parameters --------------------------------------------------------------------

    value_separators: ClassVar[str] = ""
    """Characters a string parameter value may not hold (besides control characters):
    those the library splits its parameter string on."""

    def refused_params(self) -> dict[str, str]:
        """Parameters gbrank sets itself, with their aliases.

        Returns
        -------
        dict
            Parameter name -> why it is refused and which gbrank argument to
            use instead (completes "it would ...").
        """
        return {}

    def param_names(self) -> frozenset[str]:
        """Every parameter name (and alias) the library knows (empty: unknown)."""
        return frozenset()

    def unused_params(self, params: dict[str, Any]) -> list[str]:
        """Names in ``params`` the library would ignore (default: not known)."""
        known = self.param_names()
        return [key for key in params if known and key not in known]

    def check_booster_params(
        self,
        params: Mapping[str, Any] | None,
        *,
        name: str = "booster_params",
        strict: bool = False,
    ) -> list[str]:
        """Check extra engine parameters before any data is touched.

        Parameters
        ----------
        params : dict or None
            Engine parameters by name (``booster_params``, ``--param``).
        name : str, default "booster_params"
            How the caller calls them, used in messages.
        strict : bool, default False
            Raise ``ValueError`` for a parameter the library would ignore
            (naming the closest known one) instead of returning a message.

        Returns
        -------
        list of str
            One message per parameter the library would ignore, naming the
            closest known parameter; callers warn (or refuse).

        Raises
        ------
        TypeError
            If ``params`` is not a dict with string keys, or a value is not a
            number, string, boolean or list of them.
        ValueError
            If a key is not a parameter name, a value is not finite or holds a
            separator (it would smuggle in another parameter), or a parameter
            would replace what gbrank sets itself (the objective, the number of
            classes, the metric wiring, the number of rounds).
        """
        if params is None:
            return []
        if not isinstance(params, Mapping):
            raise TypeError(
                f"{name} must be a dict of engine parameters or None, got "
                f"{type(params).__name__}."
            )
        refused = self.refused_params()
        for key, value in params.items():
            if not isinstance(key, str) or not _PARAM_NAME.match(key):
                raise ValueError(
                    f"{name}: {key!r} is not a parameter name (letters, digits and "
                    "underscores); give each parameter its own entry."
                )
            if key in refused:
                raise ValueError(f"{name}: {key!r} would {refused[key]}.")
            self._check_param_value(name, key, value)
        known = sorted(self.param_names())
        notes = []
        for key in self.unused_params(dict(params)):
            hint = did_you_mean(key, known, cutoff=0.75)
            if strict:
                raise ValueError(f"{name}: {self.name} has no parameter {key!r}{hint}.")
            notes.append(
                f"{name}: {self.name} does not use the parameter {key!r}{hint}; "
                "it would be ignored."
            )
        return notes

    def _check_param_value(self, name: str, key: str, value: Any) -> None:
        """Raise unless ``value`` is a finite number, a clean string, or a list."""
        if isinstance(value, np.ndarray) and value.ndim == 1:
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            for item in value:
                self._check_param_value(name, key, item)
            return
        if value is None or isinstance(value, (bool, np.bool_)):
            return
        if isinstance(value, numbers.Real):
            if not math.isfinite(float(value)):
                raise ValueError(f"{name}: {key}={value!r} is not a finite number.")
            return
        if not isinstance(value, str):
            raise TypeError(
                f"{name}: {key} has type {type(value).__name__}; engine parameters "
                "are numbers, strings, booleans or lists of them."
            )
        bad = [c for c in value if c in self.value_separators or not c.isprintable()]
        if bad:
            raise ValueError(
                f"{name}: {key}={value!r} holds {bad[0]!r}, which {self.name} "
                "treats as a separator in its parameter string; give each "
                "parameter its own entry (one --param per parameter)."
            )

    # -- training and models ---------------------------------------------------------

    @abstractmethod
    def params(self, settings: Settings) -> dict[str, Any]:
        """Return the library's parameters for ``settings`` (no objective)."""

    @abstractmethod
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
        """Train a booster with a gbrank loss or a native objective (by name).

        Parameters
        ----------
        objective : Loss or str
            A gbrank loss, or the name of one of the library's objectives.
        settings : Settings
        train : TrainingSet
        valid : list of TrainingSet
            Eval sets, recorded as ``valid_0``, ``valid_1``, ...
        metric : callable or list of callables
            Eval callables of the eval sets (:meth:`ranking_metric` or
            :meth:`loss_metric`); the first one on the first eval set drives
            early stopping.
        early_stopping_rounds : int, optional
        position_bias : PositionBias, optional
            Correction of the training rows' positions (gbrank losses only).
        callbacks : sequence, optional
            The library's own training callbacks, run after gbrank's.
        verbose : int, default 0
            Print the eval results every ``verbose`` rounds, as the library
            does (0: never).

        Returns
        -------
        Fitted
        """

    @abstractmethod
    def predict_raw(self, booster: Any, X: Any, n_iterations: int) -> Array:
        """Raw scores, (n,) or (n, n_classes), of the first ``n_iterations`` rounds."""

    def staged_raw_scores(
        self, booster: Any, X: Any, n_iterations: int
    ) -> Iterator[Array]:
        """Raw scores after each of the first ``n_iterations`` rounds.

        The ``j``-th array (``j = 1, ..., n_iterations``) equals
        ``predict_raw(booster, X, j)`` bit for bit: the Dask estimators score
        eval sets round by round with it. This default predicts afresh for every
        round (O(n_iterations²) trees); engines override it with an O(n_iterations)
        version that keeps that equality.

        Parameters
        ----------
        booster : Any
            A booster of this engine.
        X : array-like or sparse matrix of shape (n_samples, n_features)
        n_iterations : int
            Number of rounds (at most the booster's).

        Yields
        ------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        for n in range(1, n_iterations + 1):
            yield self.predict_raw(booster, X, n)

    def truncate(self, booster: Any, n_iterations: int) -> Any:
        """Return a booster holding the first ``n_iterations`` rounds of ``booster``.

        Its predictions equal ``predict_raw(booster, X, j)`` for every ``j`` up
        to ``n_iterations``. This default returns ``booster`` itself (all its
        rounds); estimators predict with ``best_iteration_`` rounds either way.
        """
        return booster

    @abstractmethod
    def gain_importances(self, booster: Any) -> Array:
        """Total split gain of each feature."""

    def split_importances(self, booster: Any) -> Array:
        """Return the number of splits on each feature."""
        raise NotImplementedError(f"{self.name} reports no split counts.")

    def importances(self, booster: Any, importance_type: str) -> Array:
        """Per-feature importance: ``"gain"`` (total gain) or ``"split"`` (count)."""
        if importance_type == "split":
            return self.split_importances(booster)
        return self.gain_importances(booster)

    def n_rounds(self, booster: Any) -> int:
        """Return the number of boosting rounds a booster holds."""
        raise NotImplementedError(f"{self.name} does not count boosting rounds.")

    def n_features(self, booster: Any) -> int:
        """Return the number of features a booster was trained on."""
        raise NotImplementedError(f"{self.name} does not count features.")

    @abstractmethod
    def model_bytes(
        self, booster: Any, path: Path, tags: Mapping[str, str] | None = None
    ) -> bytes:
        """Return the booster in the library's own file format (by ``path``).

        The booster's gbrank entries (:meth:`model_tags`) and ``tags`` are
        written into the file, where :meth:`load_model` finds them.
        """

    @abstractmethod
    def load_model(self, path: Path) -> Any:
        """Load a booster saved from :meth:`model_bytes` (with its gbrank entries)."""

    def recognizes(self, head: bytes) -> bool:
        """Whether a file starting with ``head`` is a model file of this library."""
        return False

    def set_model_tags(self, booster: Any, tags: Mapping[str, str]) -> None:
        """Record gbrank's entries (``gbrank_objective``, ...) with a booster.

        They travel with the booster into its model file (:meth:`model_bytes`).
        This default records nothing.
        """
        return

    def model_tags(self, booster: Any) -> dict[str, str]:
        """Return the gbrank entries recorded with a booster ({}: none)."""
        return {}

    def _training_params(
        self,
        objective: Loss | str,
        settings: Settings,
        train: TrainingSet,
        position_bias: PositionBias | None,
        **options: Any,
    ) -> tuple[dict[str, Any], Any]:
        """Return the parameters and the custom objective :meth:`train` trains with.

        The arguments are those of :meth:`train`; ``options`` are further
        keywords of :meth:`objective` (e.g. per-row weights).

        Returns
        -------
        params : dict
            :meth:`params` of ``settings``; with ``"objective"`` set to the
            name of a native objective.
        custom : objective adapter or None
            :meth:`objective`'s adapter of a gbrank loss, given the training
            rows' display positions (if any) and ``position_bias``; None for a
            native objective.
        """
        params = self.params(settings)
        if isinstance(objective, str):
            params["objective"] = objective
            return params, None
        if train.positions is not None:
            options.update(position=train.positions, position_bias=position_bias)
        return params, self.objective(objective, **options)

    def _fitted(
        self,
        booster: Any,
        objective: Loss | str,
        best_iteration: int,
        evals_result: dict[str, dict[str, list[float]]] | None = None,
    ) -> Fitted:
        """Return the :class:`Fitted` of a booster, its gbrank loss recorded with it.

        ``objective`` is what it trained with (see :meth:`_record_objective`);
        ``evals_result`` the eval sets' metric values per round (None: {}).
        """
        self._record_objective(booster, objective)
        return Fitted(
            booster, best_iteration, {} if evals_result is None else evals_result
        )

    def _record_objective(self, booster: Any, objective: Loss | str) -> None:
        """Record a gbrank loss (name and parameters) with the booster it trained.

        A loss whose parameters a model file cannot hold (a user loss with
        objects of its own as parameters) is left out: the model is fine, its
        file just does not name the objective.
        """
        if isinstance(objective, str):
            return
        try:
            spec = dumps(objective, "the loss")
        except TypeError:
            return
        self.set_model_tags(booster, {OBJECTIVE_TAG: spec})

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
        """Train ``settings.n_estimators`` rounds on a Dask cluster.

        Each query lies inside one partition. No eval sets: the Dask estimators
        score them afterwards with :meth:`staged_raw_scores` and cut the model
        with :meth:`truncate` (see :mod:`gbrank.dask`). Optional: an engine
        without Dask leaves it out, and the Dask estimators refuse it.
        """
        raise NotImplementedError(
            f"the {self.name} engine does not train on Dask; the Dask estimators "
            "need an engine that implements Engine.train_dask (lightgbm, xgboost)."
        )


class LossAdapter(Configured):
    """A loss resolved for one engine (``loss.for_engine(engine)``).

    Parameters
    ----------
    loss : Loss
        The gbrank loss to adapt.

    Attributes
    ----------
    loss : Loss
        ``loss.for_engine(engine)``: categorical cross-entropy, for example, takes
        the engine's native hessian factor here.
    """

    engine: ClassVar[str]
    higher_is_better: ClassVar[bool] = False

    def __init__(self, loss: Loss) -> None:
        if not isinstance(loss, Loss):
            raise TypeError(
                f"loss must be a gbrank Loss instance, got {type(loss).__name__}; "
                "use gbrank.get_loss(name) to build one."
            )
        self.loss = loss.for_engine(self.engine)

    def _group_sizes(
        self, groups: Groups | None, n_rows: int
    ) -> NDArray[np.int64] | None:
        """Group sizes to pass to the loss (None for losses that need no groups).

        A ranking loss without groups raises :meth:`_missing_groups`.
        """
        if not self.loss.needs_groups:
            return None
        if groups is None:
            raise self._missing_groups(n_rows)
        return groups.sizes

    def _missing_groups(self, n_rows: int) -> ValueError:
        """Return the error for data without query groups (engines name their API)."""
        return missing_queries(
            f"the data of the ranking loss {self.loss.name!r}",
            f"give the {self.engine} data its query groups",
            f"give it one group of {n_rows} rows",
        )

    def _check_preds(self, preds: ArrayLike) -> None:
        """Raise if a multiclass loss gets one score per row (no ``num_class``)."""
        if self.loss.is_multiclass and np.ndim(preds) == 1:
            raise ValueError(
                f"{self.loss.name} needs 2-D scores (one per class), but the "
                f"{self.engine} booster gives one per row: set num_class (the "
                "number of classes) in the engine parameters, or use "
                "gbrank.GBRankClassifier, which sets it."
            )

    def _grad_hess(
        self,
        labels: ArrayLike,
        preds: ArrayLike,
        groups: Groups | None,
        weights: ArrayLike | None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the loss's booster gradient and hessian, shaped like ``preds``."""
        self._check_preds(preds)
        group = self._group_sizes(groups, np.shape(preds)[0])
        return self.loss.booster_grad_hess(
            labels, preds, group=group, sample_weight=weights
        )

    def _value(
        self,
        labels: ArrayLike,
        preds: ArrayLike,
        groups: Groups | None,
        weights: ArrayLike | None,
    ) -> float:
        """Loss value with the loss's default reduction."""
        self._check_preds(preds)
        value = self.loss.loss(
            labels,
            preds,
            group=self._group_sizes(groups, np.shape(preds)[0]),
            sample_weight=weights,
            reduction="auto",
        )
        return float(value)


class ObjectiveAdapter(LossAdapter):
    """An objective adapter that can correct for position bias.

    Parameters
    ----------
    loss : Loss
        The gbrank loss.
    position : array-like of int, shape (n_rows,), optional
        Display position (>= 1) of every training row; the engine adapters may
        read positions from the training data instead.
    position_bias : {"learned", "ipw"}, PositionBias or None, default None
        What to do with positions (only used when there are positions). None or
        ``"learned"``: learn per-position offsets
        (:class:`~gbrank.position.LearnedPositionBias`); ``"ipw"``:
        ``PowerLawPropensity(eta=1.0)``; or an object of :mod:`gbrank.position`,
        used (and fitted) as it is.

    Attributes
    ----------
    position_bias : PositionBias
        The object that holds the learned offsets after training.
    position_offsets_ : ndarray
        ``position_bias.offsets_``: the learned offset of positions 1, 2, ...

    Notes
    -----
    Learned offsets start from 0 at the first call of the objective, then move by
    one Newton step per call (boosting round). ``lightgbm.train`` deep-copies its
    parameters and so calls a copy: a copy of this objective shares
    ``position_bias`` (so the offsets reach the caller's object) and starts
    afresh. To train twice with the same object without LightGBM's copy (e.g.
    ``xgboost.train``), call :meth:`reset` in between or build a new objective.
    """

    def __init__(
        self,
        loss: Loss,
        *,
        position: ArrayLike | None = None,
        position_bias: str | PositionBias | None = None,
    ) -> None:
        super().__init__(loss)
        if self.loss.is_multiclass and (
            position is not None or position_bias is not None
        ):
            raise ValueError(
                f"position bias correction needs a loss with one score per row; "
                f"{self.loss.name!r} is multiclass."
            )
        self.position = None if position is None else check_positions(position)
        self.position_bias = resolve_position_bias(position_bias, fresh=False)
        self._started = False

    @property
    def position_offsets_(self) -> NDArray[np.float64]:
        """Learned offset of positions 1, 2, ... (after training with positions)."""
        bias = self.position_bias
        if not isinstance(bias, LearnedPositionBias) or not hasattr(bias, "offsets_"):
            raise AttributeError(
                "position_offsets_ exists after training with display positions "
                "and learned offsets (position_bias=None or 'learned')."
            )
        return bias.offsets_

    def reset(self) -> None:
        """Make the next call start the learned offsets from 0 again."""
        self._started = False

    @classmethod
    def _defaults(cls) -> dict[str, Any]:
        # the stored default is the resolved object, LearnedPositionBias()
        return {**super()._defaults(), "position_bias": LearnedPositionBias()}

    def __deepcopy__(self, memo: dict[int, Any]) -> ObjectiveAdapter:
        """Copy that shares ``position_bias`` and starts its offsets afresh."""
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for key, value in vars(self).items():
            shared = key == "position_bias"
            setattr(clone, key, value if shared else copy.deepcopy(value, memo))
        clone._started = False
        return clone

    def _training_positions(
        self,
        from_data: NDArray[np.int64] | None,
        n_rows: int,
        fold: NDArray[np.int64] | None = None,
    ) -> NDArray[np.int64] | None:
        """Return the explicit positions, else the data's, checked for length.

        ``fold``: the rows a cross-validation fold holds of the data the
        explicit positions describe (``from_data`` is the fold's own already).
        """
        positions = self.position if self.position is not None else from_data
        if positions is None:
            return None
        if self.loss.is_multiclass:
            raise ValueError(
                f"position bias correction needs a loss with one score per row; "
                f"{self.loss.name!r} is multiclass."
            )
        if fold is not None:
            if isinstance(self.position_bias, LearnedPositionBias):
                raise ValueError(
                    "learned position offsets cannot be fitted in cross-validation: "
                    "the folds would share one set of offsets. Use "
                    "position_bias='ipw' (or a gbrank.position Propensity) there, "
                    "or train each fold separately."
                )
            if self.position is not None:
                if positions.size <= fold[-1]:
                    raise ValueError(
                        f"position has {positions.size} entries, fewer than the "
                        "rows of the data the cross-validation folds are cut from; "
                        "pass one display position per row of that data."
                    )
                positions = positions[fold]
        if positions.size != n_rows:
            raise ValueError(
                f"position has {positions.size} entries but the training data has "
                f"{n_rows} rows; pass one display position per training row."
            )
        return positions

    def _objective(
        self,
        labels: ArrayLike,
        preds: ArrayLike,
        groups: Groups | None,
        weights: ArrayLike | None,
        positions: NDArray[np.int64] | None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Gradient and hessian for the booster, with position-bias correction."""
        if positions is None:
            return self._grad_hess(labels, preds, groups, weights)
        bias = self.position_bias
        if isinstance(bias, Propensity):
            weights = bias.weights(labels, positions, weights)
            return self._grad_hess(labels, preds, groups, weights)
        if not isinstance(bias, LearnedPositionBias):
            raise TypeError(
                f"position_bias must be a LearnedPositionBias or a Propensity, got "
                f"{type(bias).__name__}."
            )
        if not self._started:
            bias.start(positions)
            self._started = True
        scores = np.asarray(preds, dtype=np.float64) + bias.offset(positions)
        grad, hess = self._grad_hess(labels, scores, groups, weights)
        bias.update(positions, grad, hess)
        return grad, hess
