"""Numba kernels: the per-group work of every loss and metric, by family.

- :mod:`~gbrank._kernels.listwise`: softmax-based losses and ListMLE;
- :mod:`~gbrank._kernels.pairfunctions`: the pair functions of the pairwise
  losses, one definition each;
- :mod:`~gbrank._kernels.pairwise`: pair sums (all pairs, sorted hinge, O(n)
  squared error);
- :mod:`~gbrank._kernels.lambdaweights`: the lambda weights of the pairs;
- :mod:`~gbrank._kernels.yetirank`: pairs from randomly perturbed rankings;
- :mod:`~gbrank._kernels.softmax_variants`: Poly1 and unique softmax;
- :mod:`~gbrank._kernels.approx`: approximate ranks (ApproxNDCG, ApproxMRR,
  Gumbel ApproxNDCG);
- :mod:`~gbrank._kernels.neuralsort`: NeuralSort and Sinkhorn (NeuralNDCG);
- :mod:`~gbrank._kernels.metrics`: NDCG, MAP, MRR, precision;
- :mod:`~gbrank._kernels.query`: CatBoost's QueryRMSE and QuerySoftMax;
- :mod:`~gbrank._kernels.ordinal`: the ordinal loss (per row, not per group);
- :mod:`~gbrank._kernels.common`: stable argsort, valid rows (by label too),
  log-add-exp, a list's exponentials below its top row;
- :mod:`~gbrank._kernels.threads`: the thread pool that runs them.

Conventions shared by every kernel:

- ``labels``, ``scores``, ``weights``: float64 arrays of shape (n_rows,); a
  label < 0 marks an ignored row (it takes part in nothing);
- ``offsets``: int64 group offsets; rows ``offsets[g]:offsets[g + 1]`` form
  group g;
- a kernel handles the groups ``first <= g < stop`` and writes into
  caller-allocated output arrays that start at zero, touching only the rows
  (and group slots) of its groups, so disjoint group ranges run concurrently;
  kernels release the GIL (``nogil=True``) and :func:`threads.run_groups`
  deals group ranges to a thread pool;
- options travel in a small ``NamedTuple`` per family, never as long
  positional lists; a choice is an ``IntEnum`` in kernel code but travels as
  a plain ``int`` (``int(PairHessian.CONSTANT)``): numba's dispatcher types a
  call whose arguments hold an enum member in Python, about 0.15 ms a call,
  and a plain tuple in C, about 0.01 ms (``tests/test_kernels.py`` checks that
  no compiled kernel takes an enum);
- ``need_loss``: when False (``grad_hess``) the loss value is not computed and
  the loss output is left untouched.

Every loss kernel has a plain-loop twin in ``tests/_oracles.py``.
"""
