"""Random, seeded inputs for every registered loss: groups of 1..30 rows with label
ties, ignored rows (label -1), singletons and per-row weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import gbrank


@dataclass
class Case:
    y_true: np.ndarray
    y_pred: np.ndarray
    group: np.ndarray
    sample_weight: np.ndarray

    @property
    def offsets(self):
        return np.concatenate(([0], np.cumsum(self.group)))

    @property
    def qid(self):
        return np.repeat(np.arange(len(self.group)) * 7 + 3, self.group)

    def kwargs(self):
        return {"group": self.group, "sample_weight": self.sample_weight}


def ranking_losses():
    return [
        name for name in gbrank.available_losses() if gbrank.LOSSES[name].needs_groups
    ]


def labels_for(loss, size, rng):
    """Labels in the loss's domain, with ties (but for ListMLE) and ~15 % ignored
    rows (-1)."""
    if loss.label_bounds == (0.0, 1.0):
        labels = rng.choice([0.0, 0.0, 1.0, 0.5], size=size)
    elif loss.name == "listmle":
        # ListMLE breaks label ties by row order, so tied rows are not exchangeable;
        # distinct labels keep the permutation invariances meaningful (ties are
        # pinned in test_loss_family.py)
        labels = rng.permutation(size) / 4.0
    else:
        labels = rng.integers(0, 4, size=size).astype(float)
    return np.where(rng.random(size) < 0.15, -1.0, labels)


def make_case(loss, seed=0, n_groups=12, max_size=30, scale=2.0):
    rng = np.random.default_rng(seed)
    if loss.is_multiclass:
        n, k = 60, 4
        classes = rng.integers(0, k, size=n).astype(float)
        classes[rng.random(n) < 0.1] = -1.0
        return Case(
            y_true=classes,
            y_pred=rng.normal(scale=scale, size=(n, k)),
            group=np.array([n]),
            sample_weight=rng.uniform(0.5, 2.0, size=n),
        )
    sizes = rng.integers(1, max_size + 1, size=n_groups)
    sizes[:2] = 1  # singletons
    n = int(sizes.sum())
    labels = labels_for(loss, n, rng)
    labels[sizes[0] + sizes[1] : sizes[0] + sizes[1] + sizes[2]] = -1.0  # all ignored
    scores = rng.normal(scale=scale, size=n)
    scores[rng.random(n) < 0.1] = 0.25  # tied scores
    return Case(labels, scores, sizes, rng.uniform(0.5, 2.0, size=n))
