"""gbrank losses and the engines' native ranking objectives, trained side by side.

One :class:`~gbrank.engines.Settings` drives every run of an engine, and every
run goes through the same :meth:`Engine.train <gbrank.engines.base.Engine.train>`:
with a gbrank loss, or with the name of a native objective. Every run records
validation NDCG@10 per round with the same gbrank metric, so curves and final
numbers are comparable across engines.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from gbrank import metrics
from gbrank._groups import Groups
from gbrank.datasets import RankingData
from gbrank.engines import Settings, TrainingSet, get_engine
from gbrank.losses import LOSSES, Loss
from gbrank.significance import PairedTest, against_best

Array = NDArray[np.float64]

# Columns of the leaderboard after engine and objective; MAP over the whole list.
METRIC_COLUMNS = ("ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10", "map")
CURVE_METRIC = "ndcg@10"

# Settings that work well on the bundled sample: learning rate 0.05, 200 rounds,
# and each engine's ``compare_tree``.
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
    """Booster settings of ``engine``: its ``compare_tree``, then ``booster_params``."""
    tree = dict(get_engine(engine).compare_tree)
    extra = {**tree.pop("booster_params", {}), **(booster_params or {})}
    return Settings(
        n_estimators=n_estimators,
        learning_rate=learning_rate,
        random_state=random_state,
        booster_params=extra,
        **tree,
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


def evaluate(data: RankingData, scores: Array) -> dict[str, Array]:
    """Per-query NDCG@1/3/5/10 and MAP of ``scores`` on ``data``."""
    groups = Groups(np.concatenate(([0], np.cumsum(data.group))))
    values = {
        f"ndcg@{k}": metrics.RankingMetric(k=k).per_query(data.y, scores, groups)
        for k in (1, 3, 5, 10)
    }
    values["map"] = metrics.RankingMetric(metric="map", k=None).per_query(
        data.y, scores, groups
    )
    return values


@dataclass
class Run:
    """One trained model of the comparison."""

    engine: str
    objective: str
    native: bool
    fit_seconds: float
    per_query: dict[str, Array]  # metric -> its value on every validation query
    curve: list[float] = field(default_factory=list)
    label_divisor: float | None = None
    rounds: int = 0  # rounds of the model scored (the best one with early stopping)

    @property
    def scores(self) -> dict[str, float]:
        """Every metric's mean over the validation queries."""
        return {name: float(values.mean()) for name, values in self.per_query.items()}

    @property
    def best_round(self) -> int:
        """The 1-based round of the best validation NDCG@10 (the first, on ties)."""
        return int(np.argmax(self.curve)) + 1

    @property
    def best_score(self) -> float:
        """The best validation NDCG@10 of any round."""
        return float(np.max(self.curve))


def warm_up(loss: Loss | None = None) -> None:
    """Compile the numba kernels a fit will time, on a tiny list.

    The ranking metrics always; with ``loss``, also the loss's booster step, so
    that fits time training only.
    """
    y = np.array([1.0, 0.0, 1.0, 0.0])  # integer labels in [0, 1]: every domain
    scores = np.array([0.1, 0.3, -0.2, 0.0])
    metrics.ndcg(y, scores, group=[4], k=2)
    metrics.mean_average_precision(y, scores, group=[4])
    if loss is not None:
        loss.booster_grad_hess(y, scores, group=[4])


def training_set(data: RankingData, labels: Array | None = None) -> TrainingSet:
    y = data.y if labels is None else labels
    return TrainingSet(data.X, y, Groups(np.concatenate(([0], np.cumsum(data.group)))))


def fit(
    objective: Loss | str,
    engine: str,
    settings: Settings,
    train: RankingData,
    valid: RankingData,
    early_stopping_rounds: int | None = None,
) -> tuple[Any, Run]:
    """Train a gbrank loss or a native objective (by name); score it on ``valid``.

    With ``early_stopping_rounds``, training stops once validation NDCG@10 has
    not improved for that many rounds, and the booster returned holds the
    rounds up to the best one (``run.rounds``).

    Returns
    -------
    booster : the engine's booster
    run : Run
    """
    backend = get_engine(engine)
    divisor = None
    labels = None
    if isinstance(objective, Loss):
        check_ranking_loss(objective)
        labels, divisor = training_labels(objective, train.y)
    warm_up(objective if isinstance(objective, Loss) else None)
    start = time.perf_counter()
    fitted = backend.train(
        objective,
        settings,
        training_set(train, labels),
        [training_set(valid)],  # NDCG per round on the original labels
        metric=backend.ranking_metric("ndcg", 10),
        early_stopping_rounds=early_stopping_rounds,
    )
    seconds = time.perf_counter() - start
    booster = fitted.booster
    if backend.n_rounds(booster) > fitted.best_iteration:
        booster = backend.truncate(booster, fitted.best_iteration)
    scores = backend.predict_raw(booster, valid.X, fitted.best_iteration)
    run = Run(
        engine=engine,
        objective=objective if isinstance(objective, str) else objective.name,
        native=isinstance(objective, str),
        fit_seconds=seconds,
        per_query=evaluate(valid, scores),
        curve=list(fitted.evals_result["valid_0"][CURVE_METRIC]),
        label_divisor=divisor,
        rounds=fitted.best_iteration,
    )
    return booster, run


