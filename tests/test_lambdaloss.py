"""LambdaLoss: its schemes against gbrank's pairwise identities and by hand,
pessimistic score ties, booster steps against the oracle, parameters. allRank's
numbers are in test_references_pairwise.py."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import gbrank
from gbrank.losses import HESSIAN_FLOOR
from gbrank.losses.steps import PairStep
from gbrank.testing import check_loss

from . import _oracles
from ._cases import make_case

LN2 = math.log(2.0)


def _case_without_score_ties(seed=3):
    case = make_case(gbrank.LambdaLoss(), seed=seed)
    rng = np.random.default_rng(seed)
    case.y_pred = rng.permutation(case.y_pred.size) * 0.31 - 5.0  # distinct
    return case


@pytest.mark.parametrize(
    ("scheme", "mu", "twin"),
    [
        ("arp2", 10.0, "label_diff"),  # RankNet weighted by |y_i - y_j|
        ("ndcg2", 10.0, "ndcg2"),  # NDCG-Loss2 = the NDCG2 lambda weight
        ("ndcg2pp", 0.0, "ndcg"),  # NDCG-Loss2++ at mu = 0: LambdaRank
    ],
)
def test_schemes_are_lambda_weighted_logistic_losses_in_bits(scheme, mu, twin):
    case = _case_without_score_ties()
    loss = gbrank.LambdaLoss(scheme=scheme, mu=mu)
    logistic = gbrank.PairwiseLogisticLoss(lambda_weight=twin)
    kwargs = case.kwargs()
    np.testing.assert_allclose(
        loss.loss(case.y_true, case.y_pred, reduction="none", **kwargs),
        logistic.loss(case.y_true, case.y_pred, reduction="none", **kwargs) / LN2,
        rtol=1e-12,
        atol=1e-15,
    )
    grad, hess = loss.grad_hess(case.y_true, case.y_pred, **kwargs)
    twin_grad, twin_hess = logistic.grad_hess(case.y_true, case.y_pred, **kwargs)
    np.testing.assert_allclose(grad, twin_grad / LN2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        hess, np.maximum(twin_hess / LN2, HESSIAN_FLOOR), rtol=1e-12, atol=1e-15
    )


def test_arp1_by_hand():
    """ARP-Loss1: every ordered pair (i, j), i = j included, weighs y_i."""
    labels, scores = np.array([2.0, 0.0, 1.0]), np.array([0.5, 1.0, -0.5])

    def bits(d):
        return math.log2(1 + math.exp(-d))

    expected = [
        2 * (bits(0.0) + bits(-0.5) + bits(1.0)),
        0.0,
        1 * (bits(0.0) + bits(-1.0) + bits(-1.5)),
    ]
    loss = gbrank.LambdaLoss(scheme="arp1")
    np.testing.assert_allclose(
        loss.loss(labels, scores, reduction="none")[0], expected, rtol=1e-12
    )
    grad = loss.grad_hess(labels, scores)[0]
    numeric = gbrank.testing.central_difference(
        lambda s: np.asarray(loss.loss(labels, s, reduction="sum")), scores, 1e-4
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-8)


def test_topn_keeps_the_pairs_of_the_top_rows():
    labels = np.array([0.0, 2.0, 1.0, 0.0])
    scores = np.array([3.0, 2.0, 1.0, 0.0])
    top2 = gbrank.LambdaLoss(topn=2).loss(labels, scores, reduction="none")[0]
    assert top2[2] == 0.0  # row 2 (rank 3) pairs with nothing
    assert top2[1] > 0.0  # row 1 (rank 2) with row 0 (rank 1)
    every = gbrank.LambdaLoss().loss(labels, scores, reduction="none")[0]
    assert every[2] > 0.0


def test_score_ties_rank_the_lower_label_first():
    """Pessimistic ties: the loss does not depend on the order of tied rows."""
    loss = gbrank.LambdaLoss(scheme="ndcg2pp")
    labels, scores = np.array([0.0, 1.0, 2.0]), np.zeros(3)
    value = loss.loss(labels, scores, reduction="sum")
    for order in itertools.permutations(range(3)):
        order = list(order)
        assert loss.loss(labels[order], scores[order], reduction="sum") == (
            pytest.approx(value, rel=1e-14)
        )
    # ranks 1, 2, 3 for labels 0, 1, 2: the oracle's definition
    weights, _ = _oracles.lambdaloss_weights(labels, scores)
    gain = np.array([0.0, 1.0, 3.0]) / (3 + 1 / math.log2(3))
    d = [1 / math.log2(1 + r) for r in (1, 2, 3)]
    delta = d[0] - d[1]  # ranks 1 and 2 apart
    assert weights[2, 1] * LN2 == pytest.approx(
        (10 * delta + abs(d[2] - d[1])) * (gain[2] - gain[1])
    )


STEPS = [
    "auto",
    PairStep(topk=3),
    PairStep(topk=2, score_normalization=True, query_normalization=True),
    PairStep(pairs_per_row=2, seed=1),
]


@pytest.mark.parametrize("step", STEPS, ids=repr)
@pytest.mark.parametrize("scheme", ["ndcg2pp", "ndcg1", "arp2"])
@pytest.mark.parametrize("topn", [None, 4])
def test_booster_steps_match_the_oracle(scheme, topn, step):
    loss = gbrank.LambdaLoss(scheme=scheme, topn=topn, step=step)
    case = make_case(loss, seed=6)
    grad, hess = loss.booster_grad_hess(case.y_true, case.y_pred, **case.kwargs())
    for g, (start, stop) in enumerate(itertools.pairwise(case.offsets)):
        part = slice(start, stop)
        expected = _oracles.booster_step(
            loss, case.y_true[part], case.y_pred[part], case.sample_weight[part], g
        )
        np.testing.assert_allclose(grad[part], expected[0], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(
            hess[part], np.maximum(expected[1], HESSIAN_FLOOR), rtol=1e-10
        )


@pytest.mark.parametrize(
    "loss",
    [
        gbrank.LambdaLoss(scheme="ndcg1", topn=5),
        gbrank.LambdaLoss(scheme="ndcg2", topn=3),
        gbrank.LambdaLoss(scheme="arp1"),
        gbrank.LambdaLoss(scheme="arp2", topn=4),
        gbrank.LambdaLoss(mu=0.5),
    ],
    ids=repr,
)
def test_every_scheme_keeps_the_contract(loss):
    check_loss(loss)


@pytest.mark.parametrize(
    ("scheme", "topn", "differentiable"),
    [("arp1", None, True), ("arp2", None, True), ("arp2", 3, False)]
    + [(scheme, None, False) for scheme in ("ndcg1", "ndcg2", "ndcg2pp")],
)
def test_differentiable_flag(scheme, topn, differentiable):
    assert gbrank.LambdaLoss(scheme=scheme, topn=topn).differentiable is differentiable


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"scheme": "rr"}, r"scheme='rr' is not supported; choose one of 'ndcg1'"),
        ({"scheme": "ndcgLoss2PP_scheme"}, r"scheme='ndcgLoss2PP_scheme' is not"),
        ({"mu": -1.0}, r"mu must be a finite number >= 0, got -1.0"),
        ({"mu": float("nan")}, r"mu must be a finite number >= 0, got nan"),
        ({"mu": float("inf")}, r"mu must be a finite number >= 0"),
        ({"mu": "10"}, r"mu must be a finite number >= 0"),
        ({"topn": 0}, r"topn must be None or an integer >= 1, got 0"),
        ({"topn": 2.5}, r"topn must be None or an integer >= 1, got 2.5"),
        ({"topn": True}, r"topn must be None or an integer >= 1, got True"),
        ({"step": "fast"}, r"step='fast' is not supported"),
    ],
)
def test_bad_parameters_name_the_parameter_and_range(params, message):
    loss = gbrank.LambdaLoss(**params)
    for call in (loss.loss, loss.grad_hess, loss.booster_grad_hess):
        with pytest.raises(ValueError, match=message):
            call([1.0, 0.0], [0.0, 1.0])


def test_lambda_weights_belong_to_the_keras_pairwise_losses():
    with pytest.raises(ValueError, match="no parameter 'lambda_weight'"):
        gbrank.get_loss("lambdaloss", lambda_weight="ndcg")
