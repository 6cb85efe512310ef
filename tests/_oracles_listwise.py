"""Plain-loop oracles of the softmax variants and the relaxed-rank listwise losses
(poly1 and unique softmax, approximate NDCG and MRR, Gumbel, NeuralNDCG;
registered in _oracles.py).

Written from the definitions (rax, TF-Ranking, allRank), independently of the
kernels: O(n²) loops instead of running sums, explicit Sinkhorn matrices kept
for the backward pass instead of rebuilt ones, Python integers for the Gumbel
noise hash. Each takes one group (labels with -1 on ignored rows, scores,
weights) and returns (value, grad, hess) with the loss's documented hessian.
"""

from __future__ import annotations

import math

import numpy as np

LN2 = math.log(2.0)
MASK64 = (1 << 64) - 1


def _sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _gain(y):
    return 2.0**y - 1.0


def poly1_softmax(labels, scores, weights, epsilon=1.0):
    """rax: -sum w y log p + eps (1 - pt), pt = sum yhat p (yhat uniform if Y = 0)."""
    n = len(labels)
    grad, hess = np.zeros(n), np.zeros(n)
    idx = [i for i in range(n) if labels[i] >= 0]
    if not idx:
        return 0.0, grad, hess
    s = np.array([scores[i] for i in idx])
    t = np.array([weights[i] * labels[i] for i in idx])
    top = s.max()
    log_norm = top + math.log(sum(math.exp(x - top) for x in s))
    p = np.array([math.exp(x - log_norm) for x in s])
    mass = t.sum()
    yhat = t / mass if mass > 0 else np.full(len(idx), 1.0 / len(idx))
    pt = float(yhat @ p)
    # 1 - p_i as the other rows' share, exact for the top row
    miss = np.array(
        [sum(p[j] for j in range(len(idx)) if j != k) for k in range(len(idx))]
    )
    value = -sum(t[k] * (s[k] - log_norm) for k in range(len(idx)) if t[k] > 0)
    value += epsilon * float(yhat @ miss)
    for k, i in enumerate(idx):
        diff = yhat[k] - pt
        grad[i] = mass * p[k] - t[k] - epsilon * p[k] * diff
        hess[i] = mass * p[k] * miss[k] + abs(epsilon) * p[k] * abs(diff) * abs(
            1 - 2 * p[k]
        )
    return value, grad, hess


def unique_softmax(labels, scores, weights):
    """rax: -sum_i w_i G_i log(e^s_i / (e^s_i + sum_{y_j < y_i} e^s_j)), by pairs."""
    n = len(labels)
    grad, hess = np.zeros(n), np.zeros(n)
    value = 0.0
    for i in range(n):
        if labels[i] < 0:
            continue
        a = weights[i] * _gain(labels[i])
        members = [i] + [j for j in range(n) if 0 <= labels[j] < labels[i]]
        top = max(scores[j] for j in members)
        log_norm = top + math.log(sum(math.exp(scores[j] - top) for j in members))
        value -= a * (scores[i] - log_norm)
        for k in members:
            q = math.exp(scores[k] - log_norm)
            others = sum(math.exp(scores[j] - log_norm) for j in members if j != k)
            grad[k] += a * (q - (k == i))
            hess[k] += a * q * others
    return value, grad, hess


def _approx_ranks(s, temperature):
    n = len(s)
    return np.array(
        [
            1.0 + sum(_sigmoid((s[j] - s[i]) / temperature) for j in range(n) if j != i)
            for i in range(n)
        ]
    )


def _dsigmoid(x):
    return _sigmoid(x) * _sigmoid(-x)


