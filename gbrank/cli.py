"""The ``gbrank`` command line (``python -m gbrank`` does the same)."""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Sequence

from gbrank.losses import LOSSES, available_losses


def _loss_rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for name in available_losses():
        cls = LOSSES[name]
        signature = inspect.signature(cls.__init__)
        params = ", ".join(
            f"{p.name}={p.default!r}"
            for p in signature.parameters.values()
            if p.name != "self"
        )
        kind = (
            "classification"
            if cls.is_multiclass
            else "pointwise"
            if not cls.needs_groups
            else "listwise"
            if cls.per_group
            else "pairwise"
        )
        hessian = "surrogate" if cls.approx_hessian else "exact"
        rows.append((name, kind, hessian, params or "-"))
    return rows


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [
        max(len(str(v)) for v in column) for column in zip(header, *rows, strict=True)
    ]
    for row in (header, ["-" * w for w in widths], *rows):
        print(
            "  ".join(
                str(v).ljust(w) for v, w in zip(row, widths, strict=True)
            ).rstrip()
        )


def _losses(_: argparse.Namespace) -> int:
    _print_table(("loss", "kind", "hessian", "parameters"), _loss_rows())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``gbrank`` command."""
    parser = argparse.ArgumentParser(
        prog="gbrank",
        description="Learning-to-rank losses as LightGBM/XGBoost objectives.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    losses = commands.add_parser("losses", help="list the losses and their parameters")
    losses.set_defaults(run=_losses)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
