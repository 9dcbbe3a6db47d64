"""Read one submodule's output and stop the forward pass there.

For backbones with no native way to return an intermediate layer (torchvision,
Hugging Face, user modules), a forward hook records the output of the chosen
submodule and raises, so the layers after it never run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class _Reached(Exception):
    """Raised inside a hook once the wanted output is recorded."""


def run_until(module: Any, name: str, call: Callable[[], Any]) -> Any:
    """Run ``call()`` (a forward pass through ``module``) and return ``name``'s output.

    Tuples (Hugging Face layers return ``(hidden_states, ...)``) give their first item.
    """
    target = module.get_submodule(name)
    seen: dict[str, Any] = {}

    def hook(_mod: Any, _inp: Any, out: Any) -> None:
        seen["out"] = out[0] if isinstance(out, (tuple, list)) else out
        raise _Reached

    handle = target.register_forward_hook(hook)
    try:
        call()
    except _Reached:
        pass
    finally:
        handle.remove()
    if "out" not in seen:
        raise RuntimeError(f"The forward pass never ran submodule {name!r}; pick another layer.")
    return seen["out"]
