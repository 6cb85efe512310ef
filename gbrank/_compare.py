"""gbrank losses and the engines' native ranking objectives, trained side by side.

One :class:`~gbrank._backends.Settings` drives every run of an engine: the gbrank
losses train through :class:`~gbrank.GBRankRegressor`, the native baselines
through ``lightgbm.train`` / ``xgboost.train`` with the parameters the same
backend builds, the objective swapped for the native one. Every run records
validation NDCG@10 per round with the same gbrank metric, so curves and final
numbers are comparable across engines.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gbrank import metrics
from gbrank._backends import BACKENDS, Settings
from gbrank.datasets import RankingData
from gbrank.losses import LOSSES, Loss, get_loss
from gbrank.sklearn import GBRankRegressor

Array = NDArray[np.float64]

ENGINES = ("lightgbm", "xgboost")
NATIVE_OBJECTIVES = {
    "lightgbm": ("lambdarank", "rank_xendcg"),
    "xgboost": ("rank:ndcg", "rank:pairwise"),
}
# Columns of the leaderboard after engine and objective; MAP over the whole list.
METRIC_COLUMNS = ("ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10", "map")
CURVE_METRIC = "ndcg@10"

# Settings that work well on the bundled sample (those of tests/test_lightgbm.py
# and tests/test_xgboost.py): learning rate 0.05, 200 rounds, and per engine:
TREE_SETTINGS: dict[str, dict[str, Any]] = {
    "lightgbm": {"num_leaves": 31, "booster_params": {"min_data_in_leaf": 50}},
    "xgboost": {"max_depth": 4, "booster_params": {}},
}
DEFAULT_ROUNDS = 200
DEFAULT_LEARNING_RATE = 0.05


def engine_settings(
    engine: str,
    *,
    n_estimators: int = DEFAULT_ROUNDS,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    random_state: int | None = 0,
    booster_params: dict[str, Any] | None = None,
) -> Settings:
    """Booster settings of ``engine``: the defaults above, then ``booster_params``."""
    tree = TREE_SETTINGS[engine]
    return Settings(
        n_estimators=n_estimators,
        learning_rate=learning_rate,
        max_depth=tree.get("max_depth"),
        num_leaves=tree.get("num_leaves"),
        min_child_weight=None,
        subsample=1.0,
        colsample_bytree=1.0,
        reg_alpha=None,
        reg_lambda=None,
        random_state=random_state,
        n_jobs=None,
        n_classes=None,
        booster_params={**tree["booster_params"], **(booster_params or {})},
    )


def describe_settings(settings: Settings) -> str:
    """Summarise ``settings`` in one line (rounds, rate, tree parameters)."""
    tree = {"max_depth": settings.max_depth, "num_leaves": settings.num_leaves}
    shown = {
        **{key: value for key, value in tree.items() if value is not None},
        **settings.booster_params,
    }
    threads = "all cores" if settings.n_jobs is None else f"{settings.n_jobs}"
    return (
        f"{settings.n_estimators} rounds, learning rate {settings.learning_rate:g}, "
        + "".join(f"{key}={value} " for key, value in shown.items())
        + f"seed={settings.random_state}, threads: {threads}"
    )


def ranking_losses() -> list[str]:
    """Return the registered losses that rank query groups (``needs_groups``)."""
    return sorted(name for name, cls in LOSSES.items() if cls.needs_groups)


def check_ranking_loss(loss: Loss) -> None:
    """Raise ``ValueError`` unless ``loss`` scores rows with one number each."""
    if loss.is_multiclass:
        raise ValueError(
            f"loss {loss.name!r} is a classification loss and cannot rank; use "
            "gbrank.GBRankClassifier from Python (see examples/classification.py) "
            "or a ranking loss: " + ", ".join(ranking_losses()) + "."
        )


def training_labels(loss: Loss, y: Array) -> tuple[Array, float | None]:
    """Labels to train ``loss`` on, and the divisor used (None: unchanged).

    Losses whose labels must lie in [0, 1] (``label_bounds``) train on
    ``y / max(y)``; ignored rows (negative labels) stay negative.
    """
    top = float(y.max())
    if loss.label_bounds == (0.0, 1.0) and top > 1.0:
        return y / top, top
    return y, None


def evaluate(data: RankingData, scores: Array) -> dict[str, float]:
    """NDCG@1/3/5/10 and MAP of ``scores`` on ``data``, mean over queries."""
    values = {
        f"ndcg@{k}": metrics.ndcg(data.y, scores, group=data.group, k=k)
        for k in (1, 3, 5, 10)
    }
    values["map"] = metrics.mean_average_precision(data.y, scores, group=data.group)
    return values


def estimator(loss: Loss, engine: str, settings: Settings) -> GBRankRegressor:
    """Build a :class:`GBRankRegressor` with ``settings`` on ``engine``."""
    return GBRankRegressor(
        loss=loss,
        backend=engine,
        n_estimators=settings.n_estimators,
        learning_rate=settings.learning_rate,
        max_depth=settings.max_depth,
        num_leaves=settings.num_leaves,
        min_child_weight=settings.min_child_weight,
        subsample=settings.subsample,
        colsample_bytree=settings.colsample_bytree,
        reg_alpha=settings.reg_alpha,
        reg_lambda=settings.reg_lambda,
        random_state=settings.random_state,
        n_jobs=settings.n_jobs,
        booster_params=dict(settings.booster_params),
    )


@dataclass
class Run:
    """One trained model of the comparison."""

    engine: str
    objective: str
    native: bool
    fit_seconds: float
    scores: dict[str, float]
    curve: list[float] = field(default_factory=list)
    label_divisor: float | None = None


def warm_up(loss: Loss) -> None:
    """Compile the loss's numba kernels on a tiny list so fits time training only."""
    y = np.array([1.0, 0.0, 0.5, 0.0])
    loss.grad_hess(y, np.array([0.1, 0.3, -0.2, 0.0]), group=[4])


