"""The engine's own traversals match the ones they replace: ``cstutil.transform`` visits what
libcst's ``node.visit(transformer)`` visits, in the same order, and returns the same tree;
``source.walk`` yields what ``ast.walk`` yields, in the same order."""
import ast
import sysconfig
from pathlib import Path

import libcst as cst
import pytest

from torchupgrade.codemods.cstutil import cst_visit, transform
from torchupgrade.codemods.source import walk

ROOT = Path(__file__).resolve().parents[1]
STDLIB = Path(sysconfig.get_paths()["stdlib"])
# the project's own code, its examples, and standard-library modules rich in syntax (match,
# async, f-strings, decorators, comprehensions, star expressions, type comments)
SOURCES = [p for p in sorted(ROOT.glob("codemods/**/*.py")) + sorted(ROOT.glob("examples/**/*.py")) if p.stat().st_size > 4000] + [
    STDLIB / name for name in ("dataclasses.py", "asyncio/tasks.py", "typing.py", "inspect.py", "re/_parser.py", "argparse.py")
    if (STDLIB / name).exists()
]


class Recorder(cst.CSTTransformer):
    """Records every visit and leave; renames ``self`` to ``this``; drops ``pass`` statements;
    turns each ``del x`` into two statements; stops at lambdas."""

    def __init__(self):
        super().__init__()
        self.events = []

    def on_visit(self, node):
        self.events.append(("visit", id(node)))
        return not isinstance(node, cst.Lambda)

    def on_leave(self, original_node, updated_node):
        self.events.append(("leave", id(original_node), type(updated_node).__name__))
        if isinstance(updated_node, cst.Name) and updated_node.value == "self":
            return updated_node.with_changes(value="this")
        if isinstance(updated_node, cst.SimpleStatementLine) and any(isinstance(s, cst.Pass) for s in updated_node.body):
            return cst.RemoveFromParent()
        if isinstance(updated_node, cst.SimpleStatementLine) and any(isinstance(s, cst.Del) for s in updated_node.body):
            return cst.FlattenSentinel([updated_node, updated_node.with_changes(leading_lines=())])
        return updated_node


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_transform_is_libcst_visit(path):
    module = cst.parse_module(path.read_text(encoding="utf-8"))
    theirs, ours = Recorder(), Recorder()
    expected = module.visit(theirs)
    got = transform(module, ours.on_visit, ours.on_leave)
    assert ours.events == theirs.events
    assert len(ours.events) > 1000
    assert got is not module or expected.deep_equals(module)
    assert got.code == expected.code
    if expected.code != module.code:  # the recorder changed something: rebuilding was exercised
        assert got.code != module.code


def test_transform_returns_an_untouched_tree_itself():
    module = cst.parse_module("def f(x):\n    return [y for y in x if y]  # c\n")
    visits = []
    got = transform(module, lambda n: visits.append(n) or True, lambda o, u: u)
    assert got is module
    assert len(visits) > 20


def test_transform_rebuilds_only_the_path_to_a_change():
    module = cst.parse_module("a = 1\nb = 2\nc = old\n")
    got = transform(module, lambda n: True, lambda o, u: u.with_changes(value="new") if isinstance(u, cst.Name) and u.value == "old" else u)
    assert got.code == "a = 1\nb = 2\nc = new\n"
    assert got.body[0] is module.body[0] and got.body[1] is module.body[1]
    assert got.body[2] is not module.body[2]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_walk_is_ast_walk(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert [id(n) for n in walk(tree)] == [id(n) for n in ast.walk(tree)]


class Counter(cst.CSTVisitor):
    """Records visits and leaves; does not enter function bodies."""

    def __init__(self):
        super().__init__()
        self.events = []

    def on_visit(self, node):
        self.events.append(("visit", id(node)))
        super().on_visit(node)
        return not isinstance(node, cst.IndentedBlock)

    def on_leave(self, original_node):
        self.events.append(("leave", id(original_node)))


class WithAttributeHook(cst.CSTTransformer):
    def __init__(self):
        super().__init__()
        self.funcs = 0

    def visit_Call_func(self, node):
        self.funcs += 1


@pytest.mark.parametrize("path", SOURCES[:8], ids=lambda p: str(p.relative_to(p.parents[1])))
def test_cst_visit_is_libcst_visit(path):
    module = cst.parse_module(path.read_text(encoding="utf-8"))
    theirs, ours = Counter(), Counter()
    module.visit(theirs)
    assert cst_visit(module, ours) is module
    assert ours.events == theirs.events and len(ours.events) > 100
    a, b = Recorder(), Recorder()
    assert cst_visit(module, b).code == module.visit(a).code and a.events == b.events


def test_cst_visit_leaves_attribute_hooks_to_libcst():
    module = cst.parse_module("f(g(x))\nh()\n")
    hooked = WithAttributeHook()
    cst_visit(module, hooked)
    assert hooked.funcs == 3
