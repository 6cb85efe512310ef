"""Bad input and bad parameters of a loss raise an error that names the problem."""

from __future__ import annotations

import numpy as np
import pytest

import gbrank

from ._cases import ALL_LOSSES, PAIRWISE_LOSSES

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
    "name", [n for n in ALL_LOSSES if "temperature" in gbrank.LOSSES[n]._param_names()]
)
@pytest.mark.parametrize("temperature", [0.0, -1.0, np.nan, "1"])
def test_bad_temperature(name, temperature):
    loss = gbrank.get_loss(name, temperature=temperature)
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        loss.loss(Y, S)


@pytest.mark.parametrize(
    "name", [n for n in ALL_LOSSES if "hessian" in gbrank.LOSSES[n]._param_names()]
)
def test_unknown_hessian_mode(name):
    loss = gbrank.get_loss(name, hessian="newton")
    with pytest.raises(ValueError, match="hessian='newton' is not supported; choose"):
        loss.grad_hess(np.array([1.0, 0.0]), np.zeros(2))


@pytest.mark.parametrize(
    "name", [n for n in ALL_LOSSES if gbrank.get_loss(n).label_bounds == (0.0, 1.0)]
)
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


# -- extreme values: a finite result or an error naming the input ----------------------

TEMPERATURE_LOSSES = [
    name for name in ALL_LOSSES if "temperature" in gbrank.LOSSES[name]._param_names()
]


@pytest.mark.parametrize("name", TEMPERATURE_LOSSES)
def test_temperature_whose_hessian_overflows_is_refused(name):
    with pytest.raises(
        ValueError,
        match=r"temperature=1e-200 is too small: .* use temperature >= 1e-150",
    ):
        gbrank.get_loss(name, temperature=1e-200).grad_hess(Y, S)
    grad, hess = gbrank.get_loss(name, temperature=1e-150).grad_hess(Y, S)
    assert np.all(np.isfinite(grad))
    assert np.all(np.isfinite(hess))


@pytest.mark.parametrize("name", PAIRWISE_LOSSES)
@pytest.mark.parametrize("weight", ["dcg", "ndcg"])
def test_exp2_gain_labels_are_bounded_where_the_gain_overflows(name, weight):
    loss = gbrank.get_loss(name, lambda_weight=weight)
    with pytest.raises(
        ValueError,
        match=r"uses the gain 2\*\*y - 1, which gbrank computes for labels up to 961 "
        r".* y_true\[2\] = 1024.0\. Rescale the labels, or use gain='linear'",
    ):
        loss.grad_hess(np.array([1.0, 0.0, 1024.0, 3.0]), S)
    grad, hess = loss.grad_hess(np.array([1.0, 0.0, 961.0, 3.0]), S)
    assert np.all(np.isfinite(grad))
    assert np.all(np.isfinite(hess))
    assert np.any(grad != 0)
    linear = gbrank.get_loss(name, lambda_weight=gbrank.NDCGLambdaWeight(gain="linear"))
    assert np.all(np.isfinite(linear.grad_hess(np.array([1.0, 0.0, 1e6, 3.0]), S)[0]))


@pytest.mark.parametrize(
    ("name", "kwargs", "culprit"),
    [
        ("pairwise_mse", {"y_true": np.array([1e308, 0.0, 1e308, 0.0])}, "y_true"),
        ("pairwise_mse", {"y_pred": np.array([1.7e308, -1.7e308, 0.0, 0.0])}, "y_pred"),
        (
            "softmax",
            {"sample_weight": np.array([1.0, 1.0, 1e308, 1.0])},
            "sample_weight",
        ),
        (
            "pairwise_hinge",
            {"sample_weight": np.array([1, 1, 1e308, 1])},
            "sample_weight",
        ),
    ],
    ids=["mse-labels", "mse-scores", "softmax-weights", "hinge-weights"],
)
def test_overflow_raises_naming_the_query_and_the_input(name, kwargs, culprit):
    arguments = {"y_true": Y, "y_pred": S, **kwargs}
    with pytest.raises(
        ValueError,
        match=rf"{name}: the (gradient|hessian) overflows float64 at row \d+ "
        rf"\(query 0\); .* scale {culprit} down",
    ):
        gbrank.get_loss(name).grad_hess(**arguments)


