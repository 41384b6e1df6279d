"""The rule contract and engine mechanics: registry order checks, suppression comments, the
batched traversal, fix classes and positions of edits."""
import pytest

from torchupgrade.codemods import FixClass, Rule, TreeRule, find_suppressions, migrate
from torchupgrade.codemods.rules import RULES, check_registry


def _rule(code, owns=(), after=()):
    return type(f"R{code}", (TreeRule,), {"code": code, "name": code.lower(), "owns": owns, "after": after})


def test_registry_is_consistent():
    check_registry(RULES)  # also run at import


def test_registry_refuses_unordered_owners():
    with pytest.raises(ValueError, match="both own"):
        check_registry([_rule("TU900", owns=("attr:x",)), _rule("TU901", owns=("attr:x",))])
    check_registry([_rule("TU900", owns=("attr:x",)), _rule("TU901", owns=("attr:x",), after=("TU900",))])


def test_registry_refuses_order_against_the_list():
    with pytest.raises(ValueError, match="registered before"):
        check_registry([_rule("TU901", after=("TU900",)), _rule("TU900")])


SRC = """import torch.nn as nn
nn.init.xavier_uniform(a.weight)
nn.init.xavier_uniform(b.weight)  # torchupgrade: ignore
nn.init.xavier_uniform(c.weight)  # torchupgrade: ignore[TU032]
nn.init.xavier_uniform(d.weight)  # noqa: TU031
nn.init.xavier_uniform(e.weight)  # noqa: E501
"""


def test_suppression_comments():
    r = migrate(SRC, select=["TU031"])
    lines = r.new_source.splitlines()
    assert "xavier_uniform_(a" in lines[1]
    assert "xavier_uniform(b" in lines[2]  # all rules
    assert "xavier_uniform_(c" in lines[3]  # another rule's code
    assert "xavier_uniform(d" in lines[4]  # ruff-style noqa with our code
    assert "xavier_uniform_(e" in lines[5]  # another tool's noqa
    assert [s.line for s in r.suppressions] == [3, 4, 5]
    assert sorted(e.line for e in r.edits) == [2, 4, 6]


def test_suppression_on_a_compound_header_and_multiline_statement():
    src = (
        "import torch.nn as nn\n"
        "for w in [nn.init.xavier_uniform(a)]:  # torchupgrade: ignore\n"
        "    nn.init.xavier_uniform(w)\n"
        "x = f(1,\n"
        "      nn.init.xavier_uniform(w),  # torchupgrade: ignore\n"
        "      2)\n"
    )
    out = migrate(src, select=["TU031"]).new_source.splitlines()
    assert out[1].startswith("for w in [nn.init.xavier_uniform(a)]")
    assert out[2].strip() == "nn.init.xavier_uniform_(w)"  # the body is not suppressed
    assert "xavier_uniform(w)" in out[4]


def test_extra_suppressions_and_skip_file():
    src = "import torch.nn as nn\nnn.init.normal(w)\nnn.init.normal(v)\n"
    r = migrate(src, select=["TU031"], suppress={2: None})
    assert r.new_source == "import torch.nn as nn\nnn.init.normal(w)\nnn.init.normal_(v)\n"
    skipped = migrate("# torchupgrade: skip-file\n" + src, select=["TU031"])
    assert skipped.skipped and not skipped.changed and not skipped.notes
    ignored = migrate(SRC, select=["TU031"], honor_suppressions=False)
    assert ignored.new_source.count("xavier_uniform_(") == 5


@pytest.mark.parametrize("comment", ["# torchupgrade: ignore[TU0x1]", "# torchupgrade: ignore[", "# torchupgrade: ignore TU031"])
def test_malformed_suppression_is_a_failure_naming_the_line(comment):
    r = migrate(f"import torch.nn as nn\nnn.init.normal(w)  {comment}\n", select=["TU031"])
    assert r.failure is not None and r.failure.line == 2 and "malformed suppression" in r.failure.message
    assert not r.changed


def test_find_suppressions_ignores_strings():
    skip, found = find_suppressions("x = '# torchupgrade: ignore'\n")
    assert not skip and not found


def test_edits_carry_fix_class_and_columns():
    src = "import torch.nn.functional as F\ny = g(F.upsample(x, scale_factor=2, mode='bilinear'))\n"
    r = migrate(src, select=["TU032"])
    classes = {e.fix_class for e in r.edits}
    assert classes == {FixClass.EXACT, FixClass.RESTORING}
    call = [e for e in r.edits if e.fix_class is FixClass.RESTORING][0]
    assert (call.line, call.column, call.end_line) == (2, 6, 2)
    assert call.end_column == len("y = g(F.upsample(x, scale_factor=2, mode='bilinear')")


def test_unproven_fix_is_a_note_without_unsafe():
    src = "import torch\nX = torch.gels(B, A)[0]\n"
    r = migrate(src, select=["TU036"])
    assert not r.changed and r.notes[0].key == "unproven" and r.notes[0].fix_class is FixClass.UNPROVEN
    assert migrate(src, select=["TU036"], unsafe=True).changed


def test_batched_rules_compose_on_one_node():
    """TU031 renames F.sigmoid inside a call TU035 gives a dim, in the same traversal."""
    src = "import torch.nn.functional as F\ny = F.softmax(F.sigmoid(x).view(-1, 3))\n"
    r = migrate(src, select=["TU031", "TU035"])
    assert r.new_source == "import torch.nn.functional as F\nimport torch\ny = F.softmax(torch.sigmoid(x).view(-1, 3), dim=1)\n"


def test_rule_base_declarations():
    assert Rule.fix_class is FixClass.EXACT
    for r in RULES:
        assert r.label()