def _approx_metric(
    labels, scores, weights, temperature, metric, topn, frozen_cut, fixed_cut=None
):
    """ApproxNDCG / ApproxMRR of one list: value, gradient, surrogate.

    phi_i(r) is the row's term as a function of its approximate rank; the
    gradient is sum_i phi_i'(r_i) dr_i/ds (+ d value / d cut * d cut / ds with
    a moving top-n cutoff point), the surrogate (1/T^2) sum_j s'_kj |c_j - c_k|
    + the positive curvature of the phi_i (top-n only). ``fixed_cut`` replaces
    the cutoff point (a constant, as for rax's stop_gradient).
    """
    n = len(labels)
    grad, hess = np.zeros(n), np.zeros(n)
    idx = [i for i in range(n) if labels[i] >= 0]
    y = np.array([labels[i] for i in idx])
    w = np.array([weights[i] for i in idx])
    s = np.array([scores[i] for i in idx])
    if not idx or y.sum() <= 0:
        return 0.0, grad, hess
    big_t = temperature
    list_weight = float((w * y).sum() / y.sum())
    m = len(idx)
    r = _approx_ranks(s, big_t)
    if metric == "mrr":
        scale = list_weight / y.sum()
        value = -scale * sum(y[k] / r[k] for k in range(m))
        c = scale * y / r**2
        curv = np.zeros(m)
        cut_terms = None
    else:
        gains = _gain(y)
        cut_n = m if topn is None else min(topn, m)
        ideal = sum(
            g / math.log2(k + 2)
            for k, g in enumerate(sorted(gains, reverse=True)[:cut_n])
        )
        scale = list_weight / ideal
        by_score = sorted(range(m), key=lambda k: (-s[k], idx[k]))
        cutting = topn is not None and topn < m
        cut = (r[by_score[topn - 1]] + r[by_score[topn]]) / 2 if cutting else None
        if cutting and fixed_cut is not None:
            cut, frozen_cut = fixed_cut, True
        value, c, curv, cut_slope = 0.0, np.zeros(m), np.zeros(m), 0.0
        for k in range(m):
            u = math.log(1 + r[k])
            d0 = LN2 / u
            d1 = -LN2 / ((1 + r[k]) * u * u)
            d2 = LN2 * (u + 2) / ((1 + r[k]) ** 2 * u**3)
            kap, k1, k2 = 1.0, 0.0, 0.0
            if cutting:
                x = (cut - r[k]) / big_t
                kap = _sigmoid(x)
                k1 = -_dsigmoid(x) / big_t
                k2 = _dsigmoid(x) * (1 - 2 * kap) / big_t**2
                cut_slope -= scale * gains[k] * d0 * _dsigmoid(x) / big_t
            value -= scale * gains[k] * d0 * kap
            c[k] = -scale * gains[k] * (d1 * kap + d0 * k1)
            if cutting:
                second = -scale * gains[k] * (d2 * kap + 2 * d1 * k1 + d0 * k2)
                curv[k] = max(second, 0.0)
        cut_terms = (
            (cut_slope, by_score[topn - 1], by_score[topn])
            if cutting and not frozen_cut
            else None
        )
    g_local, h_local = np.zeros(m), np.zeros(m)
    for k in range(m):
        spread = 0.0
        for j in range(m):
            if j == k:
                continue
            d = _dsigmoid((s[k] - s[j]) / big_t)
            g_local[k] += d * (c[j] - c[k]) / big_t
            h_local[k] += (d * abs(c[j] - c[k]) + d * d * curv[j]) / big_t**2
            spread += d
        h_local[k] += curv[k] * spread**2 / big_t**2
    if cut_terms is not None:
        cut_slope, u_pos, v_pos = cut_terms
        for anchor in (u_pos, v_pos):  # d r_anchor / d s_k
            for k in range(m):
                if k == anchor:
                    derivative = -sum(
                        _dsigmoid((s[j] - s[anchor]) / big_t)
                        for j in range(m)
                        if j != anchor
                    )
                else:
                    derivative = _dsigmoid((s[k] - s[anchor]) / big_t)
                g_local[k] += 0.5 * cut_slope * derivative / big_t
    for k, i in enumerate(idx):
        grad[i] = g_local[k]
        hess[i] = h_local[k]
    return value, grad, hess


def approx_ndcg(
    labels, scores, weights, temperature=0.1, topn=None, frozen=False, cut=None
):
    return _approx_metric(
        labels, scores, weights, temperature, "ndcg", topn, frozen, fixed_cut=cut
    )


def approx_mrr(labels, scores, weights, temperature=0.1):
    return _approx_metric(
        labels, scores, weights, temperature, "mrr", None, frozen_cut=False
    )


def _mix(x):
    x &= MASK64
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK64
    x ^= x >> 31
    return x


def _bits(value):
    return int(np.array(value, dtype=np.float64).view(np.uint64))


def gumbel_noise(labels, seed, samples):
    """Noise of the documented hash: (samples, n) with 0 on ignored rows."""
    n = len(labels)
    idx = [i for i in range(n) if labels[i] >= 0]
    list_key = _mix((len(idx) + sum(_bits(labels[i]) for i in idx)) & MASK64)
    base = _mix(seed * 0x9E3779B97F4A7C15 + 1)
    noise = np.zeros((samples, n))
    seen = {}
    for i in idx:
        occurrence = seen.get(labels[i], 0)
        seen[labels[i]] = occurrence + 1
        key = _mix(
            _mix(_mix(base ^ list_key) ^ _bits(labels[i]))
            ^ (occurrence * 0xC2B2AE3D27D4EB4F)
        )
        offset = _mix(key + 0x632BE59BD9B4E019) % samples
        for m in range(samples):
            h = _mix(key ^ (((m + 1) * 0x165667B19E3779F9) & MASK64))
            v = ((h >> 11) + 0.5) * 2.0**-53
            u = ((m + offset) % samples + v) / samples  # stratum, then within it
            noise[m, i] = -math.log(-math.log(u))
    return noise


