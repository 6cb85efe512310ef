"""Kernels at scale and the thread pool: big groups against the oracles, the
sorted and O(n) pairwise algorithms against the all-pairs kernel, kink and tie
conventions, the log-domain fallbacks, a single 20k-row query for every ranking
loss, the stable sort, chunking and interruption, and plain-int choices in
every compiled kernel's arguments."""

from __future__ import annotations

import importlib
import itertools
import math
import pkgutil
import threading
import time

import numpy as np
import pytest
from numba.core.registry import CPUDispatcher

import gbrank
import gbrank._kernels
from gbrank._kernels import threads
from gbrank._kernels.common import Rows, Terms, argsort_descending
from gbrank._kernels.lambdaweights import Gain, LambdaKind
from gbrank._kernels.pairfunctions import (
    HINGE,
    LOGISTIC,
    QUANTILE,
    SOFT_ZERO_ONE,
    SQUARED_ERROR,
)
from gbrank._kernels.pairwise import (
    LAMBDALOSS_WEIGHTS,
    LARGE_GROUP,
    PRODUCT_WEIGHTS,
    PairConfig,
    PairHessian,
    PairSelection,
    hinge_sorted,
    pair_groups,
    pair_sums,
    squared_error_sums,
    top_step_kernel,
    top_step_weights,
)
from gbrank.losses import HESSIAN_FLOOR

from . import _oracles
from ._cases import (
    LAMBDA_WEIGHTS,
    PAIRWISE_LOSSES,
    RANKING_LOSSES,
    SINGLE_SCORE_LOSSES,
    labels_for,
    make_case,
)


def big_case(loss, sizes, seed=0, grid=0.5):
    """Groups of the given sizes; scores on a grid (ties, pairs at the hinge's
    kink d = 1 exactly), labels with ties, ~15 % ignored rows, an all-ignored
    group of 5 rows."""
    rng = np.random.default_rng(seed)
    sizes = np.array([*sizes, 5])
    n = int(sizes.sum())
    labels = labels_for(loss, n, rng)
    labels[-5:] = -1.0
    scores = rng.integers(-8, 9, size=n) * grid
    return labels, scores, rng.uniform(0.5, 2.0, size=n), sizes


def oracle(loss, labels, scores, weights, sizes):
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    if loss.per_group:
        return _oracles.apply(loss, labels, scores, weights, offsets)
    parts = [
        _oracles.pairwise_dense(loss, labels[a:b], scores[a:b], weights[a:b])
        for a, b in itertools.pairwise(offsets)
    ]
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))


