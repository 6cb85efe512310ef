import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import dump_svmlight_file

from gbrank._groups import groups_from_qid
from gbrank.datasets import (
    RankingData,
    letor_folds,
    load_sample,
    load_svmlight,
    load_table,
    make_ranking,
    split_by_query,
)


def assert_consistent(data: RankingData) -> None:
    n_rows = data.X.shape[0]
    assert data.y.shape == (n_rows,)
    assert data.y.dtype == np.float64
    assert data.group.dtype == np.int64
    assert data.qid.dtype == np.int64
    assert data.group.sum() == n_rows
    np.testing.assert_array_equal(groups_from_qid(data.qid, n_rows).sizes, data.group)


def write_svmlight(path: Path, X, y, qid=None) -> None:
    kwargs = {} if qid is None else {"query_id": qid}
    dump_svmlight_file(X, y, str(path), zero_based=True, **kwargs)


@pytest.fixture
def small():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.1, 1.0, size=(6, 4)).round(3)
    y = np.array([2.0, 0.0, 1.0, 0.0, 3.0, 1.0])
    qid = np.array([5, 5, 5, 2, 2, 9])
    return X, y, qid


# --- bundled sample ------------------------------------------------------------


@pytest.mark.parametrize(
    ("split", "n_rows", "n_queries", "label_counts"),
    [
        ("train", 3005, 201, [645, 1211, 858, 222, 69]),
        ("test", 768, 50, [206, 256, 252, 44, 10]),
    ],
)
def test_load_sample(split, n_rows, n_queries, label_counts):
    data = load_sample(split)
    assert sparse.issparse(data.X)
    assert data.X.format == "csr"
    assert data.X.shape == (n_rows, 300)
    assert data.group.size == n_queries
    np.testing.assert_array_equal(np.bincount(data.y.astype(int)), label_counts)
    np.testing.assert_array_equal(data.qid, np.repeat(np.arange(n_queries), data.group))
    assert_consistent(data)


def test_load_sample_feature_values():
    X = load_sample().X
    assert X.min() == 0.0
    assert X.max() == pytest.approx(1.0)


def test_load_sample_rejects_unknown_split():
    with pytest.raises(ValueError, match="split='valid' is not supported"):
        load_sample("valid")


def test_ranking_data_unpacks():
    data = make_ranking(n_queries=3, docs_per_query=4, random_state=0)
    X, y, group, qid = data
    assert X is data.X
    assert y is data.y
    assert group is data.group
    assert qid is data.qid


# --- svmlight files ------------------------------------------------------------


def test_qid_file_round_trip(tmp_path, small):
    X, y, qid = small
    path = tmp_path / "ranking.txt"
    write_svmlight(path, X, y, qid)
    data = load_svmlight(path, zero_based=True)
    assert data.X.format == "csr"
    np.testing.assert_allclose(data.X.toarray(), X)
    np.testing.assert_array_equal(data.y, y)
    np.testing.assert_array_equal(data.qid, qid)
    np.testing.assert_array_equal(data.group, [3, 2, 1])
    assert_consistent(data)


def test_query_file_round_trip(tmp_path, small):
    X, y, _ = small
    path = tmp_path / "ranking.txt"
    write_svmlight(path, X, y)
    Path(f"{path}.query").write_text("3\n2\n1\n")
    data = load_svmlight(path, zero_based=True)
    np.testing.assert_allclose(data.X.toarray(), X)
    np.testing.assert_array_equal(data.y, y)
    np.testing.assert_array_equal(data.group, [3, 2, 1])
    np.testing.assert_array_equal(data.qid, [0, 0, 0, 1, 1, 2])
    assert_consistent(data)


def test_explicit_query_file(tmp_path, small):
    X, y, _ = small
    path = tmp_path / "ranking.txt"
    write_svmlight(path, X, y)
    query = tmp_path / "sizes.txt"
    query.write_text("4\n2\n")
    data = load_svmlight(path, query_file=query)
    np.testing.assert_array_equal(data.group, [4, 2])


