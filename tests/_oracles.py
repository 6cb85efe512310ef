"""Plain-loop reference implementations, written independently of the kernels.

Each oracle takes one group (1-D numpy arrays of labels, scores, weights, with
label < 0 for ignored rows) and returns (unreduced values, grad, hess), where the
values are per row (pointwise, pairwise) or a single per-group float (listwise).
Hessians are the exact diagonal, or the loss's documented surrogate derived
here from its definition (Gauss-Newton via an explicit softmax Jacobian).
"""

from __future__ import annotations

import itertools
import math

import numba
import numpy as np

import gbrank
from gbrank.losses import HESSIAN_FLOOR

from . import _oracles_listwise


def lambda_matrix(labels, scores, lambda_weight, ideal_topn=None):
    """lam[i, j] of every pair of one group from the weight's oracle in
    :data:`LAMBDA_ORACLES` (None: every pair weighs 1)."""
    if lambda_weight is None:
        return np.ones((len(labels), len(labels)))
    if isinstance(lambda_weight, str):
        lambda_weight = gbrank.losses.lambdaweights.SHORTCUTS[lambda_weight]()
    oracle = LAMBDA_ORACLES.get(type(lambda_weight))
    if oracle is None:
        raise NotImplementedError(
            f"no oracle for {type(lambda_weight).__name__}: add one to LAMBDA_ORACLES"
        )
    return oracle(labels, scores, lambda_weight, ideal_topn)


def label_diff_matrix(labels, scores, lambda_weight, ideal_topn=None):
    """|y_i - y_j|."""
    return np.abs(np.subtract.outer(labels, labels))


def dcg_matrix(labels, scores, lambda_weight, ideal_topn=None):
    """|G_i - G_j| |D(r_i) - D(r_j)| from plain definitions (NDCG: over the
    ideal DCG): ranks count the valid rows scored higher (or equal and
    earlier), the ideal DCG sums the sorted gains (its cutoff: the weight's
    topn, else ideal_topn, else none)."""
    n = len(labels)
    valid = [i for i in range(n) if labels[i] >= 0]
    params = lambda_weight.get_params()
    topn = params["topn"] or n

    def gain(y):
        return 2.0**y - 1.0 if params["gain"] == "exp2" else y

    def discount(rank):
        return 1.0 / math.log2(1 + rank) if rank <= topn else 0.0

    disc = np.zeros(n)
    for i in valid:
        rank = 1 + sum(
            1
            for j in valid
            if scores[j] > scores[i] or (scores[j] == scores[i] and j < i)
        )
        disc[i] = discount(rank)
    gains = np.array([gain(y) for y in labels])
    lam = np.abs(np.subtract.outer(gains, gains)) * np.abs(
        np.subtract.outer(disc, disc)
    )
    if isinstance(lambda_weight, gbrank.NDCGLambdaWeight):
        ideal = sorted((gains[i] for i in valid), reverse=True)
        cut = params["topn"] or ideal_topn or n
        idcg = sum(g / math.log2(r + 2) for r, g in enumerate(ideal[:cut]))
        lam = lam / idcg if idcg > 0 else lam * 0.0
    return lam


def _ranks(labels, scores, pessimistic=False):
    """1-based rank of each valid row (0 elsewhere): the valid rows scored
    higher, or equal and earlier (pessimistic: equal with a lower label, or
    equal label and earlier), plus one."""
    n = len(labels)
    valid = [i for i in range(n) if labels[i] >= 0]
    ranks = np.zeros(n, dtype=int)
    for i in valid:
        ahead = 0
        for j in valid:
            tie = scores[j] == scores[i]
            if pessimistic:
                earlier = labels[j] < labels[i] or (labels[j] == labels[i] and j < i)
            else:
                earlier = j < i
            ahead += scores[j] > scores[i] or (tie and earlier)
        ranks[i] = 1 + ahead
    return ranks


def precision_at(ranked, k):
    """Relevant rows (label > 0) among the top k (TF-Ranking's k * P@k)."""
    return sum(1.0 for y in ranked[:k] if y > 0)


def mrr_at(ranked, k):
    for r, y in enumerate(ranked[:k], start=1):
        if y > 0:
            return 1.0 / r
    return 0.0