def check(loss, labels, scores, weights, sizes):
    values, grad, hess = oracle(loss, labels, scores, weights, sizes)
    kwargs = {"group": sizes, "sample_weight": weights}
    got = loss.loss(labels, scores, reduction="none", **kwargs)
    got_grad, got_hess = loss.grad_hess(labels, scores, **kwargs)
    np.testing.assert_allclose(got, values, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(got_grad, grad, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(got_hess, np.maximum(hess, HESSIAN_FLOOR), rtol=1e-10)


@pytest.mark.parametrize("name", PAIRWISE_LOSSES)
def test_dense_oracle_equals_loop_oracle(name):
    loss = gbrank.get_loss(name)
    case = make_case(loss, seed=4)
    check(loss, case.y_true, case.y_pred, case.sample_weight, case.group)


@pytest.mark.parametrize("name", RANKING_LOSSES)
def test_groups_of_hundreds_of_rows_match_the_oracle(name):
    loss = gbrank.get_loss(name)
    check(loss, *big_case(loss, [300, 1, 2, 700]))


HINGES = [
    gbrank.PairwiseHingeLoss(),
    gbrank.PairwiseHingeLoss(temperature=0.5),
    gbrank.PairwiseHingeLoss(temperature=0.3, hessian="constant"),
    gbrank.PairwiseHingeLoss(temperature=1.5),
]


@pytest.mark.parametrize("loss", HINGES, ids=repr)
@pytest.mark.parametrize("step", [0.5, 0.1, 1 / 3])
def test_sorted_hinge_keeps_the_kink_and_tie_conventions(loss, step):
    """Score ties, label ties and pairs with d = 1 up to rounding, on both sides:
    the O(n log n) hinge must count exactly the pairs with d < 1."""
    grid = step * loss.temperature
    labels, scores, weights, sizes = big_case(loss, [400, 3, 1200], seed=1, grid=grid)
    d = np.subtract.outer(scores[:400], scores[:400]) / loss.temperature
    assert (np.abs(d - 1.0) < 1e-12).any()
    check(loss, labels, scores, weights, sizes)


@pytest.mark.parametrize(
    ("name", "lambda_weight"),
    [
        ("pairwise_logistic", None),
        ("pairwise_soft_zero_one", "label_diff"),
        ("pairwise_hinge", "label_diff"),
        ("pairwise_mse", "label_diff"),
    ],
)
def test_groups_split_over_threads_match_the_oracle(name, lambda_weight):
    """Groups of LARGE_GROUP rows or more are split over the threads."""
    loss = gbrank.get_loss(name, lambda_weight=lambda_weight)
    size = LARGE_GROUP + 37
    check(loss, *big_case(loss, [size, 40]))


def _outputs(n_rows):
    return Terms(np.zeros(n_rows), np.zeros(n_rows), np.zeros(n_rows))


def _config(pair, temperature=1.0, hessian=PairHessian.CURVATURE):
    return PairConfig(
        pair,
        temperature,
        int(hessian),
        int(LambdaKind.NONE),
        0,
        int(Gain.LINEAR),
        need_loss=True,
    )


@pytest.mark.parametrize("temperature", [1.0, 0.7])
@pytest.mark.parametrize("hessian", list(PairHessian))
def test_sorted_hinge_equals_all_pairs_on_a_20k_row_query(temperature, hessian):
    loss = gbrank.PairwiseHingeLoss()
    labels, scores, weights, sizes = big_case(loss, [20_000], grid=0.01)
    rows = Rows(labels, scores, weights, np.concatenate(([0], np.cumsum(sizes))))
    config = _config(HINGE.code, temperature, hessian)
    fast, slow = _outputs(labels.size), _outputs(labels.size)
    hinge_sorted(rows, config, fast)
    pair_sums(rows, config, slow)
    for got, expected in zip(fast, slow, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-8)


def test_squared_error_sums_equal_all_pairs_on_a_20k_row_query():
    loss = gbrank.PairwiseMeanSquaredError()
    labels, scores, weights, sizes = big_case(loss, [20_000, 7], grid=0.01)
    rows = Rows(labels, scores, weights, np.concatenate(([0], np.cumsum(sizes))))
    fast, slow = _outputs(labels.size), _outputs(labels.size)
    config = _config(SQUARED_ERROR.code)
    squared_error_sums(rows, config, fast)
    pair_sums(rows, config, slow)
    for got, expected in zip(fast, slow, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-6)


PRODUCT_KINDS = [
    LambdaKind.NONE,
    LambdaKind.LABEL_DIFF,
    LambdaKind.DCG,
    LambdaKind.NDCG,
    LambdaKind.PRECISION,
]


def _top_step_case():
    """Groups with score and label ties, ignored rows, a singleton, an empty
    group, and one whose tempered scores spread past the logistic step's
    exponentials."""
    rng = np.random.default_rng(7)
    sizes = np.array([1, 2, 7, 30, 45, 100, 3, 0, 60])
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    n = int(offsets[-1])
    labels = rng.integers(-1, 4, n).astype(float)  # ~20 % ignored rows
    scores = rng.integers(-8, 9, n) * 0.25  # ties
    wide = slice(offsets[-2], offsets[-1])  # spread 40 / T > 600
    scores[wide] = rng.uniform(-20.0, 20.0, sizes[-1])
    return Rows(labels, scores, rng.uniform(0.5, 2.0, n), offsets)


def _assert_top_step_equals_pair_groups(rows, config, left_last):
    """top_step_kernel's sums equal pair_groups's to the bit; it leaves only
    the last group (``left_last``) to pair_groups."""
    weights = top_step_weights(config)
    assert weights is not None
    n, n_groups = rows.labels.size, rows.offsets.size - 1
    fast, slow = _outputs(n), _outputs(n)
    fast_mass, slow_mass = np.zeros(n_groups), np.zeros(n_groups)
    todo = np.ones(n_groups, dtype=np.bool_)
    top_step_kernel(config.pair, weights)(
        0, n_groups, rows, config, fast, fast_mass, todo
    )
    left = np.zeros(n_groups, dtype=np.bool_)
    left[-1] = left_last
    np.testing.assert_array_equal(todo, left)
    pair_groups(0, n_groups, rows, config, fast, fast_mass, todo)
    pair_groups(0, n_groups, rows, config, slow, slow_mass, np.ones_like(todo))
    np.testing.assert_array_equal(fast.grad, slow.grad)
    np.testing.assert_array_equal(fast.hess, slow.hess)
    np.testing.assert_array_equal(fast_mass, slow_mass)
    return slow


@pytest.mark.parametrize(
    "pair",
    [HINGE, LOGISTIC, SOFT_ZERO_ONE, QUANTILE, SQUARED_ERROR],
    ids=lambda pair: pair.name,
)
def test_top_step_kernels_equal_the_general_kernel_to_the_bit(pair):
    """The booster steps' own kernels (top_step_kernel) give pair_groups's sums
    exactly: every product lambda weight, both gains, a cutoff, score
    normalisation, both hessians, two temperatures, on the groups of
    _top_step_case (the one past the exponentials is left to pair_groups by
    the logistic step, and only that one)."""
    rows = _top_step_case()
    settings = itertools.product(
        PRODUCT_KINDS, Gain, [0, 10], [False, True], PairHessian, [1.0, 0.05]
    )
    for kind, gain, topn, normalization, hessian, temperature in settings:
        config = PairConfig(
            pair.code,
            temperature,
            int(hessian),
            int(kind),
            topn,
            int(gain),
            need_loss=False,
            selection=int(PairSelection.TOPK),
            topk=20,
            score_normalization=normalization,
            parameters=(0.3, 0.0) if pair is QUANTILE else (0.0, 0.0),
        )
        left_last = pair is LOGISTIC and temperature < 1.0
        slow = _assert_top_step_equals_pair_groups(rows, config, left_last)
        vacuous = kind == LambdaKind.PRECISION and topn == 0  # every weight 0
        assert (np.abs(slow.grad).sum() > 0.0) != vacuous


def test_lambdaloss_top_step_kernel_equals_the_general_kernel_to_the_bit():
    """LambdaLoss's booster steps in their own kernel: every LAMBDALOSS scheme
    (NDCG-Loss2, NDCG-Loss2++, ARP-Loss2 mixes, both gains), a cutoff, both
    tie orders, score normalisation, two temperatures, on the groups of
    _top_step_case."""
    rows = _top_step_case()
    mixes = [(1.0, 0.0, 0.0), (10.0, 1.0, 0.0), (0.0, 0.0, 1.0)]
    settings = itertools.product(
        mixes, Gain, [0, 5], [False, True], [False, True], [1.0, 0.05]
    )
    for mix, gain, topn, pessimistic, normalization, temperature in settings:
        config = PairConfig(
            LOGISTIC.code,
            temperature,
            int(PairHessian.CURVATURE),
            int(LambdaKind.LAMBDALOSS),
            topn,
            int(gain),
            need_loss=False,
            selection=int(PairSelection.TOPK),
            topk=20,
            score_normalization=normalization,
            mix=mix,
            pessimistic_ties=pessimistic,
        )
        slow = _assert_top_step_equals_pair_groups(rows, config, False)
        assert np.abs(slow.grad).sum() > 0.0


def test_top_step_weights_choose_the_kernels():
    """Which steps get a kernel of their own, and which stay general."""
    top = {"need_loss": False, "selection": int(PairSelection.TOPK), "topk": 30}
    args = (LOGISTIC.code, 1.0, 0)

    def config(kind, pair=LOGISTIC, **options):
        return PairConfig(pair.code, *args[1:], int(kind), 0, 0, **{**top, **options})

    assert top_step_weights(config(LambdaKind.NDCG)) == PRODUCT_WEIGHTS
    assert top_step_weights(config(LambdaKind.NONE, SQUARED_ERROR)) == PRODUCT_WEIGHTS
    assert top_step_weights(config(LambdaKind.LAMBDALOSS)) == LAMBDALOSS_WEIGHTS
    general = [
        config(LambdaKind.NDCG, need_loss=True),
        config(LambdaKind.NDCG, selection=int(PairSelection.ALL)),
        config(LambdaKind.NDCG, pessimistic_ties=True),
        config(LambdaKind.LAMBDALOSS_ROW),
        config(LambdaKind.LAMBDALOSS, SQUARED_ERROR),
        config(LambdaKind.MRR),
    ]
    assert all(top_step_weights(c) is None for c in general)


@pytest.mark.parametrize("name", RANKING_LOSSES)
def test_a_single_20k_row_query_works(name):
    """Every ranking loss on one 20,000-row query (the benchmark runs 100,000)."""
    loss = gbrank.get_loss(name)
    rng = np.random.default_rng(2)
    labels = labels_for(loss, 20_000, rng)
    scores = rng.normal(size=20_000)
    limit = getattr(loss, "max_list_size", None)  # n x n memory: a documented limit
    if limit is not None and limit < 20_000:
        with pytest.raises(ValueError, match=f"more than {limit}"):
            loss.grad_hess(labels, scores, group=[20_000])
        return
    grad, hess = loss.grad_hess(labels, scores, group=[20_000])
    value = loss.loss(labels, scores, group=[20_000])
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad))
    assert np.all(hess >= HESSIAN_FLOOR)
    assert np.all(np.isfinite(hess))


