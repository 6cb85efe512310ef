"""Position bias: learn from logged clicks, rank by true relevance.

Simulates click logs: graded relevance from ``make_ranking``, a noisy logging
ranker that also favours an irrelevant "promotion" feature, and users who look at
position k with probability 1/k and click a looked-at row with a probability
that grows with its relevance. Three rankers are trained on the clicks with
``sigmoid_cross_entropy`` (ml4ir's pointwise click loss):

(i)   no correction: it learns where rows were shown, promotion feature included;
(ii)  learned per-position offsets (``position_bias="learned"``);
(iii) inverse-propensity weights with the true curve (``position_bias="ipw"``).

It prints NDCG@10 against the TRUE relevance on held-out queries and the learned
offsets next to the true log examination probabilities log(1/k).

Run: ``python examples/position_bias.py`` (about 30 s on 2 idle cores).
"""

from __future__ import annotations

import numpy as np

from gbrank import GBRankRegressor
from gbrank.datasets import make_ranking

N_QUERIES, N_TRAIN, DOCS = 2000, 1500, 20


def simulate(seed: int = 0):
    """Features, true labels, query ids, display positions and clicks."""
    rng = np.random.default_rng(seed)
    X, y, _, qid = make_ranking(
        n_queries=N_QUERIES,
        docs_per_query=DOCS,
        n_features=10,
        vary_group_size=False,
        noise=0.0,
        random_state=seed,
    )
    n_rows = y.size
    # the logging ranker: a linear fit of the labels on a fifth of the rows
    # (an older model), plus a strong weight on an irrelevant promotion feature
    promotion = rng.standard_normal(n_rows)
    design = np.column_stack([X, np.ones(n_rows)])
    old = rng.random(n_rows) < 0.2
    coef = np.linalg.lstsq(design[old], y[old], rcond=None)[0]
    logged = design @ coef
    logged = logged / logged.std() + 2.0 * promotion + rng.normal(0, 0.5, n_rows)
    # display position 1, 2, ... by the logging score within each query
    position = np.empty(n_rows, dtype=np.int64)
    for q in range(N_QUERIES):
        rows = np.flatnonzero(qid == q)
        position[rows[np.argsort(-logged[rows], kind="stable")]] = np.arange(
            1, rows.size + 1
        )
    examined = rng.random(n_rows) < 1.0 / position  # p(k) = (1/k)^1
    attractive = 0.05 + 0.95 * (2.0**y - 1) / (2.0 ** y.max() - 1)
    click = (examined & (rng.random(n_rows) < attractive)).astype(np.float64)
    return np.column_stack([X, promotion]), y, qid, position, click


def main() -> None:
    X, y, qid, position, click = simulate()
    train, test = qid < N_TRAIN, qid >= N_TRAIN
    print(f"{train.sum()} training rows, {click[train].mean():.3f} click rate")
    settings = {
        "loss": "sigmoid_cross_entropy",
        "n_estimators": 150,
        "learning_rate": 0.1,
        "num_leaves": 15,
        "booster_params": {"min_data_in_leaf": 50},
        "random_state": 0,
        "n_jobs": 2,
    }
    results = {}
    for name in (None, "learned", "ipw"):
        ranker = GBRankRegressor(position_bias=name, **settings)
        if name is None:
            ranker.fit(X[train], click[train], qid=qid[train])
        else:
            ranker.fit(X[train], click[train], qid=qid[train], position=position[train])
        # NDCG@10 of the true graded relevance on held-out queries
        results[name] = (ranker.score(X[test], y[test], qid=qid[test]), ranker)
    for name, label in [
        (None, "no correction"),
        ("learned", "learned offsets"),
        ("ipw", "IPW, p(k) = 1/k"),
    ]:
        print(f"NDCG@10 vs true relevance, {label:16s}: {results[name][0]:.4f}")

    offsets = results["learned"][1].position_offsets_
    truth = np.log(1.0 / np.arange(1, offsets.size + 1))
    print("position  learned offset  log(1/k)")
    for k in (1, 2, 3, 5, 10, 15, 20):
        print(f"{k:8d}  {offsets[k - 1]:14.2f}  {truth[k - 1]:8.2f}")
    print(f"correlation with log(1/k): {np.corrcoef(offsets, truth)[0, 1]:.3f}")


if __name__ == "__main__":
    main()