def test_qid_and_matching_query_file(tmp_path, small):
    X, y, qid = small
    path = tmp_path / "ranking.txt"
    write_svmlight(path, X, y, qid)
    Path(f"{path}.query").write_text("3\n2\n1\n")
    np.testing.assert_array_equal(load_svmlight(path).qid, qid)


def test_n_features_and_dtype(tmp_path, small):
    X, y, qid = small
    path = tmp_path / "ranking.txt"
    write_svmlight(path, X, y, qid)
    data = load_svmlight(path, n_features=10, dtype=np.float32, zero_based=True)
    assert data.X.shape == (6, 10)
    assert data.X.dtype == np.float32
    assert data.y.dtype == np.float64


def test_comments_and_one_based_indices(tmp_path):
    path = tmp_path / "letor.txt"
    path.write_text(
        "2 qid:10 1:0.5 3:0.25 # doc a\n0 qid:10 2:1.0\n1 qid:11 3:0.75 # doc c\n"
    )
    data = load_svmlight(path)
    np.testing.assert_allclose(
        data.X.toarray(), [[0.5, 0.0, 0.25], [0.0, 1.0, 0.0], [0.0, 0.0, 0.75]]
    )
    np.testing.assert_array_equal(data.group, [2, 1])


def test_null_values_are_missing(tmp_path):
    # LETOR 4.0 rank-aggregation sets (MQ2007-agg) write NULL for "not ranked"
    path = tmp_path / "agg.txt"
    path.write_bytes(
        b"1 qid:10 1:NULL 2:3 #docid = a\r\n0 qid:10 1:7 2:NULL\r\n2 qid:11 1:1 2:2\r\n"
    )
    data = load_svmlight(path)
    np.testing.assert_array_equal(
        data.X.toarray(), [[np.nan, 3.0], [7.0, np.nan], [1.0, 2.0]]
    )
    np.testing.assert_array_equal(data.group, [2, 1])


def test_a_bad_line_after_null_values_is_named(tmp_path):
    path = tmp_path / "agg.txt"
    path.write_text("1 qid:10 1:NULL 2:3\n0 qid:10 1:7 2:oops\n")
    with pytest.raises(ValueError, match=r"at line 2: .*oops"):
        load_svmlight(path)


# --- errors --------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "absent.txt"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        load_svmlight(path)


def test_missing_query_file(tmp_path, small):
    X, y, _ = small
    path = tmp_path / "ranking.txt"
    write_svmlight(path, X, y)
    query = tmp_path / "absent.query"
    with pytest.raises(FileNotFoundError, match=re.escape(str(query))):
        load_svmlight(path, query_file=query)


@pytest.mark.parametrize(
    "bad_line",
    ["2 qid:1 1:abc", "x qid:1 1:0.5", "2 qid:1 1", "2 qid:z 1:0.5", "2 qid:1 3:1 1:2"],
    ids=["value", "label", "no-colon", "qid", "unsorted-indices"],
)
def test_malformed_line_names_file_and_line(tmp_path, bad_line):
    path = tmp_path / "broken.txt"
    path.write_text(f"1 qid:1 1:0.5\n0 qid:1 2:0.5\n{bad_line}\n0 qid:2 1:0.1\n")
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}' at line 3: "):
        load_svmlight(path)


def test_malformed_line_beyond_first_chunk(tmp_path):
    lines = ["1 qid:1 1:0.5"] * 12_345 + ["1 qid:1 1:bad"]
    path = tmp_path / "long.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="at line 12346: "):
        load_svmlight(path)


def test_index_beyond_n_features_names_line(tmp_path):
    path = tmp_path / "wide.txt"
    path.write_text("1 qid:1 1:0.5\n0 qid:1 7:0.5\n")
    with pytest.raises(ValueError, match="at line 2: "):
        load_svmlight(path, n_features=3)


@pytest.mark.parametrize(
    ("line", "at"),
    [
        ("1 qid:99999999999999999999 1:0.5", "qid"),
        ("1 qid:1 99999999999:0.5", "index"),
    ],
)
def test_integers_beyond_int64_name_the_line(tmp_path, line, at):
    path = tmp_path / f"{at}.txt"
    path.write_text(f"0 qid:1 1:0.5\n{line}\n")
    with pytest.raises(
        ValueError,
        match=r"at line 2: .* \(a qid: or feature index beyond 64-bit integers\)",
    ):
        load_svmlight(path)


