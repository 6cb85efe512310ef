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

import warnings
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from gbrank import metrics
from gbrank._groups import Groups, as_query_ids, make_groups
from gbrank._kernels.threads import num_threads
from gbrank._validation import as_float_array, check_int, check_nonnegative, check_real
from gbrank.engines import Engine, Fitted, Settings, TrainingSet, get_engine
from gbrank.losses import Loss, get_loss
from gbrank.position import (
    LearnedPositionBias,
    PositionBias,
    check_positions,
    resolve_position_bias,
)

Array = NDArray[np.float64]
SPARSE_FORMATS = ["csr", "csc"]  # what both engines read without converting


class _GBRankModel(BaseEstimator):
    """Shared parameters, fitting and prediction of the gbrank estimators.

    Parameters
    ----------
    loss : str or Loss, default None
        A registered loss name (``gbrank.available_losses()``) or a loss instance,
        whose parameters can be searched as ``loss__<name>`` in ``GridSearchCV``.
        None uses the estimator's default loss.
    backend : {"lightgbm", "xgboost"}, default "lightgbm"
        The engine.
    n_estimators : int, default 100
        Boosting rounds.
    learning_rate : float, default 0.1
        Shrinkage (LightGBM ``learning_rate``, XGBoost ``eta``).
    max_depth : int or None, default None
        Tree depth limit (None: LightGBM unlimited, XGBoost 6).
    num_leaves : int or None, default None
        Leaves per tree (None: LightGBM 31, XGBoost unlimited; set, XGBoost grows
        leaf-wise with ``max_leaves``).
    min_child_weight : float or None, default None
        Minimum hessian sum in a leaf (LightGBM ``min_sum_hessian_in_leaf``,
        XGBoost ``min_child_weight``); None keeps the engine's default.
    subsample : float, default 1.0
        Row subsampling per tree.
    colsample_bytree : float, default 1.0
        Feature subsampling per tree.
    reg_alpha, reg_lambda : float or None, default None
        L1 / L2 regularisation of leaf values; None keeps the engine's default.
    random_state : int or None, default None
        Seed of the engine.
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
    """

    _default_loss: ClassVar[str]

    def __init__(
        self,
        *,
        loss: str | Loss | None = None,
        backend: str = "lightgbm",
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        max_depth: int | None = None,
        num_leaves: int | None = None,
        min_child_weight: float | None = None,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_alpha: float | None = None,
        reg_lambda: float | None = None,
        random_state: int | None = None,
        n_jobs: int | None = None,
        booster_params: dict[str, Any] | None = None,
        position_bias: str | PositionBias | None = None,
    ) -> None:
        self.loss = loss
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

    def __sklearn_tags__(self) -> Any:
        """Sparse input is accepted; NaN features are left to the engine."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        return tags

    # -- fitting ---------------------------------------------------------------------

    def _resolve_loss(self) -> Loss:
        return get_loss(self._default_loss if self.loss is None else self.loss)

    def _start_fit(self, early_stopping_rounds: int | None) -> Loss:
        """Validate every parameter, before any data is touched; return the loss."""
        self._validate_params()
        check_int(early_stopping_rounds, "early_stopping_rounds", allow_none=True)
        return self._resolve_loss()

    def _engine(self) -> Engine:
        return get_engine(self.backend)

    def _validate_params(self) -> None:
        """Check every booster setting before any data is touched."""
        self._engine()
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
        for note in self._engine().check_booster_params(self.booster_params):
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
            booster_params=dict(self.booster_params or {}),
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
        early_stopping_rounds: int | None,
    ) -> None:
        if early_stopping_rounds is not None and not valid:
            raise ValueError("early_stopping_rounds needs at least one eval_set.")
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
            )
        self.position_bias_ = bias
        if isinstance(bias, LearnedPositionBias):
            self.position_offsets_ = bias.offsets_
        elif hasattr(self, "position_offsets_"):
            del self.position_offsets_
        self.loss_ = loss
        self.booster_ = fitted.booster
        self.best_iteration_ = fitted.best_iteration
        self.evals_result_ = fitted.evals_result

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

    def _raw_scores(self, X: ArrayLike) -> Array:
        check_is_fitted(self, "booster_")
        _check_columns(X, "X")
        X = validate_data(
            self, X, reset=False, accept_sparse=SPARSE_FORMATS, ensure_all_finite=False
        )
        return self._engine().predict_raw(self.booster_, X, self.best_iteration_)

    @property
    def feature_importances_(self) -> Array:
        """Total split gain of each feature, normalised to sum to 1."""
        check_is_fitted(self, "booster_")
        gains = self._engine().gain_importances(self.booster_)
        total = gains.sum()
        return gains / total if total > 0 else gains


class GBRankRegressor(_GBRankModel):
    """Learning-to-rank model: a GBDT trained with a gbrank ranking loss.

    ``predict`` gives ranking scores (raw booster output); ``score`` is the mean
    NDCG@10 over queries. Parameters are those of the shared base (below); the
    default loss is ``"pairwise_hinge"``.

    Parameters
    ----------
    loss : str or Loss, default None
        None means ``"pairwise_hinge"``.
    backend, n_estimators, learning_rate, max_depth, num_leaves, \
