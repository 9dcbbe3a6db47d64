"""numpydoc validation of the public API: every public class and function is documented."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from sklearn.base import BaseEstimator

import sktransfer

numpydoc_validate = pytest.importorskip("numpydoc.validate")

# Checks we do not enforce, each with the reason.
IGNORED = {
    "GL08",  # "object does not have a docstring": inherited sklearn methods (get_params, ...)
    "SA01",  # See Also is required on estimators (tested below), not on every function
    "EX01",  # Examples are required on estimators and public functions (tested below)
    "ES01",  # extended summary optional
    "RT02",  # "first line of Returns should contain only the type" conflicts with named returns
    "SS05",  # summary starting with an infinitive verb is fine
    "PR02",  # unknown parameters: sklearn's set_output-wrapped methods hide signatures
    "GL02", "GL03",  # blank-line layout details
    "YD01",
}


def _public_objects():
    seen = {}
    for info in pkgutil.walk_packages(sktransfer.__path__, "sktransfer."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                seen[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return seen


PUBLIC = _public_objects()


def _methods(cls):
    for name, member in vars(cls).items():
        # available_if wraps methods in a descriptor holding the function as .fn
        if not name.startswith("_") and (inspect.isfunction(member) or hasattr(member, "fn")):
            yield f"{cls.__module__}.{cls.__qualname__}.{name}"


TARGETS = sorted(
    set(PUBLIC) | {m for obj in PUBLIC.values() if inspect.isclass(obj) for m in _methods(obj)}
)


@pytest.mark.parametrize("name", TARGETS)
def test_numpydoc(name):
    result = numpydoc_validate.validate(name)
    errors = [(code, msg) for code, msg in result["errors"] if code not in IGNORED]
    assert not errors, "\n".join(f"{code}: {msg}" for code, msg in errors)


@pytest.mark.parametrize(
    "name",
    sorted(
        n for n, obj in PUBLIC.items()
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator) and "Base" not in n
    ),
)
def test_estimators_have_the_full_set_of_sections(name):
    cls = PUBLIC[name]
    doc = inspect.getdoc(cls) or ""
    sections = ["Attributes", "See Also", "Examples"]
    if len(inspect.signature(cls.__init__).parameters) > 1:
        sections.append("Parameters")
    if cls.__module__.startswith(
        ("sktransfer.alignment", "sktransfer.reweighting", "sktransfer.boosting", "sktransfer.parameter",
         "sktransfer.transductive")
    ):
        sections.append("References")
    for section in sections:
        assert f"\n{section}\n" in doc, f"{name} has no {section} section"
