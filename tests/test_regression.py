"""Pointwise regression losses (``pointwise_mse``, ``ordinal``): reference numbers
from rax and TF-Ranking, their semantics, and bad input.

The reference numbers were produced by running the references themselves on the
shared inputs below (research notes /work/scratch/zoo/REFERENCE.md, section 0.3):

    cd /work/scratch/zoo
    venv-jax/bin/python make_refs_rax.py    # rax @ af92de1f, jax 0.10.2, float64
    venv-tf215/bin/python make_refs_tf.py   # tensorflow-ranking 0.5.3, TF 2.15.1

(out/refs_rax.json cases ``pointwise_mse/*``; out/refs_tf.json cases
``mean_squared/*`` and ``ordinal_cumlink_theta(-0.5,0.5,1.5)/*``). TF-Ranking
computes in float32 (it casts to it), so its numbers are compared with rtol 1e-6
plus an absolute 2e-7 (a few float32 ulps of the per-threshold terms, which are
of order 1); rax's are float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import gbrank
from gbrank import _compare
from gbrank._kernels.threads import num_threads
from gbrank.testing import check_loss

from ._cases import SINGLE_SCORE_LOSSES

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
RTOL = 1e-6  # the bar; float64 references agree to ~1e-16
TF_ATOL = 2e-7  # TF-Ranking's float32

# rax.pointwise_mse_loss: default reduce_fn=jnp.mean over valid items
RAX_POINTWISE_MSE = {
    "masked": {
        "value_default": 1.3849999999999998,
        "value_sum": 16.619999999999997,
        "per_list": [8.19, 6.0600000000000005, 2.37],
        "unreduced": [
            [6.25, 1.44, 0.48999999999999994, 0.0, 0.010000000000000002],
            [1.2100000000000002, 0.36, 0.48999999999999994, 4.0, 0.0],
            [1.6900000000000002, 0.6400000000000001, 0.04000000000000001, 0.0, 0.0],
        ],
        "grad_default": [
            [
                -0.41666666666666663,
                -0.19999999999999998,
                -0.11666666666666665,
                0.0,
                0.016666666666666666,
            ],
            [
                0.18333333333333335,
                -0.09999999999999999,
                -0.11666666666666665,
                -0.3333333333333333,
                -0.0,
            ],
            [-0.21666666666666667, 0.13333333333333333, 0.03333333333333333, -0.0, 0.0],
        ],
        "grad_sum": [
            [-5.0, -2.4, -1.4, 0.0, 0.2],
            [2.2, -1.2, -1.4, -4.0, -0.0],
            [-2.6, 1.6, 0.4, -0.0, 0.0],
        ],
    },
    "unmasked": {
        "value_default": 1.2826666666666666,
        "value_sum": 19.24,
        "per_list": [8.19, 6.07, 4.98],
        "unreduced": [
            [6.25, 1.44, 0.48999999999999994, 0.0, 0.010000000000000002],
            [1.2100000000000002, 0.36, 0.48999999999999994, 4.0, 0.009999999999999995],
            [1.6900000000000002, 0.6400000000000001, 0.04000000000000001, 2.25, 0.36],
        ],
        "grad_default": [
            [
                -0.3333333333333333,
                -0.16,
                -0.09333333333333332,
                0.0,
                0.013333333333333334,
            ],
            [
                0.14666666666666667,
                -0.08,
                -0.09333333333333332,
                -0.26666666666666666,
                -0.01333333333333333,
            ],
            [
                -0.17333333333333334,
                0.10666666666666667,
                0.02666666666666667,
                -0.2,
                0.08,
            ],
        ],
        "grad_sum": [
            [-5.0, -2.4, -1.4, 0.0, 0.2],
            [2.2, -1.2, -1.4, -4.0, -0.19999999999999996],
            [-2.6, 1.6, 0.4, -3.0, 1.2],
        ],
    },
}

# tfr.keras.losses.MeanSquaredLoss(), Reduction.AUTO: sum / (lists * list_size)
TF_MEAN_SQUARED = {
    "masked": {
        "value_default": 1.1079999208450317,
        "grad_default": [
            [
                -0.3333333432674408,
                -0.1600000113248825,
                -0.09333333373069763,
                -0.0,
                0.0133333345875144,
            ],
            [
                0.14666667580604553,
                -0.08000000566244125,
                -0.09333333373069763,
                -0.2666666805744171,
                0.0,
            ],
            [-0.1733333319425583, 0.1066666767001152, 0.0266666691750288, 0.0, 0.0],
        ],
    },
    "unmasked": {
        "value_default": 1.282666563987732,
        "grad_default": [
            [
                -0.3333333432674408,
                -0.1600000113248825,
                -0.09333333373069763,
                -0.0,
                0.0133333345875144,
            ],
            [
                0.14666667580604553,
                -0.08000000566244125,
                -0.09333333373069763,
                -0.2666666805744171,
                -0.013333337381482124,
            ],
            [
                -0.1733333319425583,
                0.1066666767001152,
                0.0266666691750288,
                -0.20000001788139343,
                0.08000000566244125,
            ],
        ],
    },
}

# tfr.keras.losses.OrdinalLoss(ordinal_size=3) fed logits[i, k] = s_i - theta_k,
# theta = (-0.5, 0.5, 1.5); Reduction.AUTO: sum / (lists * list_size)
THETA = (-0.5, 0.5, 1.5)
TF_ORDINAL = {
    "masked": {
        "value_default": 1.3504124879837036,
        "value_sum": 20.256187438964844,
        "unreduced": [
            [
                2.3196706771850586,
                0.6360155344009399,
                1.2325220108032227,
                1.2543799877166748,
                1.7709206342697144,
            ],
            [
                3.3344039916992188,
                1.272885799407959,
                0.9665046334266663,
                1.6495672464370728,
                0.0,
            ],
            [1.1222171783447266, 2.7985496520996094, 1.8985496759414673, 0.0, 0.0],
        ],
        "grad_default": [
            [
                -0.10000000149011612,
                0.036616723984479904,
                0.024774378165602684,
                0.02427837625145912,
                0.08298565447330475,
            ],
            [
                0.12526580691337585,
                0.029047345742583275,
                0.0520927794277668,
                -0.05450496822595596,
                0.0,
            ],
            [
                0.00011404138058423996,
                0.11280599236488342,
                0.08719402551651001,
                0.0,
                0.0,
            ],
        ],
        "grad_sum": [
            [
                -1.5,
                0.5492508411407471,
                0.3716157078742981,
                0.36417561769485474,
                1.2447848320007324,
            ],
            [
                1.8789870738983154,
                0.43571019172668457,
                0.7813916802406311,
                -0.8175745010375977,
                0.0,
            ],
            [0.0017105787992477417, 1.692089557647705, 1.3079102039337158, 0.0, 0.0],
        ],
    },
    "unmasked": {
        "value_default": 1.6525847911834717,
        "value_sum": 24.788772583007812,
        "unreduced": [
            [
                2.3196706771850586,
                0.6360155344009399,
                1.2325220108032227,
                1.2543799877166748,
                1.7709206342697144,
            ],
            [
                3.3344039916992188,
                1.272885799407959,
                0.9665046334266663,
                1.6495672464370728,
                1.570920705795288,
            ],
            [
                1.1222171783447266,
                2.7985496520996094,
                1.8985496759414673,
                0.4887770414352417,
                2.472885847091675,
            ],
        ],
        "grad_default": [
            [
                -0.10000000149011612,
                0.036616723984479904,
                0.024774378165602684,
                0.02427837625145912,
                0.08298565447330475,
            ],
            [
                0.12526580691337585,
                0.029047345742583275,
                0.0520927794277668,
                -0.05450496822595596,
                0.05034768581390381,
            ],
            [
                0.00011404138058423996,
                0.11280599236488342,
                0.08719402551651001,
                0.029038015753030777,
                0.10428598523139954,
            ],
        ],
        "grad_sum": [
            [
                -1.5,
                0.5492508411407471,
                0.3716157078742981,
                0.36417561769485474,
                1.2447848320007324,
            ],
            [
                1.8789870738983154,
                0.43571019172668457,
                0.7813916802406311,
                -0.8175745010375977,
                0.7552151679992676,
            ],
            [
                0.0017105787992477417,
                1.692089557647705,
                1.3079102039337158,
                0.43557021021842957,
                1.5642898082733154,
            ],
        ],
    },
}


@pytest.mark.parametrize("case", ["masked", "unmasked"])
def test_pointwise_mse_equals_rax(case):
    """Default reduction = rax's mean over valid items; grad_hess = the gradient of
    the sum; the default's gradient is it divided by the number of valid rows."""
    loss, mask = gbrank.PointwiseMeanSquaredError(), MASKS[case]
    ref = RAX_POINTWISE_MSE[case]
    kwargs = {"mask": mask}
    assert loss.loss(LABELS, SCORES, **kwargs) == pytest.approx(
        ref["value_default"], rel=RTOL
    )
    assert loss.loss(LABELS, SCORES, reduction="sum", **kwargs) == pytest.approx(
        ref["value_sum"], rel=RTOL
    )
    unreduced = loss.loss(LABELS, SCORES, reduction="none", **kwargs)
    np.testing.assert_allclose(unreduced, ref["unreduced"], rtol=RTOL)
    np.testing.assert_allclose(unreduced.sum(axis=1), ref["per_list"], rtol=RTOL)
    grad, hess = loss.grad_hess(LABELS, SCORES, **kwargs)
    np.testing.assert_allclose(grad, ref["grad_sum"], rtol=RTOL)
    np.testing.assert_allclose(grad / mask.sum(), ref["grad_default"], rtol=RTOL)
    np.testing.assert_array_equal(hess, np.where(mask, 2.0, 1e-16))