def map_at(ranked, k):
    """AP@k / min(R, k), R relevant rows of the whole list (gbrank.metrics)."""
    relevant = sum(1 for y in ranked if y > 0)
    if relevant == 0:
        return 0.0
    hits, total = 0, 0.0
    for r, y in enumerate(ranked[:k], start=1):
        if y > 0:
            hits += 1
            total += hits / r
    return total / min(relevant, k)


def err_terms(ranked, k, max_label):
    """Each rank's share of ERR@k: R_r / r times the chance to reach rank r."""
    top = max(ranked, default=0.0) if max_label is None else max_label
    terms, still = [], 1.0
    for r, y in enumerate(ranked[:k], start=1):
        stop = (2.0**y - 1.0) / 2.0**top
        terms.append(still * stop / r)
        still *= 1.0 - stop
    return terms


def swap_matrix(labels, scores, lambda_weight, ideal_topn=None):
    """|M(rows i and j swapped) - M| by brute force, M the weight's metric on
    the ranking of the current scores."""
    n = len(labels)
    params = lambda_weight.get_params()
    valid = [i for i in range(n) if labels[i] >= 0]
    ranks = _ranks(labels, scores)
    by_rank = sorted(valid, key=lambda i: ranks[i])
    k = params["topn"] or len(valid)
    if isinstance(lambda_weight, gbrank.ERRLambdaWeight):
        # sum the rank-by-rank differences over the ranks from one swapped row
        # to the other; the ranks above and below are the same in exact
        # arithmetic, so tiny changes deep in a list keep their precision
        def change(ranked):
            new = err_terms(ranked, k, params["max_label"])
            moved = [r for r in range(len(ranked)) if ranked[r] != base_labels[r]]
            if not moved:
                return 0.0
            window = range(moved[0], min(moved[-1] + 1, len(new)))
            return math.fsum(new[r] - base[r] for r in window)

        base_labels = [labels[i] for i in by_rank]

        base = err_terms([labels[i] for i in by_rank], k, params["max_label"])
    else:
        if isinstance(lambda_weight, gbrank.PrecisionLambdaWeight):
            metric = precision_at
        elif isinstance(lambda_weight, gbrank.MAPLambdaWeight):
            metric = map_at
        else:
            metric = mrr_at
        now = metric([labels[i] for i in by_rank], k)

        def change(ranked):
            return metric(ranked, k) - now

    lam = np.zeros((n, n))
    for i in valid:
        for j in valid:
            swapped = [j if m == i else i if m == j else m for m in by_rank]
            lam[i, j] = abs(change([labels[m] for m in swapped]))
    return lam


def _discount(rank):
    return 1.0 / math.log2(1.0 + rank)


def ndcg2_matrix(labels, scores, lambda_weight, ideal_topn=None):
    """rax's dcg2_lambdaweight(normalize=True) without its list-size factor."""
    n = len(labels)
    params = lambda_weight.get_params()
    topn = params["topn"]
    valid = [i for i in range(n) if labels[i] >= 0]
    ranks = _ranks(labels, scores)
    gains = np.array([2.0**y - 1.0 if params["gain"] == "exp2" else y for y in labels])
    ideal = sorted((gains[i] for i in valid), reverse=True)
    cut = topn or ideal_topn or n
    idcg = sum(g * _discount(r) for r, g in enumerate(ideal[:cut], start=1))
    lam = np.zeros((n, n))
    for i in valid:
        for j in valid:
            if i == j or idcg == 0:
                continue
            gap = abs(ranks[i] - ranks[j])
            low = max(ranks[i], ranks[j])
            correction = 1.0 / (1.0 - _discount(low)) if topn and low > topn else 1.0
            lam[i, j] = (
                abs(gains[i] - gains[j])
                * (_discount(gap) - _discount(gap + 1))
                * correction
                / idcg
            )
    return lam


# one oracle per lambda weight class, written from the weight's definition
# (tests/test_lambdaweights.py checks that every shortcut has one)
LAMBDA_ORACLES = {
    gbrank.LabelDiffLambdaWeight: label_diff_matrix,
    gbrank.DCGLambdaWeight: dcg_matrix,
    gbrank.NDCGLambdaWeight: dcg_matrix,
    gbrank.NDCG2LambdaWeight: ndcg2_matrix,
    gbrank.PrecisionLambdaWeight: swap_matrix,
    gbrank.MRRLambdaWeight: swap_matrix,
    gbrank.MAPLambdaWeight: swap_matrix,
    gbrank.ERRLambdaWeight: swap_matrix,
}


