"""Benchmark gbrank objectives against native LightGBM/XGBoost ranking objectives.

Usage::

    python benchmarks/run.py [--sizes 100000,1000000] [--quick] [--rounds 20]
                             [--single-query 100000] [--output benchmarks/results.md]

Measured in one run, on ``gbrank.datasets.make_ranking(n_queries, docs_per_query=100,
n_features=136)`` (float32 features, 100 rows per query) at every size, and on the
bundled sample (``load_sample``):

1. one ``grad_hess`` call per loss: the first call (numba compile or cache load)
   and the median of several calls;
2. end-to-end training, 80 % of the queries, equal tree settings (31 leaves,
   depth 6, histogram, 2 threads): gbrank objectives vs LightGBM ``lambdarank`` /
   ``rank_xendcg`` and XGBoost ``rank:pairwise`` / ``rank:ndcg``, wall-time ratios
   to the native objective in the same run, NDCG@10 on the held-out 20 %;
3. one query of ``--single-query`` rows for every ranking loss, each in its own
   subprocess: time of one ``grad_hess`` call and peak resident memory.

Peak memory: ``tracemalloc`` (Python/numpy allocations) around a ``grad_hess``
call, and the peak RSS (``VmHWM``) of each single-query subprocess. Results
go to a Markdown file with the date, machine and versions.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import lightgbm as lgb
import numba  # its version goes into the results
import numpy as np
import xgboost as xgb

import gbrank
from gbrank.datasets import load_sample, make_ranking
from gbrank.metrics import ndcg

HERE = Path(__file__).resolve().parent
THREADS = 2
GRAD_LOSSES = [
    ("listnet", {}),
    ("softmax", {}),
    ("rank_one_listnet", {}),
    ("listmle", {}),
    ("pairwise_hinge", {}),
    ("pairwise_mse", {}),
    ("pairwise_logistic", {}),
    ("pairwise_soft_zero_one", {}),
    ("pairwise_logistic", {"lambda_weight": "ndcg"}),
    ("sigmoid_cross_entropy", {}),
    ("poly1_softmax", {}),
    ("unique_softmax", {}),
    ("approx_ndcg", {}),
    ("approx_mrr", {}),
    ("gumbel_approx_ndcg", {}),
    ("neural_ndcg", {}),
]
LGB_RUNS = [
    ("native", "lambdarank", None),
    ("native", "rank_xendcg", None),
    ("gbrank", "listnet", {}),
    ("gbrank", "pairwise_logistic", {"lambda_weight": "ndcg"}),
    ("gbrank", "pairwise_hinge", {}),
]
XGB_RUNS = [
    ("native", "rank:pairwise", None),
    ("native", "rank:ndcg", None),
    ("gbrank", "listnet", {}),
    ("gbrank", "pairwise_logistic", {}),
    ("gbrank", "pairwise_hinge", {}),
]


def label(name: str, params: dict | None) -> str:
    if not params:
        return name
    return name + "(" + ", ".join(f"{k}={v!r}" for k, v in params.items()) + ")"


def loss_labels(loss: gbrank.Loss, y: np.ndarray) -> np.ndarray:
    """Labels in the loss's domain: clicks (label >= 1) for [0, 1] losses."""
    if loss.label_bounds == (0.0, 1.0):
        return (y >= 1).astype(np.float64)
    return y


def time_grad(name: str, params: dict, y, group, repeats: int) -> dict:
    loss = gbrank.get_loss(name, **params)
    labels = loss_labels(loss, y)
    scores = np.random.default_rng(0).normal(size=y.size)
    start = time.perf_counter()
    loss.grad_hess(labels, scores, group=group)
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        loss.grad_hess(labels, scores, group=group)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    loss.grad_hess(labels, scores, group=group)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "loss": label(name, params),
        "first_s": first,
        "median_s": float(np.median(times)),
        "min_s": float(np.min(times)),
        "traced_mb": peak / 2**20,
    }


def split_queries(data, fraction=0.8, seed=0):
    offsets = np.concatenate(([0], np.cumsum(data.group)))
    n_train = int(len(data.group) * fraction)
    cut = offsets[n_train]
    return (
        (data.X[:cut], data.y[:cut], data.group[:n_train]),
        (data.X[cut:], data.y[cut:], data.group[n_train:]),
    )


