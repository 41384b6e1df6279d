"""Every rule's declared examples run as tests (like Fixit's VALID/INVALID and LibCST's
``expected_warnings``): the output, the notes they state, and the fix classes of their edits."""
import ast
import re

import pytest

from torchupgrade.codemods import FixClass, RuleKind, all_rules, run_example

CASES = [
    pytest.param(rule, i, ex, id=f"{rule.code}-{i}-{ex.title or 'example'}")
    for rule in all_rules()
    for i, ex in enumerate(rule.examples)
]

@pytest.mark.parametrize("rule, index, example", CASES)
def test_example(rule, index, example):
    result = run_example(rule, example)
    assert result.failure is None
    assert result.new_source == example.after_code
    if example.after is None:
        assert not result.changed
    else:
        assert result.changed
        assert any(e.rule == rule.code for e in result.edits), "a rewrite must record an edit"
        ast.parse(result.new_source)
    for edit in result.edits:
        if edit.rule == rule.code:
            assert edit.fix_class in rule.classes(), f"{edit} has a fix class the rule does not declare"
    got = sorted((n.line, n.rule) for n in result.notes)
    want = sorted((line, code) for line, code, _ in example.notes)
    assert got == want, f"notes {[(n.line, n.rule, n.message) for n in result.notes]}"
    for line, code, text in example.notes:
        assert any(n.line == line and n.rule == code and text in n.message for n in result.notes), (line, code, text)
    # a second run changes nothing
    again = run_example(rule, example, result.new_source)
    assert again.new_source == result.new_source


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_metadata(rule):
    assert re.fullmatch(r"TU\d{3}", rule.code)
    assert re.fullmatch(r"[a-z0-9-]+", rule.name)
    assert rule.summary
    assert isinstance(rule.kind, RuleKind)
    assert all(isinstance(c, FixClass) for c in rule.classes())
    assert "Fix safety" in rule.description
    if rule.kind is RuleKind.FIX:
        assert any(ex.after is not None for ex in rule.examples), "at least one rewrite example"
    assert any(ex.after is None for ex in rule.examples), "at least one no-op example"


@pytest.mark.parametrize("rule", [r for r in all_rules() if r.messages], ids=lambda r: r.code)
def test_every_message_has_an_example(rule):
    """Each note a rule can emit is produced by at least one of its examples."""
    produced = set()
    for ex in rule.examples:
        result = run_example(rule, ex)
        produced.update(n.key for n in result.notes if n.rule == rule.code)
    assert set(rule.messages) <= produced, f"messages without an example: {sorted(set(rule.messages) - produced)}"


def test_codes_and_names_unique():
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)


_FILES_USERS_DO_NOT_HAVE = re.compile(r"codemods/|cli/|tests/|scripts/|spec section|legacy-idioms|§")


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_docs_have_the_fixed_sections(rule):
    """A description explains the rule in prose and ends with its "Fix safety:" section, which
    names each fix class the rule declares (or says it is advisory); `explain` prints the fixed
    sections. No text points to files a user of the installed tool does not have."""
    text = rule.description.strip()
    paragraphs = re.split(r"\n\s*\n", text)
    safety = [p for p in paragraphs if p.startswith("Fix safety:")]
    assert len(safety) == 1, "exactly one 'Fix safety:' paragraph"
    assert paragraphs.index(safety[0]) >= 1, "the description says what the rule does before its fix safety"
    section = safety[0]
    assert not re.match(r"Fix safety: (safe|unsafe)\b", section), "fix classes are exact / restoring / unproven"
    if rule.kind is RuleKind.ADVISORY:
        assert "advisory" in section
    else:
        for fix_class in rule.classes():
            assert fix_class.value in section.lower(), f"the fix safety section does not discuss {fix_class.value} fixes"
    for where in (rule.summary, rule.description, *rule.messages.values(), *(ex.title for ex in rule.examples)):
        assert not _FILES_USERS_DO_NOT_HAVE.search(where or ""), where
