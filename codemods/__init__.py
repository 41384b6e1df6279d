"""torchupgrade engine: migrate legacy PyTorch source to modern PyTorch.

Pure API (no click or rich)::

    from torchupgrade.codemods import migrate
    result = migrate(source, select=["TU001"], unsafe=False)
    result.new_source, result.edits, result.notes, result.failure

The engine and the rules (which need libcst) are imported on first use of their names, so that
the data classes (``Result``, ``Failure``...) are cheap to import, e.g. to read the cache.
"""
from .model import Edit, Example, Failure, FixClass, Note, Result, RuleKind, Suppression

_LAZY = {
    **dict.fromkeys(("all_rules", "find_suppressions", "get_rule", "matching_rules", "migrate", "run_example", "select_rules"), "engine"),
    **dict.fromkeys(("FileContext", "Rule", "TextRule", "TreeRule"), "rule"),
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "migrate", "run_example", "all_rules", "get_rule", "matching_rules", "select_rules", "find_suppressions",
    "Edit", "Example", "Failure", "FixClass", "Note", "Result", "RuleKind", "Suppression",
    "FileContext", "Rule", "TextRule", "TreeRule",
]