@pytest.mark.parametrize("name", ALL_LOSSES)
@pytest.mark.parametrize("extreme", ["y_true", "y_pred", "sample_weight"])
def test_extreme_inputs_give_finite_results_or_a_named_error(name, extreme):
    """No NaN or inf ever reaches a booster; an overflow names what to scale."""
    loss = gbrank.get_loss(name)
    multiclass = loss.is_multiclass
    labels = np.array([0, 1, 2, 1]) if multiclass else Y.copy()
    if loss.label_bounds is not None:  # in every bounded domain (ordinal: integers)
        labels = np.array([1.0, 0.0, 1.0, 0.0])
    scores = np.tile(S[:, None], 3) if multiclass else S.copy()
    weights = np.ones(4)
    if extreme == "y_true" and loss.label_bounds is None and not multiclass:
        labels = np.array([1e308, 0.0, 1e308, 5.0])
    elif extreme == "y_pred":
        scores = np.where(np.arange(scores.size) % 2, -1.7e308, 1.7e308).reshape(
            scores.shape
        )
    elif extreme == "sample_weight":
        weights = np.array([1e308, 1.0, 5e307, 1.0])
    kwargs = {"sample_weight": weights}
    if loss.needs_groups:
        kwargs["group"] = [4]
    try:
        grad, hess = loss.grad_hess(labels, scores, **kwargs)
        values = loss.loss(labels, scores, reduction="none", **kwargs)
    except ValueError as error:
        message = str(error)
    else:
        message = ""
    if message:
        assert "overflows float64" in message
        assert f"scale {extreme} down" in message
        return
    assert np.all(np.isfinite(grad))
    assert np.all(np.isfinite(hess) & (hess > 0))
    assert np.all(np.isfinite(values))


def test_listnet_with_huge_labels_keeps_its_gradient():
    """Labels near 1e308 used to overflow the label sum: an all-zero gradient."""
    loss = gbrank.ListNetLoss(label_normalization="sum")
    huge = loss.grad_hess(np.array([1e308, 1e308, 0.0]), np.array([0.1, 0.2, 0.3]))
    unit = loss.grad_hess(np.array([1.0, 1.0, 0.0]), np.array([0.1, 0.2, 0.3]))
    np.testing.assert_allclose(huge, unit, rtol=1e-15)
    # the softmax target of [big, big, 0] is [1/2, 1/2, 0]: the sum target's
    exact = gbrank.ListNetLoss().grad_hess(
        np.array([1e308, 1e308, 0.0]), np.array([0.1, 0.2, 0.3])
    )
    np.testing.assert_allclose(exact, unit, rtol=1e-15)


def test_weights_whose_sum_overflows_are_refused():
    with pytest.raises(ValueError, match="sample_weight sums to more than float64"):
        gbrank.SoftmaxLoss().loss(Y, S, sample_weight=np.full(4, 1e308))


def test_a_reduction_that_overflows_is_refused():
    loss = gbrank.SigmoidCrossEntropyLoss()
    labels, scores = np.zeros(2), np.full(2, 1.7e308)
    values = loss.loss(labels, scores, reduction="none")
    np.testing.assert_array_equal(values, scores)  # each value is finite
    with pytest.raises(
        ValueError, match=r"their 'sum' reduction overflows float64; use reduction"
    ):
        loss.loss(labels, scores, reduction="sum")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: gbrank.NDCGLambdaWeight(topn=10**20), r"topn=10{20} is too large"),
        (
            lambda: gbrank.metrics.ndcg([1, 0], [0, 1], group=[2], k=2**70),
            r"k=\d+ is too large",
        ),
    ],
    ids=["topn", "k"],
)
def test_integers_beyond_int64_are_refused_by_name(build, message):
    with pytest.raises(ValueError, match=message + r": it must be an integer in \[1,"):
        build()


def test_numpy_integers_are_accepted():
    loss = gbrank.PairwiseLogisticLoss(
        lambda_weight=gbrank.NDCGLambdaWeight(topn=np.int64(3))
    )
    reference = gbrank.PairwiseLogisticLoss(
        lambda_weight=gbrank.NDCGLambdaWeight(topn=3)
    )
    np.testing.assert_array_equal(loss.grad_hess(Y, S)[0], reference.grad_hess(Y, S)[0])
    one = [Y.size]
    assert gbrank.metrics.ndcg(Y, S, group=one, k=np.int64(2)) == (
        gbrank.metrics.ndcg(Y, S, group=one, k=2)
    )
