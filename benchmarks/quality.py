"""Long-list quality benchmark: every ranking loss next to the native objectives.

Usage::

    python benchmarks/quality.py [--seeds 0,1] [--rounds 100] [--output FILE]

Data: ``make_ranking(n_queries=600, docs_per_query=100, n_features=40,
vary_group_size=False, random_state=seed)`` for each seed, the first 300 queries
for training and the last 300 held out (long lists, as MSLR-WEB), and the
bundled sample (``load_sample("train")`` -> ``load_sample("test")``, ~15 rows per
query). Every model trains at the estimators' defaults (learning rate 0.1, 100
rounds, the engine's default trees, ``reg_lambda=1``, ``min_child_weight=1``, 2
threads) through the same
``Engine.train``: gbrank losses as ``GBRankRegressor(loss=...)`` would, native
objectives by name. Reported: held-out NDCG@10 and seconds per round. The
results replace the ``quality`` section of ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _report import RESULTS, machine, write_section

import gbrank
from gbrank import _compare
from gbrank.datasets import RankingData, load_sample, make_ranking
from gbrank.engines import available_engines, get_engine

THREADS = 2


def objectives() -> list[gbrank.Loss]:
    """Every registered ranking loss at its defaults, LambdaMART, and the exact
    booster step of RankNet and LambdaMART for comparison."""
    losses = [gbrank.get_loss(name) for name in _compare.ranking_losses()]
    lambdamart = gbrank.get_loss("pairwise_logistic", lambda_weight="ndcg")
    exact = [
        gbrank.get_loss("pairwise_logistic", step="exact"),
        gbrank.get_loss("pairwise_logistic", lambda_weight="ndcg", step="exact"),
    ]
    return [*losses, lambdamart, *exact]


def label(objective: gbrank.Loss | str) -> str:
    if isinstance(objective, str):
        return f"{objective} (native)"
    params = objective.get_params()
    name = objective.name
    if params.get("lambda_weight") == "ndcg":
        name += " + ndcg (LambdaMART)"
    if params.get("step") == "exact":
        name += ", exact step"
    return name


def long_lists(seed: int) -> tuple[RankingData, RankingData]:
    data = make_ranking(
        n_queries=600,
        docs_per_query=100,
        n_features=40,
        vary_group_size=False,
        random_state=seed,
    )
    cut = 300 * 100
    train = RankingData(data.X[:cut], data.y[:cut], data.group[:300], data.qid[:cut])
    test = RankingData(data.X[cut:], data.y[cut:], data.group[300:], data.qid[cut:])
    return train, test


@dataclass
class Result:
    engine: str
    objective: str
    dataset: str
    ndcg10: float
    seconds_per_round: float


def run(rounds: int, seeds: list[int]) -> list[Result]:
    datasets = {f"long lists, seed {seed}": long_lists(seed) for seed in seeds}
    datasets["bundled sample"] = (load_sample("train"), load_sample("test"))
    # the estimators' defaults (the leaf regularisation included)
    settings = gbrank.GBRankRegressor(n_estimators=rounds, n_jobs=THREADS)._settings(
        None
    )
    results = []
    gbrank.set_num_threads(THREADS)
    for engine in available_engines():
        for objective in [*get_engine(engine).native_objectives, *objectives()]:
            for name, (train, test) in datasets.items():
                _, fitted = _compare.fit(objective, engine, settings, train, test)
                result = Result(
                    engine,
                    label(objective),
                    name,
                    fitted.scores["ndcg@10"],
                    fitted.fit_seconds / rounds,
                )
                results.append(result)
                seconds = result.seconds_per_round
                print(
                    f"{engine:9} {result.objective:40} {name:22} "
                    f"ndcg@10 {result.ndcg10:.4f} {seconds:.4f} s/round",
                    flush=True,
                )
    return results


def table(results: list[Result], seeds: list[int]) -> list[str]:
    long_names = [f"long lists, seed {seed}" for seed in seeds]
    lines = []
    for engine in available_engines():
        rows = [r for r in results if r.engine == engine]
        names = list(dict.fromkeys(r.objective for r in rows))
        lines += [
            f"### {engine}",
            "",
            "| objective | long lists, mean | "
            + " | ".join(f"seed {s}" for s in seeds)
            + " | bundled sample | s/round (long lists) |",
            "|---|---|" + "---|" * len(seeds) + "---|---|",
        ]
        scored = []
        for objective in names:
            by_data = {r.dataset: r for r in rows if r.objective == objective}
            long = [by_data[n].ndcg10 for n in long_names]
            speed = np.mean([by_data[n].seconds_per_round for n in long_names])
            scored.append((np.mean(long), objective, long, by_data, speed))
        for mean, objective, long, by_data, speed in sorted(scored, reverse=True):
            lines.append(
                f"| {objective} | {mean:.4f} | "
                + " | ".join(f"{v:.4f}" for v in long)
                + f" | {by_data['bundled sample'].ndcg10:.4f} | {speed:.3f} |"
            )
        lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    results = run(args.rounds, seeds)
    section = [
        "## Long-list quality (held-out NDCG@10)",
        "",
        f"Date: {datetime.date.today()}; machine: {machine()}; command: "
        f"`python benchmarks/quality.py --seeds {args.seeds} --rounds {args.rounds}`.",
        "",
        "Every model at the estimators' defaults: learning rate 0.1, "
        f"{args.rounds} rounds, the engine's default trees (LightGBM 31 leaves, "
        "XGBoost depth 6; `reg_lambda=1`, `min_child_weight=1` on both). Long lists: "
        "`make_ranking(600, 100, 40, vary_group_size=False, random_state=seed)`, "
        "first 300 queries train, last 300 test. Bundled sample: rank.train -> "
        "rank.test. Sorted by the long-list mean.",
        "",
        *table(results, seeds),
    ]
    write_section("quality", section, Path(args.output))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