class Progress(Protocol):
    """What :func:`compare` reports to (``gbrank._progress.CompareProgress``)."""

    def start(self, engine: str, objective: str) -> None:
        """Report that a model starts training."""

    def done(self, index: int, run: Run) -> None:
        """Report that the ``index``-th model (1-based) is trained."""


def compare(
    losses: Sequence[Loss],
    engines: Sequence[str],
    settings: dict[str, Settings],
    train: RankingData,
    valid: RankingData,
    progress: Progress | None = None,
) -> list[Run]:
    """Train every loss and native objective on every engine; best NDCG@10 first.

    Parameters
    ----------
    losses : sequence of Loss
        The gbrank losses (ranking losses only).
    engines : sequence of str
        Registered engine names.
    settings : dict
        :class:`Settings` of each engine, shared by its losses and baselines.
    train, valid : RankingData
        Training and validation data.
    progress : Progress, optional
        Told when each model starts and is done.

    Returns
    -------
    list of Run
        Sorted by validation NDCG@10, descending.
    """
    runs = []
    for index, (engine, objective) in enumerate(jobs(losses, engines), start=1):
        if progress is not None:
            name = objective if isinstance(objective, str) else objective.name
            progress.start(engine, name)
        run = fit(objective, engine, settings[engine], train, valid)[1]
        runs.append(run)
        if progress is not None:
            progress.done(index, run)
    return sorted(runs, key=lambda run: -run.scores["ndcg@10"])


def jobs(
    losses: Sequence[Loss], engines: Sequence[str]
) -> list[tuple[str, str | Loss]]:
    """Return the models :func:`compare` trains: engine and objective, in order."""
    found: list[tuple[str, str | Loss]] = []
    for engine in engines:
        natives = get_engine(engine).native_objectives
        found.extend((engine, objective) for objective in natives)
        found.extend((engine, loss) for loss in losses)
    return found


def leaderboard(
    runs: Sequence[Run], *, significance: bool = False
) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows and footnotes of the leaderboard table of ``runs``.

    The metric columns score the model after its last round; ``best ndcg@10``
    is the best round's validation NDCG@10, with that round in brackets. With
    ``significance``, two more columns compare each gbrank loss with its
    engine's best native objective (:func:`significance_tests`).
    """
    header = ["engine", "objective", *METRIC_COLUMNS, "best ndcg@10", "fit s"]
    tests = significance_tests(runs) if significance else {}
    if significance:
        header += ["Δ ndcg@10 vs best native [95% CI]", "p"]
    rows, notes = [], []
    for index, run in enumerate(runs):
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
        best = f"{run.best_score:.4f} ({run.best_round})"
        row = [run.engine, name, *values, best, f"{run.fit_seconds:.2f}"]
        if significance:
            row += _significance_cells(tests.get(index), run, runs)
        rows.append(row)
    if significance:
        notes.append(
            "Δ: mean per-query difference of NDCG@10 to the best native objective "
            "of the same engine; p: paired randomisation test over the validation "
            "queries (n.s.: not significant at 0.05)."
        )
    return header, rows, notes


def significance_tests(runs: Sequence[Run]) -> dict[int, PairedTest]:
    """Paired tests of every gbrank run against its engine's best native run.

    Returns
    -------
    dict
        Index of a gbrank run in ``runs`` -> :func:`gbrank.significance.paired_test`
        of its per-query NDCG@10 against the native objective of the same
        engine with the highest mean NDCG@10 (engines without a native run are
        left out).
    """
    return against_best(
        [run.per_query[CURVE_METRIC] for run in runs],
        [run.engine for run in runs],
        [run.native for run in runs],
        [run.scores[CURVE_METRIC] for run in runs],
    )


def best_native(runs: Sequence[Run], engine: str) -> Run | None:
    """Return the native run of ``engine`` with the best NDCG@10 (None: none)."""
    natives = [run for run in runs if run.native and run.engine == engine]
    return max(natives, key=lambda run: run.scores[CURVE_METRIC], default=None)


def _significance_cells(
    test: PairedTest | None, run: Run, runs: Sequence[Run]
) -> list[str]:
    if test is None:
        return ["best native" if run is best_native(runs, run.engine) else "", ""]
    verdict = "" if test.significant() else " n.s."
    return [
        f"{test.difference:+.4f} [{test.ci_low:+.4f}, {test.ci_high:+.4f}]",
        f"{test.p_value:.4f}{verdict}",
    ]


# Families of the plot: a colour each, a line style per member (at most five).
FAMILIES = {
    "pairwise": (
        "pairwise_hinge",
        "pairwise_logistic",
        "pairwise_soft_zero_one",
        "pairwise_mse",
        "pairwise_qr",
    ),
    "weighted pairs": ("lambdaloss", "yetirank"),
    "softmax": ("softmax", "poly1_softmax", "unique_softmax", "query_softmax"),
    "ListNet, ListMLE": ("listnet", "rank_one_listnet", "listmle"),
    "approximate ranks": (
        "approx_ndcg",
        "approx_mrr",
        "gumbel_approx_ndcg",
        "neural_ndcg",
    ),
    "pointwise": ("query_rmse", "pointwise_mse", "ordinal"),
}
FAMILY_COLOURS = {
    "pairwise": "tab:blue",
    "weighted pairs": "tab:purple",
    "softmax": "tab:orange",
    "ListNet, ListMLE": "tab:red",
    "approximate ranks": "tab:green",
    "pointwise": "tab:brown",
    "other": "tab:olive",
    "native": "black",
}
LINE_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)))


def family(run: Run) -> str:
    """Plot family of a run's objective (``"native"``; ``"other"``: not listed)."""
    if run.native:
        return "native"
    return next((f for f, names in FAMILIES.items() if run.objective in names), "other")


