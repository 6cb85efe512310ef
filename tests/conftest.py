import os

os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # before any OpenMP starts

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from sklearn.datasets import load_svmlight_file

from gbrank import metrics

LAMBDARANK_DIR = Path(__file__).parents[1] / "datasets" / "lightgbm_lambdarank"


@dataclass(frozen=True)
class RankData:
    X: csr_matrix
    y: np.ndarray
    group: np.ndarray
    X_test: csr_matrix
    y_test: np.ndarray
    group_test: np.ndarray

    @property
    def qid(self) -> np.ndarray:
        return np.repeat(np.arange(self.group.size), self.group)


@pytest.fixture(scope="session")
def lambdarank_data() -> RankData:
    """LightGBM's lambdarank example data (rank.train / rank.test)."""
    X, y = load_svmlight_file(str(LAMBDARANK_DIR / "rank.train"))
    X_test, y_test = load_svmlight_file(
        str(LAMBDARANK_DIR / "rank.test"), n_features=X.shape[1]
    )
    group = np.loadtxt(LAMBDARANK_DIR / "rank.train.query", dtype=np.int64)
    group_test = np.loadtxt(LAMBDARANK_DIR / "rank.test.query", dtype=np.int64)
    return RankData(X, y, group, X_test, y_test, group_test)


def training_label(loss, y):
    """Graded labels 0..4, scaled to [0, 1] for losses that need click labels."""
    return y / y.max() if loss.label_bounds == (0.0, 1.0) else y


def ndcg_at(data, scores, k):
    return metrics.ndcg(data.y_test, scores, group=data.group_test, k=k)


def small_ranking(seed=0):
    rng = np.random.default_rng(seed)
    group = np.array([8, 12, 5, 10, 15])
    X = rng.normal(size=(group.sum(), 4))
    y = np.clip(np.round(X[:, 0] + rng.normal(scale=0.5, size=group.sum())), 0, 3)
    return X, y, group