def _pairwise(labels, scores, weights, temperature, lambda_weight, pair_fn, all_pairs):
    """Sum pair_fn(d, label_diff) -> (value, slope, curvature) over ordered pairs
    with y_i > y_j (all_pairs: every ordered pair of distinct valid rows)."""
    n = len(labels)
    lam = lambda_matrix(labels, scores, lambda_weight)
    values, grad, hess = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        for j in range(n):
            if labels[i] < 0 or labels[j] < 0 or i == j:
                continue
            if not (all_pairs or labels[i] > labels[j]):
                continue
            d = (scores[i] - scores[j]) / temperature
            value, slope, curvature = pair_fn(d, labels[i] - labels[j])
            w = weights[i] * lam[i, j]
            values[i] += w * value
            grad[i] += w * slope / temperature
            grad[j] -= w * slope / temperature
            hess[i] += w * curvature / temperature**2
            hess[j] += w * curvature / temperature**2
    return values, grad, hess


def _sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def pair_function(loss):
    """``f(d, label_diff) -> (value, slope, curvature)`` of a pairwise loss: its
    pair function's one definition (gbrank._kernels.pairfunctions), evaluated
    in plain Python with the loss's parameters (by the names it declares)."""
    terms, pair = loss.pair.terms.py_func, loss.pair
    params = loss.get_params()
    parameters = (*(float(params[name]) for name in pair.parameters), 0.0, 0.0)[:2]
    return lambda d, label_diff: terms(d, -1.0, label_diff, True, 1.0, parameters)


def pairwise(loss, labels, scores, weights):
    """Every pairwise loss with lambda weights (its class plus a pair function):
    the pair function over the pairs y_i > y_j (every ordered pair of distinct
    rows for a pair function of ``every_pair``), hinge's constant hessian."""
    params = loss.get_params()
    temperature = params.get("temperature", 1.0)
    values, grad, hess = _pairwise(
        labels,
        scores,
        weights,
        temperature,
        params["lambda_weight"],
        pair_function(loss),
        all_pairs=loss.pair.every_pair,
    )
    if params.get("hessian") == "constant":
        hess = np.where(labels >= 0, weights / temperature**2, 0.0)
    return values, grad, hess


def is_pairwise(loss):
    """Whether a loss is a pairwise loss of the lambda-weight family."""
    return hasattr(loss, "pair") and "lambda_weight" in loss.get_params()


LAMBDALOSS_ROW_SCHEMES = ("ndcg1", "arp1")


def lambdaloss_weights(labels, scores, scheme="ndcg2pp", mu=10.0, topn=None):
    """W[i, j] / ln 2 of allRank's lambdaLoss from its definitions (pairs with
    both positions within topn; positions by score, ties pessimistic), and
    whether every ordered pair counts (else y_i > y_j)."""
    n = len(labels)
    valid = [i for i in range(n) if labels[i] >= 0]
    pos = _ranks(labels, scores, pessimistic=True)
    k = topn or len(valid)
    ideal = sorted((2.0 ** labels[i] - 1.0 for i in valid), reverse=True)
    max_dcg = sum(g * _discount(r) for r, g in enumerate(ideal[:k], start=1))
    gain = {i: (2.0 ** labels[i] - 1.0) / max_dcg if max_dcg else 0.0 for i in valid}
    weights = np.zeros((n, n))
    for i in valid:
        for j in valid:
            if pos[i] > k or pos[j] > k:
                continue
            gap = abs(pos[i] - pos[j])
            delta = _discount(gap) - _discount(gap + 1) if gap else 0.0
            lambdarank = abs(_discount(pos[i]) - _discount(pos[j]))
            difference = abs(gain[i] - gain[j])
            weights[i, j] = {
                "ndcg1": gain[i] * _discount(pos[i]),  # G_i / log2(1 + r_i)
                "ndcg2": delta * difference,
                "ndcg2pp": (mu * delta + lambdarank) * difference,
                "arp1": labels[i],
                "arp2": abs(labels[i] - labels[j]),
            }[scheme]
    return weights / math.log(2.0), scheme in LAMBDALOSS_ROW_SCHEMES