def test_absurd_feature_counts_are_refused_unless_allowed(tmp_path):
    """Feature 2e9 in a 2-row file drove XGBoost to 22 GB of memory."""
    path = tmp_path / "stray.txt"
    path.write_text("1 qid:1 2000000000:1\n0 qid:1 2:1\n")
    with pytest.raises(
        ValueError,
        match=r"has 2,000,000,000 feature columns .* more than max_features="
        r"1,000,000: .* raise the limit \(max_features=; command line: --max-feat",
    ):
        load_svmlight(path)
    assert load_svmlight(path, max_features=None).X.shape == (2, 2_000_000_000)
    narrow = tmp_path / "narrow.txt"
    narrow.write_text("1 qid:1 2:1\n0 qid:1 3:1\n")
    with pytest.raises(ValueError, match=r"has 20 feature columns .* max_features=10:"):
        load_svmlight(narrow, max_features=10, n_features=20)
    with pytest.raises(ValueError, match="max_features must be None or an integer"):
        load_svmlight(path, max_features=0)


def test_a_file_name_too_long_is_named(tmp_path):
    path = tmp_path / ("t" * 300)
    with pytest.raises(OSError, match=r"cannot open svmlight file '.*t{300}': File"):
        load_svmlight(path)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ("3\n2\n", "group sizes sum to 5 but there are 6 rows"),
        ("3\n2\n2\n", "group sizes sum to 7 but there are 6 rows"),
        ("3\n0\n3\n", "group sizes must be positive"),
        ("3\n1.5\n", "invalid literal for int"),
        ("", "group is empty"),
    ],
    ids=["too-few", "too-many", "zero", "float", "empty"],
)
def test_query_file_mismatch(tmp_path, small, sizes, message):
    X, y, _ = small
    path = tmp_path / "ranking.txt"
    write_svmlight(path, X, y)
    query = Path(f"{path}.query")
    query.write_text(sizes)
    with pytest.raises(ValueError, match=rf"{re.escape(str(query))}'.*{message}"):
        load_svmlight(path)


def test_qid_disagrees_with_query_file(tmp_path, small):
    X, y, qid = small
    path = tmp_path / "ranking.txt"
    write_svmlight(path, X, y, qid)
    Path(f"{path}.query").write_text("3\n3\n")
    with pytest.raises(
        ValueError, match=r"give 3 queries, .* gives 2, first differing"
    ):
        load_svmlight(path)


def test_qid_not_contiguous(tmp_path, small):
    X, y, _ = small
    path = tmp_path / "ranking.txt"
    write_svmlight(path, X, y, np.array([5, 5, 2, 5, 2, 9]))
    with pytest.raises(ValueError, match="qid must be contiguous runs: query id 5"):
        load_svmlight(path)


def test_no_query_information(tmp_path, small):
    X, y, _ = small
    path = tmp_path / "ranking.txt"
    write_svmlight(path, X, y)
    with pytest.raises(ValueError, match="has no qid: tokens and there is no query"):
        load_svmlight(path)


