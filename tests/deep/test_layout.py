"""``sktransfer.deep`` is laid out in wings with one-way dependencies (docs/design.md, "Layout").

Shared low-level modules (``_torch``, ``_runtime``) import no wing; each wing
imports only from the shared modules, from earlier wings and from itself;
only the public ``__init__`` sees everything. The imports are read from the
source (lazy ones inside functions included), so a violation is caught even
where it would not fail at import time.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import sktransfer.deep

PACKAGE = "sktransfer.deep"
ROOT = Path(sktransfer.deep.__file__).parent
#: low-level modules every wing may use; they import no wing
SHARED = ("_torch", "_runtime")
#: the wings in dependency order: each may import the shared modules, the wings before it and itself
WINGS = ("_backbones", "_extraction", "_finetune", "_adaptation", "_multitask", "_distillation")


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, for its __init__)."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((PACKAGE, *parts))] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The modules of ``sktransfer.deep`` that module ``name`` imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
        elif isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
    return {t for t in targets if t in MODULES and t != name}


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _rank(name: str) -> float:
    """0 for a shared module, 1, 2, ... for the wings in order; the public package sees everything."""
    if name == PACKAGE:
        return float("inf")
    top = name.split(".")[2]
    return 0 if top in SHARED else WINGS.index(top) + 1


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_imports(name):
    importlib.import_module(name)


def test_every_module_belongs_to_a_wing_or_is_shared():
    """A new top-level module or wing states its place here and in docs/design.md."""
    tops = {name.split(".")[2] for name in MODULES if name != PACKAGE}
    assert tops <= set(SHARED) | set(WINGS), f"not placed in a wing: {sorted(tops - set(SHARED) - set(WINGS))}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != PACKAGE))
def test_imports_go_only_to_shared_modules_earlier_wings_or_the_same_wing(name):
    later = sorted(t for t in IMPORTS[name] if _rank(t) > _rank(name))
    assert not later, f"{name} imports from a later wing (or, from a shared module, any wing): {later}"


def test_no_import_cycle():
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(IMPORTS[name]):
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, path + [target])
        state[name] = 2

    for name in sorted(MODULES):
        if name not in state:
            visit(name, [name])


def test_the_reader_sees_lazy_and_relative_imports():
    """The check itself: the registry imports the adapters, they import the base, never the registry."""
    registry = f"{PACKAGE}._backbones._registry"
    assert {f"{PACKAGE}._backbones._image", f"{PACKAGE}._backbones._text", f"{PACKAGE}._torch"} <= IMPORTS[registry]
    assert f"{PACKAGE}._backbones._base" in IMPORTS[f"{PACKAGE}._backbones._image"]
    assert not any(registry in IMPORTS[f"{PACKAGE}._backbones.{m}"] for m in ("_image", "_text", "_base"))
    assert _rank(f"{PACKAGE}._finetune._base") > _rank(f"{PACKAGE}._extraction._inputs") > _rank(registry) > 0