def lambdaloss(labels, scores, weights, scheme="ndcg2pp", mu=10.0, topn=None):
    """Sum over pairs of w_i W_ij log2(1 + exp(-(s_i - s_j))), W frozen; the
    row schemes also count the pairs (i, i), a constant w_i W_ii."""
    lam, every = lambdaloss_weights(labels, scores, scheme, mu, topn)
    logistic = pair_function(gbrank.LambdaLoss())
    n = len(labels)
    values, grad, hess = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        if every and labels[i] >= 0:
            values[i] += weights[i] * lam[i, i] * math.log(2.0)
        for j in range(n):
            if labels[i] < 0 or labels[j] < 0 or i == j:
                continue
            if not (every or labels[i] > labels[j]):
                continue
            value, slope, curvature = logistic(scores[i] - scores[j], 0.0)
            w = weights[i] * lam[i, j]
            values[i] += w * value
            grad[i] += w * slope
            grad[j] -= w * slope
            hess[i] += w * curvature
            hess[j] += w * curvature
    return values, grad, hess


def yetirank_pairs(labels, scores, permutations=10, decay=0.85, seed=0):
    """(winner, loser, weight) of every neighbour pair of the perturbed
    rankings: noise log(u / (1 - u)) from the kernel's hash of (seed,
    permutation, rank by score with pessimistic ties, label)."""
    from gbrank._kernels.yetirank import _odds

    n = len(labels)
    valid = [i for i in range(n) if labels[i] >= 0]
    ranks = _ranks(labels, scores, pessimistic=True)
    bits = {i: int(np.array(labels[i]).view(np.int64)) for i in valid}
    pairs = []
    for p in range(permutations):
        noisy = {
            i: scores[i] + math.log(_odds(seed, p, ranks[i] - 1, bits[i]))
            for i in valid
        }
        order = sorted(valid, key=lambda i: (-noisy[i], i))
        for k in range(len(order) - 1):
            a, b = order[k], order[k + 1]
            if labels[a] != labels[b]:
                high, low = (a, b) if labels[a] > labels[b] else (b, a)
                weight = 0.15 * decay**k * abs(labels[a] - labels[b]) / permutations
                pairs.append((high, low, weight))
    return pairs


def yetirank(labels, scores, weights, permutations=10, decay=0.85, seed=0):
    """PairLogit over the perturbed rankings' neighbour pairs, weights frozen."""
    n = len(labels)
    values, grad, hess = np.zeros(n), np.zeros(n), np.zeros(n)
    for i, j, weight in yetirank_pairs(labels, scores, permutations, decay, seed):
        d = scores[i] - scores[j]
        w = weights[i] * weight
        values[i] += w * (
            math.log1p(math.exp(-d)) if d > -30 else -d + math.log1p(math.exp(d))
        )
        grad[i] -= w * _sigmoid(-d)
        grad[j] += w * _sigmoid(-d)
        hess[i] += w * _sigmoid(d) * _sigmoid(-d)
        hess[j] += w * _sigmoid(d) * _sigmoid(-d)
    return values, grad, hess


def listmle(labels, scores, weights, temperature=1.0):
    """Plackett-Luce stages written out: stage k picks order[k] among order[k:]."""
    n = len(labels)
    grad, hess = np.zeros(n), np.zeros(n)
    valid = [i for i in range(n) if labels[i] >= 0]
    order = sorted(valid, key=lambda i: (-labels[i], i))
    t = scores / temperature
    value = 0.0
    for k, chosen in enumerate(order):
        rest = order[k:]
        top = max(t[m] for m in rest)
        norm = sum(math.exp(t[m] - top) for m in rest)
        value -= weights[chosen] * (t[chosen] - top - math.log(norm))
        for m in rest:
            p = math.exp(t[m] - top) / norm
            # 1 - p without cancellation when p is close to 1
            q = (
                sum(math.exp(t[o] - top) for o in rest if o != m) / norm
                if p > 0.5
                else 1 - p
            )
            grad[m] += weights[chosen] * (p - (m == chosen)) / temperature
            hess[m] += weights[chosen] * p * q / temperature**2
    return value, grad, hess