@pytest.mark.parametrize("spread", [250.0, 299.0, 301.0, 2000.0])
@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_listmle_linear_and_log_domains_agree_with_the_oracle(spread, temperature):
    """Groups whose tempered scores spread more than LINEAR_DOMAIN_SPREAD take the
    log domain; both sides of the switch match the oracle."""
    loss = gbrank.ListMLELoss(temperature=temperature)
    rng = np.random.default_rng(0)
    labels = rng.permutation(40) / 4.0
    scores = np.linspace(0.0, spread * temperature, 40)[rng.permutation(40)]
    check(loss, labels, scores, rng.uniform(0.5, 2.0, 40), np.array([40]))


def test_rank_one_listnet_top_row_far_ahead():
    """The others' probability mass underflows: log(1 - p_top) comes from the
    second-largest score, not from log(0)."""
    loss = gbrank.RankOneListNetLoss()
    labels, scores = np.array([0.0, 1.0, 0.0]), np.array([800.0, 0.0, 0.5])
    expected = (800.0 - math.log1p(math.exp(0.5))) + 800.0  # rows 0 and 1
    assert loss.loss(labels, scores, reduction="sum") == pytest.approx(expected)
    grad, hess = loss.grad_hess(labels, scores)
    share = 1.0 / (1.0 + math.exp(0.5))  # row 1's share of the others' mass
    np.testing.assert_allclose(grad, [2.0, -1.0 - share, share - 1.0], atol=1e-12)
    assert np.all(np.isfinite(hess))


