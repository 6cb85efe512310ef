"""CatBoost's query-wise losses (``query_rmse``, ``query_softmax``): reference
numbers from the CatBoost binary, their semantics, and bad input.

The reference numbers come from ``catboost 1.2.10`` (PyPI) run on the shared
inputs below (research notes /work/scratch/zoo/REFERENCE.md, section 0.3):

    cd /work/scratch/zoo
    venv-jax/bin/python make_refs_catboost.py   # out/refs_catboost.json

CatBoost does not expose its derivatives; the script read them off one-tree
models (one row per leaf, the scores as baseline, learning rate 1, Gradient and
Newton leaves), so they are the binary's own ``-Der1`` and ``-Der2`` (the
derivatives of the loss to minimise), accurate to ~1e-8 (FastExp, float32
targets). CatBoost has no padding: "masked" drops the padded rows (groups of 5,
4 and 3 rows); their entries are NaN here and gbrank gives them gradient 0.
"""

from __future__ import annotations

import numpy as np
import pytest

import gbrank
from gbrank.losses import HESSIAN_FLOOR

nan = np.nan
LABELS = np.array([[3, 0, 1, 2, 0], [0, 1, 0, 2, 1], [1, 0, 0, 0, 0]], dtype=float)
SCORES = np.array(
    [
        [0.5, -1.2, 0.3, 2.0, 0.1],
        [1.1, 0.4, -0.7, 0.0, 0.9],
        [-0.3, 0.8, 0.2, -1.5, 0.6],
    ]
)
MASKS = {
    "masked": np.array(
        [[True] * 5, [True, True, True, True, False], [True, True, True, False, False]]
    ),
    "unmasked": np.ones((3, 5), dtype=bool),
}
RTOL = 1e-6