def listnet(labels, scores, weights, label_normalization="sum"):
    valid = labels >= 0
    grad, hess = np.zeros(len(labels)), np.zeros(len(labels))
    if not np.any(labels[valid] > 0):
        return 0.0, grad, hess
    y = labels[valid]
    q = y / y.sum() if label_normalization == "sum" else np.exp(y) / np.exp(y).sum()
    list_weight = float(np.sum(weights[valid] * q))
    p = _softmax(scores, valid)[valid]
    value = -list_weight * float(np.sum(q * np.log(p)))
    grad[valid] = list_weight * (p - q)
    hess[valid] = list_weight * p * (1 - p)
    return value, grad, hess


def sigmoid_cross_entropy(labels, scores, weights):
    n = len(labels)
    values, grad, hess = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        if labels[i] < 0:
            continue
        s, y, w = scores[i], labels[i], weights[i]
        p = 1 / (1 + math.exp(-s))
        values[i] = w * (math.log1p(math.exp(-abs(s))) + max(s, 0) - y * s)
        grad[i] = w * (p - y)
        hess[i] = w * p * (1 - p)
    return values, grad, hess


def _softmax(scores, valid):
    p = np.zeros(len(scores))
    if valid.any():
        e = np.exp(scores[valid] - scores[valid].max())
        p[valid] = e / e.sum()
    return p


def softmax(labels, scores, weights):
    valid = labels >= 0
    p = _softmax(scores, valid)
    y = np.where(valid, labels, 0.0)
    w = np.where(valid, weights, 0.0)
    value = -sum(w[i] * y[i] * math.log(p[i]) for i in range(len(y)) if y[i] > 0)
    mass = (w * y).sum()
    grad = np.where(valid, p * mass - w * y, 0.0)
    hess = np.where(valid, mass * p * (1 - p), 0.0)
    return value, grad, hess


def rank_one_listnet(labels, scores, weights, hessian="gauss_newton"):
    """Binary CE on softmax probabilities; GN hessian from the explicit Jacobian."""
    n = len(labels)
    valid = labels >= 0
    grad, hess = np.zeros(n), np.zeros(n)
    if valid.sum() < 2:
        return 0.0, grad, hess
    idx = np.flatnonzero(valid)
    s, y, w = scores[idx], labels[idx], weights[idx]
    p = _softmax(s, np.ones(len(s), dtype=bool))
    value = -float(np.sum(w * (y * np.log(p) + (1 - y) * np.log1p(-p))))
    jac = np.diag(p) - np.outer(p, p)  # jac[i, k] = d p_i / d s_k
    dl_dp = w * (-y / p + (1 - y) / (1 - p))
    grad[idx] = jac.T @ dl_dp
    if hessian == "gauss_newton":
        curvature = w * (y / p**2 + (1 - y) / (1 - p) ** 2)
        hess[idx] = (curvature[:, None] * jac**2).sum(axis=0)
    else:
        hess[idx] = w.sum() * p * (1 - p)
    return value, grad, hess


def categorical_cross_entropy(classes, scores, weights, factor=1.0):
    n, k = scores.shape
    values, grad, hess = np.zeros(n), np.zeros((n, k)), np.zeros((n, k))
    for i in range(n):
        if classes[i] < 0:
            continue
        e = np.exp(scores[i] - scores[i].max())
        p = e / e.sum()
        c = int(classes[i])
        values[i] = -weights[i] * math.log(p[c])
        grad[i] = weights[i] * p
        grad[i, c] -= weights[i]
        hess[i] = factor * weights[i] * p * (1 - p)
    return values, grad, hess


def pointwise_mse(labels, scores, weights):
    n = len(labels)
    values, grad, hess = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        if labels[i] < 0:
            continue
        residual = scores[i] - labels[i]
        values[i] = weights[i] * residual**2
        grad[i] = 2 * weights[i] * residual
        hess[i] = 2 * weights[i]
    return values, grad, hess


def ordinal(
    labels, scores, weights, thresholds=(0.5, 1.5, 2.5, 3.5), use_fraction_label=False
):
    """TF-Ranking's OrdinalLoss fed the logits s - theta_k: one binary
    cross-entropy per threshold k = 1..K against o_k = 1[y >= k] (fractions:
    clip(y - k + 1, 0, 1))."""
    n = len(labels)
    values, grad, hess = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        if labels[i] < 0:
            continue
        for k, theta in enumerate(thresholds, start=1):
            if use_fraction_label:
                o = min(max(labels[i] - k + 1, 0.0), 1.0)
            else:
                o = 1.0 if labels[i] >= k else 0.0
            z = scores[i] - theta
            p = _sigmoid(z)
            softplus = max(z, 0.0) + math.log1p(math.exp(-abs(z)))
            values[i] += weights[i] * (softplus - o * z)
            grad[i] += weights[i] * (p - o)
            hess[i] += weights[i] * p * _sigmoid(-z)
    return values, grad, hess


