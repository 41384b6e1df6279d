"""torchupgrade engine: migrate legacy PyTorch source to modern PyTorch.

Pure API (no click or rich)::

    from torchupgrade.codemods import migrate
    result = migrate(source, select=["TU001"], unsafe=False)
    result.new_source, result.edits, result.notes, result.failure
"""
from .engine import all_rules, find_suppressions, get_rule, matching_rules, migrate, select_rules
from .model import Edit, Example, Failure, FixClass, Note, Result, RuleKind, Suppression
from .rule import FileContext, Rule, TextRule, TreeRule

__all__ = [
    "migrate", "all_rules", "get_rule", "matching_rules", "select_rules", "find_suppressions",
    "Edit", "Example", "Failure", "FixClass", "Note", "Result", "RuleKind", "Suppression",
    "FileContext", "Rule", "TextRule", "TreeRule",
]
