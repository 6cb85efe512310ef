"""The ``gbrank`` command line, run in-process through ``main(argv)``."""

from __future__ import annotations

import importlib.metadata
import io
import os
import re
import subprocess
import sys

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from sklearn.datasets import dump_svmlight_file

import gbrank
from gbrank import _compare, _io, cli, metrics
from gbrank._progress import CompareProgress
from gbrank.datasets import load_sample, make_ranking
from gbrank.engines import available_engines, get_engine
from gbrank.significance import paired_test

FAST = ["--n-estimators", "3", "--n-jobs", "1"]
ROW = re.compile(
    r"^(lightgbm|xgboost)\s+(\S+(?: \(native\))?(?: \*)?)\s+([\d. ]+?)"
    r"\s+([\d.]+) \((\d+)\)\s+([\d.]+)"
    r"(?:\s+(best native|[-+][\d.]+ \[[-+][\d.]+, [-+][\d.]+\]\s+[\d.]+(?: n\.s\.)?))?$"
)


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def printed_metrics(out):
    return {
        name: float(value)
        for name, value in re.findall(r"^(ndcg@\d+|map)\s+([\d.]+)$", out, re.M)
    }


def leaderboard(out):
    rows = []
    for line in out.splitlines():
        match = ROW.match(line)
        if match:
            values = [float(v) for v in match.group(3).split()]
            best, best_round = float(match.group(4)), int(match.group(5))
            assert best >= values[3]  # the best round is at least the last
            assert best_round >= 1
            values.append(float(match.group(6)))  # fit seconds
            rows.append((match.group(1), match.group(2), values))
    return rows


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Train/valid svmlight files with qid: tokens, and a pair with .query files."""
    folder = tmp_path_factory.mktemp("data")
    paths = {}
    for name, seed in (("train", 0), ("valid", 1)):
        X, y, group, qid = make_ranking(
            n_queries=30, docs_per_query=10, n_features=6, random_state=seed
        )
        dump_svmlight_file(X, y, str(folder / f"{name}.txt"), query_id=qid)
        dump_svmlight_file(X, y, str(folder / f"{name}.noqid"))
        (folder / f"{name}.noqid.query").write_text("\n".join(map(str, group)))
        paths[name] = folder / f"{name}.txt"
        paths[f"{name}_query"] = folder / f"{name}.noqid"
        header = ["label", *(f"f{i}" for i in range(X.shape[1])), "query"]
        rows = [[repr(float(v)) for v in (y[r], *X[r])] for r in range(y.size)]
        rows = [[*row, f"q{qid[r]}"] for r, row in enumerate(rows)]
        for suffix, sep in (("csv", ","), ("tsv", "\t")):
            lines = [sep.join(header), *(sep.join(row) for row in rows)]
            (folder / f"{name}.{suffix}").write_text("\n".join(lines) + "\n")
            paths[f"{name}_{suffix}"] = folder / f"{name}.{suffix}"
    return paths


def test_losses_prints_kind_hessian_reduction_and_parameters(capsys):
    code, out, _ = run(capsys, "losses")
    assert code == 0
    assert out.splitlines()[0].split() == [
        "loss", "kind", "hessian", "default", "reduction", "parameters"
    ]  # fmt: skip
    for name in gbrank.available_losses():
        cls = gbrank.LOSSES[name]
        (line,) = [row for row in out.splitlines() if row.startswith(name + " ")]
        assert ("surrogate" if cls().approx_hessian else "exact") in line
        assert cls.default_reduction in line
    assert "temperature=1.0" in out
    assert re.search(r"^categorical_cross_entropy\s+classification", out, re.M)


def test_help_exits_zero(capsys):
    assert cli.main(["--help"]) == 0
    assert "compare" in capsys.readouterr().out


def test_version_is_the_installed_distribution_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"gbrank {importlib.metadata.version('gbrank')}\n"


def test_help_and_losses_do_not_import_the_engines_or_scikit_learn():
    code = (
        "import sys; from gbrank import cli; cli.main(['losses']); "
        "engines = ('sklearn', 'lightgbm', 'xgboost'); "
        "print(sorted(m for m in engines if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "[]"


def test_python_m_gbrank_runs():
    done = subprocess.run(
        [sys.executable, "-m", "gbrank", "losses"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 0, done.stderr
    assert "pairwise_hinge" in done.stdout


@pytest.mark.parametrize(
    ("backend", "name"),
    [("lightgbm", "model.txt"), ("xgboost", "model.json"), ("xgboost", "model.ubj")],
)
def test_train_saves_a_model_the_engine_loads(capsys, tmp_path, backend, name):
    path = tmp_path / name
    code, out, err = run(
        capsys, "train", "--backend", backend, "--output", str(path), *FAST
    )
    assert code == 0, err
    assert "YetiRankLoss() on " + backend in out  # the estimators' default loss
    assert "[3/3] valid ndcg@10" in err
    shown = printed_metrics(out)
    assert set(shown) == {"ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10", "map"}
    valid = load_sample("test")
    if backend == "lightgbm":
        scores = lgb.Booster(model_file=str(path)).predict(valid.X)
    else:
        booster = xgb.Booster(model_file=str(path))
        scores = booster.predict(xgb.DMatrix(valid.X), output_margin=True)
    got = metrics.ndcg(valid.y, scores, group=valid.group, k=10)
    assert got == pytest.approx(shown["ndcg@10"], abs=1e-4)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temp file


def test_train_on_files_with_qid_and_query_side_files(capsys, files):
    code, out, err = run(
        capsys, "train", "--train", str(files["train"]), "--valid", str(files["valid"]),
        "--loss", "pairwise_logistic", "--loss-param", "temperature=0.5",
        "--loss-param", "lambda_weight=ndcg", *FAST,
    )  # fmt: skip
    assert code == 0, err
    assert "PairwiseLogisticLoss(temperature=0.5, lambda_weight='ndcg')" in out
    assert "30 queries, 6 features" in out
    first = printed_metrics(out)
    code, out, err = run(
        capsys, "train", "--train", str(files["train_query"]),
        "--valid", str(files["valid_query"]), "--loss", "pairwise_logistic",
        "--loss-param", "temperature=0.5", "--loss-param", "lambda_weight=ndcg", *FAST,
    )  # fmt: skip
    assert code == 0, err
    assert printed_metrics(out) == first


def test_train_without_valid_reports_on_the_training_data(capsys, files):
    code, out, _ = run(capsys, "train", "--train", str(files["train"]), *FAST)
    assert code == 0
    assert "(training data: pass --valid)" in out


def test_train_passes_engine_parameters_and_scales_click_labels(capsys, tmp_path):
    path = tmp_path / "model.txt"
    code, out, _ = run(
        capsys, "train", "--loss", "rank_one_listnet", "--param", "num_leaves=4",
        "--param", "min_data_in_leaf=20", "--output", str(path), *FAST,
    )  # fmt: skip
    assert code == 0
    assert "trained on y / 4" in out
    model = path.read_text()
    assert "[num_leaves: 4]" in model
    assert "[min_data_in_leaf: 20]" in model


def test_interrupt_exits_130_without_a_model(capsys, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_compare, "fit", interrupted)
    code, _, err = run(capsys, "train", "--output", str(tmp_path / "m.txt"), *FAST)
    assert code == 130
    assert "interrupted" in err
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    (folder / "malformed.txt").write_text("1 qid:1 1:0.5\n0 qid:1 2:oops\n")
    (folder / "zero.txt").write_text("1 qid:1 0:0.5\n0 qid:1 1:1\n")
    (folder / "noquery.txt").write_text("1 1:0.5\n0 2:1\n")
    (folder / "bigqid.txt").write_text("1 qid:99999999999999999999 1:0.5\n")
    (folder / "wide.txt").write_text("1 qid:1 2000000000:1\n0 qid:1 2:1\n")
    (folder / "label.txt").write_text("1 qid:1 1:0.5\n1024 qid:1 2:1\n")
    (folder / "wider.txt").write_text("1 qid:1 1:0.5\n0 qid:1 5:1\n")
    (folder / "table.txt").write_text("qid,y,f0\n1,1,0.5\n1,0,0.2\n")
    (folder / "table.csv").write_text("qid,y,f0\n1,1,0.5\n1,0,0.2\n")
    return folder


HINGE = ["train", "--loss", "pairwise_hinge"]  # a loss with a temperature


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--train", "{bad}/missing.txt"], "svmlight file not found"),
        (["train", "--valid", "{bad}/missing.txt"], "needs --train"),
        (
            ["train", "--train", "{bad}/label.txt", "--valid", "{bad}/missing.txt"],
            "svmlight file not found",
        ),
        (
            ["compare", "--train", "{bad}/label.txt", "--valid", "{bad}/wider.txt"],
            "has 5 features, {bad}/label.txt only 2: the model would never see "
            "features 3..5; are both files from the same data set?",
        ),
        (["train", "--train", "{bad}/malformed.txt"], "at line 2"),
        (["train", "--train", "{bad}/zero.txt", "--index-base", "1"], "base 0"),
        (["train", "--train", "{bad}/noquery.txt"], "no qid: tokens"),
        (["train", "--loss", "nope"], "unknown loss 'nope'; available:"),
        (
            ["train", "--loss", "pairwise_hing"],
            "unknown loss 'pairwise_hing' (did you mean 'pairwise_hinge'?)",
        ),
        (
            ["compare", "--losses", "softmx"],
            "unknown loss 'softmx' (did you mean 'softmax'?)",
        ),
        (
            ["train", "--train", "{bad}/noquery.txt"],
            "write qid:<id> after each label, put the group sizes (one per line) in "
            "{bad}/noquery.txt.query, or give a CSV/TSV table with --query-column",
        ),
        (["train", "--train", "{bad}/table.txt"], "a CSV/TSV table? name a .csv"),
        (
            ["train", "--train", "{bad}/table.csv"],
            "{bad}/table.csv is a table: name its label column with --label-column "
            "and its query column with --query-column; its columns: qid, y, f0",
        ),
        (
            [
                "train",
                "--train",
                "{bad}/table.csv",
                "--label-column",
                "y",
                "--query-column",
                "query",
            ],
            "has no column 'query'; its columns: qid, y, f0",
        ),
        (
            ["train", "--train", "{bad}/label.txt", "--valid", "{bad}/table.csv"],
            "are not the same kind of file",
        ),
        (
            ["train", "--label-column", "y", "--query-column", "qid"],
            "name columns of a table given with --train",
        ),
        (["train", "--loss", "categorical_cross_entropy"], "GBRankClassifier"),
        ([*HINGE, "--loss-param", "warmth=1"], "parameters: temperature"),
        ([*HINGE, "--loss-param", "temperature=-1"], "temperature must be"),
        (["train", "--param", "num_leaves"], "expected key=value"),
        (["train", "--param", "=3"], "expected key=value"),
        (["train", "--n-estimators", "0"], "integer >= 1"),
        (["train", "--param", "num_leaves=many"], "num_leaves should be of type int"),
        (["train", "--backend", "xgboost", "--param", "max_depth=x"], "max_depth"),
        (["train", "--output", "{bad}/no/such/folder/m.txt"], "does not exist"),
        (["compare", "--losses", "softmax,nope"], "unknown loss 'nope'"),
        (["compare", "--losses", "categorical_cross_entropy"], "classification"),
        (["compare", "--backends", "catboost"], "unknown backend 'catboost'"),
        (["compare", "--train", "{bad}/malformed.txt"], "at line 2"),
        (["train", "--train", "{bad}/bigqid.txt"], "beyond 64-bit integers"),
        (["train", "--train", "{bad}/wide.txt"], "more than max_features=1,000,000"),
        (["train", "--train", "{bad}/label.txt"], "labels up to 961"),
        (["train", "--train", "{bad}/" + "t" * 300], "cannot open svmlight file"),
        (["train", "--learning-rate", "nan"], "expected a finite number > 0"),
        ([*HINGE, "--loss-param", "temperature=1e-200"], "temperature=1e-200 is too"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_user_errors_exit_2_with_a_message(capsys, bad_files, argv, message):
    argv = [arg.format(bad=bad_files) for arg in argv]
    code, out, err = run(capsys, *argv, *FAST)
    assert code == 2
    assert message.format(bad=bad_files) in err
    assert "Traceback" not in err
    assert "query_file=" not in err  # the command line has no such option
    assert not printed_metrics(out)  # engine errors come after the header lines


def test_compare_prints_a_sorted_leaderboard_with_native_baselines(capsys):
    code, out, err = run(
        capsys, "compare", "--losses", "softmax,rank_one_listnet", *FAST
    )
    assert code == 0, err
    rows = leaderboard(out)
    names = {(engine, objective) for engine, objective, _ in rows}
    assert names == {
        ("lightgbm", "lambdarank (native)"),
        ("lightgbm", "rank_xendcg (native)"),
        ("xgboost", "rank:ndcg (native)"),
        ("xgboost", "rank:pairwise (native)"),
        *(
            (e, o)
            for e in ("lightgbm", "xgboost")
            for o in ("softmax", "rank_one_listnet *")
        ),
    }
    assert all(len(values) == 6 for _, _, values in rows)  # 5 metrics + seconds
    ndcg10 = [values[3] for _, _, values in rows]
    assert ndcg10 == sorted(ndcg10, reverse=True)
    assert "* trained on y / max(y) = y / 4" in out
    assert err.count("ndcg@10") == 8  # one progress line per run
    best_engine, best_objective, best_values = rows[0]
    assert err.splitlines()[-1].startswith("gbrank compare: 8 models trained in ")
    assert err.splitlines()[-1].endswith(
        f"; best validation NDCG@10 {best_values[3]:.4f}: {best_engine} "
        f"{best_objective.removesuffix(' *')}"
    )
    assert "\r" not in err  # no bar when stderr is not a terminal


def test_compare_defaults_cover_every_ranking_loss_on_both_engines(capsys):
    code, out, err = run(capsys, "compare", "--n-estimators", "1", "--n-jobs", "1")
    assert code == 0, err
    rows = {
        (engine, objective.removesuffix(" *"))
        for engine, objective, _ in leaderboard(out)
    }
    expected = [n for n in gbrank.available_losses() if gbrank.LOSSES[n].needs_groups]
    assert _compare.ranking_losses() == expected
    for engine in available_engines():
        for objective in expected:
            assert (engine, objective) in rows
    assert len(rows) == 2 * (len(expected) + 2)


def test_compare_one_engine_on_files(capsys, files):
    code, out, _ = run(
        capsys, "compare", "--backends", "xgboost", "--losses", "listnet",
        "--train", str(files["train"]), "--valid", str(files["valid"]), *FAST,
    )  # fmt: skip
    assert code == 0
    assert {engine for engine, _, _ in leaderboard(out)} == {"xgboost"}
    assert "xgboost: 3 rounds, learning rate 0.05, max_depth=4" in out
    # with --valid: each gbrank loss against the engine's best native, per query
    matches = [ROW.match(line) for line in out.splitlines()]
    cells = {match.group(2): match.group(7) for match in matches if match}
    best = max(
        ("rank:ndcg (native)", "rank:pairwise (native)"),
        key=lambda name: next(v for _, o, v in leaderboard(out) if o == name)[3],
    )
    assert cells[best] == "best native"
    assert re.fullmatch(r"[-+][\d.]+ \[[-+][\d.]+, [-+][\d.]+\]\s+[\d.]+( n\.s\.)?",
                        cells["listnet"])  # fmt: skip
    assert "paired randomisation test over the validation queries" in out


def test_compare_without_valid_prints_no_significance(capsys):
    code, out, _ = run(capsys, "compare", "--backends", "lightgbm",
                       "--losses", "softmax", *FAST)  # fmt: skip
    assert code == 0
    assert "best native" not in out
    assert "paired randomisation" not in out


def test_significance_tests_compare_with_the_best_native_of_the_engine():
    rng = np.random.default_rng(0)
    base = rng.uniform(size=40)

    def run_(engine, objective, native, values):
        per_query = dict.fromkeys(_compare.METRIC_COLUMNS, values)
        return _compare.Run(engine, objective, native, 1.0, per_query, [0.5])

    runs = [
        run_("lightgbm", "lambdarank", True, base),
        run_("lightgbm", "rank_xendcg", True, base - 0.05),
        run_("lightgbm", "softmax", False, base + rng.normal(0.03, 0.01, 40)),
        run_("xgboost", "rank:ndcg", True, base + 0.1),
        run_("xgboost", "softmax", False, base + 0.1 + rng.normal(0, 0.05, 40)),
    ]
    tests = _compare.significance_tests(runs)
    assert set(tests) == {2, 4}
    assert tests[2] == paired_test(runs[2].per_query["ndcg@10"], base)
    assert tests[2].significant()
    assert tests[4] == paired_test(runs[4].per_query["ndcg@10"], base + 0.1)
    header, rows, _ = _compare.leaderboard(runs, significance=True)
    assert header[-2:] == ["Δ ndcg@10 vs best native [95% CI]", "p"]
    assert rows[0][-2:] == ["best native", ""]
    assert rows[1][-2:] == ["", ""]
    assert rows[2][-2].startswith(f"{tests[2].difference:+.4f} [")
    assert rows[2][-1] == f"{tests[2].p_value:.4f}"
    assert rows[4][-1].endswith(" n.s.") != tests[4].significant()


def test_compare_plot(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    code, _, err = run(
        capsys, "compare", "--losses", "listnet", "--backends", "lightgbm",
        "--plot", str(path), *FAST,
    )  # fmt: skip
    assert code == 0, err
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_plot_without_matplotlib_fails_before_training(capsys, monkeypatch):
    monkeypatch.setattr(cli, "find_spec", lambda name: None)
    monkeypatch.setattr(_compare, "compare", None)  # training would fail loudly
    code, _, err = run(capsys, "compare", "--plot", "curves.png", *FAST)
    assert code == 2
    assert "pip install 'gbrank[plot]'" in err


def test_native_and_gbrank_runs_share_tree_settings(monkeypatch):
    settings = _compare.engine_settings("lightgbm", n_estimators=7)
    assert settings.num_leaves == 31
    assert settings.booster_params == {"min_data_in_leaf": 50}
    assert settings.n_estimators == 7
    engine = get_engine("lightgbm")
    trained = []

    def spy(objective, settings, *args, **kwargs):
        trained.append((objective, settings))
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "train", spy)
    data = load_sample("test")
    for objective in ("lambdarank", gbrank.SoftmaxLoss()):
        with pytest.raises(KeyboardInterrupt, match=r"^$"):
            _compare.fit(objective, "lightgbm", settings, data, data)
    assert [s for _, s in trained] == [settings, settings]
    xgb_settings = _compare.engine_settings("xgboost", booster_params={"eta": 0.3})
    assert xgb_settings.max_depth == 4
    assert xgb_settings.booster_params == {"eta": 0.3}


def test_n_jobs_limits_the_kernel_threads_for_the_command_only(capsys, monkeypatch):
    before = gbrank.get_num_threads()
    seen = []
    fit = _compare.fit

    def spy(*args, **kwargs):
        seen.append(gbrank.get_num_threads())
        return fit(*args, **kwargs)

    monkeypatch.setattr(_compare, "fit", spy)
    code, _, _ = run(capsys, "train", *FAST)
    assert code == 0
    assert seen == [1]
    assert gbrank.get_num_threads() == before


def test_curves_share_colours_across_engines_and_mark_the_best_round():
    pytest.importorskip("matplotlib")
    runs = [
        _compare.Run(engine, objective, native, 1.0, {}, curve)
        for engine in ("lightgbm", "xgboost")
        for objective, native, curve in (
            ("softmax", False, [0.5, 0.7, 0.6]),
            ("listnet", False, [0.4, 0.5, 0.55]),
            ("native", True, [0.6, 0.6, 0.6]),
        )
    ]
    figure = _compare.curves_figure(runs, "bundled sample; 3 rounds")
    assert figure._suptitle.get_text() == "bundled sample; 3 rounds"
    colours = {}
    for ax in figure.axes:
        lines = ax.get_lines()
        curves = {line.get_label(): line for line in lines if len(line.get_xdata()) > 1}
        dots = [line for line in lines if len(line.get_xdata()) == 1]
        for label, line in curves.items():
            colours.setdefault(label, line.get_color())
            assert colours[label] == line.get_color()
        assert [(d.get_xdata()[0], d.get_ydata()[0]) for d in dots] == [
            (2, 0.7), (3, 0.55), (1, 0.6)
        ]  # fmt: skip
    assert len(set(colours.values())) == 3


# -- checked before any data is loaded: engine parameters, output paths --------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["train", "--param", "seed=1 lambda_l2=1000000000"],
            "--param: seed='1 lambda_l2=1000000000' holds ' ', which lightgbm treats "
            "as a separator in its parameter string; give each parameter its own",
        ),
        (
            ["train", "--param", "objective=lambdarank"],
            "--param: 'objective' would replace the gbrank loss; choose the loss "
            "with loss= (estimators) or --loss (command line)",
        ),
        (["train", "--param", "num_class=3"], "'num_class' would change the number"),
        (["train", "--param", "metric=ndcg"], "metrics gbrank evaluates"),
        (["train", "--param", "num_iterations=9"], "use n_estimators= (estimators)"),
        (
            ["train", "--param", "early_stopping_round=20"],
            "'early_stopping_round' would change the early stopping gbrank wires up; "
            "use fit(..., early_stopping_rounds=) (estimators) or "
            "--early-stopping-rounds (command line)",
        ),
        (
            ["train", "--early-stopping-rounds", "5"],
            "--early-stopping-rounds needs --valid FILE",
        ),
        (
            ["train", "--backend", "xgboost", "--param", "eval_metric=ndcg"],
            "'eval_metric' would change the metrics gbrank evaluates",
        ),
        (
            ["train", "--param", "num_leavs=7"],
            "lightgbm does not use the parameter 'num_leavs' (did you mean "
            "'num_leaves'?); it would be ignored",
        ),
        (["train", "--param", "nonsense=3"], "does not use the parameter 'nonsense'"),
        (["train", "--output", "{tmp}"], "is a folder; give a file name"),
        (["train", "--output", "{tmp}/" + "m" * 256], "the file name has 256 bytes"),
        (["train", "--output", "{tmp}/missing/m.txt"], "does not exist"),
        (["compare", "--plot", "{tmp}"], "is a folder"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_parameters_and_outputs_are_checked_before_loading_data(
    capsys, tmp_path, monkeypatch, argv, message
):
    def no_data(*args, **kwargs):
        raise AssertionError("data were loaded before the arguments were checked")

    monkeypatch.setattr(_io, "load_pair", no_data)
    argv = [arg.format(tmp=tmp_path) for arg in argv]
    code, _, err = run(capsys, *argv, *FAST)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_compare_reports_parameters_one_engine_would_ignore(capsys, monkeypatch):
    def stop(*args, **kwargs):
        raise cli.UsageError("stopped before loading data")

    monkeypatch.setattr(_io, "load_pair", stop)
    code, _, err = run(capsys, "compare", "--param", "num_leaves=7", *FAST)
    assert code == 2  # the stop above
    assert err.splitlines()[0] == (
        "gbrank compare: warning: --param: xgboost does not use the parameter "
        "'num_leaves' (did you mean 'max_leaves'?); it would be ignored."
    )
    assert "lightgbm does not use" not in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k=3", ("k", 3)),
        ("temperature=0.5", ("temperature", 0.5)),
        ("mask=true", ("mask", True)),
        ("topn=none", ("topn", None)),
        ("lambda_weight=ndcg", ("lambda_weight", "ndcg")),
        ("thresholds=0.5, 1.5,2.5", ("thresholds", (0.5, 1.5, 2.5))),
    ],
)
def test_key_value_parses_numbers_flags_none_names_and_lists(text, expected):
    assert cli._key_value(text) == expected


def test_ordinal_thresholds_from_the_command_line(capsys):
    thresholds = "thresholds=0,1,2,3"
    code, out, _ = run(
        capsys, "train", "--loss", "ordinal", "--loss-param", thresholds, *FAST
    )
    assert code == 0
    assert "OrdinalLoss(thresholds=(0, 1, 2, 3))" in out


# -- early stopping, tables ----------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "name"), [("lightgbm", "m.txt"), ("xgboost", "m.json")]
)
def test_train_early_stopping_saves_the_best_round(
    capsys, files, tmp_path, backend, name
):
    path = tmp_path / name
    code, out, err = run(
        capsys, "train", "--train", str(files["train"]), "--valid", str(files["valid"]),
        "--backend", backend, "--n-estimators", "300", "--learning-rate", "0.5",
        "--early-stopping-rounds", "5", "--log-every", "1", "--n-jobs", "1",
        "--output", str(path),
    )  # fmt: skip
    assert code == 0, err
    curve = [float(v) for v in re.findall(r"valid ndcg@10 ([\d.]+)$", err, re.M)]
    best = int(np.argmax(curve)) + 1
    assert len(curve) == best + 5 < 300  # stopped 5 rounds after the best
    note = re.search(
        r"early stopping: best validation NDCG@10 ([\d.]+) at round (\d+)", out
    )
    assert int(note.group(2)) == best
    assert f"model saved to {path}: {best} rounds (up to the best one)" in out
    engine = get_engine(backend)
    booster = engine.load_model(path)
    assert engine.n_rounds(booster) == best
    if backend == "lightgbm":
        assert path.read_text().count("\nTree=") == best
    valid = gbrank.datasets.load_svmlight(files["valid"], n_features=6)
    scores = engine.predict_raw(booster, valid.X, best)
    saved = metrics.ndcg(valid.y, scores, group=valid.group, k=10)
    assert saved == pytest.approx(printed_metrics(out)["ndcg@10"], abs=1e-4)
    assert saved == pytest.approx(float(note.group(1)), abs=1e-4)
    # the model loads into an estimator with its loss
    ranker = gbrank.GBRankRegressor.load_model(path)
    assert ranker.loss_ == gbrank.YetiRankLoss()
    np.testing.assert_array_equal(ranker.predict(valid.X), scores)


@pytest.mark.parametrize("suffix", ["csv", "tsv"])
def test_train_on_tables_equals_train_on_svmlight(capsys, files, suffix):
    common = ["--loss", "softmax", *FAST]
    code, out, err = run(
        capsys, "train", "--train", str(files["train"]), "--valid",
        str(files["valid"]), *common,
    )  # fmt: skip
    assert code == 0, err
    from_svmlight = printed_metrics(out)
    code, out, err = run(
        capsys, "train", "--train", str(files[f"train_{suffix}"]),
        "--valid", str(files[f"valid_{suffix}"]), "--query-column", "query",
        "--label-column", "label", *common,
    )  # fmt: skip
    assert code == 0, err
    assert "30 queries, 6 features" in out
    assert printed_metrics(out) == from_svmlight


def test_train_on_a_parquet_table_and_feature_columns(capsys, files, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    for split in ("train", "valid"):
        frame = pd.read_csv(files[f"{split}_csv"])
        frame[["query", "label", "f3", "f1"]].to_parquet(tmp_path / f"{split}.parquet")
    columns = ["--query-column", "query", "--label-column", "label", *FAST]
    code, out, err = run(
        capsys, "train", "--train", str(tmp_path / "train.parquet"),
        "--valid", str(tmp_path / "valid.parquet"), *columns,
    )  # fmt: skip
    assert code == 0, err
    assert "30 queries, 2 features" in out
    from_parquet = printed_metrics(out)
    code, out, err = run(
        capsys, "train", "--train", str(files["train_csv"]),
        "--valid", str(files["valid_csv"]), "--feature-columns", "f3,f1", *columns,
    )  # fmt: skip
    assert code == 0, err
    assert printed_metrics(out) == from_parquet


def test_parquet_without_pandas_says_what_to_install(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    code, _, err = run(
        capsys, "train", "--train", str(tmp_path / "t.parquet"),
        "--query-column", "q", "--label-column", "y", *FAST,
    )  # fmt: skip
    assert code == 2
    assert "needs pandas and pyarrow: pip install pandas pyarrow" in err
    assert "Traceback" not in err


def test_compare_on_tables(capsys, files):
    code, out, err = run(
        capsys, "compare", "--train", str(files["train_csv"]),
        "--valid", str(files["valid_csv"]), "--query-column", "query",
        "--label-column", "label", "--losses", "softmax", "--backends", "lightgbm",
        *FAST,
    )  # fmt: skip
    assert code == 0, err
    assert {objective for _, objective, _ in leaderboard(out)} == {
        "softmax", "lambdarank (native)", "rank_xendcg (native)"
    }  # fmt: skip


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_compare_shows_a_bar_with_the_model_and_eta_on_a_terminal(capsys, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code = cli.main(["compare", "--losses", "softmax", "--backends", "xgboost", *FAST])
    out = capsys.readouterr().out
    assert code == 0
    shown = terminal.getvalue()
    frames = shown.split("\r")
    assert len(frames) > 3  # redrawn in place
    assert any("now: xgboost softmax" in frame for frame in frames)
    assert any("now: xgboost rank:ndcg" in frame for frame in frames)
    assert re.search(r"gbrank compare: +\d+%\|.*\| 1/3 models \[.* ETA ", shown)
    assert "] xgboost softmax: ndcg@10 " in shown  # one line per model, above it
    assert (
        shown.rstrip()
        .splitlines()[-1]
        .startswith("gbrank compare: 3 models trained in ")
    )
    assert "xgboost" in out


def test_compare_progress_without_a_terminal_prints_lines_only():
    stream = io.StringIO()
    runs = [
        _compare.Run("lightgbm", "softmax", False, 1.5, {"ndcg@10": np.array([0.7])}),
        _compare.Run("xgboost", "rank:ndcg", True, 0.5, {"ndcg@10": np.array([0.75])}),
    ]
    with CompareProgress(2, stream) as progress:
        for index, run in enumerate(runs, start=1):
            progress.start(run.engine, run.objective)
            progress.done(index, run)
        summary = progress.summarize(runs)
    assert stream.getvalue().splitlines() == [
        "[1/2] lightgbm softmax: ndcg@10 0.7000 (1.5 s)",
        "[2/2] xgboost rank:ndcg: ndcg@10 0.7500 (0.5 s)",
        summary,
    ]
    assert summary.endswith(
        "; best validation NDCG@10 0.7500: xgboost rank:ndcg (native)"
    )


# -- the plot: panels in --backends order, legends outside, families by colour --------


def _runs(engines=("lightgbm", "xgboost")):
    objectives = {
        "lightgbm": [("lambdarank", True), ("rank_xendcg", True)],
        "xgboost": [("rank:ndcg", True), ("rank:pairwise", True)],
    }
    losses = ["softmax", "poly1_softmax", "pairwise_hinge", "pairwise_logistic"]
    return [
        _compare.Run(engine, name, native, 1.0, {}, [0.5, 0.6 + i / 100, 0.58])
        for engine in engines
        for i, (name, native) in enumerate(
            [*objectives[engine], *((loss, False) for loss in losses)]
        )
    ]


def test_plot_panels_follow_the_engines_order():
    pytest.importorskip("matplotlib")
    runs = _runs()
    for order in (["xgboost", "lightgbm"], ["lightgbm", "xgboost"]):
        figure = _compare.curves_figure(runs, engines=order)
        assert [ax.get_title() for ax in figure.axes] == order


def test_compare_plots_in_backends_order(capsys, monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(
        _compare, "plot_curves", lambda runs, path, title, engines: seen.append(engines)
    )
    code, _, err = run(
        capsys, "compare", "--losses", "listnet", "--backends", "xgboost,lightgbm",
        "--plot", str(tmp_path / "curves.png"), *FAST,
    )  # fmt: skip
    assert code == 0, err
    assert seen == [["xgboost", "lightgbm"]]


def test_plot_legend_sits_outside_the_panels():
    pytest.importorskip("matplotlib")
    figure = _compare.curves_figure(_runs(), "title")
    assert all(ax.get_legend() is None for ax in figure.axes)
    (legend,) = figure.legends
    figure.draw_without_rendering()  # lay out
    box = legend.get_window_extent()
    for ax in figure.axes:
        assert not box.overlaps(ax.get_window_extent())
    labels = [text.get_text() for text in legend.get_texts()]
    assert labels == [
        "pairwise", "pairwise_hinge", "pairwise_logistic",
        "softmax", "softmax", "poly1_softmax",
        "native", "lambdarank", "rank_xendcg", "rank:ndcg", "rank:pairwise",
    ]  # fmt: skip
    bold = [t.get_text() for t in legend.get_texts() if t.get_fontweight() == "bold"]
    assert bold == ["pairwise", "softmax", "native"]


def test_plot_colours_families_and_styles_members():
    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_hex

    figure = _compare.curves_figure(_runs())
    seen = {}
    for ax in figure.axes:
        for line in ax.get_lines():
            if len(line.get_xdata()) > 1:
                style = (to_hex(line.get_color()), line.get_linestyle())
                assert seen.setdefault(line.get_label(), style) == style  # per panel
    colour = {label: style[0] for label, style in seen.items()}
    styles = {label: style[1] for label, style in seen.items()}
    assert colour["softmax"] == colour["poly1_softmax"]
    assert colour["pairwise_hinge"] == colour["pairwise_logistic"]
    assert colour["softmax"] != colour["pairwise_hinge"]
    assert styles["softmax"] != styles["poly1_softmax"]
    assert styles["pairwise_hinge"] != styles["pairwise_logistic"]
    natives = [label for label in seen if label.endswith("(native)")]
    assert {colour[label] for label in natives} == {"#000000"}
    assert len({styles[label] for label in natives}) == 4
