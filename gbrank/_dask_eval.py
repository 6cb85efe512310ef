"""Eval sets on Dask: checked partitions, exact per-round metrics, early stopping.

The machinery behind ``fit(eval_set=..., early_stopping_rounds=...)`` of
:mod:`gbrank.dask` (whose docstring says what it computes and why), and the
partition helpers both modules share. Dask is imported only inside functions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from gbrank._groups import as_query_ids, groups_from_sizes, shared_query
from gbrank._validation import as_float_array, check_nonnegative
from gbrank.engines import Engine
from gbrank.losses import Loss
from gbrank.metrics import RankingMetric

if TYPE_CHECKING:
    from distributed import Client

Array = NDArray[np.float64]

# -- partitions -----------------------------------------------------------------------


def qid_runs(part: Any, index: int) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """Ids and lengths of the runs of equal query ids in partition ``index``."""
    ids = np.asarray(part).ravel()
    if ids.size == 0:
        return ids, np.zeros(0, dtype=np.int64)
    # NaN or mixed kinds raise, naming the row
    ids = as_query_ids(ids, ids.size, f"qid of partition {index}")
    starts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    bounds = np.concatenate(([0], starts, [ids.size]))
    return ids[bounds[:-1]], np.diff(bounds).astype(np.int64)


def partitions(collection: Any) -> list[Any]:
    """Delayed partitions (row blocks) of a Dask Series/DataFrame/Array."""
    parts = collection.to_delayed()
    return list(np.asarray(parts, dtype=object).ravel())


def query_sizes(
    runs: Sequence[tuple[NDArray[Any], NDArray[np.int64]]], where: str = ""
) -> list[NDArray[np.int64]]:
    """Group sizes per partition from its runs of query ids; raise on a split query.

    ``where`` prefixes the messages (e.g. ``"eval_set[0]: "``).
    """

    def contiguous_ids() -> Iterator[list[Any]]:
        # checked as shared_query reads them: a partition's own error comes first
        for index, (ids, _) in enumerate(runs):
            unique, counts = np.unique(ids, return_counts=True)
            if unique.size != ids.size:
                repeated = unique[counts > 1][0].item()
                raise ValueError(
                    f"{where}query id {repeated!r} is not contiguous in partition "
                    f"{index}: the rows of a query must be adjacent. Sort the rows "
                    "by qid, e.g. with gbrank.dask.partition_by_query."
                )
            yield ids.tolist()

    shared = shared_query(contiguous_ids())
    if shared is not None:
        value, first, index = shared
        raise ValueError(
            f"{where}query id {value!r} straddles partitions {first} and "
            f"{index}: all rows of a query must be in one partition (each "
            "worker computes the gradients and metrics of its own "
            "partitions). Repartition with "
            "gbrank.dask.partition_by_query(X, y, qid)."
        )
    return [sizes for _, sizes in runs]


def check_dask(
    X: Any, *others: Any, names: Sequence[str] = ("X", "y", "qid", "sample_weight")
) -> None:
    import dask.array as da
    import dask.dataframe as dd

    kinds = (da.Array, dd.DataFrame, dd.Series)
    for name, value in zip(names, (X, *others), strict=False):
        if value is not None and not isinstance(value, kinds):
            raise TypeError(
                f"{name} must be a Dask Array, DataFrame or Series, got "
                f"{type(value).__name__}; use to_local() for in-memory data."
            )
        if value is not None and value.npartitions != X.npartitions:
            raise ValueError(
                f"{name} has {value.npartitions} partitions but {names[0]} has "
                f"{X.npartitions}; partition them alike (partition_by_query)."
            )


# -- eval sets and early stopping -----------------------------------------------------


class NDCGScorer:
    """A ranker's eval metric, NDCG@10: per-query values summed per partition.

    Unweighted, as for :class:`gbrank.GBRankRegressor` (the engines' ranking
    evals read no weights).
    """

    name = "ndcg@10"
    higher_is_better = True

    def __init__(self) -> None:
        self.metric = RankingMetric(metric="ndcg", k=10)

    def labels(self, y: Any, where: str) -> Array:
        """Return the relevance labels as float64 (bad ones raise, naming ``where``)."""
        return as_float_array(np.asarray(y).ravel(), f"{where} y", ndim=(1,))

    def parts(
        self, labels: Array, scores: Array, sizes: Any, weights: Array | None
    ) -> tuple[float, float | None]:
        """Return the sum of the per-query NDCG@10 and the number of queries."""
        values = self.metric.per_query(
            labels, scores, groups_from_sizes(sizes, labels.size)
        )
        return float(values.sum()), float(values.size)


class LossScorer:
    """A classifier's eval metric: its loss with the loss's default reduction."""

    higher_is_better = False

    def __init__(self, loss: Loss, classes: NDArray[Any]) -> None:
        self.loss = loss
        self.classes = classes
        self.name = loss.name

    def labels(self, y: Any, where: str) -> Array:
        """Return the class labels as class indices (unseen labels raise)."""
        labels = np.asarray(y).ravel()
        last = self.classes.size - 1
        codes = np.minimum(np.searchsorted(self.classes, labels), last)
        unseen = self.classes[codes] != labels
        if unseen.any():
            raise ValueError(
                f"{where} y holds the label {labels[unseen][0]!r}, which is not "
                f"one of the training classes {self.classes.tolist()}."
            )
        return codes.astype(np.float64)

    def parts(
        self, labels: Array, scores: Array, sizes: Any, weights: Array | None
    ) -> tuple[float, float | None]:
        """Return the summed loss of a partition and its reduction's divisor."""
        return self.loss.loss_parts(labels, scores, sample_weight=weights)


