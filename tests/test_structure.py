"""The package's structure: layers that point down, no import circle, and the
users' aliases of the engine adapters as the only references upward.

The checks read every module's source: imports at module level and inside
functions alike, ``from gbrank import x`` included.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import gbrank
import gbrank.lightgbm
import gbrank.xgboost
from gbrank import metrics
from gbrank.engines import Engine

PACKAGE = Path(gbrank.__file__).parent

# lower layers first; a module may import only from its own layer or below
LAYERS = [
    {"_kernels", "_params", "_validation", "_groups", "_files", "_aliases"},
    {"losses", "metrics", "position", "testing", "_persist", "significance"},
    {"engines", "lightgbm", "xgboost"},
    {"sklearn", "datasets"},
    {
        *("dask", "_dask_eval", "_compare", "_io", "_progress"),
        *("cli", "__main__", "__init__"),
    },
]

# The users' shortcuts to the engine adapters (SPEC section 9), the only
# references from below the engines to above them: each names its engine
# function as text and imports it when read (gbrank._aliases), so no module
# below the engines imports one; gbrank's own code never reads them.
ALIASES = {
    ("gbrank.losses.base", "Loss.lgb_objective"): "gbrank.lightgbm.objective",
    ("gbrank.losses.base", "Loss.lgb_sklearn_objective"): (
        "gbrank.lightgbm.sklearn_objective"
    ),
    ("gbrank.losses.base", "Loss.lgb_metric"): "gbrank.lightgbm.loss_metric",
    ("gbrank.losses.base", "Loss.xgb_objective"): "gbrank.xgboost.objective",
    ("gbrank.losses.base", "Loss.xgb_metric"): "gbrank.xgboost.loss_metric",
    ("gbrank.metrics", "lgb_eval"): "gbrank.lightgbm.ranking_metric",
    ("gbrank.metrics", "xgb_eval"): "gbrank.xgboost.ranking_metric",
}
ALIAS_MAKERS = ("engine_alias", "engine_function")
# the modules that import by name (importlib): the lazy face of the package,
# the engine registry, the aliases' resolver and the model files' reader (the
# gbrank classes of a loss's parameters, named in the file)
IMPORTS_BY_NAME = {"gbrank", "gbrank.engines", "gbrank._aliases", "gbrank._persist"}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts).removesuffix(".__init__")] = path
    return modules


MODULES = _modules()
TREES = {module: ast.parse(path.read_text()) for module, path in MODULES.items()}


def _layer(module: str) -> int:
    top = module.split(".")[1] if module.startswith("gbrank.") else "__init__"
    return next(i for i, layer in enumerate(LAYERS) if top in layer)


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Ids of the nodes inside ``if TYPE_CHECKING:`` blocks (never run)."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith(
            "TYPE_CHECKING"
        ):
            inside |= {id(sub) for part in node.body for sub in ast.walk(part)}
    return inside


def imports(module: str, *, runtime_only: bool = False) -> set[str]:
    """The gbrank modules that ``module`` imports, anywhere in its source.

    ``from gbrank.a import b`` imports ``gbrank.a.b`` where that is a module,
    else ``gbrank.a``; ``runtime_only`` leaves out ``if TYPE_CHECKING:`` blocks.
    """
    tree = TREES[module]
    skipped = _type_checking_only(tree) if runtime_only else set()
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module} imports relatively (ruff TID252)"
            base = node.module or ""
            if base.split(".")[0] == "gbrank":
                for alias in node.names:
                    name = f"{base}.{alias.name}"
                    found.add(name if name in MODULES else base)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "gbrank"}
    return found


def test_imports_point_down_at_module_and_function_level():
    for module in MODULES:
        for imported in imports(module) - {"gbrank"}:
            assert _layer(imported) <= _layer(module), f"{module} imports {imported}"


def test_the_layer_check_sees_imports_inside_functions():
    source = "def f():\n    from gbrank import sklearn\n    import gbrank.cli\n"
    TREES["gbrank.losses.example"] = ast.parse(source)
    try:
        assert imports("gbrank.losses.example") == {"gbrank.sklearn", "gbrank.cli"}
    finally:
        del TREES["gbrank.losses.example"]


def import_graph() -> dict[str, set[str]]:
    """Module -> the gbrank modules that importing it runs.

    Importing ``gbrank.a.b`` first runs the package ``gbrank.a``: the packages
    above an imported module count too, all but the importer's own.
    """
    graph = {}
    for module in MODULES:
        targets = set()
        for imported in imports(module, runtime_only=True):
            parts = imported.split(".")
            for k in range(1, len(parts) + 1):
                target = ".".join(parts[:k])
                if not (module == target or module.startswith(f"{target}.")):
                    targets.add(target)
        graph[module] = targets
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Sets of modules that import each other in a loop (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            members = [stack.pop()]
            while members[-1] != node:
                members.append(stack.pop())
            if len(members) > 1 or node in graph.get(node, ()):
                found.append(sorted(members))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_in_the_package():
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_circles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert circles(graph) == [["a", "b", "c"], ["e"]]
    # the circle the losses' old engine lookup (inside a function) closed
    TREES["gbrank.losses.base"] = ast.parse(
        MODULES["gbrank.losses.base"].read_text()
        + "\ndef _engine(name):\n    from gbrank.engines import get_engine\n"
    )
    try:
        assert any("gbrank.losses.base" in c for c in circles(import_graph()))
    finally:
        TREES["gbrank.losses.base"] = ast.parse(
            MODULES["gbrank.losses.base"].read_text()
        )


def _calls(node: ast.AST, names: tuple[str, ...]) -> list[ast.Call]:
    return [
        call
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id in names
    ]


def aliases_in_the_source() -> dict[tuple[str, str], str]:
    """Every alias (module, owner) -> the engine function it names."""
    found = {}
    for module, tree in TREES.items():
        if module == "gbrank._aliases":
            continue
        owners: list[tuple[str, ast.AST]] = []
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    if isinstance(member, ast.Assign | ast.FunctionDef):
                        name = (
                            member.name
                            if isinstance(member, ast.FunctionDef)
                            else ast.unparse(member.targets[0])
                        )
                        owners.append((f"{node.name}.{name}", member))
            elif isinstance(node, ast.FunctionDef):
                owners.append((node.name, node))
            else:
                owners.append(("<module>", node))
        for owner, node in owners:
            for call in _calls(node, ALIAS_MAKERS):
                target = call.args[0]
                assert isinstance(target, ast.Constant), f"{module}.{owner}"
                found[module, owner] = target.value
    return found


def test_the_engine_aliases_are_the_listed_ones():
    assert aliases_in_the_source() == ALIASES


def test_only_the_registries_import_by_name():
    for module, tree in TREES.items():
        named = {
            node.id if isinstance(node, ast.Name) else node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Name | ast.Attribute)
        }
        if {"import_module", "__import__"} & named:
            assert module in IMPORTS_BY_NAME, f"{module} imports by name"


def test_gbrank_never_reads_an_alias():
    names = {owner.split(".")[-1] for _, owner in ALIASES}
    for module, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in names:
                raise AssertionError(f"{module} reads .{node.attr}")
            if isinstance(node, ast.Name) and node.id in names:
                assert isinstance(node.ctx, ast.Store), f"{module} calls {node.id}"


def test_each_alias_is_its_engine_function():
    loss = gbrank.get_loss("pairwise_hinge", temperature=0.5)
    for (module, owner), path in ALIASES.items():
        engine_module, function = path.rsplit(".", 1)
        build = getattr(sys.modules[engine_module], function)
        if owner.startswith("Loss."):
            got, expected = getattr(loss, owner.split(".")[1]), build(loss)
        else:
            got = getattr(sys.modules[module], owner)("map", 5, no_relevant=0.0)
            expected = build("map", 5, no_relevant=0.0)
        assert type(got) is type(expected)
        assert got == expected, (owner, got, expected)


def test_the_ranking_metric_aliases_keep_their_defaults():
    assert metrics.lgb_eval() == gbrank.lightgbm.ranking_metric("ndcg", 10)
    assert metrics.xgb_eval().name == "ndcg@10"


def test_importing_the_losses_loads_no_engine_and_no_scikit_learn():
    code = (
        "import sys, gbrank, gbrank.losses, gbrank.metrics, gbrank.testing\n"
        "gbrank.get_loss('softmax').grad_hess([1.0, 0.0], [0.0, 1.0])\n"
        "heavy = [m for m in ('sklearn', 'lightgbm', 'xgboost', 'gbrank.engines')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


class _NoDask(Engine):
    """An engine without Dask: every abstract method, nothing else."""

    name = "no_dask"
    native_objectives = ()
    compare_tree: dict = {}  # noqa: RUF012

    def objective(self, loss, **options):
        return None

    def loss_metric(self, loss):
        return None

    def ranking_metric(self, metric="ndcg", k=10, no_relevant=1.0):
        return None

    def params(self, settings):
        return {}

    def train(self, objective, settings, train, valid, **kwargs):
        raise NotImplementedError

    def predict_raw(self, booster, X, n_iterations):
        raise NotImplementedError

    def gain_importances(self, booster):
        raise NotImplementedError

    def model_bytes(self, booster, path, tags=None):
        return b""

    def load_model(self, path):
        return None


def test_an_engine_without_dask_needs_no_train_dask():
    engine = _NoDask()
    with pytest.raises(NotImplementedError, match="no_dask engine does not train on"):
        engine.train_dask(None, gbrank.SoftmaxLoss(), None, None, None)
