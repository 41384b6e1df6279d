"""Every rule's declared before/after examples run as tests (like Fixit's VALID/INVALID)."""
import ast
import re

import pytest

from torchupgrade.codemods import all_rules, migrate

CASES = [
    pytest.param(rule, i, ex, id=f"{rule.code}-{i}-{ex.title or 'example'}")
    for rule in all_rules()
    for i, ex in enumerate(rule.examples)
]


@pytest.mark.parametrize("rule, index, example", CASES)
def test_example(rule, index, example):
    select = [rule.code, *example.also]
    result = migrate(example.before_code, select=select, unsafe=example.unsafe)
    assert result.failure is None
    assert result.new_source == example.after_code
    if example.after is None:
        assert not result.changed
    else:
        assert result.changed
        assert any(e.rule == rule.code for e in result.edits), "a rewrite must record an edit"
        ast.parse(result.new_source)
    # a second run changes nothing
    again = migrate(result.new_source, select=select, unsafe=example.unsafe)
    assert again.new_source == result.new_source


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_metadata(rule):
    assert re.fullmatch(r"TU\d{3}", rule.code)
    assert re.fullmatch(r"[a-z0-9-]+", rule.name)
    assert rule.summary and rule.safety in ("safe", "unsafe")
    assert "Fix safety" in rule.description
    assert any(ex.after is not None for ex in rule.examples), "at least one rewrite example"
    assert any(ex.after is None for ex in rule.examples), "at least one no-op example"


def test_codes_and_names_unique():
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)
