r"""Lambda weights: per-pair weights of the pairwise losses (LambdaRank).

A lambda weight :math:`\lambda_{ij}` multiplies the loss of pair (i, j). The DCG
and NDCG weights depend on the ranks of the current scores, so they are held
fixed when differentiating: ``grad_hess`` of a pairwise loss with such a weight is
the gradient (and hessian) of the loss with the weights frozen at the current
ranks, the LambdaRank/LambdaMART convention. Between two score ties of a list the
ranks do not change and this is the exact derivative; the loss itself jumps where
two scores cross. ``PairwiseLogisticLoss(lambda_weight="ndcg")`` is LambdaMART.

Pass an object below, or the shortcuts ``"label_diff"``, ``"dcg"`` and ``"ndcg"``
(default parameters), as the ``lambda_weight`` of a pairwise loss. Like
google/rax's ``rax.dcg_lambdaweight`` and TF-Ranking's ``DCGLambdaWeight``, except
that rax also scales by the padded list size; gbrank does not.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from gbrank._kernels.pairwise import Gain, LambdaKind
from gbrank._params import Parameters
from gbrank._validation import check_choice, check_gain_labels, check_int

GAINS = {"exp2": Gain.EXP2, "linear": Gain.LINEAR}


class LambdaWeight(Parameters):
    """Base class: parameters, equality, ``repr`` and the kernel's arguments."""

    _kind: ClassVar[LambdaKind]
    depends_on_scores: ClassVar[bool] = True
    """Whether the weights change with the ranks (then frozen in the gradient)."""

    def __init__(self) -> None:
        pass

    def kernel_args(self) -> tuple[LambdaKind, int, Gain]:
        """Return ``(lambda_kind, topn, gain)`` for the pairwise kernels."""
        return self._kind, 0, Gain.LINEAR

    def check_labels(self, labels: NDArray[np.float64]) -> None:
        """Raise ``ValueError`` if a label is outside the weight's domain.

        Parameters
        ----------
        labels : ndarray of float64
            Flat labels; negative ones mark ignored rows.
        """


class LabelDiffLambdaWeight(LambdaWeight):
    r"""Absolute label difference, :math:`\lambda_{ij} = |y_i - y_j|`.

    It does not depend on the scores, so the loss stays differentiable and
    ``grad_hess`` is its exact gradient. Label ties get weight 0.

    See Also
    --------
    rax.labeldiff_lambdaweight : the neural twin.

    Examples
    --------
    >>> import gbrank
    >>> gbrank.LabelDiffLambdaWeight()
    LabelDiffLambdaWeight()
    """

    _kind = LambdaKind.LABEL_DIFF
    depends_on_scores = False


class DCGLambdaWeight(LambdaWeight):
    r"""DCG swap weight: the change in DCG when rows i and j trade places.

    Parameters
    ----------
    topn : int or None, default None
        Ranks past ``topn`` have discount 0 (None: no cutoff); an int >= 1.
    gain : {"exp2", "linear"}, default "exp2"
        Gain of a label: :math:`2^y - 1` or :math:`y`.

    Notes
    -----
    With :math:`r_i` the rank of row i among the valid rows of its list by score,
    descending, ties broken by row order (1 is the top):

    .. math::

        \lambda_{ij} = |G(y_i) - G(y_j)| \cdot |D(r_i) - D(r_j)|, \qquad
        D(r) = \frac{\mathbb{I}(r \le n)}{\log_2(1 + r)}

    held constant in the gradient (see the module notes). Label ties get 0.

    See Also
    --------
    rax.dcg_lambdaweight, tfr.keras.losses.DCGLambdaWeight : the neural twins.
    NDCGLambdaWeight : the same divided by the ideal DCG.

    Examples
    --------
    >>> import gbrank
    >>> gbrank.DCGLambdaWeight(topn=10)
    DCGLambdaWeight(topn=10)
    """

    _kind = LambdaKind.DCG

    def __init__(self, *, topn: int | None = None, gain: str = "exp2"):
        check_int(topn, "topn", allow_none=True)
        check_choice(gain, "gain", GAINS)
        self.topn = topn
        self.gain = gain

    def kernel_args(self) -> tuple[LambdaKind, int, Gain]:
        """Return ``(lambda_kind, topn, gain)``; topn 0 means no cutoff."""
        return self._kind, int(self.topn or 0), GAINS[self.gain]

    def check_labels(self, labels: NDArray[np.float64]) -> None:
        """Labels with the gain ``"exp2"`` are at most ``MAX_GAIN_LABEL`` (961)."""
        if self.gain == "exp2":
            check_gain_labels(
                labels, f"lambda_weight={self!r}", ", or use gain='linear'"
            )


class NDCGLambdaWeight(DCGLambdaWeight):
    r"""NDCG swap weight: :class:`DCGLambdaWeight` divided by the ideal DCG.

    Parameters
    ----------
    topn : int or None, default None
        Ranks past ``topn`` have discount 0, in the weights and in the ideal DCG.
    gain : {"exp2", "linear"}, default "exp2"
        Gain of a label: :math:`2^y - 1` or :math:`y`.

    Notes
    -----
    .. math::

        \lambda_{ij} = \frac{|G(y_i) - G(y_j)| \cdot |D(r_i) - D(r_j)|}
                            {\max_\pi \mathrm{DCG@n}(\pi)}

    A list whose ideal DCG is 0 (no positive gain) gets weight 0. With
    :class:`~gbrank.PairwiseLogisticLoss` this is LambdaMART (LightGBM's
    ``lambdarank``).

    See Also
    --------
    rax.dcg_lambdaweight : with ``normalize=True``, the neural twin.

    Examples
    --------
    >>> import gbrank
    >>> gbrank.NDCGLambdaWeight(gain="linear")
    NDCGLambdaWeight(gain='linear')
    """

    _kind = LambdaKind.NDCG


SHORTCUTS: dict[str, type[LambdaWeight]] = {
    "label_diff": LabelDiffLambdaWeight,
    "dcg": DCGLambdaWeight,
    "ndcg": NDCGLambdaWeight,
}


def resolve_lambda_weight(value: str | LambdaWeight | None) -> LambdaWeight | None:
    """Turn a ``lambda_weight`` parameter into a :class:`LambdaWeight` (or None).

    Parameters
    ----------
    value : str, LambdaWeight or None
        None, one of ``"label_diff"``, ``"dcg"``, ``"ndcg"``, or an instance.

    Returns
    -------
    LambdaWeight or None
    """
    if value is None or isinstance(value, LambdaWeight):
        return value
    if isinstance(value, str) and value in SHORTCUTS:
        return SHORTCUTS[value]()
    raise ValueError(
        f"lambda_weight={value!r} is not supported; pass None, one of "
        f"{', '.join(repr(k) for k in SHORTCUTS)} or a gbrank.losses.lambdaweights "
        "object such as NDCGLambdaWeight(topn=10)."
    )
