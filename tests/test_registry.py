"""User-defined losses are first-class.

A loss written outside gbrank registers with one call and then works with
``get_loss``, both engines, the estimators, grid search, ``gbrank losses`` and
the contract checks of :mod:`gbrank.testing`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, GroupKFold

import gbrank
from gbrank import cli, losses
from gbrank.datasets import make_ranking
from gbrank.testing import check_loss

PACKAGE = Path(gbrank.__file__).parent


class GainSoftmaxLoss(gbrank.Loss):
    """Softmax cross-entropy against gains ``2^y - 1`` (a user's loss)."""

    name = "gain_softmax_test"
    per_group = True

    def __init__(self, *, base: float = 2.0):
        self.base = base

    def check_params(self):
        if not self.base > 1:
            raise ValueError(f"base must be > 1, got {self.base!r}.")

    def compute(self, batch, need_loss=True):
        starts = batch.groups.offsets[:-1]
        valid = batch.valid
        gains = np.where(valid, self.base ** np.maximum(batch.labels, 0) - 1, 0.0)
        targets = batch.weights * gains
        top = np.maximum.reduceat(np.where(valid, batch.scores, -np.inf), starts)
        top = np.repeat(np.where(np.isfinite(top), top, 0.0), batch.groups.sizes)
        e = np.exp(np.where(valid, batch.scores - top, -np.inf))
        total = np.repeat(np.add.reduceat(e, starts), batch.groups.sizes)
        p = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
        mass = np.repeat(np.add.reduceat(targets, starts), batch.groups.sizes)
        log_p = np.where(
            valid, batch.scores - top - np.log(np.maximum(total, 1e-300)), 0
        )
        values = -np.add.reduceat(targets * log_p, starts)
        return values, mass * p - targets, mass * p * (1 - p)

    def compute_activation(self, batch):
        return gbrank.SoftmaxLoss().compute_activation(batch)


@pytest.fixture
def registered():
    gbrank.register_loss(GainSoftmaxLoss)
    yield GainSoftmaxLoss
    gbrank.unregister_loss(GainSoftmaxLoss.name)


def test_a_registered_loss_passes_the_contract_checks(registered):
    check_loss(gbrank.get_loss("gain_softmax_test"))


@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_a_registered_loss_trains_and_searches_with_the_estimators(registered, backend):
    X, y, _, qid = make_ranking(n_queries=30, docs_per_query=10, random_state=0)
    ranker = gbrank.GBRankRegressor(loss="gain_softmax_test", backend=backend)
    ranker.set_params(n_estimators=10, n_jobs=1)
    assert ranker.fit(X, y, qid=qid).score(X, y, qid=qid) > 0.7
    estimator = gbrank.GBRankRegressor(
        loss=GainSoftmaxLoss(), backend=backend, n_estimators=5
    )
    with sklearn.config_context(enable_metadata_routing=True):
        estimator.set_fit_request(qid=True).set_score_request(qid=True)
        search = GridSearchCV(
            estimator, {"loss__base": [2.0, 3.0]}, cv=GroupKFold(n_splits=2)
        )
        search.fit(X, y, qid=qid, groups=qid)
    assert search.best_params_["loss__base"] in (2.0, 3.0)


def test_a_registered_loss_saves_and_loads_by_name(registered, tmp_path):
    X, y, _, qid = make_ranking(n_queries=20, docs_per_query=10, random_state=0)
    ranker = gbrank.GBRankRegressor(loss=GainSoftmaxLoss(base=3.0), n_estimators=5)
    ranker.fit(X, y, qid=qid).save_model(tmp_path / "model.txt")
    loaded = gbrank.GBRankRegressor.load_model(tmp_path / "model.txt")
    assert loaded.loss_ == GainSoftmaxLoss(base=3.0)
    np.testing.assert_array_equal(loaded.predict(X), ranker.predict(X))
    gbrank.unregister_loss(GainSoftmaxLoss.name)
    try:
        with pytest.raises(
            ValueError,
            match=r"trained with the loss 'gain_softmax_test', which cannot be "
            r"rebuilt here .*register it \(gbrank\.register_loss\)",
        ):
            gbrank.GBRankRegressor.load_model(tmp_path / "model.txt")
    finally:
        gbrank.register_loss(GainSoftmaxLoss)


def test_a_registered_loss_is_listed_by_the_command_line(registered, capsys):
    assert cli.main(["losses"]) == 0
    assert "gain_softmax_test" in capsys.readouterr().out


def test_register_loss_refuses_what_cannot_work(registered):
    with pytest.raises(TypeError, match=r"subclass of gbrank\.Loss"):
        gbrank.register_loss(object)
    with pytest.raises(TypeError, match="must implement compute"):
        gbrank.register_loss(type("NoMath", (gbrank.Loss,), {"name": "no_math"}))
    bad_name = type("Bad", (GainSoftmaxLoss,), {"name": "Bad Name"})
    with pytest.raises(ValueError, match="snake_case"):
        gbrank.register_loss(bad_name)
    taken = type("Taken", (GainSoftmaxLoss,), {"name": "softmax"})
    with pytest.raises(ValueError, match="'softmax' is registered already"):
        gbrank.register_loss(taken)
    with pytest.raises(ValueError, match="built-in loss"):
        gbrank.unregister_loss("softmax")


def test_packages_register_losses_through_entry_points(monkeypatch):
    class EntryPoint:
        def load(self):
            return GainSoftmaxLoss

    monkeypatch.setattr(losses, "_plugins_loaded", False)
    monkeypatch.setattr(
        losses, "entry_points", lambda group: [EntryPoint()] if group else []
    )
    try:
        assert "gain_softmax_test" in gbrank.available_losses()
    finally:
        gbrank.unregister_loss("gain_softmax_test")


def test_get_loss_names_what_is_wrong():
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'; available: .*pair"):
        gbrank.get_loss("hinge")
    with pytest.raises(TypeError, match="loss must be a loss name"):
        gbrank.get_loss(["softmax"])
    with pytest.raises(
        ValueError, match=r"no parameter 'temprature'; its parameters: temperature"
    ):
        gbrank.get_loss("listmle", temprature=2.0)
    loss = gbrank.PairwiseHingeLoss(temperature=2.0)
    assert gbrank.get_loss(loss) is loss
    with pytest.raises(ValueError, match="combined with a loss instance"):
        gbrank.get_loss(loss, temperature=1.0)


@pytest.mark.parametrize(
    ("name", "hint"),
    [("pairwise_hing", " (did you mean 'pairwise_hinge'?)"),
     ("ListNet", " (did you mean 'listnet'?)"), ("zzz", "")],
)  # fmt: skip
def test_a_misspelt_loss_name_gets_the_closest_one(name, hint):
    with pytest.raises(
        ValueError, match=rf"^unknown loss '{name}'{re.escape(hint)}; available: "
    ):
        gbrank.get_loss(name)


def test_set_params_and_repr():
    loss = gbrank.PairwiseHingeLoss()
    assert loss.set_params(temperature=0.5).temperature == 0.5
    assert loss != gbrank.PairwiseHingeLoss()
    assert repr(loss) == "PairwiseHingeLoss(temperature=0.5)"
    with pytest.raises(ValueError, match="has no parameter 'margin'"):
        loss.set_params(margin=1.0)
