"""Real-data benchmark: gbrank losses next to the native objectives on LETOR folds.

Usage::

    python benchmarks/letor.py --data DIR [--data DIR2 ...] [--catboost]
        [--engines lightgbm,xgboost] [--losses all | a,b,...] [--tuned]
        [--rounds 100] [--max-rounds 1000] [--cache DIR] [--output FILE]

``DIR`` holds a LETOR / MSLR data set in one of the two standard layouts
(:func:`gbrank.datasets.letor_folds`): ``Fold1..Fold5/{train,vali,test}.txt``
(MSLR-WEB10K/30K, LETOR 3.0/4.0, Istella) or ``S1.txt..S5.txt`` (LETOR 4.0
subsets, rotated into five folds as LETOR does). The data is not shipped with
gbrank and never downloaded: see the README for where to get it.

On every fold, every model trains on ``train`` and is scored on ``test``:

- *defaults*: the estimators' defaults (``GBRankRegressor()``: learning rate
  0.1, ``--rounds`` rounds, the engine's default trees and the estimators'
  leaf regularisation), the same settings for the native objectives;
  CatBoost (``--catboost``, an optional anchor: ``pip install "gbrank[bench]"``)
  with ``--rounds`` iterations, learning rate 0.1 and its default depth 6;
- *tuned* (``--tuned``): for every objective the same grid of 8 settings
  (learning rate x tree size x leaf regularisation), each trained with early
  stopping on the fold's ``vali`` (NDCG@10, patience 50, at most
  ``--max-rounds`` rounds); the setting with the best ``vali`` NDCG@10 is
  scored on ``test``.

Reported per data set: NDCG@1/3/5/10 and MAP, mean and standard deviation over
the folds; for every gbrank objective, a paired randomisation test on per-query
NDCG@10 (all test queries of all folds) against the engine's best native
objective: the mean difference, its 95 % interval, the p-value and the
Holm-adjusted p-value over the engine's gbrank objectives; "better" or "worse"
only where the adjusted p-value is below 0.05. With several ``--data``, a last
table gives each objective's NDCG@10 per data set, the mean over data sets, and
the same paired test over the test queries of all data sets pooled (large data
sets weigh more), Holm-adjusted over all gbrank objectives; with
``--catboost``, a table that tests each engine's best gbrank objective against
CatBoost's best native loss (both by the mean over data sets), per data set
and pooled, Holm-adjusted over its rows. The report replaces
the ``letor`` section of ``benchmarks/results.md`` (``--output`` for another
file).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
from _report import RESULTS, machine, write_section

import gbrank
from gbrank import _compare
from gbrank.datasets import Fold, RankingData, letor_folds
from gbrank.engines import Settings, get_engine
from gbrank.significance import against_best, best_references, holm, paired_test

THREADS = 2
METRICS = ("ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10", "map")  # of _compare.evaluate
KEY = "ndcg@10"
SETTINGS_FIELDS = {item.name for item in fields(Settings)}
CATBOOST_OBJECTIVES = ("YetiRank", "LambdaMart", "QueryRMSE")
PATIENCE = 50
ALPHA = 0.05  # on the Holm-adjusted p-values
MAX_ROUNDS = 1000
# The tuning grid: learning rate x tree size x leaf regularisation, 8 settings.
LEARNING_RATES = (0.05, 0.1)
TREE_SIZES = {  # (small, large) per engine
    "lightgbm": ({"num_leaves": 15}, {"num_leaves": 63}),
    "xgboost": ({"max_depth": 4}, {"max_depth": 8}),
    "catboost": ({"depth": 4}, {"depth": 8}),
}
LEAF_REGULARISATION = {  # (weak, strong) per engine
    "lightgbm": ({"min_data_in_leaf": 20}, {"min_data_in_leaf": 100}),
    "xgboost": ({"reg_lambda": 1.0}, {"reg_lambda": 10.0}),
    "catboost": ({"l2_leaf_reg": 3.0}, {"l2_leaf_reg": 10.0}),
}


# -- objectives ---------------------------------------------------------------------


@dataclass(frozen=True)
class Objective:
    """One model to train: an engine and a native objective name or a gbrank loss."""

    engine: str
    name: str
    loss: gbrank.Loss | None = None  # None: native

    @property
    def native(self) -> bool:
        return self.loss is None

    @property
    def label(self) -> str:
        return f"{self.name} (native)" if self.native else self.name


def gbrank_objectives(names: Sequence[str] | None) -> list[tuple[str, gbrank.Loss]]:
    """The gbrank losses to run: every ranking loss at its defaults and
    LambdaMART, or the named ones (``name`` or ``name:param=value,...``)."""
    if names is None:
        chosen = [(name, gbrank.get_loss(name)) for name in _compare.ranking_losses()]
        chosen.append(("lambdamart", lambdamart()))
        return chosen
    out = []
    for spec in names:
        if spec == "lambdamart":
            out.append((spec, lambdamart()))
            continue
        name, _, params = spec.partition(":")
        kwargs = dict(_parameter(item) for item in params.split(",") if item)
        out.append((spec, gbrank.get_loss(name, **kwargs)))
    return out


def lambdamart() -> gbrank.Loss:
    return gbrank.get_loss("pairwise_logistic", lambda_weight="ndcg")


def _parameter(text: str) -> tuple[str, Any]:
    key, _, value = text.partition("=")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def objectives(
    engines: Sequence[str], losses: Sequence[tuple[str, gbrank.Loss]], catboost: bool
) -> list[Objective]:
    out = []
    for engine in engines:
        out += [
            Objective(engine, name) for name in get_engine(engine).native_objectives
        ]
        out += [Objective(engine, name, loss) for name, loss in losses]
    if catboost:
        out += [Objective("catboost", name) for name in CATBOOST_OBJECTIVES]
    return out


# -- settings -----------------------------------------------------------------------


def settings(engine: str, params: dict[str, Any], seed: int) -> Settings:
    """The estimators' default settings (``GBRankRegressor()``) updated by
    ``params`` (fields of :class:`Settings` or engine parameters by name)."""
    base = gbrank.GBRankRegressor(
        engine=engine, n_estimators=MAX_ROUNDS, random_state=seed, n_jobs=THREADS
    )._settings(None)
    known = {name: value for name, value in params.items() if name in SETTINGS_FIELDS}
    extra = {name: value for name, value in params.items() if name not in known}
    return replace(base, **known, booster_params={**base.booster_params, **extra})


def tuning_grid(engine: str) -> list[dict[str, Any]]:
    grid = []
    for rate in LEARNING_RATES:
        for size in TREE_SIZES[engine]:
            for regularisation in LEAF_REGULARISATION[engine]:
                grid.append({"learning_rate": rate, **size, **regularisation})
    return grid


# -- training -----------------------------------------------------------------------


def dense(data: RankingData) -> RankingData:
    """``data`` with dense float32 features: every engine reads them alike
    (XGBoost would treat the zeros a sparse matrix leaves out as missing)."""
    X = data.X.toarray() if hasattr(data.X, "toarray") else np.asarray(data.X)
    return RankingData(X.astype(np.float32), data.y, data.group, data.qid)


def train_and_predict(
    objective: Objective,
    params: dict[str, Any],
    train: RankingData,
    vali: RankingData | None,
    scored: Sequence[RankingData],
    seed: int,
) -> list[np.ndarray]:
    """Train one model (early stopping on ``vali`` when given) and return its
    scores on each of ``scored``."""
    if objective.engine == "catboost":
        return _catboost(objective.name, params, train, vali, scored, seed)
    engine = get_engine(objective.engine)
    labels = None
    if objective.loss is not None:
        labels, _ = _compare.training_labels(objective.loss, train.y)
        _compare.warm_up(objective.loss)
    fitted = engine.train(
        objective.name if objective.loss is None else objective.loss,
        settings(objective.engine, params, seed),
        _compare.training_set(train, labels),
        [] if vali is None else [_compare.training_set(vali)],
        metric=engine.ranking_metric("ndcg", 10),
        early_stopping_rounds=None if vali is None else PATIENCE,
    )
    return [
        engine.predict_raw(fitted.booster, data.X, fitted.best_iteration)
        for data in scored
    ]


def _catboost(
    name: str,
    params: dict[str, Any],
    train: RankingData,
    vali: RankingData | None,
    scored: Sequence[RankingData],
    seed: int,
) -> list[np.ndarray]:
    try:
        from catboost import CatBoost, Pool
    except ImportError as error:
        raise SystemExit(
            '--catboost needs CatBoost: pip install "gbrank[bench]"'
        ) from error
    options = {
        "loss_function": name,
        "random_seed": seed,
        "thread_count": THREADS,
        "verbose": False,
        "allow_writing_files": False,
        **params,
    }
    if vali is not None:
        options.update(
            eval_metric="NDCG:top=10;type=Exp",
            od_type="Iter",
            od_wait=PATIENCE,
            use_best_model=True,
        )
    model = CatBoost(options)
    pool = Pool(train.X, train.y, group_id=train.qid)
    eval_set = None if vali is None else Pool(vali.X, vali.y, group_id=vali.qid)
    model.fit(pool, eval_set=eval_set)
    return [
        np.asarray(model.predict(Pool(data.X, group_id=data.qid))) for data in scored
    ]


# -- runs and caching ---------------------------------------------------------------


@dataclass
class Result:
    """Per-query test metrics of one objective over every fold of a data set."""

    objective: Objective
    folds: list[dict[str, np.ndarray]] = field(default_factory=list)

    def concatenated(self, metric: str = KEY) -> np.ndarray:
        return np.concatenate([fold[metric] for fold in self.folds])

    def fold_means(self, metric: str) -> np.ndarray:
        return np.array([fold[metric].mean() for fold in self.folds])

    def mean(self, metric: str = KEY) -> float:
        """Mean over all test queries (each query is tested once)."""
        return float(self.concatenated(metric).mean())


class Cache:
    """Per-query results on disk, so that an interrupted run resumes."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def _path(self, *key: Any) -> Path | None:
        if self.folder is None:
            return None
        digest = hashlib.sha1(json.dumps(key, default=repr).encode()).hexdigest()
        return self.folder / f"{digest[:20]}.npz"

    def get(self, *key: Any) -> tuple[dict[str, np.ndarray], dict] | None:
        path = self._path(*key)
        if path is None or not path.exists():
            return None
        with np.load(path) as stored:
            chosen = json.loads(str(stored["chosen"]))
            return {name: stored[name] for name in METRICS}, chosen

    def put(self, value: dict[str, np.ndarray], chosen: dict, *key: Any) -> None:
        path = self._path(*key)
        if path is not None:
            np.savez(path, chosen=json.dumps(chosen), **value)