def test_qid_on_some_lines_only(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_text("1 qid:1 1:0.5\n0 1:0.5\n")
    with pytest.raises(ValueError, match="only 1 of its 2 rows have a qid: token"):
        load_svmlight(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("# nothing here\n")
    with pytest.raises(ValueError, match="holds no rows"):
        load_svmlight(path)


# --- make_ranking --------------------------------------------------------------


def test_make_ranking_is_deterministic():
    first = make_ranking(n_queries=30, random_state=7)
    second = make_ranking(n_queries=30, random_state=7)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    other = make_ranking(n_queries=30, random_state=8)
    assert not np.array_equal(first.y, other.y)


def test_make_ranking_accepts_generator():
    data = make_ranking(n_queries=5, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(data.X, make_ranking(n_queries=5, random_state=3).X)


def test_make_ranking_shapes_and_groups():
    data = make_ranking(n_queries=50, docs_per_query=20, n_features=7, random_state=0)
    assert isinstance(data.X, np.ndarray)
    assert data.X.dtype == np.float64
    assert data.X.shape == (data.group.sum(), 7)
    assert data.group.size == 50
    assert data.group.min() >= 10
    assert data.group.max() <= 30
    assert np.unique(data.group).size > 1
    np.testing.assert_array_equal(data.qid, np.repeat(np.arange(50), data.group))
    assert_consistent(data)


def test_make_ranking_fixed_group_size():
    data = make_ranking(
        n_queries=4, docs_per_query=3, vary_group_size=False, random_state=0
    )
    np.testing.assert_array_equal(data.group, [3, 3, 3, 3])
    assert data.X.shape == (12, 20)


@pytest.mark.parametrize("docs_per_query", [1, 2, 3])
def test_make_ranking_small_groups_are_positive(docs_per_query):
    data = make_ranking(n_queries=200, docs_per_query=docs_per_query, random_state=0)
    assert data.group.min() >= 1
    assert data.group.max() <= docs_per_query + docs_per_query // 2
    assert_consistent(data)


@pytest.mark.parametrize("levels", [2, 3, 5, 8])
def test_make_ranking_label_levels(levels):
    data = make_ranking(n_queries=200, n_relevance_levels=levels, random_state=1)
    np.testing.assert_array_equal(np.unique(data.y), np.arange(levels))
    # Level k < L - 1 holds about 2^-(k + 1) of the rows, the top level 2^-(L - 1).
    shares = np.bincount(data.y.astype(int)) / data.y.size
    expected = 0.5 ** np.append(np.arange(1, levels), levels - 1)
    np.testing.assert_allclose(shares, expected, atol=0.01)


def test_make_ranking_float32():
    data = make_ranking(n_queries=10, dtype=np.float32, random_state=0)
    assert data.X.dtype == np.float32
    assert data.y.dtype == np.float64


def test_make_ranking_one_feature():
    data = make_ranking(n_queries=10, n_features=1, random_state=0)
    assert data.X.shape[1] == 1
    assert_consistent(data)


def test_make_ranking_labels_depend_on_features():
    data = make_ranking(n_queries=300, random_state=0)
    design = np.column_stack([data.X, np.ones(data.X.shape[0])])
    coef, *_ = np.linalg.lstsq(design, data.y, rcond=None)
    assert np.corrcoef(design @ coef, data.y)[0, 1] > 0.3


def test_make_ranking_noise_weakens_the_signal():
    def fit_corr(noise):
        data = make_ranking(n_queries=300, noise=noise, random_state=0)
        design = np.column_stack([data.X, np.ones(data.X.shape[0])])
        coef, *_ = np.linalg.lstsq(design, data.y, rcond=None)
        return np.corrcoef(design @ coef, data.y)[0, 1]

    assert fit_corr(0.0) > fit_corr(0.5) > fit_corr(3.0)


@pytest.mark.slow
def test_lightgbm_learns_make_ranking():
    lightgbm = pytest.importorskip("lightgbm")
    data = make_ranking(n_queries=300, random_state=0)
    n_train = int(data.group[:200].sum())
    model = lightgbm.LGBMRanker(n_estimators=50, verbose=-1, random_state=0)
    model.fit(data.X[:n_train], data.y[:n_train], group=data.group[:200])
    scores = model.predict(data.X[n_train:])
    labels = data.y[n_train:]
    test_qid = data.qid[n_train:]
    rng = np.random.default_rng(0)
    model_ndcg = mean_ndcg(labels, scores, test_qid)
    random_ndcg = mean_ndcg(labels, rng.standard_normal(labels.size), test_qid)
    assert model_ndcg > random_ndcg + 0.2


def mean_ndcg(labels, scores, qid):
    values = []
    for query in np.unique(qid):
        rows = qid == query
        gains = 2.0 ** labels[rows] - 1
        discounts = 1 / np.log2(np.arange(2, rows.sum() + 2))
        ideal = np.sort(gains)[::-1] @ discounts
        if ideal > 0:
            values.append(gains[np.argsort(-scores[rows])] @ discounts / ideal)
    return np.mean(values)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_queries": 0}, "n_queries must be an integer >= 1, got 0"),
        ({"docs_per_query": 2.5}, "docs_per_query must be an integer >= 1, got 2.5"),
        ({"n_features": True}, "n_features must be an integer >= 1, got True"),
        ({"n_relevance_levels": 1}, "n_relevance_levels must be an integer >= 2"),
        ({"noise": -0.1}, "noise must be a finite number >= 0, got -0.1"),
        ({"noise": float("nan")}, "noise must be a finite number >= 0, got nan"),
        ({"dtype": np.int64}, "dtype must be np.float32 or np.float64, got int64"),
    ],
    ids=[
        "n_queries",
        "docs_per_query",
        "n_features",
        "levels",
        "noise",
        "nan",
        "dtype",
    ],
)
def test_make_ranking_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make_ranking(**kwargs)


# -- split_by_query ------------------------------------------------------------


@pytest.mark.parametrize(("test_size", "n_test"), [(0.25, 3), (0.2, 2), (4, 4)])
def test_split_by_query_keeps_queries_whole_and_in_order(test_size, n_test):
    data = make_ranking(n_queries=10, docs_per_query=5, n_features=3, random_state=1)
    assert len(set(data.group)) > 1  # queries of different lengths
    data = replace(data, qid=data.qid * 7, X=sparse.csr_matrix(data.X))
    train, test = split_by_query(data, test_size, random_state=3)
    assert (train.group.size, test.group.size) == (10 - n_test, n_test)
    for part in (train, test):
        np.testing.assert_array_equal(np.diff(part.qid) >= 0, True)  # query order kept
        sizes = np.unique(part.qid, return_counts=True)[1]
        np.testing.assert_array_equal(sizes, part.group)
        assert part.X.shape == (part.y.size, 3)
        assert sparse.issparse(part.X)
    assert not set(train.qid) & set(test.qid)
    # every row lands in exactly one part, unchanged
    both = np.concatenate([train.qid, test.qid])
    order = np.argsort(both, kind="stable")
    np.testing.assert_array_equal(both[order], data.qid)
    np.testing.assert_array_equal(np.concatenate([train.y, test.y])[order], data.y)
    X = sparse.vstack([train.X, test.X]).toarray()[order]
    np.testing.assert_array_equal(X, data.X.toarray())


def test_split_by_query_is_seeded():
    data = make_ranking(n_queries=20, docs_per_query=3, n_features=2)
    first = split_by_query(data, random_state=5)[1].qid
    np.testing.assert_array_equal(first, split_by_query(data, random_state=5)[1].qid)
    assert not np.array_equal(first, split_by_query(data, random_state=6)[1].qid)


@pytest.mark.parametrize(
    ("test_size", "message"),
    [
        (0.0, "test_size must be"),
        (1.0, "test_size must be"),
        (0, "test_size must be an integer >= 1"),
        (5, "puts 5 of the 5 queries in the test part"),
        (0.99, "puts 5 of the 5 queries"),
        ("half", "test_size must be an integer"),
    ],
)
def test_split_by_query_refuses_sizes_that_leave_a_part_empty(test_size, message):
    data = make_ranking(n_queries=5, docs_per_query=2, n_features=2)
    with pytest.raises(ValueError, match=message):
        split_by_query(data, test_size)


# -- tables: CSV, TSV, Parquet -------------------------------------------------------


def write_table(path: Path, header, rows, delimiter=",") -> None:
    lines = [delimiter.join(header), *(delimiter.join(map(str, r)) for r in rows)]
    path.write_text("\n".join(lines) + "\n")


TABLE_ROWS = [
    ("q7", 2, 0.5, 1.0, "a"),
    ("q3", 1, 0.25, 0.0, "b"),
    ("q7", 0, 0.0, 1.5, "c"),
    ("q9", 3, 1.0, 2.0, "d"),
    ("q3", 0, 0.75, 0.5, "e"),
]


@pytest.mark.parametrize(("name", "delimiter"), [("t.csv", ","), ("t.tsv", "\t")])
def test_load_table_gathers_queries_in_order_of_first_appearance(
    tmp_path, name, delimiter
):
    path = tmp_path / name
    rows = [(q, y, f1, f2) for q, y, f1, f2, _ in TABLE_ROWS]
    write_table(path, ["query", "grade", "f1", "f2"], rows, delimiter)
    data = load_table(path, label_column="grade", query_column="query")
    assert_consistent(data)
    # q7 rows 0 and 2, then q3 rows 1 and 4, then q9 row 3 (each stably)
    np.testing.assert_array_equal(data.y, [2, 0, 1, 0, 3])
    np.testing.assert_array_equal(data.group, [2, 2, 1])
    np.testing.assert_array_equal(data.qid, [0, 0, 1, 1, 2])
    np.testing.assert_array_equal(data.X[:, 0], [0.5, 0.0, 0.25, 0.75, 1.0])
    assert data.feature_names == ("f1", "f2")
    assert data.X.dtype == np.float64


def test_load_table_feature_columns_choose_and_order(tmp_path):
    path = tmp_path / "t.csv"
    write_table(path, ["f1", "query", "f2", "grade"],
                [(f1, q, f2, y) for q, y, f1, f2, _ in TABLE_ROWS])  # fmt: skip
    data = load_table(
        path, label_column="grade", query_column="query", feature_columns=["f2", "f1"]
    )
    assert data.feature_names == ("f2", "f1")
    np.testing.assert_array_equal(data.X[0], [1.0, 0.5])


def test_load_table_parquet_equals_csv(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(TABLE_ROWS, columns=["query", "grade", "f1", "f2", "note"])
    frame.to_parquet(tmp_path / "t.parquet")
    frame.to_csv(tmp_path / "t.csv", index=False)
    named = {"label_column": "grade", "query_column": "query"}
    features = ["f1", "f2"]
    parquet = load_table(tmp_path / "t.parquet", **named, feature_columns=features)
    text = load_table(tmp_path / "t.csv", **named, feature_columns=features)
    for field in ("X", "y", "group", "qid", "feature_names"):
        np.testing.assert_array_equal(getattr(parquet, field), getattr(text, field))
    with pytest.raises(ValueError, match=r"column 'note' has dtype .*must be numbers"):
        load_table(tmp_path / "t.parquet", **named)


def test_load_table_parquet_without_pandas_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas fails
    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    with pytest.raises(
        ImportError, match=r"needs pandas and pyarrow: pip install pandas pyarrow"
    ):
        load_table(tmp_path / "t.parquet", label_column="y", query_column="q")


@pytest.mark.parametrize(
    ("header", "rows", "kwargs", "error", "message"),
    [
        (["q", "y", "f"], [("a", 1, 0.5)], {"query_column": "qid"}, ValueError,
         r"has no column 'qid'; its columns: q, y, f\."),
        (["q", "y", "f"], [("a", 1, 0.5), ("a", 0, "x1")], {}, ValueError,
         r"could not convert string 'x1' to float64 in data row 2 \(after the "
         r"header\), column 'f'.*write nan for a missing feature value"),
        (["q", "y", "f"], [("a", "nan", 0.5)], {}, ValueError,
         r"the label of data row 1 is missing \(NaN\)"),
        (["q", "y", "f"], [("a", 1, 0.5), ("", 0, 1.0)], {}, ValueError,
         r"data row 2 has an empty query id"),
        (["q", "y"], [("a", 1)], {}, ValueError, r"has no feature columns"),
        (["q", "y", "f"], [], {}, ValueError, r"holds no rows"),
    ],
)  # fmt: skip
def test_load_table_errors_name_the_column_and_row(
    tmp_path, header, rows, kwargs, error, message
):
    path = tmp_path / "t.csv"
    write_table(path, header, rows)
    with pytest.raises(error, match=message):
        load_table(path, **{"label_column": "y", "query_column": "q", **kwargs})


def test_load_table_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="table not found"):
        load_table(tmp_path / "none.csv", label_column="y", query_column="q")


def test_missing_feature_values_are_nan(tmp_path):
    path = tmp_path / "t.csv"
    write_table(path, ["q", "y", "f"], [("a", 1, "nan"), ("a", 0, 2.0)])
    data = load_table(path, label_column="y", query_column="q")
    assert np.isnan(data.X[0, 0])


# --- LETOR folds -----------------------------------------------------------------


def _write_subsets(folder, n_features=2):
    for k in range(1, 6):
        features = " ".join(f"{j}:0.{k}" for j in range(1, n_features + 1))
        lines = f"2 qid:{k}1 {features}\n0 qid:{k}1 1:0.9\n1 qid:{k}2 {features}\n"
        (folder / f"S{k}.txt").write_text(lines)


def test_letor_subsets_rotate_as_letor_does(tmp_path):
    _write_subsets(tmp_path)
    folds = list(letor_folds(tmp_path))
    assert [fold.name for fold in folds] == [f"Fold{k}" for k in range(1, 6)]
    for k, fold in enumerate(folds):  # train k, k+1, k+2; vali k+3; test k+4
        subset = [(k + i) % 5 + 1 for i in range(5)]
        assert sorted(set(fold.train.qid.tolist())) == sorted(
            q for s in subset[:3] for q in (10 * s + 1, 10 * s + 2)
        )
        assert set(fold.vali.qid.tolist()) == {10 * subset[3] + 1, 10 * subset[3] + 2}
        assert set(fold.test.qid.tolist()) == {10 * subset[4] + 1, 10 * subset[4] + 2}
        assert fold.train.X.shape == (9, 2)
    tested = np.concatenate([fold.test.qid for fold in folds])
    assert sorted(set(tested.tolist())) == sorted(
        10 * s + i for s in range(1, 6) for i in (1, 2)
    )


def test_letor_fold_directories_are_read_as_they_are(tmp_path):
    for k in (1, 2):
        folder = tmp_path / f"Fold{k}"
        folder.mkdir()
        for split, qid in (("train", 1), ("vali", 2), ("test", 3)):
            text = f"1 qid:{10 * k + qid} 1:0.5 3:1\n0 qid:{10 * k + qid} 2:0.1 3:0\n"
            (folder / f"{split}.txt").write_text(text)
    folds = list(letor_folds(tmp_path))
    assert [fold.name for fold in folds] == ["Fold1", "Fold2"]
    assert folds[1].test.qid.tolist() == [23, 23]
    assert folds[0].train.X.shape == (2, 3)


def test_letor_folds_without_fold_files_name_the_layout(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Fold1\.\.Fold5/.*S1\.txt"):
        next(letor_folds(tmp_path))
    with pytest.raises(FileNotFoundError, match="not found"):
        next(letor_folds(tmp_path / "absent"))


def test_letor_fold_missing_a_file_is_named(tmp_path):
    folder = tmp_path / "Fold1"
    folder.mkdir()
    for split in ("train", "test"):
        (folder / f"{split}.txt").write_text("1 qid:1 1:0.5\n")
    with pytest.raises(FileNotFoundError, match=r"Fold1/vali\.txt"):
        next(letor_folds(tmp_path))


def test_letor_files_with_different_feature_counts_are_refused(tmp_path):
    _write_subsets(tmp_path)
    (tmp_path / "S3.txt").write_text("1 qid:31 1:0.5 2:0.1 7:1\n0 qid:31 1:0.2\n")
    with pytest.raises(
        ValueError, match=r"S3\.txt' has 7 feature columns.*n_features="
    ):
        next(letor_folds(tmp_path))
    fold = next(letor_folds(tmp_path, n_features=7))
    assert fold.train.X.shape[1] == fold.test.X.shape[1] == 7


def test_letor_query_split_across_files_is_refused(tmp_path):
    _write_subsets(tmp_path)
    (tmp_path / "S4.txt").write_text("1 qid:51 1:0.5 2:0.1\n")  # S5's query 51
    with pytest.raises(ValueError, match=r"qid:51 has rows in both .*S4\.txt.*S5\.txt"):
        next(letor_folds(tmp_path))