Scorer = NDCGScorer | LossScorer


@dataclass(frozen=True)
class EvalPart:
    """One non-empty partition of an eval set persisted on the cluster.

    ``X``, ``y`` and ``weight`` (None: none) are Dask delayed objects; ``sizes``
    the group sizes of its queries (rankers) or None.
    """

    index: int
    X: Any
    y: Any
    weight: Any
    sizes: NDArray[np.int64] | None


@dataclass(frozen=True)
class EvalSets:
    """Checked eval sets: their non-empty partitions, per set.

    ``persisted`` holds the persisted collections: their partitions stay in
    cluster memory as long as this object lives.
    """

    parts: list[list[EvalPart]]
    persisted: list[Any]


def _n_features(X: Any) -> int:
    return len(X.columns) if hasattr(X, "columns") else int(X.shape[1])


def _partition_layout(
    X: Any, y: Any, weight: Any, qid: Any, index: int
) -> tuple[list[int | None], Any]:
    """Row counts of a partition's ``X``, ``y``, weights, qid; runs of its qid."""
    counts = [None if part is None else len(part) for part in (X, y, weight, qid)]
    return counts, None if qid is None else qid_runs(qid, index)


def _check_eval_args(
    X: Any,
    eval_set: Any,
    eval_qid: Sequence[Any] | None,
    eval_sample_weight: Sequence[Any] | None,
    ranking: bool,
) -> list[list[Any]]:
    """Check types, partition counts and columns; ``[X, y, weight, qid]`` per set."""
    import dask.array as da

    if not isinstance(eval_set, (list, tuple)):
        raise TypeError(
            "eval_set must be a list of (X, y) pairs of Dask collections, got "
            f"{type(eval_set).__name__}."
        )
    extras = {"eval_qid": eval_qid, "eval_sample_weight": eval_sample_weight}
    for name, values in extras.items():
        if values is not None and len(values) != len(eval_set):
            raise ValueError(
                f"{name} has {len(values)} entries for {len(eval_set)} eval sets; "
                "pass one per eval set."
            )
    sets = []
    for i, pair in enumerate(eval_set):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"eval_set[{i}] must be a pair (X, y), got {pair!r}.")
        Xi, yi = pair
        qid = None if eval_qid is None else eval_qid[i]
        weight = None if eval_sample_weight is None else eval_sample_weight[i]
        if ranking and qid is None:
            raise ValueError(
                f"eval_set[{i}] has no query ids: pass eval_qid=[...], for each "
                "eval set a Dask collection of the query id of every row, "
                "partitioned like it, each query inside one partition "
                "(gbrank.dask.partition_by_query)."
            )
        names = [f"eval_set[{i}] X", f"eval_set[{i}] y", f"eval_qid[{i}]"]
        check_dask(Xi, yi, qid, weight, names=[*names, f"eval_sample_weight[{i}]"])
        if _n_features(Xi) != _n_features(X):
            raise ValueError(
                f"eval_set[{i}] X has {_n_features(Xi)} features, but the training "
                f"X has {_n_features(X)}."
            )
        columns = [list(getattr(data, "columns", [])) for data in (Xi, X)]
        if all(columns) and columns[0] != columns[1]:
            raise ValueError(
                f"eval_set[{i}] X has the columns {columns[0]}, but the training X "
                f"has {columns[1]}; select and order them alike."
            )
        if isinstance(Xi, da.Array):
            Xi = Xi.rechunk({1: -1})  # one block per row partition
        sets.append([Xi, yi, weight, qid])
    return sets


