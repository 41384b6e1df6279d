"""TU050-TU054 are advisories: notes only, never edits, selectable like any rule, silent on code
that does not use torch."""
import pathlib

import pytest

from torchupgrade.codemods import RuleKind, all_rules, migrate

ADVISORIES = [r for r in all_rules() if r.kind is RuleKind.ADVISORY]

EVAL = """import torch

def evaluate(model, xs):
    model.eval()
    return [model(x) for x in xs]
"""


def test_advisory_codes():
    assert [r.code for r in ADVISORIES] == ["TU050", "TU051", "TU052", "TU053", "TU054"]
    assert all(r.label() == "advisory" for r in ADVISORIES)


@pytest.mark.parametrize("rule", ADVISORIES, ids=lambda r: r.code)
def test_advisories_never_edit(rule):
    for ex in rule.examples:
        assert ex.after is None
        r = migrate(ex.before_code, select=[rule.code], unsafe=True)
        assert not r.changed and not r.edits


def test_select_and_ignore_work_on_advisories():
    assert [n.rule for n in migrate(EVAL).notes] == ["TU050"]
    assert [n.rule for n in migrate(EVAL, select=["TU05"]).notes] == ["TU050"]
    assert migrate(EVAL, ignore=["TU050"]).notes == []
    assert migrate(EVAL, select=["eval-without-no-grad"]).notes[0].key == "graph"


def test_same_code_without_torch_is_silent():
    assert migrate(EVAL.replace("import torch", "import numpy")).notes == []


def _site(pkg):
    mod = pytest.importorskip(pkg)
    return pathlib.Path(mod.__file__).parent


@pytest.mark.parametrize("pkg", ["click", "rich"])
def test_no_notes_from_the_new_rules_on_non_torch_packages(pkg):
    new = {r.code for r in all_rules() if r.code >= "TU040"}
    found = []
    for path in sorted(_site(pkg).rglob("*.py")):
        r = migrate(path.read_bytes(), path=str(path), unsafe=True)
        found += [(str(path), n.line, n.rule) for n in r.notes if n.rule in new]
        assert not r.edits, path
    assert found == []
