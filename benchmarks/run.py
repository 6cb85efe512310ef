"""Speed benchmark: gbrank objectives next to LightGBM's and XGBoost's native ones.

Usage::

    python benchmarks/run.py [--rows 1000000] [--rounds 20] [--single-query 100000]

Measured in one run, on ``make_ranking(rows // 100, 100, 136,
vary_group_size=False, dtype=float32)`` (100 rows per query, as MSLR-WEB):

1. one call per loss of ``booster_grad_hess`` (what the boosters get, at the
   default booster step) and of ``grad_hess`` (the exact derivatives);
2. training on 80 % of the queries (:func:`gbrank.datasets.split_by_query`) with
   equal tree settings (31 leaves, learning rate 0.1, 2 threads), through the same
   ``Engine.train`` for gbrank losses and native objectives: seconds per round,
   the ratio to the first native objective of the engine in the same run, and
   NDCG@10 on the other 20 %;
3. one query of ``--single-query`` rows per ranking loss, each in a fresh
   subprocess: one ``booster_grad_hess`` and one ``grad_hess`` call, peak RSS.

The results replace the ``speed`` section of ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _report import RESULTS, machine, md_table, write_section

import gbrank
from gbrank import metrics
from gbrank._compare import training_labels, training_set
from gbrank.datasets import make_ranking, split_by_query
from gbrank.engines import Settings, get_engine

THREADS = 2
LAMBDAMART = ("pairwise_logistic", {"lambda_weight": "ndcg"})
LOSSES = [  # LambdaMART and every single-score loss at its defaults
    LAMBDAMART,
    *(
        (name, {})
        for name in gbrank.available_losses()
        if not gbrank.LOSSES[name].is_multiclass
    ),
]
EVERY_PAIR = [  # the approximate-rank losses' O(n²) step: the one-query table only
    (name, {"step": "pairs"})
    for name in gbrank.available_losses()
    if gbrank.LOSSES[name].__module__ == "gbrank.losses.approx"
]
BASELINE_LOSSES = [
    (name, {}) for name in ("pairwise_logistic", "pairwise_hinge", "softmax")
]
TRAINED = {
    "lightgbm": ["lambdarank", "rank_xendcg", LAMBDAMART, *BASELINE_LOSSES],
    "xgboost": ["rank:pairwise", "rank:ndcg", LAMBDAMART, *BASELINE_LOSSES],
}


def label(name: str, params: dict) -> str:
    if params == {"lambda_weight": "ndcg"}:
        return f"{name} + ndcg (LambdaMART)"
    return name + "".join(f", {k}={v!r}" for k, v in params.items())


def median_seconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def objective_rows(data, repeats: int) -> list[dict]:
    scores = np.random.default_rng(0).normal(size=data.y.size)
    rows = []
    for name, params in LOSSES:
        loss = gbrank.get_loss(name, **params)
        y = training_labels(loss, data.y)[0]
        row = {"loss": label(name, params)}
        methods = {"step": loss.booster_grad_hess, "exact": loss.grad_hess}
        for key, method in methods.items():
            method(y, scores, group=data.group)  # compile or load the kernels
            row[key] = median_seconds(
                lambda m=method, y=y: m(y, scores, group=data.group), repeats
            )
        rows.append(row)
        print("  objective", rows[-1], flush=True)
    return rows


def training_rows(engine: str, train, test, rounds: int, repeats: int) -> list[dict]:
    backend = get_engine(engine)
    settings = Settings(
        n_estimators=rounds, learning_rate=0.1, num_leaves=31, n_jobs=THREADS,
        random_state=0,
    )  # fmt: skip
    rows = []
    for entry in TRAINED[engine]:
        native = isinstance(entry, str)
        objective = entry if native else gbrank.get_loss(entry[0], **entry[1])
        labels = None if native else training_labels(objective, train.y)[0]
        part = training_set(train, labels)
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            fitted = backend.train(objective, settings, part, [], metric=None)
            seconds.append(time.perf_counter() - start)
        scores = backend.predict_raw(fitted.booster, test.X, rounds)
        rows.append(
            {
                "objective": f"{entry} (native)" if native else label(*entry),
                "per_round": float(np.median(seconds)) / rounds,
                "ndcg10": metrics.ndcg(test.y, scores, group=test.group, k=10),
            }
        )
        rows[-1]["ratio"] = rows[-1]["per_round"] / rows[0]["per_round"]
        print(f"  {engine}", rows[-1], flush=True)
    return rows


def single_query_worker(name: str, params: dict, n_rows: int) -> dict:
    loss = gbrank.get_loss(name, **params)
    data = make_ranking(1, n_rows, 1, vary_group_size=False, random_state=0)
    y = training_labels(loss, data.y)[0]
    scores = np.random.default_rng(1).normal(size=n_rows)
    warm = min(n_rows, 20_000)  # big enough for the threaded large-group path
    loss.grad_hess(y[:warm], scores[:warm], group=[warm])  # compile / load
    loss.booster_grad_hess(y[:warm], scores[:warm], group=[warm])
    result = {"loss": label(name, params)}
    methods = {"step": loss.booster_grad_hess, "exact": loss.grad_hess}
    for key, method in methods.items():
        start = time.perf_counter()
        grad, hess = method(y, scores, group=[n_rows])
        result[key] = time.perf_counter() - start
        assert np.isfinite(grad).all()
        assert (hess > 0).all()
    result["rss_mb"] = peak_rss_mb()
    return result


def peak_rss_mb() -> float:
    """Peak resident memory of this process (``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def single_query_rows(n_rows: int) -> list[dict]:
    rows = []
    for name, params in [*LOSSES, *EVERY_PAIR]:
        if not gbrank.LOSSES[name].needs_groups:
            continue
        limit = getattr(gbrank.LOSSES[name], "max_list_size", None)
        if limit is not None and n_rows > limit:  # n x n memory: refused
            continue
        command = [
            sys.executable,
            __file__,
            "--worker",
            json.dumps([name, params, n_rows]),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print("  single query", rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats")
    parser.add_argument("--single-query", type=int, default=100_000, help="0 skips")
    parser.add_argument("--output", default=str(RESULTS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    gbrank.set_num_threads(THREADS)
    if args.worker:
        print(json.dumps(single_query_worker(*json.loads(args.worker))))
        return 0
    started = time.perf_counter()
    data = make_ranking(
        args.rows // 100, 100, 136, vary_group_size=False, dtype=np.float32,
        random_state=0,
    )  # fmt: skip
    train, test = split_by_query(data, 0.2, random_state=0)
    command = (
        f"python benchmarks/run.py --rows {args.rows} --rounds {args.rounds} "
        f"--repeats {args.repeats} --single-query {args.single_query}"
    )
    lines = [
        "## Speed",
        "",
        f"Date: {datetime.date.today()}; machine: {machine()}; command: `{command}`.",
        "",
        f"Data: `make_ranking({args.rows // 100}, 100, 136, vary_group_size=False, "
        f"dtype=float32)`: {data.y.size:,} rows; training on 80 % of the queries, "
        f"NDCG@10 on the rest. Medians of {args.repeats} repeats.",
        "",
        f"### One objective call on {train.y.size:,} rows (seconds)",
        "",
        "`step`: `booster_grad_hess`, what the boosters get (default booster step); "
        "`exact`: `grad_hess`.",
        "",
        md_table(
            objective_rows(train, args.repeats),
            [
                ("loss", "loss", "s"),
                ("step", "step s", ".4f"),
                ("exact", "exact s", ".4f"),
            ],
        ),
        "",
    ]
    for engine in TRAINED:
        lines += [
            f"### Training, {engine}: {args.rounds} rounds, 31 leaves, "
            f"{THREADS} threads",
            "",
            md_table(
                training_rows(engine, train, test, args.rounds, args.repeats),
                [
                    ("objective", "objective", "s"),
                    ("per_round", "s/round", ".3f"),
                    ("ratio", "ratio to first native", ".2f"),
                    ("ndcg10", f"NDCG@10 after {args.rounds} rounds", ".4f"),
                ],
            ),
            "",
        ]
    if args.single_query:
        lines += [
            f"### One query of {args.single_query:,} rows "
            "(seconds; a fresh subprocess each)",
            "",
            md_table(
                single_query_rows(args.single_query),
                [
                    ("loss", "loss", "s"),
                    ("step", "step s", ".3f"),
                    ("exact", "exact s", ".3f"),
                    ("rss_mb", "peak RSS MiB", ".0f"),
                ],
            ),
            "",
        ]
    lines.append(f"Benchmark time: {time.perf_counter() - started:.0f} s.")
    write_section("speed", lines, Path(args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