def query_rmse(labels, scores, weights):
    """CatBoost QueryRMSE: 1/2 sum w (r - mean r)^2 per query, r = y - s;
    gradient -w (r - mean r), hessian CatBoost's w."""
    n = len(labels)
    grad, hess = np.zeros(n), np.zeros(n)
    rows = [i for i in range(n) if labels[i] >= 0]
    total_weight = sum(weights[i] for i in rows)
    if total_weight <= 0:
        return 0.0, grad, hess
    mean = sum(weights[i] * (labels[i] - scores[i]) for i in rows) / total_weight
    value = 0.0
    for i in rows:
        residual = labels[i] - scores[i] - mean
        value += 0.5 * weights[i] * residual**2
        grad[i] = -weights[i] * residual
        hess[i] = weights[i]
    return value, grad, hess


def query_softmax(labels, scores, weights, beta=1.0, lambda_reg=0.01):
    """CatBoost QuerySoftMax: weights inside the softmax of beta * s; hessian
    beta S (beta p (1 - p) + lambda)."""
    n = len(labels)
    grad, hess = np.zeros(n), np.zeros(n)
    rows = [i for i in range(n) if labels[i] >= 0 and weights[i] > 0]
    mass = sum(weights[i] * labels[i] for i in rows)
    if mass <= 0:
        return 0.0, grad, hess
    top = max(beta * scores[i] for i in rows)
    norm = sum(weights[i] * math.exp(beta * scores[i] - top) for i in rows)
    value = 0.0
    for i in rows:
        p = weights[i] * math.exp(beta * scores[i] - top) / norm
        if labels[i] > 0:
            log_p = math.log(weights[i]) + beta * scores[i] - top - math.log(norm)
            value -= weights[i] * labels[i] * log_p
        grad[i] = beta * (mass * p - weights[i] * labels[i])
        hess[i] = beta * mass * (beta * p * (1 - p) + lambda_reg)
    return value, grad, hess


def oracle_of(loss):
    """The plain-loop oracle of ``loss``: ``f(labels, scores, weights)`` of one
    group (of all rows for a multiclass loss) -> (values, grad, hess)."""
    if loss.name not in ORACLES and is_pairwise(loss):
        return lambda labels, scores, weights: pairwise(loss, labels, scores, weights)
    oracle = ORACLES[loss.name]
    if loss.is_multiclass:
        return oracle
    # the booster step shapes booster_grad_hess only (see booster_step)
    params = {k: v for k, v in loss.get_params().items() if k != "step"}
    return lambda labels, scores, weights: oracle(labels, scores, weights, **params)


def apply(loss, labels, scores, weights, offsets):
    """Run the oracle of ``loss`` group by group; return (values, grad, hess)."""
    oracle = oracle_of(loss)
    if loss.is_multiclass:
        return oracle(labels, scores, weights)
    values, grads, hesses = [], [], []
    for start, stop in itertools.pairwise(offsets):
        value, grad, hess = oracle(
            labels[start:stop], scores[start:stop], weights[start:stop]
        )
        values.append(np.atleast_1d(value))
        grads.append(grad)
        hesses.append(hess)
    return np.concatenate(values), np.concatenate(grads), np.concatenate(hesses)


def assert_matches_oracle(loss, case, *, oracle_loss=None, hess_atol=0.0):
    """Values, gradient and hessian of ``loss`` on a :class:`gbrank.testing.Case`
    equal its plain-loop oracle's (that of ``oracle_loss`` if given), the hessian
    floored as the losses floor it: the one oracle comparison of the tests."""
    values, grad, hess = apply(
        oracle_loss or loss, case.y_true, case.y_pred, case.sample_weight, case.offsets
    )
    got_values = loss.loss(case.y_true, case.y_pred, reduction="none", **case.kwargs())
    got_grad, got_hess = loss.grad_hess(case.y_true, case.y_pred, **case.kwargs())
    np.testing.assert_allclose(got_values, values, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_grad, grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        got_hess, np.maximum(hess, HESSIAN_FLOOR), rtol=1e-10, atol=hess_atol
    )