CATBOOST = {
    ("QueryRMSE", "masked"): {
        "metric_value": 0.9866610360199698,
        "grad": [
            [
                -1.6399999931438256,
                -0.34000004082884167,
                0.1600000187753031,
                0.8600000068536741,
                0.9600000083436901,
            ],
            [
                1.6500000134093948,
                -0.050000004470298356,
                -0.14999999850973386,
                -1.4500000104293627,
                nan,
            ],
            [-1.2000000129131396, 0.9000000109266182, 0.30000000198652144, nan, nan],
        ],
        "hess_diag": [
            [1.0, 1.0, 1.0, 1.0, 1.0],
            [1.0, 1.0, 1.0, 1.0, nan],
            [1.0, 1.0, 1.0, nan, nan],
        ],
    },
    ("QueryRMSE", "unmasked"): {
        "metric_value": 0.9728309205612247,
        "grad": [
            [
                -1.6399999931438256,
                -0.34000004082884167,
                0.1600000187753031,
                0.8600000068536741,
                0.9600000083436901,
            ],
            [
                1.5600000202640192,
                -0.13999999761567422,
                -0.2399999916551097,
                -1.5400000035747385,
                0.35999997258150335,
            ],
            [
                -1.060000017284287,
                1.0400000065554709,
                0.43999999761537417,
                -1.260000005363158,
                0.8400000184765998,
            ],
        ],
        "hess_diag": [[1.0] * 5, [1.0] * 5, [1.0] * 5],
    },
    ("QuerySoftMax", "masked"): {
        "metric_value": 1.5709276792716278,
        "grad": [
            [
                -2.1612407558951383,
                0.15322748723787982,
                -0.31328200423804764,
                1.759058136938329,
                0.5622371359569763,
            ],
            [
                1.5039438996752628,
                -0.2531635750479985,
                0.24860025160041221,
                -1.4993805762276766,
                nan,
            ],
            [-0.823099253378869, 0.5314392252774524, 0.29166002810141667, nan, nan],
        ],
        "hess_diag": [
            [
                0.7815063991749632,
                0.20931437676461015,
                0.6681210614781571,
                1.4639717907903762,
                0.5695520364496796,
            ],
            [
                0.7799948152186663,
                0.5909148764072545,
                0.2579995565694322,
                0.44707948795249963,
                nan,
            ],
            [0.15560687246632984, 0.25901157511466116, 0.21659445611020245, nan, nan],
        ],
    },
    ("QuerySoftMax", "unmasked"): {
        "metric_value": 1.670282082574724,
        "grad": [
            [
                -2.1612407558951383,
                0.15322748723787982,
                -0.31328200423804764,
                1.759058136938329,
                0.5622371359569763,
            ],
            [
                1.4217238121246323,
                -0.29399286147200004,
                0.2350093627008275,
                -1.5267492652198857,
                0.1640089518664261,
            ],
            [
                -0.8811460111557398,
                0.3570571236063359,
                0.19595710243342723,
                0.03579813392901444,
                0.2923336511869621,
            ],
        ],
        "hess_diag": [
            [
                0.7815063991749632,
                0.20931437676461015,
                0.6681210614781571,
                1.4639717907903762,
                0.5695520364496796,
            ],
            [
                0.9563991626345377,
                0.6213956186150646,
                0.26120201256251135,
                0.4572591702870121,
                0.8652797418603354,
            ],
            [
                0.1147277181802823,
                0.23956733408916814,
                0.16755791644027415,
                0.04451662753720349,
                0.21687468757156622,
            ],
        ],
    },
    ("QuerySoftMax:beta=2;lambda=0", "masked"): {
        "metric_value": 1.5709276792716278,
        "grad": [
            [
                -5.460396697340386,
                0.018008324973534807,
                -1.6382930806984815,
                6.838222059327169,
                0.24245939373816505,
            ],
            [
                4.332993966028424,
                -0.9314968814107402,
                0.11839352167083246,
                -3.519890606288515,
                nan,
            ],
            [-1.8430547304831995, 1.416433243584199, 0.42662148689900037, nan, nan],
        ],
        "hess_diag": [
            [
                1.030677984602398,
                0.03596259998667748,
                0.7016085226884897,
                2.098601217427867,
                0.47512102787534055,
            ],
            [
                2.407709028838679,
                1.7564399323649056,
                0.23211470135145296,
                0.8833837774405022,
                nan,
            ],
            [0.28925872140750286, 0.8265833536369366, 0.6712370807149047, nan, nan],
        ],
    },
    ("QuerySoftMax:beta=2;lambda=0", "unmasked"): {
        "metric_value": 1.670282082574724,
        "grad": [
            [
                -5.460396697340386,
                0.018008324973534807,
                -1.6382930806984815,
                6.838222059327169,
                0.24245939373816505,
            ],
            [
                3.8928610440634634,
                -1.0400323198165173,
                0.10636745215786986,
                -3.5686587218160306,
                0.6094625454112153,
            ],
            [
                -1.8940883377029518,
                0.9558542275389966,
                0.2878977556185417,
                0.009608089461960902,
                0.6407282650834527,
            ],
        ],
        "hess_diag": [
            [
                1.030677984602398,
                0.03596259998667748,
                0.7016085226884897,
                2.098601217427867,
                0.47512102787534055,
            ],
            [
                3.9971303110274183,
                1.6895508736154805,
                0.2099063955970977,
                0.816168731795409,
                3.516601396844343,
            ],
            [
                0.20060604438098456,
                0.9980511507739075,
                0.49291039354780697,
                0.019123863541812666,
                0.8709238204906435,
            ],
        ],
    },
}

LOSSES = {
    "QueryRMSE": gbrank.QueryRMSELoss(),
    "QuerySoftMax": gbrank.QuerySoftmaxLoss(),
    "QuerySoftMax:beta=2;lambda=0": gbrank.QuerySoftmaxLoss(beta=2.0, lambda_reg=0.0),
}


@pytest.mark.parametrize("key", list(CATBOOST), ids="/".join)
def test_gradient_and_hessian_equal_catboosts(key):
    objective, case = key
    ref, loss, mask = CATBOOST[key], LOSSES[objective], MASKS[case]
    grad, hess = loss.grad_hess(LABELS, SCORES, mask=mask)
    expected_grad, expected_hess = np.array(ref["grad"]), np.array(ref["hess_diag"])
    np.testing.assert_array_equal(np.isnan(expected_grad), ~mask)
    np.testing.assert_allclose(grad[mask], expected_grad[mask], rtol=RTOL)
    np.testing.assert_allclose(hess[mask], expected_hess[mask], rtol=RTOL)
    assert np.all(grad[~mask] == 0)
    assert np.all(hess[~mask] == HESSIAN_FLOOR)