@pytest.mark.parametrize("case", ["masked", "unmasked"])
def test_pointwise_mse_equals_tf_ranking_keras(case):
    """TF-Ranking's Keras default counts padded rows: sum_over_batch_size."""
    loss, mask = gbrank.PointwiseMeanSquaredError(), MASKS[case]
    ref = TF_MEAN_SQUARED[case]
    value = loss.loss(LABELS, SCORES, mask=mask, reduction="sum_over_batch_size")
    assert value == pytest.approx(ref["value_default"], rel=RTOL)
    grad, _ = loss.grad_hess(LABELS, SCORES, mask=mask)
    np.testing.assert_allclose(
        grad / LABELS.size, ref["grad_default"], rtol=RTOL, atol=TF_ATOL
    )


@pytest.mark.parametrize("case", ["masked", "unmasked"])
def test_ordinal_equals_tf_ranking_with_cumulative_logits(case):
    loss, mask = gbrank.OrdinalLoss(thresholds=THETA), MASKS[case]
    ref = TF_ORDINAL[case]
    kwargs = {"mask": mask}
    assert loss.loss(LABELS, SCORES, **kwargs) == pytest.approx(
        ref["value_default"], rel=RTOL
    )
    assert loss.loss(LABELS, SCORES, reduction="sum", **kwargs) == pytest.approx(
        ref["value_sum"], rel=RTOL
    )
    np.testing.assert_allclose(
        loss.loss(LABELS, SCORES, reduction="none", **kwargs),
        ref["unreduced"],
        rtol=RTOL,
        atol=TF_ATOL,
    )
    grad, hess = loss.grad_hess(LABELS, SCORES, **kwargs)
    np.testing.assert_allclose(grad, ref["grad_sum"], rtol=RTOL, atol=TF_ATOL)
    np.testing.assert_allclose(
        grad / LABELS.size, ref["grad_default"], rtol=RTOL, atol=TF_ATOL
    )
    z = SCORES[..., None] - np.array(THETA)
    sigma = 1 / (1 + np.exp(-z))
    expected_hess = (sigma * (1 - sigma)).sum(axis=-1)
    np.testing.assert_allclose(hess, np.where(mask, expected_hess, 1e-16), rtol=1e-12)


