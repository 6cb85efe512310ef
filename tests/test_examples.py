"""Every script in examples/ runs to the end (few rounds, one thread)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # trains real models; CI runs them

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))
# examples read GBRANK_EXAMPLE_ROUNDS; one thread keeps small data fast on busy CI
ENV = {
    "GBRANK_EXAMPLE_ROUNDS": "8",
    "OMP_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
}


def test_there_are_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(path, tmp_path):
    env = {**os.environ, **ENV, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # an example that writes files writes them here
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "an example prints its results"