def gumbel_approx_ndcg(
    labels, scores, weights, temperature=0.1, samples=8, beta=1.0, seed=0
):
    """Mean of approx_ndcg over the documented Gumbel draws."""
    n = len(labels)
    noise = gumbel_noise(labels, seed, samples)
    value, grad, hess = 0.0, np.zeros(n), np.zeros(n)
    for m in range(samples):
        v, g, h = approx_ndcg(labels, scores + beta * noise[m], weights, temperature)
        value += v / samples
        grad += g / samples
        hess += h / samples
    return value, grad, hess


def neural_ndcg(
    labels, scores, weights, temperature=1.0, topn=None, max_iter=50, tol=1e-6
):
    """allRank's neuralNDCG of one list, backward through stored matrices;
    hessian |g| / tau."""
    n = len(labels)
    grad = np.zeros(n)
    idx = [i for i in range(n) if labels[i] >= 0]
    y = np.array([labels[i] for i in idx])
    if not idx or y.sum() <= 0:
        return 0.0, grad, np.zeros(n)
    w = np.array([weights[i] for i in idx])
    s = np.array([scores[i] for i in idx])
    m = len(idx)
    tau = temperature
    a = np.array([sum(abs(s[j] - s[k]) for k in range(m)) for j in range(m)])
    z = np.array(
        [
            [((m + 1 - 2 * r) * s[j] - a[j]) / tau for j in range(m)]
            for r in range(1, m + 1)
        ]
    )
    p0 = np.exp(z - z.max(axis=1, keepdims=True))
    p0 /= p0.sum(axis=1, keepdims=True)
    stages = []  # (matrix before, column sums, Q, row sums)
    p = p0
    for _ in range(max_iter):
        col = p.sum(axis=0)
        q = p / np.maximum(col, 1e-10)[None, :]
        row = q.sum(axis=1)
        p_next = q / np.maximum(row, 1e-10)[:, None]
        stages.append((col, q, row, p_next))
        p = p_next
        if (
            np.abs(p.sum(axis=1) - 1).max() < tol
            and np.abs(p.sum(axis=0) - 1).max() < tol
        ):
            break
    gains = _gain(y)
    cut_n = m if topn is None else min(topn, m)
    ideal = sum(
        g / math.log2(k + 2) for k, g in enumerate(sorted(gains, reverse=True)[:cut_n])
    )
    scale = float((w * y).sum() / y.sum()) / ideal
    discount = np.array([1 / math.log2(r + 2) if r < cut_n else 0.0 for r in range(m)])
    value = -scale * float(discount @ (p @ gains))
    p_bar = -scale * np.outer(discount, gains)
    for col, q, row, p_next in reversed(stages):
        rows_ok = row >= 1e-10
        q_bar = (
            p_bar - rows_ok[:, None] * (p_bar * p_next).sum(axis=1, keepdims=True)
        ) / np.maximum(row, 1e-10)[:, None]
        cols_ok = col >= 1e-10
        p_bar = (
            q_bar - cols_ok[None, :] * (q_bar * q).sum(axis=0, keepdims=True)
        ) / np.maximum(col, 1e-10)[None, :]
    z_bar = p0 * (p_bar - (p_bar * p0).sum(axis=1, keepdims=True))
    g_local = np.zeros(m)
    a_bar = -z_bar.sum(axis=0) / tau
    for j in range(m):
        g_local[j] += sum(z_bar[r, j] * (m - 1 - 2 * r) for r in range(m)) / tau
        for k in range(m):
            g_local[j] += (a_bar[j] + a_bar[k]) * np.sign(s[j] - s[k])
    for k, i in enumerate(idx):
        grad[i] = g_local[k]
    return value, grad, np.abs(grad) / tau


ORACLES = {
    "poly1_softmax": poly1_softmax,
    "unique_softmax": unique_softmax,
    "approx_ndcg": approx_ndcg,
    "approx_mrr": approx_mrr,
    "gumbel_approx_ndcg": gumbel_approx_ndcg,
    "neural_ndcg": neural_ndcg,
}