# -- semantics -------------------------------------------------------------------


def test_pointwise_losses_need_no_groups_and_see_absolute_scores():
    y = np.array([2.0, 0.0, 1.0, 4.0])
    s = np.array([1.5, 0.2, 0.7, 3.0])
    for loss in (gbrank.PointwiseMeanSquaredError(), gbrank.OrdinalLoss()):
        assert not loss.needs_groups
        flat = loss.grad_hess(y, s)
        grouped = loss.grad_hess(y, s, group=[1, 3])
        np.testing.assert_array_equal(flat[0], grouped[0])
        shifted = loss.grad_hess(y, s + 1.0)
        assert not np.allclose(shifted[0], flat[0])


def test_ordinal_fraction_labels_pass_part_of_the_next_threshold():
    """TF-Ranking's use_fraction_label: 1.2 -> ordinals [1, 0.2, 0]."""
    loss = gbrank.OrdinalLoss(thresholds=(0.0, 1.0, 2.0), use_fraction_label=True)
    s = 0.4
    z = s - np.array([0.0, 1.0, 2.0])
    o = np.array([1.0, 0.2, 0.0])
    expected = np.sum(np.logaddexp(0.0, z) - o * z)
    assert loss.loss([1.2], [s], reduction="sum") == pytest.approx(expected, rel=1e-12)
    grad, _ = loss.grad_hess([1.2], [s])
    assert grad[0] == pytest.approx(np.sum(1 / (1 + np.exp(-z)) - o), rel=1e-12)
    # integer labels give the same with and without fractions
    integer = gbrank.OrdinalLoss(thresholds=(0.0, 1.0, 2.0))
    y, scores = np.array([0.0, 1.0, 3.0, 2.0]), np.array([-1.0, 0.5, 4.0, 1.0])
    assert loss.loss(y, scores) == integer.loss(y, scores)


