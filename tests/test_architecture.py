"""Imports go one way (DESIGN.md §1): a test walks every module's imports and fails on a wrong arrow.

    asl  <-  engine  <-  (store, integrations)  <-  runtime  <-  (server, scheduler, cli, deploy)

Imports inside functions count too: a lazy import is still a dependency. ``stepflow.errors`` (and
other top-level modules that import nothing of stepflow) may be used by every layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import stepflow

PACKAGE_ROOT = Path(stepflow.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def stepflow_imports(source: str, name: str, is_package: bool = False) -> set[str]:
    """Every ``stepflow...`` module the source of module ``name`` imports (relative imports resolved)."""
    tree = ast.parse(source)
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            if base == "stepflow":  # from stepflow import errors -> stepflow.errors
                found.update(f"stepflow.{alias.name}" for alias in node.names)
            else:
                found.add(base)
    return {imported for imported in found if imported == "stepflow" or imported.startswith("stepflow.")}


def file_imports(path: Path) -> set[str]:
    return stepflow_imports(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")


MODULES = {module_name(path): file_imports(path) for path in sorted(PACKAGE_ROOT.rglob("*.py"))}


def in_layer(module: str, *layers: str) -> bool:
    return any(module == f"stepflow.{layer}" or module.startswith(f"stepflow.{layer}.") for layer in layers)


def violations(source_layers: tuple[str, ...], allowed, forbidden=None) -> list[str]:
    """``module -> import`` pairs of modules in ``source_layers`` that break the rule."""
    bad = []
    for module, imports in MODULES.items():
        if not in_layer(module, *source_layers):
            continue
        for imported in sorted(imports):
            if (allowed is not None and not allowed(imported)) or (forbidden is not None and forbidden(imported)):
                bad.append(f"{module} -> {imported}")
    return bad


def test_the_walk_sees_the_package():
    assert "stepflow.asl.parse" in MODULES
    assert "stepflow.engine.interpreter" in MODULES
    assert any(imported.startswith("stepflow.asl") for imported in MODULES["stepflow.engine.interpreter"])


def test_asl_imports_only_errors_and_asl():
    assert violations(("asl",), allowed=lambda m: m == "stepflow.errors" or in_layer(m, "asl")) == []


# Top-level modules that import nothing of stepflow (errors, fault points): they cannot carry a
# wrong arrow, so the engine may use them. stepflow.testing (a `stepflow serve` subprocess for
# users' tests) imports nothing of stepflow either, but it is the outermost shell, not a leaf.
LEAVES = {
    module_name(path) for path in PACKAGE_ROOT.glob("*.py")
    if path.stem not in ("__init__", "__main__", "testing") and not MODULES[module_name(path)]
}


def test_leaf_modules_are_few_and_known():
    assert "stepflow.errors" in LEAVES
    assert LEAVES <= {"stepflow.errors", "stepflow.faults"}, f"new leaf modules: {LEAVES}"


def test_engine_imports_only_asl_errors_and_engine():
    assert violations(("engine",), allowed=lambda m: m in LEAVES or in_layer(m, "asl", "engine")) == []


def test_store_and_integrations_do_not_import_the_shell():
    shell = ("runtime", "server", "cli", "service", "scheduler", "deploy")
    assert violations(("store", "integrations"), allowed=None, forbidden=lambda m: in_layer(m, *shell)) == []


def test_nothing_imports_cli_but_main():
    bad = [
        f"{module} -> {imported}"
        for module, imports in MODULES.items()
        if not in_layer(module, "cli") and module != "stepflow.__main__"
        for imported in imports
        if in_layer(imported, "cli")
    ]
    assert bad == []


def test_nothing_in_the_package_imports_testing():
    assert [module for module, imports in MODULES.items() if "stepflow.testing" in imports] == []


@pytest.mark.parametrize("layer", ["server", "cli", "scheduler", "deploy"])
def test_outer_layers_are_not_imported_by_inner_ones(layer):
    inner = ("asl", "engine", "store", "integrations")
    assert violations(inner, allowed=None, forbidden=lambda m: in_layer(m, layer)) == []


def test_the_checker_resolves_relative_and_lazy_imports():
    source = (
        "from stepflow.errors import StatesError\n"
        "from . import env\n"
        "from ..engine import clock\n"
        "from stepflow import runtime\n"
        "def later():\n"
        "    import stepflow.cli.main\n"
    )
    imports = stepflow_imports(source, "stepflow.asl.probe")
    assert imports == {"stepflow.errors", "stepflow.asl", "stepflow.engine", "stepflow.runtime", "stepflow.cli.main"}
    upward = [m for m in imports if not (m == "stepflow.errors" or in_layer(m, "asl"))]
    assert sorted(upward) == ["stepflow.cli.main", "stepflow.engine", "stepflow.runtime"]