# -- the stable sort ---------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 5, 24, 25, 100, 1000])
def test_argsort_descending_is_numpys_stable_sort(n):
    rng = np.random.default_rng(n)
    keys = rng.integers(0, 7, size=n).astype(float)  # many ties
    index = rng.permutation(n).astype(np.int64)
    expected = index[np.argsort(-keys[index], kind="stable")]
    np.testing.assert_array_equal(argsort_descending(keys, index), expected)


# -- the thread pool -------------------------------------------------------------------


def test_group_ranges_cover_every_group_once_with_balanced_cost():
    cost = np.random.default_rng(0).exponential(size=1000)
    bounds = threads.group_ranges(cost, 8)
    assert bounds[0] == 0
    assert bounds[-1] == 1000
    assert np.all(np.diff(bounds) > 0)
    chunk_costs = np.add.reduceat(cost, bounds[:-1])
    assert chunk_costs.max() < 2 * cost.sum() / 8


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_chunk_count_is_a_multiple_of_the_threads_of_at_most_chunk_ns(n_threads):
    """3 equal chunks on 2 threads take as long as 4: counts are whole rounds."""
    with threads.num_threads(n_threads):
        for total in (0.0, 1e6, 1.5 * threads.CHUNK_NS, 60e6, 199e6, 1e12):
            count = threads.chunk_count(total, 10**9)
            assert count % n_threads == 0
            assert count >= n_threads
            assert total / count <= threads.CHUNK_NS
            # no round more than needed
            assert count == n_threads or (count - n_threads) * threads.CHUNK_NS < total
        assert threads.chunk_count(1e12, 5) == 5  # at most one chunk per item
        assert threads.chunk_count(1e12, 0) == 1