def test_ordinal_activation_is_the_expected_grade():
    loss = gbrank.OrdinalLoss()
    scores = np.array([-50.0, 0.5, 2.0, 50.0])
    grades = loss.activation(scores)
    assert grades[0] == pytest.approx(0.0, abs=1e-20)
    assert grades[-1] == pytest.approx(4.0)
    assert grades[1] == pytest.approx(0.5 + sum(1 / (1 + np.exp(k)) for k in (1, 2, 3)))
    assert np.all(np.diff(grades) > 0)


def test_ordinal_is_stable_far_from_the_thresholds():
    loss = gbrank.OrdinalLoss()
    y, s = np.array([4.0, 0.0, 4.0, 0.0]), np.array([1e4, -1e4, -1e4, 1e4])
    values = loss.loss(y, s, reduction="none")
    np.testing.assert_allclose(values[:2], 0.0, atol=1e-300)
    thresholds = np.array(loss.thresholds)
    expected = [np.sum(1e4 + thresholds), np.sum(1e4 - thresholds)]
    np.testing.assert_allclose(values[2:], expected, rtol=1e-12)
    grad, hess = loss.grad_hess(y, s)
    np.testing.assert_array_equal(grad, [0.0, 0.0, -4.0, 4.0])
    assert np.all(hess > 0)


