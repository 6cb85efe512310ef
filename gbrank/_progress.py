"""Progress of ``gbrank compare`` on stderr.

On a terminal a tqdm bar shows the model being trained, how many are done and
the time left (tqdm's estimate from the models so far); each finished model
also gets a line above the bar. Elsewhere (a file, a pipe, a CI log) only those
lines are printed. Either way a summary line ends the run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import IO, Any

from tqdm import tqdm

from gbrank._compare import Run

BAR_FORMAT = (
    "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} models "
    "[{elapsed} elapsed, ETA {remaining}{postfix}]"
)  # tqdm writes the postfix as ", <text>"


class CompareProgress:
    """Report the runs of :func:`gbrank._compare.compare` as they happen.

    Parameters
    ----------
    total : int
        Number of models to train.
    stream : file, optional
        Where to write (default: ``sys.stderr`` at construction); the bar is
        drawn only when it is a terminal.
    """

    def __init__(self, total: int, stream: IO[str] | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.total = total
        self.start_time = time.perf_counter()
        terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.bar: Any = tqdm(
            total=total,
            desc="gbrank compare",
            file=self.stream,
            disable=not terminal,
            bar_format=BAR_FORMAT,
            dynamic_ncols=True,
            leave=False,
        )

    def start(self, engine: str, objective: str) -> None:
        """Show the model now training."""
        self.bar.set_postfix_str(f"now: {engine} {objective}")

    def done(self, index: int, run: Run) -> None:
        """Print one line for a trained model and advance the bar."""
        line = (
            f"[{index:>{len(str(self.total))}}/{self.total}] {run.engine} "
            f"{run.objective}: ndcg@10 {run.scores['ndcg@10']:.4f} "
            f"({run.fit_seconds:.1f} s)"
        )
        if self.bar.disable:
            print(line, file=self.stream)
        else:
            self.bar.write(line, file=self.stream)
        self.bar.update(1)

    def __enter__(self) -> CompareProgress:
        """Return the progress itself; leaving the block removes the bar."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Remove the bar (also when training fails or is interrupted)."""
        self.bar.close()

    def summarize(self, runs: Sequence[Run]) -> str:
        """Remove the bar; print and return the summary line."""
        self.bar.close()
        seconds = time.perf_counter() - self.start_time
        summary = f"gbrank compare: {len(runs)} models trained in {seconds:.0f} s"
        if runs:
            best = max(runs, key=lambda run: run.scores["ndcg@10"])
            name = f"{best.objective} (native)" if best.native else best.objective
            summary += (
                f"; best validation NDCG@10 {best.scores['ndcg@10']:.4f}: "
                f"{best.engine} {name}"
            )
        print(summary, file=self.stream)
        return summary
