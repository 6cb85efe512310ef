"""Training and prediction with one engine, for the scikit-learn estimators.

Each backend turns the estimators' common booster settings into engine
parameters, trains with a gbrank objective and eval metric, and predicts raw
scores. The estimators in :mod:`gbrank.sklearn` hold no engine-specific code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from gbrank._groups import Groups
from gbrank.losses import Loss
from gbrank.position import PositionBias

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Settings:
    """Booster settings common to both engines (None: the engine's default)."""

    n_estimators: int
    learning_rate: float
    max_depth: int | None
    num_leaves: int | None
    min_child_weight: float | None
    subsample: float
    colsample_bytree: float
    reg_alpha: float | None
    reg_lambda: float | None
    random_state: int | None
    n_jobs: int | None
    n_classes: int | None
    booster_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingSet:
    """Rows of one data set as the engines get them (rows sorted by query)."""

    X: Any
    y: Array
    groups: Groups | None
    weights: Array | None
    positions: NDArray[np.int64] | None = None


@dataclass
class Fitted:
    """What a backend returns from training."""

    booster: Any
    best_iteration: int
    evals_result: dict[str, dict[str, list[float]]]


def _position_args(
    train: TrainingSet, position_bias: PositionBias | None
) -> dict[str, Any]:
    """Objective keywords for the training rows' positions (none without)."""
    if train.positions is None:
        return {}
    return {"position": train.positions, "position_bias": position_bias}


def _drop_none(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


class LightGBMBackend:
    """``lightgbm.train`` with ``params["objective"] = loss.lgb_objective``."""

    name: ClassVar[str] = "lightgbm"

    @staticmethod
    def params(settings: Settings, loss: Loss, objective: Any = None) -> dict[str, Any]:
        """LightGBM parameters for ``settings`` (objective: ``loss.lgb_objective``)."""
        n_jobs = settings.n_jobs
        params = _drop_none(
            {
                "objective": loss.lgb_objective if objective is None else objective,
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
            }
        )
        return {**params, **settings.booster_params}

    @classmethod
    def train(
        cls,
        loss: Loss,
        settings: Settings,
        train: TrainingSet,
        valid: list[TrainingSet],
        metric: Any,
        early_stopping_rounds: int | None,
        position_bias: PositionBias | None = None,
    ) -> Fitted:
        """Train a LightGBM booster (positions reach the objective directly)."""
        import lightgbm as lgb

        from gbrank.lightgbm import LightGBMObjective

        def dataset(part: TrainingSet, reference: Any = None) -> Any:
            group = None if part.groups is None else part.groups.sizes
            return lgb.Dataset(
                part.X, part.y, group=group, weight=part.weights, reference=reference
            )

        train_set = dataset(train)
        valid_sets = [dataset(part, train_set) for part in valid]
        evals_result: dict[str, dict[str, list[float]]] = {}
        callbacks = [lgb.record_evaluation(evals_result)]
        if early_stopping_rounds is not None:
            callbacks.append(
                lgb.early_stopping(
                    early_stopping_rounds, first_metric_only=True, verbose=False
                )
            )
        objective = LightGBMObjective(loss, **_position_args(train, position_bias))
        booster = lgb.train(
            cls.params(settings, loss, objective),
            train_set,
            num_boost_round=settings.n_estimators,
            valid_sets=valid_sets,
            valid_names=[f"valid_{i}" for i in range(len(valid))],
            feval=metric if valid else None,
            callbacks=callbacks,
        )
        best = booster.best_iteration or booster.current_iteration()
        return Fitted(booster, best, evals_result)

    @staticmethod
    def predict_raw(booster: Any, X: Any, n_iterations: int) -> Array:
        """Raw scores, (n,) or (n, n_classes), using the first ``n_iterations``."""
        return np.asarray(
            booster.predict(X, raw_score=True, num_iteration=n_iterations)
        )

    @staticmethod
    def gain_importances(booster: Any) -> Array:
        """Total split gain of each feature."""
        return np.asarray(booster.feature_importance("gain"), dtype=np.float64)


class XGBoostBackend:
    """``xgboost.train(params, DMatrix(qid=...), obj=loss.xgb_objective)``."""

    name: ClassVar[str] = "xgboost"

    @staticmethod
    def params(settings: Settings, loss: Loss) -> dict[str, Any]:
        """XGBoost parameters for ``settings``."""
        lossguide = settings.num_leaves is not None
        n_jobs = settings.n_jobs
        params = _drop_none(
            {
                "eta": settings.learning_rate,
                "max_depth": settings.max_depth
                if settings.max_depth is not None
                else (0 if lossguide else None),
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

    @classmethod
    def train(
        cls,
        loss: Loss,
        settings: Settings,
        train: TrainingSet,
        valid: list[TrainingSet],
        metric: Any,
        early_stopping_rounds: int | None,
        position_bias: PositionBias | None = None,
    ) -> Fitted:
        """Train an XGBoost booster."""
        import xgboost as xgb

        from gbrank.xgboost import XGBoostObjective

        evals = [(cls.dmatrix(part), f"valid_{i}") for i, part in enumerate(valid)]
        evals_result: dict[str, dict[str, list[float]]] = {}
        booster = xgb.train(
            cls.params(settings, loss),
            cls.dmatrix(train),
            num_boost_round=settings.n_estimators,
            obj=XGBoostObjective(
                loss,
                sample_weight=train.weights,
                **_position_args(train, position_bias),
            ),
            evals=evals,
            custom_metric=metric if valid else None,
            maximize=metric.higher_is_better,
            early_stopping_rounds=early_stopping_rounds if valid else None,
            evals_result=evals_result,
            verbose_eval=False,
        )
        best = (
            booster.best_iteration + 1
            if early_stopping_rounds is not None and valid
            else booster.num_boosted_rounds()
        )
        return Fitted(booster, best, evals_result)

    @staticmethod
    def dmatrix(part: TrainingSet) -> Any:
        """DMatrix of ``part``; per-row weights only without groups.

        A ranking DMatrix holds one weight per query, so the training weights of
        ranking data reach the objective directly (``XGBoostObjective(...,
        sample_weight=)``); ranking eval metrics are unweighted.
        """
        import xgboost as xgb

        if part.groups is None:
            return xgb.DMatrix(part.X, label=part.y, weight=part.weights)
        data = xgb.DMatrix(part.X, label=part.y)
        data.set_group(part.groups.sizes)
        return data

    @staticmethod
    def predict_raw(booster: Any, X: Any, n_iterations: int) -> Array:
        """Raw margins, (n,) or (n, n_classes), using the first ``n_iterations``."""
        import xgboost as xgb

        return np.asarray(
            booster.predict(
                xgb.DMatrix(X),
                output_margin=True,
                iteration_range=(0, n_iterations),
            ),
            dtype=np.float64,
        )

    @staticmethod
    def gain_importances(booster: Any) -> Array:
        """Total split gain of each feature."""
        scores = booster.get_score(importance_type="total_gain")
        n_features = booster.num_features()
        names = booster.feature_names or [f"f{i}" for i in range(n_features)]
        return np.array([scores.get(name, 0.0) for name in names], dtype=np.float64)


BACKENDS: dict[str, type[LightGBMBackend] | type[XGBoostBackend]] = {
    "lightgbm": LightGBMBackend,
    "xgboost": XGBoostBackend,
}
