"""Classification: categorical cross-entropy's hessian factors and engine defaults."""

from __future__ import annotations

import numpy as np
import pytest

import gbrank


@pytest.mark.parametrize(
    ("factor", "expected"),
    [(None, 1.0), ("exact", 1.0), ("lightgbm", 1.5), ("xgboost", 2.0), (0.5, 0.5)],
)
def test_categorical_hessian_factor(factor, expected):
    loss = gbrank.CategoricalCrossEntropyLoss(hessian_factor=factor)
    scores = np.array([[2.0, 0.0, -1.0]])
    p = np.exp(scores) / np.exp(scores).sum()
    np.testing.assert_allclose(loss.grad_hess([1], scores)[1], expected * p * (1 - p))


def test_categorical_engine_defaults():
    loss = gbrank.CategoricalCrossEntropyLoss()
    assert loss.for_engine("lightgbm").hessian_factor == "lightgbm"
    assert loss.for_engine("xgboost").hessian_factor == "xgboost"
    fixed = gbrank.CategoricalCrossEntropyLoss(hessian_factor=3.0)
    assert fixed.for_engine("lightgbm") is fixed