def fit_loss(
    loss: Loss, engine: str, settings: Settings, train: RankingData, valid: RankingData
) -> tuple[GBRankRegressor, Run]:
    """Train ``loss`` with :class:`GBRankRegressor`; score it on ``valid``."""
    check_ranking_loss(loss)
    y_train, divisor = training_labels(loss, train.y)
    warm_up(loss)
    model = estimator(loss, engine, settings)
    start = time.perf_counter()
    model.fit(
        train.X,
        y_train,
        group=train.group,
        eval_set=[(valid.X, valid.y)],  # NDCG per round on the original labels
        eval_group=[valid.group],
    )
    seconds = time.perf_counter() - start
    run = Run(
        engine=engine,
        objective=loss.name,
        native=False,
        fit_seconds=seconds,
        scores=evaluate(valid, model.predict(valid.X)),
        curve=list(model.evals_result_["valid_0"][CURVE_METRIC]),
        label_divisor=divisor,
    )
    return model, run


def fit_native(
    objective: str,
    engine: str,
    settings: Settings,
    train: RankingData,
    valid: RankingData,
) -> Run:
    """Train a native ranking objective with the engine's own API."""
    # the backend's parameters for the same settings, objective swapped
    params = dict(BACKENDS[engine].params(settings, get_loss("pairwise_hinge")))
    params["objective"] = objective
    history: dict[str, dict[str, list[float]]] = {}
    start = time.perf_counter()
    if engine == "lightgbm":
        import lightgbm as lgb

        dtrain = lgb.Dataset(train.X, train.y, group=train.group)
        dvalid = lgb.Dataset(valid.X, valid.y, group=valid.group, reference=dtrain)
        booster = lgb.train(
            params,
            dtrain,
            num_boost_round=settings.n_estimators,
            valid_sets=[dvalid],
            valid_names=["valid_0"],
            feval=metrics.lgb_eval("ndcg", 10),
            callbacks=[lgb.record_evaluation(history)],
        )
        seconds = time.perf_counter() - start
        scores = booster.predict(valid.X, raw_score=True)
    else:
        import xgboost as xgb

        dtrain = xgb.DMatrix(train.X, train.y, qid=train.qid)
        dvalid = xgb.DMatrix(valid.X, valid.y, qid=valid.qid)
        booster = xgb.train(
            params,
            dtrain,
            num_boost_round=settings.n_estimators,
            evals=[(dvalid, "valid_0")],
            custom_metric=metrics.xgb_eval("ndcg", 10),
            evals_result=history,
            verbose_eval=False,
        )
        seconds = time.perf_counter() - start
        scores = booster.predict(xgb.DMatrix(valid.X), output_margin=True)
    return Run(
        engine=engine,
        objective=objective,
        native=True,
        fit_seconds=seconds,
        scores=evaluate(valid, np.asarray(scores, dtype=np.float64)),
        curve=list(history["valid_0"][CURVE_METRIC]),
    )


