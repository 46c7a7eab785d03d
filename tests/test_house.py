"""The house rules of the package's code, checked on its source: layers, private names, function length."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skgliclass"
# Lowest first. A module never imports from a higher layer (the rule of docs/architecture.md).
LAYERS = [
    {
        "choices",
        "exceptions",
        "feedback",
        "calibration",
        "files",
        "progress",
        "version",
        "_cache",
        "_logging",
        "config",
        "datasets",
        "losses",
        "scores",
        "texts",
        "card",
    },
    {"modeling", "data"},
    {"batching", "quantize"},
    {"inference", "adaptation", "embedding_head", "persistence", "training", "explain", "onnx"},
    {"estimators", "_workers"},
    {""},  # the package's top level: the public names
    {"cli", "dask", "ray", "serve", "__main__"},
]
MAX_LINES = 60


def _modules() -> list[tuple[str, ast.Module]]:
    return [(str(path.relative_to(PACKAGE.parent)), ast.parse(path.read_text())) for path in PACKAGE.rglob("*.py")]


def _unit(module: str) -> str:
    """``skgliclass.training.loop`` -> ``training``; ``skgliclass`` -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def _imports(tree: ast.Module) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("skgliclass"):
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names if alias.name.startswith("skgliclass")]
    return found


def test_every_unit_has_a_layer():
    units = {path.relative_to(PACKAGE).parts[0].removesuffix(".py") for path in PACKAGE.rglob("*.py")}
    units = {"" if unit == "__init__" else unit for unit in units}
    assert units <= set().union(*LAYERS), f"give {sorted(units - set().union(*LAYERS))} a layer in LAYERS"


def test_lower_layers_never_import_higher_ones():
    wrong = []
    for path, tree in _modules():
        unit = _unit(path.removesuffix(".py").replace("/", ".").removesuffix(".__init__"))
        for module, _ in _imports(tree):
            other = _unit(module)
            if _layer(other) > _layer(unit):
                wrong.append(f"{path} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_training_reads_neither_inference_nor_persistence():
    for path, tree in _modules():
        if path.startswith("skgliclass/training/"):
            assert not {m for m, _ in _imports(tree)} & {"skgliclass.inference", "skgliclass.persistence"}, path


def test_no_module_imports_a_private_name():
    wrong = [
        f"{path}: from {module} import {name}"
        for path, tree in _modules()
        for module, names in _imports(tree)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not wrong, "\n".join(wrong)


def _code_lines(function: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> int:
    """Lines of the body, without the docstring, blank lines and comment lines."""
    body = function.body
    if (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    if not body:
        return 0
    return sum(
        1
        for line in lines[body[0].lineno - 1 : function.end_lineno]
        if line.strip() and not line.strip().startswith("#")
    )


def _only_stores_parameters(function: ast.FunctionDef) -> bool:
    """An ``__init__`` of ``self.x = x`` lines only (scikit-learn's estimators)."""
    return function.name == "__init__" and all(
        isinstance(s, ast.Assign) and isinstance(s.value, ast.Name) and isinstance(s.targets[0], ast.Attribute)
        for s in function.body
    )


@pytest.mark.parametrize("limit", [MAX_LINES])
def test_no_function_is_longer_than_the_limit(limit):
    long = []
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _only_stores_parameters(node):
                if (count := _code_lines(node, lines)) > limit:
                    long.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}: {count} lines")
    assert not long, "\n".join(long)