# the losses' oracles by name; a pairwise loss of the lambda-weight family needs
# none (its pair function's definition gives it: ``pairwise``)
ORACLES = {
    "lambdaloss": lambdaloss,
    "yetirank": yetirank,
    "listmle": listmle,
    "listnet": listnet,
    "sigmoid_cross_entropy": sigmoid_cross_entropy,
    "softmax": softmax,
    "rank_one_listnet": rank_one_listnet,
    "categorical_cross_entropy": categorical_cross_entropy,
    **_oracles_listwise.ORACLES,
    "pointwise_mse": pointwise_mse,
    "ordinal": ordinal,
    "query_rmse": query_rmse,
    "query_softmax": query_softmax,
}


def _expit(x):
    return np.exp(-np.logaddexp(0.0, -x))


@numba.njit
def _dense_terms(terms, d, label_diff, parameters):
    """A pair function's terms on every cell of n x n matrices."""
    value, slope, curvature = np.empty(d.shape), np.empty(d.shape), np.empty(d.shape)
    for i in range(d.shape[0]):
        for j in range(d.shape[1]):
            value[i, j], slope[i, j], curvature[i, j] = terms(
                d[i, j], -1.0, label_diff[i, j], True, 1.0, parameters
            )
    return value, slope, curvature


def pairwise_dense(loss, labels, scores, weights):
    """The pairwise sums of ``_pairwise`` with n x n numpy arrays, for one group too
    big for Python loops; same definitions (d = (s_i - s_j) / T, pairs y_i > y_j,
    or all i != j for a pair function of ``every_pair``). LambdaLoss takes its
    weights from ``lambdaloss_weights``; YetiRank, whose pairs are few, runs its
    loop oracle."""
    params = loss.get_params()
    if loss.name == "yetirank":
        return yetirank(labels, scores, weights, **params)
    if loss.name == "lambdaloss":
        del params["step"]
        lam, all_pairs = lambdaloss_weights(labels, scores, **params)
    else:
        all_pairs = loss.pair.every_pair
        lam = lambda_matrix(labels, scores, params.get("lambda_weight"))
    temperature = params.get("temperature", 1.0)
    valid = labels >= 0
    d = np.subtract.outer(scores, scores) / temperature
    label_diff = np.subtract.outer(labels, labels)
    both = np.outer(valid, valid)
    if all_pairs:
        pairs = both & ~np.eye(len(labels), dtype=bool)
    else:
        pairs = both & (label_diff > 0)
    parameters = (*(float(params[name]) for name in loss.pair.parameters), 0.0, 0.0)
    value, slope, curv = _dense_terms(loss.pair.terms, d, label_diff, parameters[:2])
    w = np.where(pairs, weights[:, None] * lam, 0.0)
    g = w * slope / temperature
    h = w * curv / temperature**2
    values = (w * value).sum(axis=1)
    if loss.name == "lambdaloss" and all_pairs:  # the pairs (i, i)
        values += np.where(valid, weights * np.diag(lam) * math.log(2.0), 0.0)
    grad = g.sum(axis=1) - g.sum(axis=0)
    hess = h.sum(axis=1) + h.sum(axis=0)
    if params.get("hessian") == "constant":
        hess = np.where(valid, weights / temperature**2, 0.0)
    return values, grad, hess


def _group_softmax(scores, valid, offsets, temperature=1.0):
    out = np.zeros(len(scores))
    for start, stop in itertools.pairwise(offsets):
        out[start:stop] = _softmax(scores[start:stop] / temperature, valid[start:stop])
    return out


