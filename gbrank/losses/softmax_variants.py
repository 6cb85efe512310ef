r"""Softmax variants of rax: Poly1 softmax and unique softmax.

Both are per-list losses on the masked softmax of the scores (their
activation), with rax's semantics: per-row weights multiply the labels (Poly1)
or each row's term (unique softmax), and the default reduction is rax's mean
over the lists that have a valid row (``"mean_over_valid"``).
"""

from __future__ import annotations

import numpy as np

from gbrank._kernels import softmax_variants as kernels
from gbrank._kernels.listwise import LINEAR_DOMAIN_SPREAD
from gbrank._validation import check_real
from gbrank.losses.base import Array, Batch, Loss
from gbrank.losses.listwise import group_softmax

ROW_NS = 20.0
"""Estimated nanoseconds of work per row, for cutting work into chunks."""


def _cost(batch: Batch, factor: float = 1.0) -> Array:
    return np.diff(batch.groups.offsets) * (ROW_NS * factor)


class Poly1SoftmaxLoss(Loss):
    r"""Poly1 softmax loss: softmax cross-entropy plus :math:`\epsilon (1 - p_t)`.

    rax's ``poly1_softmax_loss`` (PolyLoss, Leng et al. 2022): the leading
    polynomial term of the cross-entropy's expansion gets the extra weight
    :math:`\epsilon`.

    Parameters
    ----------
    epsilon : float, default 1.0
        Weight of :math:`1 - p_t`; must be >= -1 (PolyLoss's range: the loss of
        a list with one target of weight 1 stays >= 0); 0 gives rax's
        ``softmax_loss`` (:class:`SoftmaxLoss`).

    Notes
    -----
    Per list of valid rows, with :math:`p = \mathrm{softmax}(s)`, targets
    :math:`t_i = w_i y_i` (labels times weights, not normalised, as rax's
    softmax loss), :math:`Y = \sum_i t_i`, :math:`\hat y_i = t_i / Y` (uniform
    :math:`1/n` when :math:`Y = 0`) and :math:`p_t = \sum_i \hat y_i p_i`:

    .. math::

        \mathcal{L} = -\sum_i t_i \log p_i + \epsilon (1 - p_t), \qquad
        \frac{\partial \mathcal{L}}{\partial s_k} = Y p_k - t_k
            - \epsilon p_k (\hat y_k - p_t)

    The exact diagonal hessian
    :math:`Y p_k (1 - p_k) - \epsilon p_k (\hat y_k - p_t)(1 - 2 p_k)` is
    indefinite for :math:`\epsilon \ne 0` (:math:`1 - p_t` is not convex), so
    boosters get the surrogate

    .. math::

        h_k = Y p_k (1 - p_k) + |\epsilon|\, p_k |\hat y_k - p_t|\, |1 - 2 p_k|
        \ \ge \ \frac{\partial^2 \mathcal{L}}{\partial s_k^2},

    exact for :math:`\epsilon = 0`. A list whose targets are all 0 (no
    positive label, or zero weights) has the constant loss
    :math:`\epsilon (1 - 1/n)` and zero gradient (rax: the uniform target), and
    counts in the mean; a list without valid rows has loss 0 and does not.
    Weights scale the labels only, not the :math:`\epsilon` term (rax). Ties
    need no rule; ignored rows take part in nothing. :math:`1 - p_t` is
    computed as :math:`\sum_i \hat y_i (1 - p_i)`, with the top row's
    :math:`1 - p` from the other rows' scores, so it keeps its precision as
    :math:`p_t \to 1`. Default reduction: rax's mean over the lists with a
    valid row (``"mean_over_valid"``). TF-Ranking's ``PolyOneSoftmaxLoss``
    normalises the labels and weighs each list by :math:`Y`, so it differs
    from rax (and gbrank) unless :math:`Y = 1`.

    References
    ----------
    .. [1] Z. Leng, M. Tan, C. Liu, E. D. Cubuk, X. Shi, S. Cheng, D. Anguelov,
       "PolyLoss: A Polynomial Expansion Perspective of Classification Loss
       Functions", ICLR 2022.
    .. [2] rax ``rax.poly1_softmax_loss`` (google/rax, ``rax/_src/losses.py``),
       whose values and gradients this loss reproduces.

    See Also
    --------
    rax.poly1_softmax_loss : the neural twin.
    SoftmaxLoss : ``epsilon=0`` (ml4ir / rax softmax cross-entropy).

    Examples
    --------
    >>> import gbrank
    >>> loss = gbrank.Poly1SoftmaxLoss()
    >>> round(loss.loss([1.0, 0.0], [0.0, 0.0]), 6)  # log 2 + (1 - 1/2)
    1.193147
    """

    name = "poly1_softmax"
    per_group = True
    approx_hessian = True
    default_reduction = "mean_over_valid"

    def __init__(self, *, epsilon: float = 1.0):
        self.epsilon = epsilon

    def check_params(self) -> None:
        """Validate epsilon (>= -1)."""
        check_real(self.epsilon, "epsilon", low=-1.0)

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Poly1 softmax of every list."""
        epsilon = float(self.epsilon)
        return self.run_groups(
            batch,
            lambda first, stop, rows, out: kernels.poly1_softmax(
                first, stop, rows, epsilon, need_loss, out
            ),
            _cost(batch),
        )

    def compute_activation(self, batch: Batch) -> Array:
        """Masked softmax of each list."""
        return group_softmax(batch, batch.scores)


class UniqueSoftmaxLoss(Loss):
    r"""Unique softmax loss (Zhu & Klabjan 2020), rax's ``unique_softmax_loss``.

    Each row is a softmax "winner" against only the rows of lower labels, so
    rows of equal label never compete.

    Notes
    -----
    Per list of valid rows, with gain :math:`G_i = 2^{y_i} - 1` and
    :math:`L_i = \{j : y_j < y_i\}`:

    .. math::

        \mathcal{L} = -\sum_i w_i G_i \log
            \frac{e^{s_i}}{e^{s_i} + \sum_{j \in L_i} e^{s_j}}

    With :math:`D_i = \{i\} \cup L_i` and
    :math:`q_{ik} = e^{s_k} / \sum_{m \in D_i} e^{s_m}`:

    .. math::

        \frac{\partial \mathcal{L}}{\partial s_k} =
            \sum_{i : k \in D_i} w_i G_i (q_{ik} - [i = k]), \qquad
        \frac{\partial^2 \mathcal{L}}{\partial s_k^2} =
            \sum_{i : k \in D_i} w_i G_i q_{ik} (1 - q_{ik}) \ \ge 0

    The loss is convex (a sum of log-sum-exps) and the hessian is the exact
    diagonal. Rows of equal labels are in each other's sums never (ties in
    labels are symmetric); a row of label 0 has no term of its own; a list
    without a positive label has loss 0 (and counts in the mean). Per-row
    weights multiply the row's term, not the sums it appears in (rax). Cost
    O(n log n) per list: one sort by label and running sums over the label
    levels (in the log domain when a list's scores spread more than 300).
    Default reduction: rax's mean over the lists with a valid row
    (``"mean_over_valid"``; TF-Ranking's ``UniqueSoftmaxLoss`` has the same
    per-list values and divides by the number of lists). The activation is the
    masked softmax.

    References
    ----------
    .. [1] X. Zhu, D. Klabjan, "Listwise Learning to Rank by Exploring Unique
       Ratings", WSDM 2020.
    .. [2] rax ``rax.unique_softmax_loss`` (google/rax, ``rax/_src/losses.py``),
       whose values and gradients this loss reproduces.

    See Also
    --------
    rax.unique_softmax_loss, tfr.keras.losses.UniqueSoftmaxLoss : the neural twins.
    ListMLELoss : a Plackett-Luce likelihood that breaks label ties by row order.

    Examples
    --------
    >>> import gbrank
    >>> round(gbrank.UniqueSoftmaxLoss().loss([1.0, 0.0], [0.0, 0.0]), 6)  # log 2
    0.693147
    """

    name = "unique_softmax"
    per_group = True
    default_reduction = "mean_over_valid"

    def compute(
        self, batch: Batch, need_loss: bool = True
    ) -> tuple[Array, Array, Array]:
        """Compute the unique softmax of every list."""
        return self.run_groups(
            batch,
            lambda first, stop, rows, out: kernels.unique_softmax(
                first, stop, rows, LINEAR_DOMAIN_SPREAD, need_loss, out
            ),
            _cost(batch, 3.0),
        )

    def compute_activation(self, batch: Batch) -> Array:
        """Masked softmax of each list."""
        return group_softmax(batch, batch.scores)
