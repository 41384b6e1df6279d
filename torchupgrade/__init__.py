"""torchupgrade: migrate legacy PyTorch (0.1-0.3 era) code to modern PyTorch.

Importing this package is cheap (no libcst, click or rich); the names below are loaded on first
use:

* ``migrate_paths(paths, ...)``: the runner the command line uses, as a generator of per-file
  results (see ``torchupgrade.cli.api``);
* ``migrate(source, ...)``: one file's source (the engine, ``torchupgrade.codemods``).
"""
from __future__ import annotations

__all__ = ["migrate_paths", "migrate", "FileResult"]

_LAZY = {
    "migrate_paths": ("torchupgrade.cli.api", "migrate_paths"),
    "FileResult": ("torchupgrade.cli.api", "FileResult"),
    "migrate": ("torchupgrade.codemods", "migrate"),
}


def __getattr__(name: str):
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'torchupgrade' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
