"""Shared by the benchmark scripts: machine description and Markdown sections."""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Sequence
from pathlib import Path

import lightgbm
import numba
import numpy as np
import xgboost

import gbrank

RESULTS = Path(__file__).resolve().parent / "results.md"


def machine() -> str:
    """CPU model, cores and kernel threads, versions of the libraries measured."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()}, {cpu}, "
        f"os.cpu_count()={os.cpu_count()}, gbrank kernel threads="
        f"{gbrank.get_num_threads()}; gbrank {gbrank.__version__}, lightgbm "
        f"{lightgbm.__version__}, xgboost {xgboost.__version__}, numba "
        f"{numba.__version__}, numpy {np.__version__}, Python "
        f"{platform.python_version()}"
    )


def md_table(rows: Sequence[dict], columns: Sequence[tuple[str, str, str]]) -> str:
    """A Markdown table; ``columns`` holds (key, title, format spec)."""
    head = "| " + " | ".join(title for _, title, _ in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = [
        "| " + " | ".join(format(row[key], spec) for key, _, spec in columns) + " |"
        for row in rows
    ]
    return "\n".join([head, rule, *body])


def write_section(name: str, lines: Sequence[str], path: Path = RESULTS) -> None:
    """Replace the ``<!-- name:start -->`` ... ``<!-- name:end -->`` part of
    ``path`` (appended when missing); other sections stay as they are."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = "\n".join([start, *lines, end])
    text = path.read_text() if path.exists() else "# gbrank benchmarks\n"
    if start in text:
        pattern = re.escape(start) + ".*?" + re.escape(end)
        text = re.sub(pattern, lambda _: block, text, flags=re.DOTALL)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
    print(f"wrote the {name} section of {path}", flush=True)