@pytest.mark.parametrize("case", ["masked", "unmasked"])
def test_query_rmse_metric_is_the_root_of_twice_the_mean_loss(case):
    """CatBoost's QueryRMSE metric: sqrt(sum_q sum_i w (r - mean r)^2 / sum w)."""
    ref, mask = CATBOOST["QueryRMSE", case], MASKS[case]
    total = gbrank.QueryRMSELoss().loss(LABELS, SCORES, mask=mask, reduction="sum")
    assert np.sqrt(2 * total / mask.sum()) == pytest.approx(
        ref["metric_value"], rel=RTOL
    )


@pytest.mark.parametrize("objective", ["QuerySoftMax", "QuerySoftMax:beta=2;lambda=0"])
@pytest.mark.parametrize("case", ["masked", "unmasked"])
def test_query_softmax_metric_is_the_loss_per_unit_of_label_mass(objective, case):
    """CatBoost's QuerySoftMax metric divides by the label mass and evaluates
    beta = 1 whatever the objective's beta: the same number for both."""
    ref, mask = CATBOOST[objective, case], MASKS[case]
    loss = gbrank.QuerySoftmaxLoss()
    total = loss.loss(LABELS, SCORES, mask=mask, reduction="sum")
    mass = np.sum(np.where(mask, LABELS, 0.0))
    assert total / mass == pytest.approx(ref["metric_value"], rel=RTOL)


# -- semantics -------------------------------------------------------------------


@pytest.mark.parametrize(
    "loss",
    [gbrank.QueryRMSELoss(), gbrank.QuerySoftmaxLoss(beta=0.7)],
    ids=lambda loss: loss.name,
)
def test_a_weight_counts_as_copies_of_the_row(loss):
    """CatBoost's weights act as multiplicities (inside the mean residual, inside
    the softmax): weight 2 = the row twice for the gradient, and for the value of
    query_rmse. (query_softmax's value, CatBoost's metric, takes the weight inside
    log p_i too: it differs from the copies' by sum_i w_i y_i log w_i.)"""
    y = np.array([2.0, 0.0, 1.0, 3.0])
    s = np.array([0.3, -0.4, 1.2, 0.1])
    weighted = np.array([1.0, 2.0, 1.0, 3.0])
    copies = np.repeat(np.arange(4), weighted.astype(int))
    kwargs = {"reduction": "sum"}
    offset = (
        0.0 if loss.name == "query_rmse" else np.sum(weighted * y * np.log(weighted))
    )
    assert loss.loss(y, s, sample_weight=weighted, **kwargs) == pytest.approx(
        loss.loss(y[copies], s[copies], **kwargs) - offset, rel=1e-12
    )
    grad, _ = loss.grad_hess(y, s, sample_weight=weighted)
    grad_copies, _ = loss.grad_hess(y[copies], s[copies])
    np.testing.assert_allclose(
        grad, np.bincount(copies, weights=grad_copies), rtol=1e-12
    )


