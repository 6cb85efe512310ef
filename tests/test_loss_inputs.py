"""Bad input and bad parameters of a loss raise an error that names the problem."""

from __future__ import annotations

import numpy as np
import pytest

import gbrank

from ._cases import PAIRWISE_LOSSES

Y = np.array([1.0, 0.0, 2.0, 0.0])
S = np.array([0.5, 0.1, -0.3, 0.0])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"y_pred": np.array([0.5, np.nan, 0.0, 0.0])},
            ValueError,
            r"y_pred contains NaN or inf at index 1",
        ),
        (
            {"y_true": np.array([1.0, np.inf, 0.0, 0.0])},
            ValueError,
            r"y_true contains NaN or inf at index 1",
        ),
        (
            {"y_pred": S[:3]},
            ValueError,
            r"y_true has shape \(4,\) but y_pred has shape \(3,\)",
        ),
        (
            {"y_pred": np.array(["a", "b", "c", "d"])},
            TypeError,
            r"y_pred must be numeric",
        ),
        (
            {"y_true": np.array([], dtype=float), "y_pred": np.array([])},
            ValueError,
            r"y_pred is empty",
        ),
        (
            {"sample_weight": np.array([1.0, -1.0, 1.0, 1.0])},
            ValueError,
            r"sample_weight must be >= 0; sample_weight\[1\] = -1",
        ),
        (
            {"sample_weight": np.array([1.0, np.nan, 1.0, 1.0])},
            ValueError,
            r"sample_weight contains NaN",
        ),
        (
            {"sample_weight": np.ones(3)},
            ValueError,
            r"sample_weight has shape \(3,\); expected",
        ),
        ({"group": [2, 1]}, ValueError, r"group sizes sum to 3 but there are 4 rows"),
        ({"qid": [0, 1, 0, 1]}, ValueError, r"qid must be contiguous runs"),
        ({"group": [4], "qid": [0, 0, 0, 0]}, ValueError, r"not both"),
        ({"mask": np.ones(3, dtype=bool)}, ValueError, r"mask has shape \(3,\)"),
        ({"mask": np.array(["x"] * 4)}, ValueError, r"mask must hold booleans"),
        ({"reduction": "average"}, ValueError, r"reduction='average' is not supported"),
        ({"y_pred": np.ones((2, 2, 1))}, ValueError, r"y_pred must be 1-D or 2-D"),
    ],
)
def test_bad_inputs(kwargs, error, message):
    arguments = {"y_true": Y, "y_pred": S, **kwargs}
    with pytest.raises(error, match=message):
        gbrank.PairwiseHingeLoss().loss(**arguments)


def test_group_with_a_padded_batch():
    with pytest.raises(ValueError, match="2-D y_true/y_pred is a padded batch"):
        gbrank.PairwiseHingeLoss().loss(np.ones((2, 2)), np.ones((2, 2)), group=[2, 2])


def test_mask_twice():
    with pytest.raises(ValueError, match="either in y_true\\['mask'\\] or as mask="):
        gbrank.PairwiseHingeLoss().loss({"labels": Y, "mask": Y > 0}, S, mask=Y > 0)


def test_bad_dict_keys():
    with pytest.raises(ValueError, match="keys 'labels'"):
        gbrank.PairwiseHingeLoss().loss({"label": Y}, S)


@pytest.mark.parametrize(
    "name", ["pairwise_hinge", "pairwise_logistic", "pairwise_soft_zero_one", "listmle"]
)
@pytest.mark.parametrize("temperature", [0.0, -1.0, np.nan, "1"])
def test_bad_temperature(name, temperature):
    loss = gbrank.get_loss(name, temperature=temperature)
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        loss.loss(Y, S)


@pytest.mark.parametrize("name", ["pairwise_hinge", "rank_one_listnet"])
def test_unknown_hessian_mode(name):
    loss = gbrank.get_loss(name, hessian="newton")
    with pytest.raises(ValueError, match="hessian='newton' is not supported; choose"):
        loss.grad_hess(np.array([1.0, 0.0]), np.zeros(2))


@pytest.mark.parametrize("name", ["sigmoid_cross_entropy", "rank_one_listnet"])
def test_clicks_outside_unit_interval(name):
    with pytest.raises(
        ValueError, match=r"needs labels in \[0.0, 1.0\].*y_true\[2\] = 2.0"
    ):
        gbrank.get_loss(name).loss(Y, S)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.array([0, 3]), r"integer class ids in 0..2.*y_true\[1\] = 3"),
        (np.array([0.5, 1]), r"integer class ids.*y_true\[0\] = 0.5"),
        (np.array([[1, 1, 0], [0, 1, 0]]), r"exactly one 1 per row; row 0"),
        (np.array([0, 1, 2]), r"expected class ids \(2,\)"),
    ],
)
def test_bad_classes(labels, message):
    with pytest.raises(ValueError, match=message):
        gbrank.CategoricalCrossEntropyLoss().loss(labels, np.zeros((2, 3)))


def test_categorical_needs_2d_scores():
    with pytest.raises(
        ValueError, match=r"needs 2-D scores y_pred of shape \(n_samples, n_classes\)"
    ):
        gbrank.CategoricalCrossEntropyLoss().loss([0, 1], [0.0, 1.0])


@pytest.mark.parametrize("factor", [0, -1.0, "native"])
def test_bad_hessian_factor(factor):
    with pytest.raises(ValueError, match="hessian_factor"):
        gbrank.CategoricalCrossEntropyLoss(hessian_factor=factor).loss(
            [0], [[0.0, 1.0]]
        )


@pytest.mark.parametrize("name", PAIRWISE_LOSSES)
@pytest.mark.parametrize("bad", ["lambdarank", 1.0, gbrank.PairwiseLogisticLoss])
def test_bad_lambda_weight(name, bad):
    loss = gbrank.get_loss(name, lambda_weight=bad)
    with pytest.raises(ValueError, match=r"lambda_weight=.* is not supported"):
        loss.loss([1.0, 0.0], [0.0, 1.0])


@pytest.mark.parametrize("topn", [0, -3, 2.5, True, "10"])
def test_bad_topn(topn):
    with pytest.raises(ValueError, match=r"topn must be None or an integer >= 1"):
        gbrank.NDCGLambdaWeight(topn=topn)


def test_bad_gain():
    with pytest.raises(ValueError, match=r"gain='log' is not supported"):
        gbrank.DCGLambdaWeight(gain="log")


def test_bad_label_normalization():
    loss = gbrank.ListNetLoss(label_normalization="max")
    with pytest.raises(ValueError, match=r"label_normalization='max' is not supported"):
        loss.loss([1.0, 0.0], [0.0, 1.0])
