"""scikit-learn estimators: a ranker and a classifier trained with gbrank losses.

Both train with ``lightgbm.train`` or ``xgboost.train`` and a gbrank objective
(``XGBRanker`` rejects custom objectives, so gbrank drives ``xgboost.train``
itself). They work in pipelines, ``GridSearchCV`` and ``cross_val_score``; pass
per-row ``qid`` (not group sizes, which cannot be sliced) and route it with
scikit-learn's metadata routing.

Examples
--------
>>> import numpy as np
>>> from gbrank import GBRankRegressor
>>> from gbrank.datasets import make_ranking
>>> X, y, group, qid = make_ranking(n_queries=20, docs_per_query=10, random_state=0)
>>> ranker = GBRankRegressor(loss="pairwise_hinge", n_estimators=10)
>>> ranker = ranker.fit(X, y, group=group)
>>> ranker.predict(X).shape == y.shape
True
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from gbrank import metrics
from gbrank._files import write_file
from gbrank._groups import (
    MissingQueryError,
    as_query_ids,
    groups_from_sizes,
    make_groups,
    missing_queries,
)
from gbrank._kernels.threads import num_threads
from gbrank._persist import ESTIMATOR_TAG, OBJECTIVE_TAG, dumps, loads
from gbrank._validation import (
    as_float_array,
    check_choice,
    check_int,
    check_nonnegative,
    check_real,
)
from gbrank.engines import (
    Engine,
    Fitted,
    Settings,
    TrainingSet,
    available_engines,
    get_engine,
)
from gbrank.losses import DEFAULT_RANKING_LOSS, Loss, get_loss
from gbrank.position import (
    LearnedPositionBias,
    PositionBias,
    check_positions,
    resolve_position_bias,
)

Array = NDArray[np.float64]
SPARSE_FORMATS = ["csr", "csc"]  # what both engines read without converting
DEFAULT_ENGINE = "lightgbm"
IMPORTANCE_TYPES = ("gain", "split")
MODEL_FORMAT = 1  # version of the estimator entry of model files


class _GBRankModel(BaseEstimator):
    """Shared parameters, fitting, prediction and model files of the estimators.

    Parameters
    ----------
    loss : str or Loss, default None
        A registered loss name (``gbrank.available_losses()``) or a loss instance,
        whose parameters can be searched as ``loss__<name>`` in ``GridSearchCV``.
        None uses the estimator's default loss.
    engine : {"lightgbm", "xgboost"} or None, default None
        The engine (the boosting library). None: ``backend``.
    backend : {"lightgbm", "xgboost"}, default "lightgbm"
        The older name of ``engine``, used when ``engine`` is None; the two may
        not name different engines.
    n_estimators : int, default 100
        Boosting rounds.
    learning_rate : float, default 0.1
        Shrinkage (LightGBM ``learning_rate``, XGBoost ``eta``).
    max_depth : int or None, default None
        Tree depth limit (None: LightGBM unlimited, XGBoost 6).
    num_leaves : int or None, default None
        Leaves per tree (None: LightGBM 31, XGBoost unlimited; set, XGBoost grows
        leaf-wise with ``max_leaves``).
    min_child_weight : float or None, default 1.0
        Minimum hessian sum in a leaf (LightGBM ``min_sum_hessian_in_leaf``,
        XGBoost ``min_child_weight``); None keeps the engine's default (LightGBM
        1e-3, XGBoost 1). The default 1 is XGBoost's on both engines: the
        hessians of ranking losses are small and differ by 1000x between losses
        (a mean of ~0.005 per row for ``yetirank``, ~0.07 for LambdaMART, 1 for
        ``query_rmse``), so this floor, with ``reg_lambda=1``, regularises the
        leaves of small-hessian losses most. Measured on LightGBM (held-out
        NDCG@10, mean over five real LETOR sets): ``yetirank`` 0.557 with
        LightGBM's own defaults, 0.572 with these; ``lambdarank`` 0.561 / 0.560.
    subsample : float, default 1.0
        Row subsampling per tree.
    colsample_bytree : float, default 1.0
        Feature subsampling per tree.
    reg_alpha : float or None, default None
        L1 regularisation of leaf values; None keeps the engine's default (0).
    reg_lambda : float or None, default 1.0
        L2 regularisation of leaf values (XGBoost's default; LightGBM's own is
        0; see ``min_child_weight``); None keeps the engine's default.
    random_state : int or None, default None
        Seed of the engine. A fit is reproducible: on LightGBM gbrank sets
        ``force_col_wise=True`` (unless ``booster_params`` chooses a layout),
        since LightGBM otherwise times both histogram layouts and keeps the
        faster, so the model would depend on the machine's load.
    n_jobs : int or None, default None
        Threads (None or -1: all cores).
    booster_params : dict or None, default None
        Extra engine parameters, passed as they are (e.g.
        ``{"min_data_in_leaf": 50}`` for LightGBM); they override the above.
    position_bias : {"learned", "ipw"}, PositionBias or None, default None
        Position-bias correction when ``fit`` gets ``position=``: None or
        ``"learned"`` learns one score offset per display position alongside the
        trees (``gbrank.position.LearnedPositionBias()``; prediction ignores the
        offsets), ``"ipw"`` weights clicked rows (label > 0) by ``1 / p(k)`` with
        ``p(k) = 1/k`` (``gbrank.position.PowerLawPropensity()``); or an object
        of :mod:`gbrank.position` (copied, never fitted in place). Not for
        ``categorical_cross_entropy``.
    importance_type : {"gain", "split"}, default "gain"
        What ``feature_importances_`` counts: the total gain of a feature's
        splits, or their number.
    **engine_params
        The engine's own parameters by name, as ``LGBMRanker(**kwargs)`` and
        ``XGBRanker(**kwargs)`` take them (LightGBM ``min_child_samples=50``,
        ``max_bin=63``; XGBoost ``max_bin=63``, ``gamma=1.0``, ...): they join
        ``booster_params`` (a parameter may not be given both ways). Checked
        against the engine when fitting: a name it does not know raises
        ``ValueError`` naming the closest one. They are returned by
        ``get_params`` and set by ``set_params``, so ``clone`` and grid search
        keep them.
    """

    _default_loss: ClassVar[str]
    _kind: ClassVar[str]  # what a model file's estimator entry calls it

    def __init__(
        self,
        *,
        loss: str | Loss | None = None,
        engine: str | None = None,
        backend: str = DEFAULT_ENGINE,
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        max_depth: int | None = None,
        num_leaves: int | None = None,
        min_child_weight: float | None = 1.0,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_alpha: float | None = None,
        reg_lambda: float | None = 1.0,
        random_state: int | None = None,
        n_jobs: int | None = None,
        booster_params: dict[str, Any] | None = None,
        position_bias: str | PositionBias | None = None,
        importance_type: str = "gain",
        **engine_params: Any,
    ) -> None:
        self.loss = loss
        self.engine = engine
        self.backend = backend
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.num_leaves = num_leaves
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.booster_params = booster_params
        self.position_bias = position_bias
        self.importance_type = importance_type
        self._engine_params = engine_params

    def __sklearn_tags__(self) -> Any:
        """Sparse input is accepted; NaN features are left to the engine."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        return tags

    # -- parameters: the estimator's own and the engine's ------------------------------

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of the estimator, the engine keyword arguments included.

        Parameters
        ----------
        deep : bool, default True
            Also return the parameters of a loss instance (``loss__<name>``).

        Returns
        -------
        dict
        """
        return {**super().get_params(deep=deep), **self._engine_params}

    def set_params(self, **params: Any) -> Any:
        """Set parameters; names that are not the estimator's go to the engine.

        Parameters
        ----------
        **params
            Estimator parameters, ``loss__<name>`` for a loss instance, or the
            engine's own parameters (checked when fitting).

        Returns
        -------
        self
        """
        own = set(self._get_param_names())
        extra = {k: v for k, v in params.items() if k not in own and "__" not in k}
        super().set_params(**{k: v for k, v in params.items() if k not in extra})
        self._engine_params = {**self._engine_params, **extra}
        return self

    def _engine_name(self) -> str:
        """Return the engine's name: ``engine``, else ``backend`` (they must agree)."""
        if self.engine is None:
            return self.backend
        if self.backend not in (self.engine, DEFAULT_ENGINE):
            raise ValueError(
                f"engine={self.engine!r} and backend={self.backend!r} name "
                "different engines; backend is the older name of engine: pass one "
                "of them."
            )
        return self.engine

    def _engine(self) -> Engine:
        return get_engine(self._engine_name())

    # -- fitting ---------------------------------------------------------------------

    def _resolve_loss(self) -> Loss:
        return get_loss(self._default_loss if self.loss is None else self.loss)

    def _start_fit(
        self,
        early_stopping_rounds: int | None,
        eval_set: Sequence[Any] | None,
        verbose: bool | int = False,
    ) -> Loss:
        """Validate every parameter, before any data is touched; return the loss.

        Parameters
        ----------
        early_stopping_rounds, eval_set, verbose
            The ``fit`` arguments of the same names (``eval_set`` only for
            whether there is one).

        Returns
        -------
        Loss
            The loss to train, of the kind the estimator trains
            (:meth:`_check_loss`).
        """
        self._validate_params()
        check_int(early_stopping_rounds, "early_stopping_rounds", allow_none=True)
        check_int(int(verbose), "verbose (the log period in rounds)", minimum=0)
        loss = self._resolve_loss()
        self._check_loss(loss)
        if early_stopping_rounds is not None and not eval_set:
            raise ValueError("early_stopping_rounds needs at least one eval_set.")
        return loss

    def _check_loss(self, loss: Loss) -> None:
        """Raise if ``loss`` is of the kind the other estimator trains."""

    def _validate_params(self) -> None:
        """Check every booster setting before any data is touched."""
        engine = self._engine()
        check_int(self.n_estimators, "n_estimators")
        check_real(self.learning_rate, "learning_rate", low=0.0, low_open=True)
        check_int(self.max_depth, "max_depth", allow_none=True)
        check_int(self.num_leaves, "num_leaves", minimum=2, allow_none=True)
        check_real(self.min_child_weight, "min_child_weight", low=0.0, allow_none=True)
        check_real(self.subsample, "subsample", low=0.0, high=1.0, low_open=True)
        check_real(
            self.colsample_bytree, "colsample_bytree", low=0.0, high=1.0, low_open=True
        )
        check_real(self.reg_alpha, "reg_alpha", low=0.0, allow_none=True)
        check_real(self.reg_lambda, "reg_lambda", low=0.0, allow_none=True)
        check_int(self.random_state, "random_state", minimum=0, allow_none=True)
        if self.n_jobs is not None and self.n_jobs != -1:
            check_int(self.n_jobs, "n_jobs (or -1 for every core)")
        if self.position_bias is not None:
            resolve_position_bias(self.position_bias)
        check_choice(self.importance_type, "importance_type", IMPORTANCE_TYPES)
        both = sorted(set(self._engine_params) & set(self.booster_params or {}))
        if both:
            raise ValueError(
                f"{both[0]!r} is given both as a keyword argument and in "
                "booster_params; give it once."
            )
        engine.check_booster_params(
            self._engine_params,
            name=f"{type(self).__name__} keyword arguments",
            strict=True,
        )
        for note in engine.check_booster_params(self.booster_params):
            warnings.warn(note, UserWarning, stacklevel=4)

    def _settings(self, n_classes: int | None) -> Settings:
        return Settings(
            n_estimators=int(self.n_estimators),
            learning_rate=float(self.learning_rate),
            max_depth=self.max_depth,
            num_leaves=self.num_leaves,
            min_child_weight=self.min_child_weight,
            subsample=self.subsample,
            colsample_bytree=self.colsample_bytree,
            reg_alpha=self.reg_alpha,
            reg_lambda=self.reg_lambda,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            n_classes=n_classes,
            booster_params={**(self.booster_params or {}), **self._engine_params},
        )

    def _kernel_threads(self) -> int | None:
        """Threads of the gbrank kernels during ``fit``: ``n_jobs`` (None: all)."""
        return None if self.n_jobs is None or self.n_jobs < 1 else int(self.n_jobs)

    def _fit_engine(
        self,
        loss: Loss,
        n_classes: int | None,
        train: TrainingSet,
        valid: list[TrainingSet],
        metric: Any,
        *,
        early_stopping_rounds: int | None,
        callbacks: list[Any] | None,
        verbose: bool | int,
    ) -> None:
        """Train on the engine with the ``fit`` arguments of both estimators."""
        settings = self._settings(n_classes)
        bias = self._resolve_position_bias(loss, train)
        with num_threads(self._kernel_threads()):
            fitted: Fitted = self._engine().train(
                loss,
                settings,
                train,
                valid,
                metric=metric,
                early_stopping_rounds=early_stopping_rounds,
                position_bias=bias,
                callbacks=list(callbacks or []),
                verbose=int(verbose),
            )
        self.position_bias_ = bias
        if isinstance(bias, LearnedPositionBias):
            self.position_offsets_ = bias.offsets_
        elif hasattr(self, "position_offsets_"):
            del self.position_offsets_
        self._set_booster(loss, fitted)

    def _set_booster(self, loss: Loss, fitted: Fitted) -> None:
        """Store what training gave: the loss, booster, best round and eval curves."""
        self.loss_ = loss
        self.booster_ = fitted.booster
        self.best_iteration_ = fitted.best_iteration
        self.evals_result_ = fitted.evals_result
        best = fitted.best_iteration - 1
        self.best_score_ = {
            name: {metric: float(curve[best]) for metric, curve in curves.items()}
            for name, curves in fitted.evals_result.items()
        }

    def _resolve_position_bias(
        self, loss: Loss, train: TrainingSet
    ) -> PositionBias | None:
        """Return a fresh position-bias object (None without positions)."""
        if train.positions is None:
            if self.position_bias is not None:
                raise ValueError(
                    f"position_bias={self.position_bias!r} needs display positions: "
                    "pass fit(..., position=...)."
                )
            return None
        if loss.is_multiclass:
            raise ValueError(
                f"position bias correction needs a loss with one score per row; "
                f"{loss.name!r} is multiclass."
            )
        return resolve_position_bias(self.position_bias)

    # -- prediction ------------------------------------------------------------------

    def _raw_scores(self, X: ArrayLike, num_iteration: int | None = None) -> Array:
        check_is_fitted(self, "booster_")
        rounds = self._rounds(num_iteration)
        _check_columns(X, "X")
        X = validate_data(
            self, X, reset=False, accept_sparse=SPARSE_FORMATS, ensure_all_finite=False
        )
        return self._engine().predict_raw(self.booster_, X, rounds)

    def _rounds(self, num_iteration: int | None) -> int:
        """Return the rounds to predict with (``num_iteration`` or the best)."""
        if num_iteration is None:
            return int(self.best_iteration_)
        check_int(num_iteration, "num_iteration", allow_none=True)
        trained = self._engine().n_rounds(self.booster_)
        if num_iteration > trained:
            raise ValueError(
                f"num_iteration={num_iteration} is more than the {trained} rounds "
                "the model holds."
            )
        return int(num_iteration)

    @property
    def feature_importances_(self) -> Array:
        """Importance of each feature (``importance_type``), normalised to sum to 1."""
        check_is_fitted(self, "booster_")
        check_choice(self.importance_type, "importance_type", IMPORTANCE_TYPES)
        values = self._engine().importances(self.booster_, self.importance_type)
        total = values.sum()
        return values / total if total > 0 else values

    # -- model files -----------------------------------------------------------------

    def save_model(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted model in its engine's format, with gbrank's metadata.

        LightGBM writes its text model, XGBoost JSON (UBJSON for a ``.ubj``
        path); the engine loads the file as any of its models (gbrank's entries
        are ``gbrank_objective`` and ``gbrank_estimator``: LightGBM header lines,
        XGBoost ``learner.attributes``). :meth:`load_model` rebuilds the
        estimator from it: parameters, loss, fitted attributes, predictions bit
        for bit. ``evals_result_`` is not kept. The file is written
        atomically (see the README).

        Parameters
        ----------
        path : str or path-like
            The model file.
        """
        check_is_fitted(self, "booster_")
        target = Path(path)
        entry = dumps(self._fitted_state(), f"{type(self).__name__} parameters")
        payload = self._engine().model_bytes(
            self.booster_, target, {ESTIMATOR_TAG: entry}
        )
        write_file(target, payload)

    def _fitted_state(self) -> dict[str, Any]:
        """Parameters and fitted attributes for a model file."""
        state: dict[str, Any] = {
            "format": MODEL_FORMAT,
            "estimator": type(self).__name__,
            "kind": self._kind,
            "params": self.get_params(deep=False),
            "loss": self.loss_,
            "n_features_in": int(self.n_features_in_),
            "best_iteration": int(self.best_iteration_),
            "best_score": getattr(self, "best_score_", {}),
            "position_bias": getattr(self, "position_bias_", None),
        }
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            state["feature_names_in"] = names
        if hasattr(self, "position_offsets_"):
            state["position_offsets"] = self.position_offsets_
        return state

    @classmethod
    def load_model(cls, path: str | os.PathLike[str]) -> Any:
        """Rebuild a fitted estimator from a model file.

        Reads a file of :meth:`save_model` (parameters, loss, fitted state), or
        a model that only names its gbrank objective (``gbrank train
        --output``, or ``booster_.save_model`` with XGBoost): a ranker with
        that loss and every round.

        Parameters
        ----------
        path : str or path-like
            A LightGBM or XGBoost model file.

        Returns
        -------
        estimator
            Fitted, of this class.
        """
        target = Path(path)
        engine = _file_engine(target)
        booster = engine.load_model(target)
        tags = engine.model_tags(booster)
        if ESTIMATOR_TAG in tags:
            state = loads(tags[ESTIMATOR_TAG])
        elif OBJECTIVE_TAG in tags:
            state = {
                "kind": "ranker",
                "estimator": f"{engine.name} booster",
                "params": {"engine": engine.name},
                "loss": loads(tags[OBJECTIVE_TAG]),
                "n_features_in": engine.n_features(booster),
                "best_iteration": engine.n_rounds(booster),
            }
            state["params"]["loss"] = state["loss"]
        else:
            raise ValueError(
                f"{target} is a {engine.name} model without gbrank's entries (it "
                "names no gbrank objective); write models with est.save_model(path) "
                "or gbrank train --output."
            )
        if state["kind"] != cls._kind:
            raise ValueError(
                f"{target} holds a {state['estimator']} ({state['kind']}); load it "
                f"with the {state['kind']}'s load_model, not {cls.__name__}'s."
            )
        model = cls(**state["params"])
        model._restore(booster, state)
        return model

    def _restore(self, booster: Any, state: dict[str, Any]) -> None:
        """Set the fitted attributes recorded by :meth:`_fitted_state`."""
        self.booster_ = booster
        self.loss_ = state["loss"]
        self.n_features_in_ = int(state["n_features_in"])
        if "feature_names_in" in state:
            self.feature_names_in_ = state["feature_names_in"]
        self.best_iteration_ = int(state["best_iteration"])
        self.best_score_ = state.get("best_score", {})
        self.evals_result_ = {}
        self.position_bias_ = state.get("position_bias")
        if "position_offsets" in state:
            self.position_offsets_ = state["position_offsets"]
            if isinstance(self.position_bias_, LearnedPositionBias):
                self.position_bias_.offsets_ = self.position_offsets_


class GBRankRegressor(_GBRankModel):
    """Learning-to-rank model: a GBDT trained with a gbrank ranking loss.

    ``predict`` gives ranking scores (raw booster output); ``score`` is the mean
    NDCG@10 over queries. Parameters are those of the shared base (below); the
    default loss is ``"yetirank"``.

    Parameters
    ----------
    loss : str or Loss, default None
        None means ``"yetirank"``, the best gbrank loss on both engines on the
        mean over five real LETOR sets at these defaults (held-out NDCG@10:
        LightGBM 0.572, XGBoost 0.576; the best native objectives 0.562 and
        0.567, differences that are not significant over the 4,360 queries;
        ``benchmarks/letor.py``) and second on synthetic long lists.
        ``"pairwise_hinge"``, the default before, scores 0.555 / 0.553.
    engine, backend, n_estimators, learning_rate, max_depth, num_leaves, \
min_child_weight, subsample, colsample_bytree, reg_alpha, reg_lambda, \
random_state, n_jobs, booster_params, importance_type
        Booster settings; see the Parameters of the module's base estimator and
        the README.
    position_bias : {"learned", "ipw"}, PositionBias or None, default None
        Correction for the display positions given to ``fit(position=...)``:
        learned per-position offsets (None, ``"learned"``), inverse-propensity
        weights (``"ipw"``: ``p(k) = 1/k``) or a :mod:`gbrank.position` object.
    **engine_params
        The engine's own parameters by name (``min_child_samples=50``), as
        ``LGBMRanker(**kwargs)`` takes them.

    Attributes
    ----------
    booster_ : lightgbm.Booster or xgboost.Booster
        The trained booster (:meth:`save_model` writes it with gbrank's entries;
        ``booster_.save_model(path)`` as the engine does).
    loss_ : Loss
        The loss used.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` was a DataFrame with string column names.
    best_iteration_ : int
        Number of boosting rounds used for prediction (the best one with early
        stopping, else ``n_estimators``).
    best_score_ : dict
        Eval metrics at ``best_iteration_``: ``{"valid_0": {"ndcg@10": ...}}``.
    evals_result_ : dict
        Eval metrics per round: ``{"valid_0": {"ndcg@10": [...], ...}}``.
    feature_importances_ : ndarray of shape (n_features,)
        Normalised total gain (``importance_type="gain"``) or number of splits
        (``"split"``) of each feature.
    position_bias_ : PositionBias or None
        The fitted position-bias object (None when ``fit`` got no positions).
    position_offsets_ : ndarray of shape (n_positions,)
        Learned score offset of display positions 1, 2, ... (position 1 is 0);
        only with learned offsets. Prediction does not use them.

    Notes
    -----
    Ranking losses need ``qid`` or ``group`` (without either ``fit`` raises;
    ``group=[len(y)]`` trains on all rows as one query), eval sets need
    ``eval_qid`` or ``eval_group``, ``score`` needs ``qid`` or ``group``; losses
    that need no groups (``pointwise_mse``, ``ordinal``) train without them.
    ``qid`` need not be sorted: rows are stably sorted by query id for training
    (XGBoost and the losses need each query's rows to be contiguous);
    predictions keep the caller's row order. Per-row ``sample_weight`` works
    with both engines.

    Examples
    --------
    >>> from sklearn.model_selection import GroupKFold, cross_val_score
    >>> import sklearn
    >>> from gbrank import GBRankRegressor
    >>> from gbrank.datasets import make_ranking
    >>> X, y, _, qid = make_ranking(n_queries=30, docs_per_query=10, random_state=0)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     ranker = GBRankRegressor(n_estimators=10).set_fit_request(qid=True)
    ...     ranker = ranker.set_score_request(qid=True)
    ...     scores = cross_val_score(ranker, X, y, cv=GroupKFold(3),
    ...                              params={"qid": qid, "groups": qid})
    >>> scores.shape
    (3,)
    """

    _default_loss = DEFAULT_RANKING_LOSS
    _kind = "ranker"
    _classifier: ClassVar[str] = "GBRankClassifier"  # trains classification losses

    def _check_loss(self, loss: Loss) -> None:
        """Raise if ``loss`` is a classification loss."""
        if loss.is_multiclass:
            raise ValueError(
                f"loss {loss.name!r} is a classification loss; use {self._classifier}."
            )

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        qid: ArrayLike | None = None,
        group: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
        eval_set: list[tuple[ArrayLike, ArrayLike]] | None = None,
        eval_qid: list[ArrayLike] | None = None,
        eval_group: list[ArrayLike] | None = None,
        eval_sample_weight: list[ArrayLike | None] | None = None,
        eval_at: Sequence[int] = (10,),
        early_stopping_rounds: int | None = None,
        callbacks: list[Any] | None = None,
        verbose: bool | int = False,
        position: ArrayLike | None = None,
    ) -> GBRankRegressor:
        """Fit the ranker.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Relevance labels (negative: ignored row).
        qid : array-like of shape (n_samples,), optional
            Query id of every row (preferred: it survives slicing in CV).
        group : array-like of int, optional
            Group sizes, rows of a query contiguous (not with ``qid``).
        sample_weight : array-like of shape (n_samples,), optional
            Per-row weights.
        eval_set : list of (X, y), optional
            Validation sets; NDCG at each cutoff of ``eval_at`` is recorded per
            round.
        eval_qid, eval_group, eval_sample_weight : list, optional
            Query structure (one of the two, for every eval set) and weights of
            each eval set.
        eval_at : sequence of int, default (10,)
            Cutoffs k of the NDCG@k recorded on the eval sets (``evals_result_``
            keys ``"ndcg@k"``), as ``LGBMRanker.fit(eval_at=)``.
        early_stopping_rounds : int, optional
            Stop when NDCG at the first cutoff of ``eval_at`` on the first eval
            set has not improved for this many rounds; prediction then uses the
            best round.
        callbacks : list, optional
            The engine's own training callbacks (``lightgbm.train`` callables,
            ``xgboost.callback.TrainingCallback`` objects), run after gbrank's.
        verbose : bool or int, default False
            Print the eval results every ``verbose`` rounds (True: every round)
            as the engine prints them (LightGBM ``log_evaluation``, XGBoost
            ``verbose_eval``).
        position : array-like of int, shape (n_samples,), optional
            Display position (1 = top) of every row when the labels were logged
            (clicks); corrected for as ``position_bias`` says. Eval sets and
            prediction use no positions.

        Returns
        -------
        self : GBRankRegressor
        """
        loss = self._start_fit(early_stopping_rounds, eval_set, verbose)
        cutoffs = _check_eval_at(eval_at)
        _check_columns(X, "X")
        _check_relevance(y, "y")
        features, labels = validate_data(
            self,
            X,
            y,
            accept_sparse=SPARSE_FORMATS,
            ensure_all_finite=False,
            y_numeric=True,
        )
        if qid is None and group is None and loss.needs_groups:
            raise missing_queries(
                f"the training rows of the ranking loss {loss.name!r}",
                "pass fit(X, y, qid=qid) (a query id per row) or group=group_sizes "
                "(the number of rows of each query, in row order)",
                f"pass group=[{labels.size}]",
            )
        _check_routed_search()
        train = _ranking_set(features, labels, qid, group, sample_weight, "", position)
        valid = []
        for i, (Xv, yv) in enumerate(eval_set or []):
            _check_columns(Xv, f"eval_set[{i}] X")
            _check_relevance(yv, f"eval_set[{i}] y")
            Xv, yv = validate_data(
                self,
                Xv,
                yv,
                reset=False,
                accept_sparse=SPARSE_FORMATS,
                ensure_all_finite=False,
                y_numeric=True,
            )
            qid_i, group_i = _nth(eval_qid, i), _nth(eval_group, i)
            if qid_i is None and group_i is None:
                raise missing_queries(
                    f"eval_set[{i}] (NDCG@10 is recorded per query)",
                    "pass eval_qid=[qid_0, qid_1, ...] or eval_group=[sizes_0, "
                    "sizes_1, ...], one entry per eval set",
                    f"give it eval_group entry [{yv.size}]",
                )
            weight_i = _nth(eval_sample_weight, i)
            valid.append(
                _ranking_set(Xv, yv, qid_i, group_i, weight_i, f"eval_set[{i}] ")
            )
        engine = self._engine()
        metric = [engine.ranking_metric("ndcg", k) for k in cutoffs]
        self._fit_engine(
            loss,
            None,
            train,
            valid,
            metric,
            early_stopping_rounds=early_stopping_rounds,
            callbacks=callbacks,
            verbose=verbose,
        )
        return self

    def predict(self, X: ArrayLike, num_iteration: int | None = None) -> Array:
        """Ranking scores (raw booster output); higher ranks first.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        num_iteration : int, optional
            Rounds to predict with; default ``best_iteration_`` (the best round
            after early stopping, else every round).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._raw_scores(X, num_iteration)

    def score(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        qid: ArrayLike | None = None,
        group: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> float:
        """Mean NDCG@10 over queries (a query without relevant rows scores 1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        qid, group : array-like
            Query structure, exactly one of them (``qid`` need not be sorted;
            ``group=[len(y)]`` scores all rows as one query).
        sample_weight : array-like of shape (n_samples,), optional
            Weights the mean over queries (a query weighs its rows' mean weight).

        Returns
        -------
        float
        """
        scores = self.predict(X)
        _check_relevance(y, "y")
        labels = as_float_array(y, "y", ndim=(1,))
        if qid is None and group is None:
            raise missing_queries(
                "the rows to score",
                "pass score(X, y, qid=qid) or group=group_sizes. "
                + metrics.ROUTING_HINT,
                f"pass group=[{labels.size}]",
            )
        weights = _check_weights(sample_weight, scores.size, "")
        if qid is not None:
            ids = as_query_ids(qid, scores.size)
            order = np.argsort(ids, kind="stable")
            labels, scores, qid = labels[order], scores[order], ids[order]
            weights = None if weights is None else weights[order]
        return metrics.ranking_metric(
            "ndcg", labels, scores, group=group, qid=qid, k=10, sample_weight=weights
        )


class GBRankClassifier(ClassifierMixin, _GBRankModel):
    """Classifier trained with ``categorical_cross_entropy`` (or binary sigmoid CE).

    Parameters
    ----------
    loss : str or Loss, default None
        None means ``"categorical_cross_entropy"`` (any number of classes, one
        tree per class and round, reproducing the engine's native multiclass);
        ``"sigmoid_cross_entropy"`` for two classes (one tree per round).
    engine, backend, n_estimators, learning_rate, max_depth, num_leaves, \
min_child_weight, subsample, colsample_bytree, reg_alpha, reg_lambda, \
random_state, n_jobs, booster_params, position_bias, importance_type, \
**engine_params
        Booster settings, as for :class:`GBRankRegressor`.

    Attributes
    ----------
    classes_ : ndarray
        Class labels (any sortable labels: strings, non-contiguous integers).
    booster_, loss_, n_features_in_, feature_names_in_, best_iteration_, \
best_score_, evals_result_, feature_importances_, position_bias_, \
position_offsets_
        As for :class:`GBRankRegressor`; eval sets record the loss value.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from gbrank import GBRankClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = GBRankClassifier(n_estimators=20).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    _default_loss = "categorical_cross_entropy"
    _kind = "classifier"
    _ranker: ClassVar[str] = "GBRankRegressor"  # trains ranking losses

    def _check_loss(self, loss: Loss) -> None:
        """Raise if ``loss`` is a ranking loss."""
        if loss.needs_groups:
            raise ValueError(
                f"loss {loss.name!r} is a ranking loss; use {self._ranker}."
            )

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        sample_weight: ArrayLike | None = None,
        eval_set: list[tuple[ArrayLike, ArrayLike]] | None = None,
        eval_sample_weight: list[ArrayLike | None] | None = None,
        early_stopping_rounds: int | None = None,
        callbacks: list[Any] | None = None,
        verbose: bool | int = False,
        position: ArrayLike | None = None,
    ) -> GBRankClassifier:
        """Fit the classifier.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), optional
        eval_set : list of (X, y), optional
            Validation sets; the loss value is recorded per round.
        eval_sample_weight : list, optional
        early_stopping_rounds : int, optional
            Stop when the loss on the first eval set has not improved for this
            many rounds.
        callbacks : list, optional
            The engine's own training callbacks, run after gbrank's.
        verbose : bool or int, default False
            Print the eval results every ``verbose`` rounds, as the engine does.
        position : array-like of int, shape (n_samples,), optional
            Display position (1 = top) of every row, for ``position_bias`` with
            ``loss="sigmoid_cross_entropy"`` (clicks as the positive class).

        Returns
        -------
        self : GBRankClassifier
        """
        loss = self._start_fit(early_stopping_rounds, eval_set, verbose)
        _check_columns(X, "X")
        features, y = validate_data(
            self, X, y, accept_sparse=SPARSE_FORMATS, ensure_all_finite=False
        )
        n_rows = features.shape[0]
        check_classification_targets(y)
        self._encoder = LabelEncoder().fit(y)
        self.classes_ = self._encoder.classes_
        n_classes = check_classes(self.classes_, loss)
        train = TrainingSet(
            features,
            self._encoder.transform(y).astype(np.float64),
            None,
            _weights(sample_weight, n_rows, ""),
            None if position is None else check_positions(position, n_rows),
        )
        valid = []
        for i, (Xv, yv) in enumerate(eval_set or []):
            _check_columns(Xv, f"eval_set[{i}] X")
            Xv = validate_data(
                self,
                Xv,
                reset=False,
                accept_sparse=SPARSE_FORMATS,
                ensure_all_finite=False,
            )
            weights = _weights(_nth(eval_sample_weight, i), Xv.shape[0], "eval_")
            valid.append(
                TrainingSet(
                    Xv, self._encoder.transform(yv).astype(float), None, weights
                )
            )
        metric = self._engine().loss_metric(loss)
        n_boosted_classes = n_classes if loss.is_multiclass else None
        self._fit_engine(
            loss,
            n_boosted_classes,
            train,
            valid,
            metric,
            early_stopping_rounds=early_stopping_rounds,
            callbacks=callbacks,
            verbose=verbose,
        )
        return self

    def predict_proba(self, X: ArrayLike, num_iteration: int | None = None) -> Array:
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        num_iteration : int, optional
            Rounds to predict with; default ``best_iteration_``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        raw = self._raw_scores(X, num_iteration)
        proba = self.loss_.activation(raw)
        if proba.ndim == 1:
            return np.column_stack([1.0 - proba, proba])
        return proba

    def predict(self, X: ArrayLike, num_iteration: int | None = None) -> NDArray[Any]:
        """Most probable class of each sample.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        num_iteration : int, optional
            Rounds to predict with; default ``best_iteration_``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X, num_iteration)
        return self.classes_[np.argmax(proba, axis=1)]

    def _fitted_state(self) -> dict[str, Any]:
        return {**super()._fitted_state(), "classes": self.classes_}

    def _restore(self, booster: Any, state: dict[str, Any]) -> None:
        super()._restore(booster, state)
        self._encoder = LabelEncoder().fit(state["classes"])
        self.classes_ = self._encoder.classes_


def _check_routed_search() -> None:
    """Raise if scikit-learn's cross-validation fits a ranker it cannot score.

    With metadata routing off, ``GridSearchCV``, ``cross_validate`` and friends
    pass ``qid`` (sliced per fold) to ``fit`` but nothing to the scorer, which
    would rank each test fold as one query (the ranker's ``score`` refuses that,
    but scikit-learn turns scoring errors into NaN scores and warnings). Their
    fits run inside ``sklearn.model_selection._validation._fit_and_score``: the
    call stack shows it, and its ``scorer`` whether scoring needs queries.
    """
    import sklearn

    if sklearn.get_config().get("enable_metadata_routing", False):
        return
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if frame.f_code.co_name == "_fit_and_score" and module.startswith(
            "sklearn.model_selection"
        ):
            if _scores_by_query(frame.f_locals.get("scorer")):
                raise MissingQueryError(
                    "the query structure of each test fold is missing: "
                    "scikit-learn's cross-validation (GridSearchCV, "
                    "cross_validate, ...) runs with metadata routing off, so the "
                    "ranker's fit gets qid but scoring gets none and would rank "
                    "each fold as one query. " + metrics.ROUTING_HINT + "."
                )
            return
        frame = frame.f_back


def _scores_by_query(scorer: Any) -> bool:
    """Whether a scikit-learn scorer calls a ranker's ``score`` or ranks queries."""
    if isinstance(scorer, metrics.RankingScorer):
        return True
    if type(scorer).__name__ == "_PassthroughScorer":  # the estimator's score
        return True
    scorers = getattr(scorer, "_scorers", None)  # _MultimetricScorer
    return isinstance(scorers, dict) and any(map(_scores_by_query, scorers.values()))


def _check_eval_at(eval_at: Sequence[int]) -> list[int]:
    """Check the NDCG cutoffs of ``fit(eval_at=)``: integers >= 1, at least one."""
    cutoffs = [eval_at] if isinstance(eval_at, int) else list(eval_at)
    if not cutoffs:
        raise ValueError("eval_at is empty; give at least one cutoff, e.g. (10,).")
    for k in cutoffs:
        check_int(k, "eval_at (each NDCG cutoff)")
    return [int(k) for k in cutoffs]


def _file_engine(path: Path) -> Engine:
    """Return the engine whose model file ``path`` is (by its first bytes)."""
    with open(path, "rb") as stream:
        head = stream.read(64)
    for name in available_engines():
        engine = get_engine(name)
        if engine.recognizes(head):
            return engine
    raise ValueError(
        f"{path} is not a model file of {' or '.join(available_engines())}."
    )


def _nth(values: list[Any] | None, index: int) -> Any:
    return None if values is None else values[index]


def _check_weights(
    sample_weight: ArrayLike | None, n_rows: int, prefix: str
) -> Array | None:
    """Per-row weights: finite, >= 0, one per row (None stays None)."""
    if sample_weight is None:
        return None
    weights = as_float_array(sample_weight, f"{prefix}sample_weight", ndim=(1,))
    if weights.shape != (n_rows,):
        raise ValueError(
            f"{prefix}sample_weight has {weights.size} entries for {n_rows} rows; "
            "pass one weight per row."
        )
    check_nonnegative(weights, f"{prefix}sample_weight")
    return weights


def _weights(sample_weight: ArrayLike | None, n_rows: int, prefix: str) -> Array | None:
    """Training weights: :func:`_check_weights`, and not all zero."""
    weights = _check_weights(sample_weight, n_rows, prefix)
    if weights is not None and not weights.any():
        raise ValueError(f"{prefix}sample_weight is all zeros: nothing to fit.")
    return weights


def _check_columns(X: Any, name: str) -> None:
    """Raise naming the first column of a DataFrame ``X`` that is not numeric."""
    columns, dtypes = getattr(X, "columns", None), getattr(X, "dtypes", None)
    if columns is None or dtypes is None:
        return
    for column, dtype in zip(columns, dtypes, strict=True):
        if getattr(dtype, "kind", "O") not in "biuf":
            kind = "categorical" if str(dtype) == "category" else f"of dtype {dtype}"
            raise TypeError(
                f"{name} column {column!r} is {kind}; the gbrank estimators take "
                f"numeric features only. Encode it first (e.g. X[{column!r}]"
                ".cat.codes or sklearn's OrdinalEncoder), or train with "
                "lightgbm.train / xgboost.train and a gbrank objective, which "
                "read categorical columns."
            )


def _check_relevance(y: ArrayLike, name: str) -> None:
    """Raise unless the labels of a ranker are numbers (relevance grades)."""
    labels = np.asarray(y)
    if labels.dtype.kind in "biufc":  # numbers; complex ones scikit-learn refuses
        return
    for index, value in enumerate(labels.ravel().tolist()):
        try:
            float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"GBRankRegressor needs numeric relevance labels {name} (graded, "
                f"e.g. 0 to 4; negative marks an ignored row); {name}[{index}] = "
                f"{value!r}. Map the labels to numbers first, or use "
                "GBRankClassifier for class labels."
            ) from None


def _ranking_set(
    X: Any,
    y: Array,
    qid: ArrayLike | None,
    group: ArrayLike | None,
    sample_weight: ArrayLike | None,
    prefix: str,
    position: ArrayLike | None = None,
) -> TrainingSet:
    """Rows sorted stably by ``qid`` (if given) with groups, weights, positions.

    Without ``qid`` and ``group`` the set has no groups (losses that need none).
    """
    n_rows = X.shape[0]
    weights = _weights(sample_weight, n_rows, prefix)
    positions = None if position is None else check_positions(position, n_rows)
    if qid is None:
        groups = None if group is None else groups_from_sizes(group, n_rows)
        labels = np.asarray(y, dtype=np.float64)
        return TrainingSet(X, labels, groups, weights, positions)
    if group is not None:
        raise ValueError(f"pass {prefix}qid or {prefix}group, not both.")
    ids = as_query_ids(qid, n_rows, f"{prefix}qid")
    order = np.argsort(ids, kind="stable")
    groups = make_groups(n_rows, qid=ids[order])
    return TrainingSet(
        X[order],
        np.asarray(y, dtype=np.float64)[order],
        groups,
        None if weights is None else weights[order],
        None if positions is None else positions[order],
    )


def check_classes(classes: NDArray[Any], loss: Loss) -> int:
    """Return the number of classes; raise unless ``loss`` can learn them."""
    n_classes = len(classes)
    if n_classes < 2:
        raise ValueError(
            f"y has only one class ({classes[0]!r}); a classifier needs at least 2 "
            "classes."
        )
    if not loss.is_multiclass and n_classes != 2:
        raise ValueError(
            f"loss {loss.name!r} is binary but y has {n_classes} classes; use "
            "loss='categorical_cross_entropy'."
        )
    return n_classes
