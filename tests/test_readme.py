"""The README's Python examples run as written, in order, in one namespace."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

import gbrank

pytestmark = pytest.mark.slow  # trains real models; CI runs them

README = Path(__file__).parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_python_examples():
    assert BLOCKS


@pytest.fixture(autouse=True)
def _registry_as_before():
    """The README registers a loss of its own; drop it after each test."""
    before = set(gbrank.LOSSES)
    yield
    for name in set(gbrank.LOSSES) - before:
        gbrank.unregister_loss(name)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # a real module, as a user's script is: classes defined in it pickle
    module = types.ModuleType("readme_examples")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for block in BLOCKS[: index + 1]:
        exec(compile(block, f"README.md block {index}", "exec"), module.__dict__)