min_child_weight, subsample, colsample_bytree, reg_alpha, reg_lambda, \
random_state, n_jobs, booster_params
        Booster settings; see the Parameters of the module's base estimator and
        the README.
    position_bias : {"learned", "ipw"}, PositionBias or None, default None
        Correction for the display positions given to ``fit(position=...)``:
        learned per-position offsets (None, ``"learned"``), inverse-propensity
        weights (``"ipw"``: ``p(k) = 1/k``) or a :mod:`gbrank.position` object.

    Attributes
    ----------
    booster_ : lightgbm.Booster or xgboost.Booster
        The trained booster (save it with ``booster_.save_model(path)``).
    loss_ : Loss
        The loss used.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` was a DataFrame with string column names.
    best_iteration_ : int
        Number of boosting rounds used for prediction (the best one with early
        stopping, else ``n_estimators``).
    evals_result_ : dict
        Eval metrics per round: ``{"valid_0": {"ndcg@10": [...], ...}}``.
    feature_importances_ : ndarray of shape (n_features,)
        Normalised total split gain.
    position_bias_ : PositionBias or None
        The fitted position-bias object (None when ``fit`` got no positions).
    position_offsets_ : ndarray of shape (n_positions,)
        Learned score offset of display positions 1, 2, ... (position 1 is 0);
        only with learned offsets. Prediction does not use them.

    Notes
    -----
    Without ``qid`` or ``group``, all rows form one query. ``qid`` need not be
    sorted: rows are stably sorted by query id for training (XGBoost and the
    losses need each query's rows to be contiguous); predictions keep the
    caller's row order. Per-row ``sample_weight`` works with both engines.

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

    _default_loss = "pairwise_hinge"

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
        early_stopping_rounds: int | None = None,
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
            Validation sets; NDCG@10 and the loss are recorded per round.
        eval_qid, eval_group, eval_sample_weight : list, optional
            Query structure and weights of each eval set.
        early_stopping_rounds : int, optional
            Stop when NDCG@10 on the first eval set has not improved for this many
            rounds.
        position : array-like of int, shape (n_samples,), optional
            Display position (1 = top) of every row when the labels were logged
            (clicks); corrected for as ``position_bias`` says. Eval sets and
            prediction use no positions.

        Returns
        -------
        self : GBRankRegressor
        """
        loss = self._start_fit(early_stopping_rounds)
        if loss.is_multiclass:
            raise ValueError(
                f"loss {loss.name!r} is a classification loss; use GBRankClassifier."
            )
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
            weight_i = _nth(eval_sample_weight, i)
            valid.append(
                _ranking_set(Xv, yv, qid_i, group_i, weight_i, f"eval_set[{i}] ")
            )
        metric = self._engine().ranking_metric("ndcg", 10)
        self._fit_engine(loss, None, train, valid, metric, early_stopping_rounds)
        return self

    def predict(self, X: ArrayLike) -> Array:
        """Ranking scores (raw booster output); higher ranks first.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._raw_scores(X)

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
        qid, group : array-like, optional
            Query structure (neither: one query); ``qid`` need not be sorted.
        sample_weight : array-like of shape (n_samples,), optional
            Weights the mean over queries (a query weighs its rows' mean weight).

        Returns
        -------
        float
        """
        scores = self.predict(X)
        _check_relevance(y, "y")
        labels = as_float_array(y, "y", ndim=(1,))
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
    backend, n_estimators, learning_rate, max_depth, num_leaves, \
min_child_weight, subsample, colsample_bytree, reg_alpha, reg_lambda, \
random_state, n_jobs, booster_params, position_bias
        Booster settings, as for :class:`GBRankRegressor`.

    Attributes
    ----------
    classes_ : ndarray
        Class labels (any sortable labels: strings, non-contiguous integers).
    booster_, loss_, n_features_in_, feature_names_in_, best_iteration_, \
evals_result_, feature_importances_, position_bias_, position_offsets_
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

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        sample_weight: ArrayLike | None = None,
        eval_set: list[tuple[ArrayLike, ArrayLike]] | None = None,
        eval_sample_weight: list[ArrayLike | None] | None = None,
        early_stopping_rounds: int | None = None,
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
        position : array-like of int, shape (n_samples,), optional
            Display position (1 = top) of every row, for ``position_bias`` with
            ``loss="sigmoid_cross_entropy"`` (clicks as the positive class).

        Returns
        -------
        self : GBRankClassifier
        """
        loss = self._start_fit(early_stopping_rounds)
        if loss.needs_groups:
            raise ValueError(
                f"loss {loss.name!r} is a ranking loss; use GBRankRegressor."
            )
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
            loss, n_boosted_classes, train, valid, metric, early_stopping_rounds
        )
        return self

    def predict_proba(self, X: ArrayLike) -> Array:
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        raw = self._raw_scores(X)
        proba = self.loss_.activation(raw)
        if proba.ndim == 1:
            return np.column_stack([1.0 - proba, proba])
        return proba

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Most probable class of each sample.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


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
    """Rows sorted stably by ``qid`` (if given) with groups, weights, positions."""
    n_rows = X.shape[0]
    weights = _weights(sample_weight, n_rows, prefix)
    positions = None if position is None else check_positions(position, n_rows)
    if qid is None:
        groups: Groups = make_groups(n_rows, group=group)
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