def test_query_softmax_is_the_softmax_loss_of_beta_times_the_scores():
    y = np.array([2.0, 0.0, 1.0, 0.0, 3.0, 1.0])
    s = np.array([0.3, -0.4, 1.2, 0.1, -2.0, 0.5])
    group = [4, 2]
    beta = 1.7
    loss = gbrank.QuerySoftmaxLoss(beta=beta, lambda_reg=0.0)
    softmax = gbrank.SoftmaxLoss()
    expected = softmax.loss(y, beta * s, group=group, reduction="none")
    np.testing.assert_allclose(
        loss.loss(y, s, group=group, reduction="none"), expected, rtol=1e-12
    )
    grad, hess = loss.grad_hess(y, s, group=group)
    softmax_grad, softmax_hess = softmax.grad_hess(y, beta * s, group=group)
    np.testing.assert_allclose(grad, beta * softmax_grad, rtol=1e-12)
    np.testing.assert_allclose(hess, beta**2 * softmax_hess, rtol=1e-12)
    # lambda_reg adds the ridge beta * S * lambda to the hessian only
    ridged = gbrank.QuerySoftmaxLoss(beta=beta, lambda_reg=0.5)
    ridged_grad, ridged_hess = ridged.grad_hess(y, s, group=group)
    np.testing.assert_array_equal(ridged_grad, grad)
    mass = np.repeat([3.0, 4.0], group)
    np.testing.assert_allclose(ridged_hess - hess, beta * mass * 0.5, rtol=1e-12)
    activation = loss.activation(s, group=group)
    np.testing.assert_allclose(
        activation, softmax.activation(beta * s, group=group), rtol=1e-12
    )


def test_query_softmax_without_label_mass_is_zero():
    loss = gbrank.QuerySoftmaxLoss()
    y, s = np.array([0.0, 0.0, 1.0, 0.0]), np.array([1.0, 2.0, 0.5, -0.5])
    w = np.array([1.0, 1.0, 0.0, 1.0])  # the only relevant row has weight 0
    assert loss.loss(y, s, sample_weight=w, reduction="sum") == 0.0
    grad, hess = loss.grad_hess(y, s, sample_weight=w)
    assert np.all(grad == 0)
    assert np.all(hess == HESSIAN_FLOOR)


def test_query_rmse_moves_a_query_towards_its_labels_up_to_a_constant():
    """One Newton step (gradient / CatBoost's hessian) lands every query on its
    labels up to a per-query shift: the loss becomes 0."""
    loss = gbrank.QueryRMSELoss()
    y = np.array([2.0, 0.0, 1.0, 3.0, 1.0])
    s = np.array([0.3, -0.4, 1.2, 0.1, -2.0])
    group = [3, 2]
    grad, hess = loss.grad_hess(y, s, group=group)
    stepped = s - grad / hess
    assert loss.loss(y, stepped, group=group, reduction="sum") == pytest.approx(
        0.0, abs=1e-24
    )
    assert loss.activation(s, group=group) is not s
    np.testing.assert_array_equal(loss.activation(s, group=group), s)


# -- bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"beta": 0.0}, "beta must be a finite number > 0, got 0.0"),
        ({"beta": -1.0}, "beta must be a finite number > 0"),
        ({"beta": np.nan}, "beta must be a finite number > 0"),
        ({"beta": "1"}, "beta must be a finite number > 0"),
        ({"lambda_reg": -0.01}, "lambda_reg must be a finite number >= 0"),
        ({"lambda_reg": np.nan}, "lambda_reg must be a finite number >= 0"),
        ({"lambda_reg": np.inf}, "lambda_reg must be a finite number >= 0"),
    ],
)
def test_query_softmax_rejects_bad_parameters(params, message):
    loss = gbrank.QuerySoftmaxLoss(**params)
    for call in (loss.loss, loss.grad_hess):
        with pytest.raises(ValueError, match=message):
            call([1.0, 0.0], [0.0, 0.0])


@pytest.mark.parametrize(
    "loss",
    [gbrank.QueryRMSELoss(), gbrank.QuerySoftmaxLoss(beta=0.7)],
    ids=lambda loss: loss.name,
)
def test_a_weight_shared_by_a_query_scales_it(loss):
    y = np.array([2.0, 0.0, 1.0, 3.0, 1.0, 0.0])
    s = np.array([0.3, -0.4, 1.2, 0.1, 0.5, -1.0])
    group = [4, 2]
    weights = np.repeat([2.5, 0.5], group)
    values = loss.loss(y, s, group=group, sample_weight=weights, reduction="none")
    plain = loss.loss(y, s, group=group, reduction="none")
    np.testing.assert_allclose(values, [2.5, 0.5] * plain, rtol=1e-12)
    grad, _ = loss.grad_hess(y, s, group=group, sample_weight=weights)
    np.testing.assert_allclose(grad, weights * loss.grad_hess(y, s, group=group)[0])