def train_lightgbm(kind, name, params, train, test, rounds):
    X, y, group = train
    booster_params = {
        "num_leaves": 31,
        "max_depth": 6,
        "learning_rate": 0.1,
        "min_data_in_leaf": 50,
        "num_threads": THREADS,
        "verbose": -1,
        "seed": 0,
        "deterministic": True,
    }
    if kind == "native":
        booster_params["objective"] = name
    else:
        booster_params["objective"] = gbrank.get_loss(name, **params).lgb_objective
    dataset = lgb.Dataset(X, y, group=group, free_raw_data=False)
    dataset.construct()  # binning is the same for every objective: not timed
    start = time.perf_counter()
    booster = lgb.train(booster_params, dataset, num_boost_round=rounds)
    seconds = time.perf_counter() - start
    X_test, y_test, group_test = test
    score = ndcg(y_test, booster.predict(X_test), group=group_test, k=10)
    return seconds, score


def train_xgboost(kind, name, params, train, test, rounds):
    X, y, group = train
    qid = np.repeat(np.arange(len(group)), group)
    booster_params = {
        "tree_method": "hist",
        "max_depth": 6,
        "max_leaves": 31,
        "learning_rate": 0.1,
        "min_child_weight": 1e-3,
        "nthread": THREADS,
        "seed": 0,
        "base_score": 0.0,
    }
    dtrain = xgb.DMatrix(X, y, qid=qid, nthread=THREADS)
    obj = None
    if kind == "native":
        booster_params["objective"] = name
    else:
        obj = gbrank.get_loss(name, **params).xgb_objective
    start = time.perf_counter()
    booster = xgb.train(booster_params, dtrain, num_boost_round=rounds, obj=obj)
    seconds = time.perf_counter() - start
    X_test, y_test, group_test = test
    dtest = xgb.DMatrix(X_test, nthread=THREADS)
    score = ndcg(y_test, booster.predict(dtest, output_margin=True), group=group_test)
    return seconds, score


def training_table(engine, runs, train, test, rounds, repeats):
    trainer = train_lightgbm if engine == "lightgbm" else train_xgboost
    rows = []
    for kind, name, params in runs:
        results = [trainer(kind, name, params, train, test, rounds)]
        results += [
            trainer(kind, name, params, train, test, rounds) for _ in range(repeats - 1)
        ]
        seconds = float(np.median([r[0] for r in results]))
        rows.append(
            {
                "engine": engine,
                "objective": (kind + " " + label(name, params)),
                "seconds": seconds,
                "ndcg10": results[0][1],
            }
        )
    return rows


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM; reset by exec, unlike
    ``ru_maxrss``, which Linux carries over from the forking parent)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def single_query_worker(name: str, params: dict, n_rows: int) -> dict:
    loss = gbrank.get_loss(name, **params)
    data = make_ranking(1, n_rows, 1, vary_group_size=False, random_state=0)
    labels = loss_labels(loss, data.y)
    scores = np.random.default_rng(1).normal(size=n_rows)
    group = [n_rows]
    loss.grad_hess(labels[:1000], scores[:1000], group=[1000])  # compile / load
    rss_before = peak_rss_mb()
    start = time.perf_counter()
    grad, hess = loss.grad_hess(labels, scores, group=group)
    seconds = time.perf_counter() - start
    rss = peak_rss_mb()
    return {
        "loss": label(name, params),
        "seconds": seconds,
        "finite": bool(np.isfinite(grad).all() and (hess > 0).all()),
        "maxrss_mb": rss,
        "rss_growth_mb": rss - rss_before,
    }


def single_query_table(n_rows: int) -> list[dict]:
    rows = []
    for name, params in GRAD_LOSSES:
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
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print("  single query", rows[-1], flush=True)
    return rows


