"""Fail when a public name or an example is missing from the documentation.

Every name in the ``__all__`` of a public sktransfer module must be listed in
``docs/api.rst``: in an ``autosummary`` under ``.. currentmodule:: <module>``,
or, for a re-export (``sktransfer.stack_domains`` is
``sktransfer.domain.stack_domains``), wherever the same object is listed; a
name that is not a class or a function (``__version__``) must at least be
written in the page. Every sktransfer module or package whose name has no
leading underscore must be one of ``PUBLIC_MODULES``. Every ``examples/*.py`` script not starting with ``_``
must have a ``literalinclude`` in ``docs/examples.rst``.

Run from anywhere: ``python docs/check_api_listing.py`` (``.ci/docs`` does).
Importing ``sktransfer.deep`` does not need PyTorch.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

#: The public modules, each with an ``__all__``. A new public package goes here and in api.rst.
PUBLIC_MODULES = [
    "sktransfer",
    "sktransfer.domain",
    "sktransfer.pipeline",
    "sktransfer.alignment",
    "sktransfer.reweighting",
    "sktransfer.boosting",
    "sktransfer.parameter",
    "sktransfer.transductive",
    "sktransfer.deep",
    "sktransfer.model_selection",
    "sktransfer.metrics",
    "sktransfer.datasets",
    "sktransfer.exceptions",
    "sktransfer.base",
]


def autosummary_entries(rst: str) -> set[str]:
    """Fully qualified names listed in the autosummary blocks of ``rst``."""
    names: set[str] = set()
    module = None
    lines = rst.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        current = re.match(r"\.\. (?:current)?module:: (\S+)", line)
        if current:
            module = current.group(1)
        elif line.startswith(".. autosummary::"):
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                entry = lines[i].strip()
                if entry and not entry.startswith(":"):
                    names.add(entry if "." in entry or module is None else f"{module}.{entry}")
                i += 1
            continue
        i += 1
    return names


def resolve(qualified: str):
    module, _, name = qualified.rpartition(".")
    return getattr(importlib.import_module(module), name)


def main() -> int:
    rst = (DOCS / "api.rst").read_text(encoding="utf-8")
    listed = autosummary_entries(rst)
    problems = []
    listed_objects = {}
    for qualified in sorted(listed):
        try:
            listed_objects[qualified] = resolve(qualified)
        except (ImportError, AttributeError) as err:
            problems.append(f"api.rst lists {qualified}, which does not import: {err}")
    import sktransfer

    for info in pkgutil.iter_modules(sktransfer.__path__, "sktransfer."):
        if not info.name.rpartition(".")[2].startswith("_") and info.name not in PUBLIC_MODULES:
            problems.append(f"{info.name} is public (no leading underscore) but not in PUBLIC_MODULES of "
                            "docs/check_api_listing.py (nor, probably, in docs/api.rst)")
    n_names = 0
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        public = getattr(module, "__all__", None)
        if public is None:
            problems.append(f"{module_name} has no __all__")
            continue
        for name in public:
            n_names += 1
            obj = getattr(module, name)
            if f"{module_name}.{name}" in listed:
                continue
            if inspect.isclass(obj) or inspect.isroutine(obj):
                if any(other is obj for other in listed_objects.values()):
                    continue
                problems.append(f"{module_name}.{name} is in __all__ but not in an autosummary of docs/api.rst")
            elif f"{module_name}.{name}" not in rst:
                problems.append(f"{module_name}.{name} is in __all__ but not mentioned in docs/api.rst")
    for qualified in sorted(listed):
        module_name, _, name = qualified.rpartition(".")
        module = sys.modules.get(module_name)
        if module is not None and name not in getattr(module, "__all__", [name]):
            problems.append(f"api.rst lists {qualified}, which is not in {module_name}.__all__")

    examples = (DOCS / "examples.rst").read_text(encoding="utf-8")
    scripts = sorted(p.name for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
    for script in scripts:
        if f".. literalinclude:: ../examples/{script}" not in examples:
            problems.append(f"examples/{script} has no section in docs/examples.rst")

    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"docs/api.rst lists all {n_names} public names of {len(PUBLIC_MODULES)} modules; "
          f"docs/examples.rst has all {len(scripts)} examples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