# name -> activation(loss, scores, valid, offsets), written from the definitions
ACTIVATIONS = {
    "sigmoid_cross_entropy": lambda loss, s, valid, offsets: _expit(s),
    "categorical_cross_entropy": lambda loss, s, valid, offsets: np.exp(
        s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    ),
    "softmax": lambda loss, s, valid, offsets: _group_softmax(s, valid, offsets),
    "listnet": lambda loss, s, valid, offsets: _group_softmax(s, valid, offsets),
    "rank_one_listnet": lambda loss, s, valid, offsets: _group_softmax(
        s, valid, offsets
    ),
    "listmle": lambda loss, s, valid, offsets: _group_softmax(
        s, valid, offsets, loss.temperature
    ),
    "poly1_softmax": lambda loss, s, valid, offsets: _group_softmax(s, valid, offsets),
    "unique_softmax": lambda loss, s, valid, offsets: _group_softmax(s, valid, offsets),
    **{
        name: lambda loss, s, valid, offsets: s.copy()
        for name in ("approx_ndcg", "approx_mrr", "gumbel_approx_ndcg", "neural_ndcg")
    },
    **{
        name: lambda loss, s, valid, offsets: s.copy()
        for name in ("lambdaloss", "yetirank")
    },
    "pointwise_mse": lambda loss, s, valid, offsets: s.copy(),
    "query_rmse": lambda loss, s, valid, offsets: s.copy(),
    "ordinal": lambda loss, s, valid, offsets: np.array(
        [sum(_sigmoid(x - theta) for theta in loss.thresholds) for x in s]
    ),
    "query_softmax": lambda loss, s, valid, offsets: _group_softmax(
        loss.beta * s, valid, offsets
    ),
}


def activation(loss, scores, valid, offsets):
    """The final activation of ``loss`` from its definition (masked rows: 0);
    a pairwise loss ranks by its raw scores."""
    if loss.name not in ACTIVATIONS and is_pairwise(loss):
        return scores.copy()
    return ACTIVATIONS[loss.name](loss, scores, valid, offsets)


def booster_step(loss, labels, scores, weights, group_index=0):
    """``booster_grad_hess`` of a pairwise loss for one group under its PairStep,
    from the definitions in gbrank.losses.steps, with plain loops: the pair set
    (all, top-k by score, or the sampled partners), score and query
    normalisation."""
    from gbrank._kernels.pairwise import _draw

    step = loss.resolved_step()
    params = loss.get_params()
    temperature = params.get("temperature", 1.0)
    n = len(labels)
    valid = [i for i in range(n) if labels[i] >= 0]
    pessimistic = loss.name == "lambdaloss"  # score ties: lower label first
    terms = pair_function(loss)
    if pessimistic:
        lam, every = lambdaloss_weights(
            labels, scores, params["scheme"], params["mu"], params["topn"]
        )
    else:
        every = loss.pair.every_pair
        lam = lambda_matrix(labels, scores, params.get("lambda_weight"), step.topk)
    by_score = sorted(
        valid, key=lambda i: (-scores[i], labels[i] if pessimistic else 0, i)
    )
    by_label = sorted(valid, key=lambda i: (-labels[i], i))
    pairs = []  # (credited i, partner j)
    if step.topk is not None:
        for a, i in enumerate(by_score[: step.topk]):
            for j in by_score[a + 1 :]:
                for hi, lo in ((i, j), (j, i)):
                    if every or labels[hi] > labels[lo]:
                        pairs.append((hi, lo))
    elif step.pairs_per_row is not None:
        for a, i in enumerate(by_label):
            others = [j for j in by_label if labels[j] != labels[i]]
            for t in range(step.pairs_per_row if others else 0):
                j = others[_draw(step.seed, group_index, a, t, len(others))]
                pairs.append((i, j) if every or labels[i] > labels[j] else (j, i))
    else:
        pairs = [
            (i, j)
            for i in valid
            for j in valid
            if i != j and (every or labels[i] > labels[j])
        ]
    spread = len({scores[i] for i in valid}) > 1
    grad, hess, mass = np.zeros(n), np.zeros(n), 0.0
    for i, j in pairs:
        weight = weights[i] * lam[i, j]
        if step.score_normalization and spread:
            weight /= 0.01 + abs(scores[i] - scores[j])
        _, slope, curvature = terms(
            (scores[i] - scores[j]) / temperature, labels[i] - labels[j]
        )
        g = weight * float(slope) / temperature
        grad[i] += g
        grad[j] -= g
        hess[i] += weight * float(curvature) / temperature**2
        hess[j] += weight * float(curvature) / temperature**2
        mass += 2 * abs(g)
    if params.get("hessian") == "constant":
        hess = np.where(labels >= 0, weights / temperature**2, 0.0)
    if step.query_normalization and mass > 0:
        factor = math.log2(1 + mass) / mass
        grad, hess = grad * factor, hess * factor
    return grad, hess
