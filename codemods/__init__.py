"""torchupgrade engine: migrate legacy PyTorch source to modern PyTorch.

Pure API (no click or rich)::

    from torchupgrade.codemods import migrate
    result = migrate(source, select=["TU001"], unsafe=False)
    result.new_source, result.edits, result.notes, result.failure
"""
from .engine import all_rules, get_rule, migrate, select_rules
from .model import Edit, Example, Failure, Note, Result
from .rule import FileContext, Rule

__all__ = [
    "migrate", "all_rules", "get_rule", "select_rules",
    "Edit", "Example", "Failure", "Note", "Result", "FileContext", "Rule",
]
