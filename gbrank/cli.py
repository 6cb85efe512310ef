"""The ``gbrank`` command line (``python -m gbrank`` does the same).

``gbrank losses`` lists the losses, ``gbrank train`` trains one loss on one
engine and ``gbrank compare`` trains many next to the engines' native ranking
objectives. Without ``--train`` / ``--valid`` both use the bundled sample
(:func:`gbrank.datasets.load_sample`). User errors (a missing or malformed file,
an unknown loss, a bad ``key=value``) print one line to stderr and exit with 2.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from gbrank import __version__, _compare, _io
from gbrank._kernels.threads import num_threads
from gbrank._progress import CompareProgress
from gbrank._validation import check_gain_labels, did_you_mean
from gbrank.datasets import DEFAULT_MAX_FEATURES, RankingData
from gbrank.engines import Settings, available_engines, get_engine
from gbrank.losses import (
    DEFAULT_RANKING_LOSS,
    LOSSES,
    Loss,
    available_losses,
    get_loss,
)


class UsageError(Exception):
    """A mistake in the command line; printed without a traceback."""


# -- gbrank losses -------------------------------------------------------------


def _loss_rows() -> list[tuple[str, str, str, str, str]]:
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
        # a flag of an instance: at the loss's default parameters
        hessian = "surrogate" if cls().approx_hessian else "exact"
        rows.append((name, kind, hessian, cls.default_reduction, params or "-"))
    return rows


def _print_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], file: Any = None
) -> None:
    widths = [
        max(len(str(v)) for v in column) for column in zip(header, *rows, strict=True)
    ]
    for row in (header, ["-" * w for w in widths], *rows):
        line = "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True))
        print(line.rstrip(), file=file or sys.stdout)


def _losses(_: argparse.Namespace) -> int:
    header = ("loss", "kind", "hessian", "default reduction", "parameters")
    _print_table(header, _loss_rows())
    return 0


# -- shared options ------------------------------------------------------------


def _value(text: str) -> Any:
    """Parse a command-line value.

    ``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"`` -> True, ``"none"`` -> None,
    ``"0.5,1.5"`` -> (0.5, 1.5) (a tuple, e.g. ordinal thresholds), else the text.
    """
    if "," in text:
        return tuple(_value(part.strip()) for part in text.split(","))
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _key_value(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise argparse.ArgumentTypeError(
            f"expected key=value (e.g. num_leaves=63), got {text!r}"
        )
    return key.strip(), _value(value.strip())


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _column_names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"expected column names A,B,..., got {text!r}")
    return names


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data (default: the bundled sample)")
    data.add_argument(
        "--train",
        type=Path,
        metavar="FILE",
        help="training file: svmlight/LETOR with qid: tokens or a FILE.query "
        "file, or a table (.csv, .tsv, .parquet) with --label-column and "
        "--query-column",
    )
    data.add_argument("--valid", type=Path, metavar="FILE", help="validation file")
    data.add_argument(
        "--label-column",
        metavar="NAME",
        help="relevance label column of a table (CSV/TSV/Parquet with a header)",
    )
    data.add_argument(
        "--query-column", metavar="NAME", help="query id column of a table"
    )
    data.add_argument(
        "--feature-columns",
        type=_column_names,
        metavar="A,B,...",
        help="feature columns of a table (default: every other column)",
    )
    data.add_argument(
        "--index-base",
        choices=("auto", "0", "1"),
        default="auto",
        help="first feature index of svmlight files (default auto: 0 if feature 0 "
        "occurs in either file, else 1)",
    )
    data.add_argument(
        "--max-features",
        type=_positive_int,
        default=DEFAULT_MAX_FEATURES,
        metavar="N",
        help="refuse files with more feature columns: the engines spend memory on "
        "every column up to the largest feature index (default %(default)s)",
    )


def _add_booster_options(parser: argparse.ArgumentParser) -> None:
    booster = parser.add_argument_group("booster")
    booster.add_argument(
        "--n-estimators",
        type=_positive_int,
        default=_compare.DEFAULT_ROUNDS,
        metavar="N",
        help="boosting rounds (default %(default)s)",
    )
    booster.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=_compare.DEFAULT_LEARNING_RATE,
        metavar="X",
        help="shrinkage (default %(default)s)",
    )
    booster.add_argument(
        "--param",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="engine parameter, repeatable (default trees: LightGBM num_leaves=31 "
        "min_data_in_leaf=50, XGBoost max_depth=4)",
    )
    booster.add_argument(
        "--seed", type=int, default=0, metavar="N", help="engine seed (default 0)"
    )
    booster.add_argument(
        "--n-jobs",
        type=_positive_int,
        metavar="N",
        help="threads of the engine and of the gbrank kernels (default: all "
        "cores; 1 is fastest on small data and on a busy machine)",
    )


def _settings(args: argparse.Namespace, engine: str) -> Settings:
    settings = _compare.engine_settings(
        engine,
        n_estimators=args.n_estimators,
        learning_rate=args.learning_rate,
        random_state=args.seed,
        booster_params=dict(args.param),
    )
    return replace(settings, n_jobs=args.n_jobs)


def _check_params(args: argparse.Namespace, engines: Sequence[str]) -> None:
    """Check ``--param`` for every engine before any data is loaded.

    Parameters gbrank sets itself and values that would smuggle in another
    parameter are refused; a parameter an engine would ignore is refused by
    ``gbrank train`` and reported by ``gbrank compare`` (whose parameters go to
    every engine).
    """
    for engine in engines:
        notes = get_engine(engine).check_booster_params(
            dict(args.param), name="--param"
        )
        if notes and args.command == "train":
            raise UsageError(notes[0])
        for note in notes:
            print(f"gbrank {args.command}: warning: {note}", file=sys.stderr)


def _load(args: argparse.Namespace) -> tuple[RankingData, RankingData, str, str]:
    """Load the training and validation data the options name."""
    columns = _io.Columns(args.label_column, args.query_column, args.feature_columns)
    try:
        return _io.load_pair(
            args.train,
            args.valid,
            index_base=args.index_base,
            max_features=args.max_features,
            columns=columns,
        )
    except ImportError as error:  # Parquet without pandas/pyarrow
        raise UsageError(str(error)) from error


def _check_labels(*files: tuple[RankingData, str]) -> None:
    """Refuse labels NDCG (the metric every run reports) cannot score."""
    for data, name in files:
        check_gain_labels(
            data.y, "NDCG, the metric gbrank reports,", f" ({name})", name="labels"
        )


# -- gbrank train --------------------------------------------------------------


def _make_loss(name: str, params: list[tuple[str, Any]]) -> Loss:
    loss = get_loss(name, **dict(params))  # names the valid losses and parameters
    _compare.check_ranking_loss(loss)
    _compare.warm_up(loss)  # checks the parameter values now, not after loading
    return loss


def _train(args: argparse.Namespace) -> int:
    loss = _make_loss(args.loss, args.loss_param)
    _check_params(args, [args.backend])
    if args.early_stopping_rounds is not None and args.valid is None:
        raise UsageError(
            "--early-stopping-rounds needs --valid FILE: training stops when the "
            "validation NDCG@10 has not improved for that many rounds"
        )
    if args.output is not None:
        _io.check_output_path(args.output, "--output")
    train, valid, train_name, valid_name = _load(args)
    _check_labels((train, train_name), (valid, valid_name))
    settings = _settings(args, args.backend)
    print(f"{loss!r} on {args.backend}: {_compare.describe_settings(settings)}")
    print(_io.describe(train, "train " + train_name))
    print(_io.describe(valid, "valid " + valid_name))
    print(f"training ({settings.n_estimators} rounds) ...", file=sys.stderr)
    booster, run = _compare.fit(
        loss, args.backend, settings, train, valid, args.early_stopping_rounds
    )
    print("validation NDCG@10 by round:", file=sys.stderr)
    every = args.log_every or max(1, settings.n_estimators // 10)
    for index, value in enumerate(run.curve, start=1):
        if index % every == 0 or index == len(run.curve):
            print(
                f"[{index:>{len(str(len(run.curve)))}}/{len(run.curve)}] "
                f"valid ndcg@10 {value:.4f}",
                file=sys.stderr,
            )
    if run.label_divisor is not None:
        print(f"labels: trained on y / {run.label_divisor:g} (loss needs [0, 1])")
    if args.early_stopping_rounds is not None:
        print(_stopping_note(run, args.early_stopping_rounds, settings.n_estimators))
    print(f"fit: {run.fit_seconds:.2f} s\n")
    _print_table(
        ("metric", "valid"),
        [(name, f"{value:.4f}") for name, value in run.scores.items()],
    )
    if args.output is not None:
        _io.save_booster(booster, args.backend, args.output)
        kept = " (up to the best one)" if args.early_stopping_rounds is not None else ""
        print(f"\nmodel saved to {args.output}: {run.rounds} rounds{kept}")
    return 0


def _stopping_note(run: _compare.Run, patience: int, n_estimators: int) -> str:
    """Where early stopping found the best round and where training stopped."""
    trained = len(run.curve)
    best = run.curve[run.rounds - 1]
    stopped = (
        f"no improvement for {patience} rounds, stopped after round {trained}"
        if trained < n_estimators
        else f"all {n_estimators} rounds trained"
    )
    return (
        f"early stopping: best validation NDCG@10 {best:.4f} at round "
        f"{run.rounds} ({stopped}); the model keeps rounds 1-{run.rounds}, the "
        "metrics below are theirs"
    )


# -- gbrank compare ------------------------------------------------------------


def _names(text: str, allowed: Sequence[str], what: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        hint = did_you_mean(unknown[0], allowed) if unknown else ""
        raise UsageError(
            f"unknown {what} {', '.join(map(repr, unknown)) or repr(text)}{hint}; "
            f"choose from {', '.join(allowed)}"
        )
    return list(dict.fromkeys(names))


def _compare_command(args: argparse.Namespace) -> int:
    names = (
        _compare.ranking_losses()
        if args.losses is None
        else _names(args.losses, available_losses(), "loss")
    )
    losses = [_make_loss(name, []) for name in names]
    engines = _names(args.backends, available_engines(), "backend")
    _check_params(args, engines)
    if args.plot is not None:
        _io.check_output_path(args.plot, "--plot")
        if find_spec("matplotlib") is None:
            raise UsageError("--plot needs matplotlib: pip install 'gbrank[plot]'")
    train, valid, train_name, valid_name = _load(args)
    _check_labels((train, train_name), (valid, valid_name))
    settings = {engine: _settings(args, engine) for engine in engines}
    print(_io.describe(train, "train " + train_name))
    print(_io.describe(valid, "valid " + valid_name))
    for engine in engines:
        print(f"{engine}: {_compare.describe_settings(settings[engine])}")
    start = time.perf_counter()
    with CompareProgress(len(_compare.jobs(losses, engines))) as progress:
        runs = _compare.compare(losses, engines, settings, train, valid, progress)
        progress.summarize(runs)
    header, rows, notes = _compare.leaderboard(
        runs, significance=args.valid is not None
    )
    total = time.perf_counter() - start
    print(
        f"\nvalidation metrics after the last round, sorted by NDCG@10; 'best': "
        f"the best round's NDCG@10 (round) ({total:.0f} s in all):"
    )
    _print_table(header, rows)
    for note in notes:
        print(note)
    if args.plot is not None:
        title = "; ".join(
            [
                _io.describe(train, "train " + train_name),
                _io.describe(valid, "valid " + valid_name),
                *(f"{e}: {_compare.describe_settings(settings[e])}" for e in engines),
            ]
        )
        _compare.plot_curves(runs, args.plot, title.replace("; ", "\n"), engines)
        print(f"curves saved to {args.plot}")
    return 0


# -- the parser ----------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``gbrank`` command."""
    parser = argparse.ArgumentParser(
        prog="gbrank",
        description="Learning-to-rank losses as LightGBM/XGBoost objectives.",
    )
    version = f"%(prog)s {__version__}"
    parser.add_argument("--version", action="version", version=version)
    commands = parser.add_subparsers(dest="command", required=True)
    losses = commands.add_parser(
        "losses", help="list the losses: kind, hessian, reduction, parameters"
    )
    losses.set_defaults(run=_losses)

    train = commands.add_parser(
        "train",
        help="train one loss, print validation metrics, save the model",
        description="Train a ranker with a gbrank loss and print validation "
        "NDCG@1/3/5/10 and MAP.",
    )
    train.add_argument(
        "--loss",
        default=DEFAULT_RANKING_LOSS,
        help="loss name (default %(default)s, the estimators' default)",
    )
    train.add_argument(
        "--loss-param",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="loss parameter, repeatable (e.g. temperature=0.5, lambda_weight=ndcg)",
    )
    train.add_argument(
        "--backend",
        choices=available_engines(),
        default=available_engines()[0],
        help="engine (default %(default)s)",
    )
    _add_data_options(train)
    _add_booster_options(train)
    train.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="save the booster (LightGBM text; XGBoost JSON, or UBJSON for .ubj)",
    )
    train.add_argument(
        "--early-stopping-rounds",
        type=_positive_int,
        metavar="N",
        help="with --valid: stop when validation NDCG@10 has not improved for N "
        "rounds; the model keeps the rounds up to the best one",
    )
    train.add_argument(
        "--log-every",
        type=_positive_int,
        metavar="N",
        help="print validation NDCG@10 every N rounds to stderr (default: 10 lines)",
    )
    train.set_defaults(run=_train)

    compare = commands.add_parser(
        "compare",
        help="leaderboard of losses and native objectives on one data set",
        description="Train gbrank losses and the native ranking objectives "
        "(LightGBM lambdarank, rank_xendcg; XGBoost rank:ndcg, rank:pairwise) "
        "with equal tree settings; print a leaderboard sorted by NDCG@10.",
    )
    compare.add_argument(
        "--losses",
        metavar="A,B,...",
        help="comma-separated losses (default: every ranking loss)",
    )
    compare.add_argument(
        "--backends",
        default=",".join(available_engines()),
        metavar="A,B",
        help="comma-separated engines (default %(default)s)",
    )
    _add_data_options(compare)
    _add_booster_options(compare)
    compare.add_argument(
        "--plot", type=Path, metavar="FILE.png", help="save NDCG@10 curves (matplotlib)"
    )
    compare.set_defaults(run=_compare_command)
    return parser


# errors the engines raise for bad parameters (matched by name: no import needed)
_ENGINE_ERRORS = ("LightGBMError", "XGBoostError")


def _is_user_error(error: Exception) -> bool:
    """Whether ``error`` reports bad input (file, option, parameter), not a bug."""
    return isinstance(error, (UsageError, OSError, ValueError)) or any(
        cls.__name__ in _ENGINE_ERRORS for cls in type(error).__mro__
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or argparse's own usage errors (2)
        return stop.code if isinstance(stop.code, int) else 2
    try:
        with num_threads(getattr(args, "n_jobs", None)):
            return int(args.run(args))
    except Exception as error:
        if not _is_user_error(error):
            raise
        print(f"gbrank {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gbrank {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