def compare(
    losses: Sequence[Loss],
    engines: Sequence[str],
    settings: dict[str, Settings],
    train: RankingData,
    valid: RankingData,
    report: Callable[[int, int, Run], None] | None = None,
) -> list[Run]:
    """Train every loss and native objective on every engine; best NDCG@10 first.

    Parameters
    ----------
    losses : sequence of Loss
        The gbrank losses (ranking losses only).
    engines : sequence of {"lightgbm", "xgboost"}
    settings : dict
        :class:`Settings` of each engine, shared by its losses and baselines.
    train, valid : RankingData
        Training and validation data.
    report : callable, optional
        Called as ``report(index, total, run)`` after each run (progress).

    Returns
    -------
    list of Run
        Sorted by validation NDCG@10, descending.
    """
    jobs: list[tuple[str, str | Loss]] = []
    for engine in engines:
        jobs.extend((engine, objective) for objective in NATIVE_OBJECTIVES[engine])
        jobs.extend((engine, loss) for loss in losses)
    runs = []
    for index, (engine, objective) in enumerate(jobs, start=1):
        if isinstance(objective, str):
            run = fit_native(objective, engine, settings[engine], train, valid)
        else:
            run = fit_loss(objective, engine, settings[engine], train, valid)[1]
        runs.append(run)
        if report is not None:
            report(index, len(jobs), run)
    return sorted(runs, key=lambda run: -run.scores["ndcg@10"])


def leaderboard(runs: Sequence[Run]) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows and footnotes of the leaderboard table of ``runs``."""
    header = ["engine", "objective", *METRIC_COLUMNS, "fit s"]
    rows, notes = [], []
    for run in runs:
        name = f"{run.objective} (native)" if run.native else run.objective
        if run.label_divisor is not None:
            name += " *"
            note = (
                f"* trained on y / max(y) = y / {run.label_divisor:g}: "
                "the loss needs labels in [0, 1]; scored on the original labels."
            )
            if note not in notes:
                notes.append(note)
        values = [f"{run.scores[column]:.4f}" for column in METRIC_COLUMNS]
        rows.append([run.engine, name, *values, f"{run.fit_seconds:.2f}"])
    return header, rows, notes


def plot_curves(runs: Sequence[Run], path: str | Path) -> None:
    """Save validation NDCG@10 per round, one panel per engine, to ``path``.

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install "gbrank[plot]"``).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "--plot needs matplotlib: pip install 'gbrank[plot]' (or matplotlib)."
        ) from error
    engines = list(dict.fromkeys(run.engine for run in runs))
    figure = Figure(figsize=(6.5 * len(engines), 4.5), layout="constrained")
    axes = figure.subplots(1, len(engines), squeeze=False, sharey=True)[0]
    for ax, engine in zip(axes, engines, strict=True):
        for run in (run for run in runs if run.engine == engine):
            label = f"{run.objective} (native)" if run.native else run.objective
            rounds = np.arange(1, len(run.curve) + 1)
            ax.plot(
                rounds, run.curve, label=label, linestyle="--" if run.native else "-"
            )
        ax.set(title=engine, xlabel="boosting round", ylabel="validation NDCG@10")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    figure.savefig(path, dpi=120)