def _key(objective: Objective, seed: int) -> list[Any]:
    """What a cached result depends on besides the data, fold and mode."""
    loss = None if objective.loss is None else repr(objective.loss)
    if hasattr(objective.loss, "resolved_step"):  # what step="auto" means today
        loss = f"{loss} {objective.loss.resolved_step()!r}"
    defaults = None
    if objective.engine != "catboost":
        defaults = repr(settings(objective.engine, {}, seed))
    return [objective.engine, objective.name, loss, defaults, gbrank.__version__]


def run_fold(
    objective: Objective,
    fold: Fold,
    mode: str,
    rounds: int,
    seed: int,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Test metrics of one objective on one fold and the settings used:
    ``rounds`` rounds at the defaults, or the best of the grid on ``vali``
    (early stopping, at most ``rounds`` rounds)."""
    if mode == "defaults":
        params: dict[str, Any] = {"n_estimators": rounds}
        if objective.engine == "catboost":
            params = {"iterations": rounds, "learning_rate": 0.1, "depth": 6}
        (scores,) = train_and_predict(
            objective, params, fold.train, None, [fold.test], seed
        )
        return _compare.evaluate(fold.test, scores), params
    best: tuple[float, dict[str, Any], np.ndarray] | None = None
    rounds_key = "iterations" if objective.engine == "catboost" else "n_estimators"
    for grid_point in tuning_grid(objective.engine):
        params = {rounds_key: rounds, **grid_point}
        vali_scores, test_scores = train_and_predict(
            objective, params, fold.train, fold.vali, [fold.vali, fold.test], seed
        )
        value = float(_compare.evaluate(fold.vali, vali_scores)[KEY].mean())
        if best is None or value > best[0]:
            best = (value, params, test_scores)
    assert best is not None
    return _compare.evaluate(fold.test, best[2]), best[1]


def run_dataset(
    folder: Path,
    chosen: list[Objective],
    mode: str,
    rounds: int,
    seed: int,
    cache: Cache,
    log: Callable[[str], None],
) -> list[Result]:
    results = [Result(objective) for objective in chosen]
    for fold in _dense_folds(folder):
        for result in results:
            key = [
                str(folder.resolve()),
                fold.name,
                mode,
                rounds,
                seed,
                *_key(result.objective, seed),
            ]
            stored = cache.get(*key)
            start = time.perf_counter()
            if stored is None:
                stored = run_fold(result.objective, fold, mode, rounds, seed)
                cache.put(*stored, *key)
            metrics, _ = stored
            result.folds.append(metrics)
            log(
                f"{folder.name} {fold.name} {mode:8} {result.objective.engine:8} "
                f"{result.objective.label:40} ndcg@10 {metrics[KEY].mean():.4f} "
                f"({time.perf_counter() - start:.1f} s)"
            )
    return results


def _dense_folds(folder: Path) -> Iterator[Fold]:
    for fold in letor_folds(folder):
        yield Fold(fold.name, dense(fold.train), dense(fold.vali), dense(fold.test))


# -- report -------------------------------------------------------------------------


def best_native(results: Sequence[Result], engine: str) -> Result:
    natives = [
        r for r in results if r.objective.engine == engine and r.objective.native
    ]
    return max(natives, key=lambda r: r.mean())


def dataset_table(results: Sequence[Result]) -> list[str]:
    lines = [
        "| engine | objective | " + " | ".join(METRICS) + " | Δ NDCG@10 vs best "
        "native | 95 % interval | p | Holm p | verdict |",
        "|---|---|" + "---|" * len(METRICS) + "---|---|---|---|---|",
    ]
    engines = list(dict.fromkeys(r.objective.engine for r in results))
    for engine in engines:
        own = [r for r in results if r.objective.engine == engine]
        tests = against_best(
            [r.concatenated() for r in own],
            [engine] * len(own),
            [r.objective.native for r in own],
        )
        p_values = [t.p_value for t in tests.values()]
        adjusted = dict(zip(tests, holm(p_values) if tests else [], strict=True))
        order = sorted(range(len(own)), key=lambda i: -own[i].mean())
        for index in order:
            result = own[index]
            cells = [
                f"{result.fold_means(m).mean():.4f} ± {result.fold_means(m).std():.4f}"
                for m in METRICS
            ]
            if index in tests:
                test = tests[index]
                verdict = (
                    ("better" if test.difference > 0 else "worse")
                    if adjusted[index] < ALPHA
                    else "no significant difference"
                )
                extra = [
                    f"{test.difference:+.4f}",
                    f"[{test.ci_low:+.4f}, {test.ci_high:+.4f}]",
                    f"{test.p_value:.4f}",
                    f"{adjusted[index]:.4f}",
                    verdict,
                ]
            else:
                extra = [
                    "",
                    "",
                    "",
                    "",
                    "best native" if result is _maybe_best(results, result) else "",
                ]
            lines.append(
                f"| {engine} | {result.objective.label} | "
                + " | ".join(cells + extra)
                + " |"
            )
    return lines


def _maybe_best(results: Sequence[Result], result: Result) -> Result | None:
    if result.objective.engine == "catboost" or not result.objective.native:
        return None
    return best_native(results, result.objective.engine)


def summary_table(by_data: dict[str, list[Result]]) -> list[str]:
    """NDCG@10 per data set and their mean; for every gbrank objective, a paired
    test over the queries of all data sets against the engine's best native
    objective (by the mean over data sets)."""
    names = list(by_data)
    count = len(by_data[names[0]])
    mean = {
        i: float(np.mean([by_data[n][i].mean() for n in names])) for i in range(count)
    }
    pooled = {
        i: np.concatenate([by_data[n][i].concatenated() for n in names])
        for i in range(count)
    }
    objectives = [by_data[names[0]][i].objective for i in range(count)]
    engines = [o.engine for o in objectives]
    natives = [o.native for o in objectives]
    means = [mean[i] for i in range(count)]
    reference = best_references(engines, natives, means)
    tests = against_best([pooled[i] for i in range(count)], engines, natives, means)
    adjusted = dict(zip(tests, holm([t.p_value for t in tests.values()]), strict=True))
    lines = [
        "| engine | objective | " + " | ".join(names) + " | mean | Δ vs best native,"
        " all queries [95 % interval] | p | Holm p |",
        "|---|---|" + "---|" * len(names) + "---|---|---|---|",
    ]
    for i in sorted(range(count), key=lambda i: -mean[i]):
        objective = objectives[i]
        cells = [f"{by_data[n][i].mean():.4f}" for n in names] + [f"{mean[i]:.4f}"]
        if i in tests:
            test = tests[i]
            cells += [
                f"{test.difference:+.4f} [{test.ci_low:+.4f}, {test.ci_high:+.4f}]",
                f"{test.p_value:.4f}",
                f"{adjusted[i]:.4f}",
            ]
        else:
            best = objective.engine != "catboost" and reference[objective.engine] == i
            cells += ["best native" if best else "", "", ""]
        lines.append(
            f"| {objective.engine} | {objective.label} | " + " | ".join(cells) + " |"
        )
    return lines


def catboost_table(by_data: dict[str, list[Result]]) -> list[str]:
    """Each engine's best gbrank objective against CatBoost's best native loss
    (both by the mean NDCG@10 over data sets): paired tests on per-query
    NDCG@10 per data set and over the queries of all data sets, Holm-adjusted
    over the table's rows; empty without CatBoost runs. The best gbrank
    objective is picked on the data it is tested on, which favours it."""
    names = list(by_data)
    results = list(zip(*(by_data[n] for n in names), strict=True))

    def mean(row: tuple[Result, ...]) -> float:
        return float(np.mean([r.mean() for r in row]))

    anchors = [row for row in results if row[0].objective.engine == "catboost"]
    if not anchors:
        return []
    anchor = max(anchors, key=mean)
    rows = []
    for engine in dict.fromkeys(row[0].objective.engine for row in results):
        own = [r for r in results if r[0].objective.engine == engine]
        gbrank_rows = [row for row in own if not row[0].objective.native]
        if engine == "catboost" or not gbrank_rows:
            continue
        best = max(gbrank_rows, key=mean)
        for index, name in enumerate([*names, "all queries"]):
            pair = (
                (best, anchor)
                if name == "all queries"
                else ([best[index]], [anchor[index]])
            )
            test = paired_test(
                np.concatenate([r.concatenated() for r in pair[0]]),
                np.concatenate([r.concatenated() for r in pair[1]]),
            )
            rows.append((engine, best[0].objective.label, name, test))
    adjusted = holm([test.p_value for *_, test in rows])
    lines = [
        f"Against CatBoost `{anchor[0].objective.label}` (its best native by the "
        "mean over data sets); each engine's best gbrank objective is picked on "
        "these same results, which favours it:",
        "",
        "| engine | best gbrank objective | data | Δ NDCG@10 [95 % interval] | p "
        "| Holm p | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for (engine, label, name, test), holm_p in zip(rows, adjusted, strict=True):
        verdict = (
            ("better" if test.difference > 0 else "worse")
            if holm_p < ALPHA
            else "no significant difference"
        )
        lines.append(
            f"| {engine} | {label} | {name} | {test.difference:+.4f} "
            f"[{test.ci_low:+.4f}, {test.ci_high:+.4f}] | {test.p_value:.4f} "
            f"| {holm_p:.4f} | {verdict} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", required=True)
    parser.add_argument("--engines", default="lightgbm,xgboost")
    parser.add_argument("--losses", default="all")
    parser.add_argument("--catboost", action="store_true")
    parser.add_argument("--tuned", action="store_true")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--max-rounds", type=int, default=MAX_ROUNDS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--section", default="letor")
    args = parser.parse_args(argv)
    command = sys.argv[1:] if argv is None else argv
    gbrank.set_num_threads(THREADS)
    losses = gbrank_objectives(None if args.losses == "all" else args.losses.split(","))
    chosen = objectives(args.engines.split(","), losses, args.catboost)
    cache = Cache(args.cache)
    modes = ["defaults", "tuned"] if args.tuned else ["defaults"]
    section = [
        "## Real data (LETOR folds, held-out NDCG@10 with paired tests)",
        "",
        f"Date: {datetime.date.today()}; machine: {machine()}; command: "
        f"`python benchmarks/letor.py {' '.join(command)}`.",
        "",
    ]
    for mode in modes:
        by_data = {}
        for folder in args.data:
            rounds = args.rounds if mode == "defaults" else args.max_rounds
            results = run_dataset(folder, chosen, mode, rounds, args.seed, cache, print)
            by_data[folder.name] = results
            section += [f"### {folder.name}, {mode}", "", *dataset_table(results), ""]
        if len(by_data) > 1:
            section += [
                f"### Mean NDCG@10 over the data sets, {mode}",
                "",
                *summary_table(by_data),
                "",
            ]
            against_catboost = catboost_table(by_data)
            if against_catboost:
                section += [*against_catboost, ""]
    write_section(args.section, section, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