def md_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    head = "| " + " | ".join(title for _, title, _ in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = [
        "| " + " | ".join(format(row[key], fmt) for key, _, fmt in columns) + " |"
        for row in rows
    ]
    return "\n".join([head, rule, *body])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()}, {cpu}, "
        f"os.cpu_count()={os.cpu_count()}, kernel threads={gbrank.get_num_threads()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="100000,1000000", help="rows, comma-separated"
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats and rounds")
    parser.add_argument("--rounds", type=int, default=20, help="boosting rounds")
    parser.add_argument("--single-query", type=int, default=100_000, help="0 skips")
    parser.add_argument("--output", default=str(HERE / "results.md"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        name, params, n_rows = json.loads(args.worker)
        print(json.dumps(single_query_worker(name, params, n_rows)))
        return 0
    gbrank.set_num_threads(THREADS)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    grad_repeats = 3 if args.quick else 7
    train_repeats = 1 if args.quick else 2
    rounds = 5 if args.quick else args.rounds
    started = time.perf_counter()
    lines = [
        "# gbrank benchmarks",
        "",
        f"Date: {datetime.date.today().isoformat()}  ",
        f"Machine: {machine()}  ",
        f"Versions: gbrank {gbrank.__version__}, lightgbm {lgb.__version__}, "
        f"xgboost {xgb.__version__}, numba {numba.__version__}, "
        f"numpy {np.__version__}, "
        f"Python {platform.python_version()}  ",
        f"Command: `python benchmarks/run.py --sizes {args.sizes}"
        + (" --quick" if args.quick else "")
        + f" --rounds {rounds} --single-query {args.single_query}`",
        "",
        "Synthetic data: `make_ranking(n_queries, docs_per_query=100, n_features=136,"
        " vary_group_size=False, dtype=float32)`. Training: 80 % of the queries,"
        f" {rounds} rounds, 31 leaves, max depth 6, histogram, {THREADS} threads,"
        " learning rate 0.1; NDCG@10 on the other 20 %. Times are medians"
        f" ({grad_repeats} grad calls, {train_repeats} trainings); ratios are to the"
        " first native objective of the same engine, measured in the same run."
        " Other processes may have loaded the machine.",
        "",
    ]
    datasets = [(f"make_ranking {n:,} rows", n) for n in sizes] + [("sample", 0)]
    for title, n_rows in datasets:
        if n_rows:
            data = make_ranking(
                n_rows // 100, 100, 136, vary_group_size=False,
                dtype=np.float32, random_state=0,
            )  # fmt: skip
        else:
            data = load_sample("train")
        print(f"{title}: {data.y.size} rows, {len(data.group)} queries", flush=True)
        lines += [f"## {title} ({data.y.size:,} rows, {len(data.group):,} queries)", ""]
        grad_rows = []
        for name, params in GRAD_LOSSES:
            grad_rows.append(time_grad(name, params, data.y, data.group, grad_repeats))
            print("  grad", grad_rows[-1], flush=True)
        lines += [
            "One `grad_hess` call:",
            "",
            md_table(
                grad_rows,
                [
                    ("loss", "loss", "s"),
                    ("median_s", "median s", ".4f"),
                    ("min_s", "min s", ".4f"),
                    ("first_s", "first call s", ".3f"),
                    ("traced_mb", "traced peak MiB", ".1f"),
                ],
            ),
            "",
        ]
        train, test = split_queries(data)
        for engine, runs in (("lightgbm", LGB_RUNS), ("xgboost", XGB_RUNS)):
            rows = training_table(engine, runs, train, test, rounds, train_repeats)
            for row in rows:
                row["ratio"] = row["seconds"] / rows[0]["seconds"]
                row["per_round"] = row["seconds"] / rounds
                print("  train", row, flush=True)
            lines += [
                f"Training, {engine}:",
                "",
                md_table(
                    rows,
                    [
                        ("objective", "objective", "s"),
                        ("seconds", "wall s", ".2f"),
                        ("per_round", "s/round", ".3f"),
                        ("ratio", "ratio", ".2f"),
                        ("ndcg10", "NDCG@10", ".4f"),
                    ],
                ),
                "",
            ]
        del data, train, test
    if args.single_query:
        print(f"single query of {args.single_query} rows", flush=True)
        rows = single_query_table(args.single_query)
        lines += [
            f"## One query of {args.single_query:,} rows",
            "",
            "One `grad_hess` call per loss, each in a fresh subprocess (peak RSS"
            " includes the interpreter, numpy, numba and the loaded kernels; growth"
            " is the rise of the peak during the call):",
            "",
            md_table(
                rows,
                [
                    ("loss", "loss", "s"),
                    ("seconds", "s", ".3f"),
                    ("finite", "finite, hess > 0", ""),
                    ("maxrss_mb", "peak RSS MiB", ".0f"),
                    ("rss_growth_mb", "peak growth MiB", ".1f"),
                ],
            ),
            "",
        ]
    lines.append(f"Total benchmark time: {time.perf_counter() - started:.0f} s.")
    Path(args.output).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.output}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