def test_run_groups_runs_every_group_once_on_several_threads():
    seen = np.zeros(5000, dtype=np.int64)
    names = set()
    lock = threading.Lock()

    def kernel(first, stop):
        with lock:
            names.add(threading.current_thread().name)
        seen[first:stop] += 1
        time.sleep(0.005)  # long enough for the second worker to start

    with threads.num_threads(2):
        threads.run_groups(kernel, np.full(5000, 1e4))  # 50 ms of estimated work
    np.testing.assert_array_equal(seen, 1)
    assert len(names) == 2


def test_small_work_runs_in_the_calling_thread_in_one_call():
    calls = []
    threads.run_groups(lambda first, stop: calls.append((first, stop)), np.ones(7))
    assert calls == [(0, 7)]


def test_an_error_in_a_worker_stops_the_others_and_is_raised():
    done = []

    def work(worker, chunk):
        if chunk == 3:
            raise RuntimeError("chunk 3 failed")
        time.sleep(0.01)
        done.append(chunk)

    with threads.num_threads(2), pytest.raises(RuntimeError, match="chunk 3 failed"):
        threads.run_chunks(work, 1000)
    assert len(done) < 100


def test_ctrl_c_stops_the_workers_after_their_current_chunk(monkeypatch):
    """A KeyboardInterrupt in the calling thread (Ctrl-C) while workers run: the
    call ends with the interrupt, and no chunk starts afterwards."""
    started = []

    def work(worker, chunk):
        started.append(chunk)
        time.sleep(0.02)

    calls = {"n": 0}
    real_wait = threads.wait

    def interrupted_wait(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_wait(*args, **kwargs)

    monkeypatch.setattr(threads, "wait", interrupted_wait)
    with threads.num_threads(2), pytest.raises(KeyboardInterrupt, match=r"^$"):
        threads.run_chunks(work, 10_000)
    count = len(started)
    time.sleep(0.1)
    assert len(started) == count < 100


def test_ctrl_c_does_not_wait_for_a_chunk_that_cannot_be_cut(monkeypatch):
    """A single huge query is one chunk (measured: 21 s for the hinge on one
    10M-row query): Ctrl-C reaches the caller while that chunk still runs, and
    the worker finishes it in the background without blocking later calls."""
    release = threading.Event()
    finished = []

    def one_long_chunk(worker, chunk):
        release.wait(timeout=30)
        finished.append(chunk)

    calls = {"n": 0}
    real_wait = threads.wait

    def interrupted_wait(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_wait(*args, **kwargs)

    monkeypatch.setattr(threads, "_GRACE_SECONDS", 0.01)
    monkeypatch.setattr(threads, "wait", interrupted_wait)
    with pytest.raises(KeyboardInterrupt, match=r"^$"):
        threads.run_chunks(one_long_chunk, 1)
    assert finished == []  # the caller got the interrupt while the chunk ran
    monkeypatch.setattr(threads, "wait", real_wait)
    done = []
    threads.run_chunks(lambda worker, chunk: done.append(chunk), 3)
    assert sorted(done) == [0, 1, 2]  # a new call is not stuck behind it
    release.set()


def test_one_big_group_runs_off_the_calling_thread():
    """The calling thread only waits (and so handles Ctrl-C) on large work, even
    when it is a single group; small work stays in the calling thread."""
    names = []

    def kernel(first, stop):
        names.append(threading.current_thread().name)

    threads.run_groups(kernel, np.array([threads.PARALLEL_NS * 10]))
    threads.run_groups(kernel, np.array([threads.PARALLEL_NS / 10]))
    assert names[0].startswith("gbrank-")
    assert names[1] == threading.current_thread().name


def test_set_num_threads_validates_and_restores():
    before = gbrank.get_num_threads()
    with threads.num_threads(1):
        assert gbrank.get_num_threads() == 1
    assert gbrank.get_num_threads() == before
    with pytest.raises(ValueError, match="n_threads must be None or an integer >= 1"):
        gbrank.set_num_threads(0)


def _stale_index(folder, name):
    """A numba cache index whose pickled types name a class that no longer
    exists, as after an upgrade moved a kernel type."""
    import pickle

    import numba
    from numba.core import caching

    with (folder / f"{name}.nbi").open("wb") as stream:
        pickle.dump(numba.__version__, stream)
        stream.write(b"cgbrank._kernels.pairwise\nNoSuchPairFunction\n.")
    return caching.IndexDataCacheFile(str(folder), name, ("stamp", 0))


def test_a_stale_gbrank_cache_index_is_recompiled_not_raised(tmp_path):
    kernels = tmp_path / "gbrank" / "_kernels" / "__pycache__"
    kernels.mkdir(parents=True)
    assert _stale_index(kernels, "pairwise.k-1.py311")._load_index() == {}
    other = tmp_path / "otherpackage"
    other.mkdir()
    with pytest.raises(AttributeError, match="NoSuchPairFunction"):
        _stale_index(other, "module.k-1.py311")._load_index()


def test_compiling_a_users_function_without_a_module_works():
    """gbrank's compile notice listens to every numba compilation; a function
    made by ``exec`` (notebooks, code generators) has no ``__module__``."""
    from numba import njit

    namespace: dict = {}
    exec("def plus_one(x):\n    return x + 1\n", namespace)
    plus_one = namespace["plus_one"]
    assert plus_one.__module__ is None
    assert njit(plus_one)(1) == 2


def test_no_compiled_kernel_takes_an_enum():
    """Choices reach the kernels as plain ints (module conventions of
    gbrank._kernels): an enum member in an argument makes numba type every call
    in Python (~0.15 ms) and compiles a second specialisation."""
    rng = np.random.default_rng(0)
    sizes = [12, 1, 30]
    scores = rng.standard_normal(sum(sizes))
    for name in SINGLE_SCORE_LOSSES:
        loss = gbrank.get_loss(name)
        labels = labels_for(loss, scores.size, rng)
        group = sizes if loss.needs_groups else None
        loss.booster_grad_hess(labels, scores, group=group)
        loss.grad_hess(labels, scores, group=group)
        loss.loss(labels, scores, group=group)
    for weight in LAMBDA_WEIGHTS:
        loss = gbrank.PairwiseLogisticLoss(lambda_weight=weight, step="top30")
        loss.booster_grad_hess(labels_for(loss, scores.size, rng), scores, group=sizes)
    for metric in gbrank.metrics.METRICS:
        gbrank.metrics.ranking_metric(
            metric, rng.integers(0, 3, scores.size), scores, group=sizes
        )
    taking_enums = [
        f"{module.name}.{name}"
        for module in pkgutil.iter_modules(gbrank._kernels.__path__)
        for name, kernel in vars(
            importlib.import_module(f"gbrank._kernels.{module.name}")
        ).items()
        if isinstance(kernel, CPUDispatcher)
        and any("Enum<" in str(signature) for signature in kernel.signatures)
    ]
    assert taking_enums == []