def eval_sets(
    client: Client,
    X: Any,
    eval_set: Any,
    eval_qid: Sequence[Any] | None,
    eval_sample_weight: Sequence[Any] | None,
    ranking: bool,
) -> EvalSets:
    """Check the eval sets and persist them on the cluster (None: no eval sets).

    The partitions of each eval set's ``X``, ``y``, weights and query ids must
    hold the same rows and, for rankers, whole queries; all of it is checked
    before any training. The sets stay in cluster memory until they are scored,
    so that they are read (or shuffled) once.
    """
    import dask

    if eval_set is None:
        return EvalSets([], [])
    sets = _check_eval_args(X, eval_set, eval_qid, eval_sample_weight, ranking)
    present = [c for collections in sets for c in collections if c is not None]
    persisted = client.persist(present)
    stored = iter(persisted)
    blocks = []  # per set: per partition, the blocks of X, y, weight, qid
    for collections in sets:
        n_parts = collections[0].npartitions
        parts = [
            [None] * n_parts if c is None else partitions(next(stored))
            for c in collections
        ]
        blocks.append(list(zip(*parts, strict=True)))
    tasks = [
        [dask.delayed(_partition_layout)(*part, index) for index, part in enumerate(b)]
        for b in blocks
    ]
    result = []
    for i, layout in enumerate(client.gather(client.compute(tasks))):
        lengths = [counts[0] for counts, _ in layout]
        names = [f"eval_set[{i}] y", f"eval_sample_weight[{i}]", f"eval_qid[{i}]"]
        for index, (counts, _) in enumerate(layout):
            for name, n_rows in zip(names, counts[1:], strict=True):
                if n_rows is not None and n_rows != counts[0]:
                    raise ValueError(
                        f"partition {index} of eval_set[{i}] X has {counts[0]} "
                        f"rows but {name} has {n_rows}; partition them alike "
                        "(gbrank.dask.partition_by_query)."
                    )
        if not any(lengths):
            raise ValueError(f"eval_set[{i}] has no rows.")
        sizes: list[Any] = [None] * len(layout)
        if ranking:
            where = f"eval_set[{i}] (eval_qid[{i}]): "
            sizes = query_sizes([runs for _, runs in layout], where)
        result.append(
            [
                EvalPart(index, part[0], part[1], part[2], sizes[index])
                for index, part in enumerate(blocks[i])
                if lengths[index]
            ]
        )
    return EvalSets(result, persisted)


def _score_partition(
    engine: Engine,
    booster: Any,
    n_rounds: int,
    scorer: Scorer,
    X: Any,
    y: Any,
    weight: Any,
    sizes: NDArray[np.int64] | None,
    where: str,
) -> tuple[Array, float | None]:
    """Numerator of the eval metric after each round on one partition, divisor.

    Runs on the worker that holds the partition; scores come round by round
    from ``engine.staged_raw_scores`` (equal to the fitted model's predictions
    with that many rounds).
    """
    labels = scorer.labels(y, where)
    weights = None
    if weight is not None:
        weights = as_float_array(
            np.asarray(weight).ravel(), f"{where} weights", ndim=(1,)
        )
        check_nonnegative(weights, f"{where} weights")
    features = X.to_numpy() if hasattr(X, "to_numpy") else X
    totals = np.empty(n_rounds)
    divisor = None
    staged = engine.staged_raw_scores(booster, features, n_rounds)
    for index, scores in enumerate(staged):
        totals[index], divisor = scorer.parts(labels, scores, sizes, weights)
    return totals, divisor


def score_eval_sets(
    client: Client,
    engine: Engine,
    booster: Any,
    n_rounds: int,
    scorer: Scorer,
    evals: EvalSets,
) -> list[Array]:
    """Return the eval metric of every eval set after each round, exactly.

    Each partition's numerator (e.g. the sum of per-query NDCG) and divisor (the
    number of queries) are added up over the partitions, then divided: the
    metric of the whole eval set, as on one machine.
    """
    import dask

    model = client.scatter(booster)
    tasks = [
        [
            dask.delayed(_score_partition)(
                engine,
                model,
                n_rounds,
                scorer,
                part.X,
                part.y,
                part.weight,
                part.sizes,
                f"eval_set[{i}] partition {part.index}",
            )
            for part in parts
        ]
        for i, parts in enumerate(evals.parts)
    ]
    curves = []
    for results in client.gather(client.compute(tasks)):
        totals = np.sum([total for total, _ in results], axis=0)
        divisors = [divisor for _, divisor in results]
        if divisors[0] is None:
            curves.append(totals)
        else:
            count = float(np.sum(divisors))
            curves.append(totals / count if count else np.zeros(n_rounds))
    return curves


def early_stopping(
    curve: Array, rounds: int, higher_is_better: bool
) -> tuple[int, int]:
    """Return the rounds trained and the best round of early stopping on a curve.

    The rule of ``lightgbm.early_stopping`` and XGBoost's ``EarlyStopping``:
    after each round, a strictly better value makes it the best round; training
    stops once ``rounds`` rounds have passed since the best one. Returns the
    number of rounds trained until then and the best round (both 1-based).
    """
    best = 0
    for index in range(1, len(curve)):
        value, top = curve[index], curve[best]
        if value > top if higher_is_better else value < top:
            best = index
        elif index - best >= rounds:
            return index + 1, best + 1
    return len(curve), best + 1