def curve_styles(
    runs: Sequence[Run], engines: Sequence[str]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Colour (by family) and line style (within it) of every objective.

    Returns ``{(family, objective): {"color": ..., "linestyle": ...}}`` in
    legend order: families as :data:`FAMILIES` lists them (then user losses,
    by name), natives last, engine by engine as ``engines`` lists them.
    """
    natives = [name for e in engines for name in get_engine(e).native_objectives]
    named = {(family(run), run.objective) for run in runs}
    styles = {}
    for group in [*FAMILIES, "other", "native"]:
        listed = natives if group == "native" else FAMILIES.get(group, ())
        members = sorted(
            (name for f, name in named if f == group),
            key=lambda name: (listed.index(name) if name in listed else 99, name),
        )
        for index, name in enumerate(members):
            style = LINE_STYLES[index % len(LINE_STYLES)]
            styles[group, name] = {"color": FAMILY_COLOURS[group], "linestyle": style}
    return styles


def plot_curves(
    runs: Sequence[Run],
    path: str | Path,
    title: str = "",
    engines: Sequence[str] | None = None,
) -> None:
    """Save :func:`curves_figure` of ``runs`` to ``path``."""
    curves_figure(runs, title, engines).savefig(path, dpi=120)


def curves_figure(
    runs: Sequence[Run], title: str = "", engines: Sequence[str] | None = None
) -> Any:
    """Draw validation NDCG@10 per round, one panel per engine (a Figure).

    Panels follow ``engines`` (default: the order the runs name them). An
    objective has the same colour and line style in every panel: the colour
    says its family (:data:`FAMILIES`; natives in black), the line style which
    member of it; a dot marks each curve's best round. One legend, grouped by
    family, sits right of the panels, outside them. ``title`` names the data
    and settings.

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install "gbrank[plot]"``).
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
    except ImportError as error:
        raise ImportError(
            "--plot needs matplotlib: pip install 'gbrank[plot]' (or matplotlib)."
        ) from error
    panels = list(engines or dict.fromkeys(run.engine for run in runs))
    styles = curve_styles(runs, panels)
    n_entries = len(styles) + len({group for group, _ in styles})
    height = max(5.0, 0.19 * n_entries + 1.0)
    figure = Figure(figsize=(5.5 * len(panels) + 2.6, height), layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    for ax, engine in zip(axes, panels, strict=True):
        for run in (r for r in runs if r.engine == engine):
            style = styles[family(run), run.objective]
            rounds = np.arange(1, len(run.curve) + 1)
            ax.plot(rounds, run.curve, label=_label(run), linewidth=1.2, **style)
            ax.plot(
                run.best_round, run.best_score, "o", color=style["color"], markersize=3
            )
        ax.set(title=engine, xlabel="boosting round", ylabel="validation NDCG@10")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    handles: list[Any] = []
    labels: list[str] = []
    headers: list[int] = []  # where each family's name stands
    for group in dict.fromkeys(group for group, _ in styles):
        headers.append(len(labels))
        handles.append(Line2D([], [], linestyle="none"))
        labels.append(group)
        for (member_group, name), style in styles.items():
            if member_group == group:
                handles.append(Line2D([], [], linewidth=1.2, **style))
                labels.append(name)
    legend = figure.legend(
        handles, labels, loc="outside right upper", fontsize="small", frameon=False
    )
    for index in headers:  # the family names
        legend.get_texts()[index].set_fontweight("bold")
    if title:
        figure.suptitle(title, fontsize="medium")
    return figure


def _label(run: Run) -> str:
    return f"{run.objective} (native)" if run.native else run.objective
