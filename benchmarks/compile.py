"""First-use benchmark: numba compilation (cold cache) and cache loads (warm).

Usage::

    python benchmarks/compile.py [--skip-compare]

Every registered loss runs in fresh subprocesses with ``NUMBA_CACHE_DIR`` set to
a new empty folder (cold: the kernels compile) and then again with the folder
the cold run filled (warm: the kernels load from the cache). Each subprocess
times ``import gbrank``, the first ``booster_grad_hess`` call (what a booster's
first round pays) and the first ``grad_hess`` call, on 20 queries of 10 rows.
Then ``gbrank compare`` with its defaults (every ranking loss and the native
objectives on both engines, bundled sample) runs cold and warm, timed end to
end. The results replace the ``compile`` section of ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import RESULTS, machine, md_table, write_section

import gbrank

WORKER = """
import json, sys, time
start = time.perf_counter()
import gbrank
from gbrank._compare import training_labels
from gbrank.datasets import make_ranking
imported = time.perf_counter() - start
loss = gbrank.get_loss(sys.argv[1])
data = make_ranking(20, 10, 5, vary_group_size=False, random_state=0)  # 5 labels
y = training_labels(loss, data.y)[0] if loss.needs_groups else (data.y > 1) * 1.0
if loss.is_multiclass:
    y, scores = data.y, data.X
    kwargs = {}
else:
    scores = data.X[:, 0]
    kwargs = {"group": data.group} if loss.needs_groups else {}
times = {"import_s": imported}
for key, method in (("step_s", loss.booster_grad_hess), ("exact_s", loss.grad_hess)):
    start = time.perf_counter()
    method(y, scores, **kwargs)
    times[key] = time.perf_counter() - start
print(json.dumps(times))
"""


def run_worker(name: str, cache: str) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, name],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def loss_rows() -> list[dict]:
    rows = []
    for name in gbrank.available_losses():
        with tempfile.TemporaryDirectory() as cache:
            cold, warm = run_worker(name, cache), run_worker(name, cache)
        row = {"loss": name}
        row.update({f"cold_{key}": value for key, value in cold.items()})
        row.update({f"warm_{key}": value for key, value in warm.items()})
        rows.append(row)
        print(row, flush=True)
    return rows


def compare_seconds(cache: str) -> float:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "gbrank", "compare"],
        capture_output=True, check=True, env=env,
    )  # fmt: skip
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-compare", action="store_true")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    rows = loss_rows()
    lines = [
        "## First use: compilation (cold numba cache) and cache loads (warm)",
        "",
        f"Date: {datetime.date.today()}; machine: {machine()}; command: "
        "`python benchmarks/compile.py`.",
        "",
        "Seconds in a fresh process per loss, 20 queries of 10 rows. `step`: the "
        "first `booster_grad_hess` call (a booster's first round); `exact`: the "
        "first `grad_hess` call after it; `import`: `import gbrank`.",
        "",
        md_table(
            rows,
            [
                ("loss", "loss", "s"),
                ("cold_step_s", "cold step", ".2f"),
                ("cold_exact_s", "cold exact", ".2f"),
                ("warm_step_s", "warm step", ".2f"),
                ("warm_exact_s", "warm exact", ".2f"),
                ("warm_import_s", "import", ".2f"),
            ],
        ),
        "",
    ]
    if not args.skip_compare:
        with tempfile.TemporaryDirectory() as cache:
            cold = compare_seconds(cache)
            warm = compare_seconds(cache)
        print(f"gbrank compare: cold {cold:.1f} s, warm {warm:.1f} s", flush=True)
        lines += [
            f"`gbrank compare` (defaults, end to end): cold cache {cold:.1f} s, "
            f"warm {warm:.1f} s, ratio {cold / warm:.2f}.",
            "",
        ]
    write_section("compile", lines, Path(args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