def test_ordinal_rows_split_over_threads_match_a_vectorised_formula():
    """Over ~25k rows the ordinal kernel runs in row chunks on the threads."""
    rng = np.random.default_rng(3)
    n = 100_003
    y = rng.integers(0, 5, size=n).astype(float)
    y[rng.random(n) < 0.1] = -1.0
    s = rng.normal(scale=3.0, size=n)
    w = rng.uniform(0.5, 2.0, size=n)
    loss = gbrank.OrdinalLoss()
    with num_threads(2):
        values = loss.loss(y, s, sample_weight=w, reduction="none")
        grad, hess = loss.grad_hess(y, s, sample_weight=w)
    z = s[:, None] - np.array(loss.thresholds)
    o = (y[:, None] >= np.arange(1, 5)).astype(float)
    p = 1 / (1 + np.exp(-z))
    valid = y >= 0
    expected = np.where(valid, w * (np.logaddexp(0.0, z) - o * z).sum(axis=1), 0.0)
    np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-14)
    expected_grad = np.where(valid, w * (p - o).sum(axis=1), 0.0)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)
    expected_hess = np.where(valid, w * (p * (1 - p)).sum(axis=1), 1e-16)
    np.testing.assert_allclose(hess, expected_hess, rtol=1e-10)


def test_ordinal_parameters_round_trip():
    loss = gbrank.get_loss("ordinal", thresholds=[0.0, 1.0], use_fraction_label=True)
    assert loss.label_bounds == (0.0, 2.0)
    assert repr(loss) == "OrdinalLoss(thresholds=[0.0, 1.0], use_fraction_label=True)"
    assert loss.get_params() == {"thresholds": [0.0, 1.0], "use_fraction_label": True}


# -- bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "thresholds",
    [(1.0, 0.5), (0.5, 0.5), (), (0.5, np.nan), (0.5, np.inf), "abc", [[0.5, 1.5]]],
    ids=["decreasing", "equal", "empty", "nan", "inf", "string", "2-d"],
)
def test_ordinal_rejects_bad_thresholds(thresholds):
    loss = gbrank.OrdinalLoss(thresholds=thresholds)
    with pytest.raises(ValueError, match="thresholds must be a non-empty sequence"):
        loss.grad_hess([1.0, 0.0], [0.0, 0.0])


def test_ordinal_rejects_labels_outside_its_domain():
    loss = gbrank.OrdinalLoss(thresholds=(0.5, 1.5))
    with pytest.raises(ValueError, match=r"labels in \[0.0, 2.0\].*y_true\[1\] = 3.0"):
        loss.loss([1.0, 3.0], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"integer labels in \[0, 2\].*y_true\[2\]"):
        loss.grad_hess([1.0, 0.0, 1.5], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="use_fraction_label"):
        loss.loss([[1.0, 0.5]], [[0.0, 0.0]])
    fractions = gbrank.OrdinalLoss(thresholds=(0.5, 1.5), use_fraction_label=True)
    assert np.isfinite(fractions.loss([1.0, 0.0, 1.5], [0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match=r"use_fraction_label='yes' is not supported"):
        gbrank.OrdinalLoss(use_fraction_label="yes").loss([1.0], [0.0])
    # ignored rows may carry any negative label
    assert np.isfinite(loss.loss([-1.5, 1.0], [0.0, 0.0]))


@pytest.mark.parametrize("name", SINGLE_SCORE_LOSSES)
def test_compare_warm_up_accepts_every_single_score_loss(name):
    """``gbrank compare --losses ordinal`` warms the kernels up on labels that
    every single-score loss accepts (ordinal: integers; click losses: [0, 1])."""
    _compare.warm_up(gbrank.get_loss(name))


@pytest.mark.parametrize(
    "thresholds", [(0.5,), (0.5, 1.5, 2.5), (-1.0, 0.0, 1.0, 2.0, 3.0)]
)
def test_ordinal_passes_the_public_contract_for_any_number_of_thresholds(thresholds):
    check_loss(gbrank.get_loss("ordinal", thresholds=thresholds))
