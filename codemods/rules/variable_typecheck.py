"""TU002 variable-type-check: ``isinstance(x, Variable)``, ``type(x) == Variable``, annotations."""
from __future__ import annotations

from typing import List, Optional

import libcst as cst

from ..cstutil import code_of, cst_visit
from ..imports import dotted_name
from ..model import Example, FixClass
from ..rule import TreeRule
from ..torchapi import VARIABLE
from .variable import variable_statement_needles

_UNWRAP_METHODS = frozenset([
    "cpu", "cuda", "numpy", "tolist", "float", "double", "long", "int", "clone", "contiguous", "view", "size",
])


class VariableTypeCheck(TreeRule):
    code = "TU002"
    owns = ("call:Variable", "ref:Variable", "dead-branch")
    after = ("TU001",)
    name = "variable-type-check"
    fix_classes = (FixClass.EXACT, FixClass.RESTORING)
    summary = "`isinstance(x, Variable)`, `type(x) == Variable` and `x: Variable` -> `torch.Tensor`; guards that tell Variables from tensors simplified or flagged"
    needles = ("Variable",)

    @classmethod
    def statement_filter(cls, ctx):
        return variable_statement_needles(ctx)

    messages = {
        "distinguishes": "`isinstance({name}, Variable)` tells Variables from plain tensors, and since torch 0.4 every tensor takes the first branch: check that it is right for tensors that were plain in 0.3, then write `isinstance({name}, torch.Tensor)` by hand",
        "no-torch": "Variable check left unchanged: no usable name for torch in this file",
    }
    description = """
In PyTorch 0.3 a `Variable` wrapped a plain tensor, and `isinstance(x, Variable)` was True only
for Variables; code used it to tell the two apart. Since 0.4 every tensor is a Variable: the
check is True for every tensor (through a metaclass hook) and the modern spelling is
`isinstance(x, torch.Tensor)`. The rule rewrites it where that keeps what the 0.3 program did:

* a guard whose branch only unwraps (`if isinstance(x, Variable): x = x.data`, also
  `x.data.cpu().numpy()` and the same in conditional expressions), raises, or has no `else`,
  and an `assert`: -> `isinstance(x, torch.Tensor)` (also inside a tuple of classes);
* a branch that recurses on the unwrapped tensor (`if isinstance(t, Variable):
  init(t.data, ...); return t` in `def init(t, ...)`) would recurse forever with the modern
  check; it becomes `isinstance(t, torch.Tensor) and t.requires_grad`, which sends exactly the
  tensors that need the unwrapping (those that require grad) through it once;
* `if not isinstance(x, Variable): x = Variable(x)` (a no-op today) is deleted, and so is an
  `if` whose body the Variable rules emptied (`if isinstance(v, Variable): m = Variable(m)`);
  an emptied `else:` is dropped;
* an `if ... else` whose branches do different things for Variables and for plain tensors is
  left with a note: today every tensor takes the first branch.

`type(x) == Variable` / `type(x) is Variable` (and `!=`, `is not`) is **always False** since 0.4
(`type(x)` is `torch.Tensor`): the classic `repackage_hidden` silently stops detaching hidden
states. It becomes `isinstance(x, torch.Tensor)`, which restores what the code did under 0.3.

Type annotations naming `Variable` (`x: Variable`, `-> List[Variable]`) become `torch.Tensor`.

Fix safety: the `isinstance` and annotation rewrites are [exact]: for the values a working 0.3
program passed there (Variables, and plain tensors only where the branch treats both alike)
the result is the same; annotations do not affect what the code does. The `type(x) ==
Variable` rewrite is [restoring]: it changes what the unmigrated line does on today's torch,
back to what it did on 0.3.
"""
    examples = (
        Example(
            title="guards and assertions",
            before="""
            import torch
            from torch.autograd import Variable

            def to_numpy(x):
                if isinstance(x, Variable):
                    x = x.data
                assert isinstance(x, (Variable, list)) or x is None
                return x.cpu().numpy()
            """,
            after="""
            import torch

            def to_numpy(x):
                if isinstance(x, torch.Tensor):
                    x = x.data
                assert isinstance(x, (torch.Tensor, list)) or x is None
                return x.cpu().numpy()
            """,
        ),
        Example(
            title="type(h) == Variable is always False today: restored with TU001",
            also=("TU001",),
            before="""
            from torch.autograd import Variable

            def repackage_hidden(h):
                if type(h) == Variable:
                    return Variable(h.data)
                else:
                    return tuple(repackage_hidden(v) for v in h)
            """,
            after="""
            import torch

            def repackage_hidden(h):
                if isinstance(h, torch.Tensor):
                    return h.data
                else:
                    return tuple(repackage_hidden(v) for v in h)
            """,
        ),
        Example(
            title="recursion through .data, and a re-wrap that is a no-op today",
            also=("TU001",),
            before="""
            import torch
            from torch.autograd import Variable

            def uniform_unit_scaling(tensor, nonlinearity="linear"):
                if isinstance(tensor, Variable):
                    uniform_unit_scaling(tensor.data, nonlinearity)
                    return tensor
                return tensor.uniform_(-1, 1)

            def prepare(x, mask):
                if not isinstance(x, Variable):
                    x = Variable(x)
                if isinstance(x, Variable):
                    mask = Variable(mask)
                return x * mask
            """,
            after="""
            import torch

            def uniform_unit_scaling(tensor, nonlinearity="linear"):
                if isinstance(tensor, torch.Tensor) and tensor.requires_grad:
                    uniform_unit_scaling(tensor.data, nonlinearity)
                    return tensor
                return tensor.uniform_(-1, 1)

            def prepare(x, mask):
                return x * mask
            """,
        ),
        Example(
            title="annotations",
            before="""
            from typing import List
            import torch
            from torch.autograd import Variable

            def viterbi(logits: Variable, masks: List[Variable]) -> Variable:
                return logits
            """,
            after="""
            from typing import List
            import torch

            def viterbi(logits: torch.Tensor, masks: List[torch.Tensor]) -> torch.Tensor:
                return logits
            """,
        ),
        Example(
            title="branches that treat Variables and plain tensors differently are flagged",
            before="""
            import torch
            from torch.autograd import Variable

            def describe(x):
                if isinstance(x, Variable):
                    log(x.grad)
                else:
                    log(x)
            """,
            notes=((5, "TU002", "tells Variables from plain tensors"),),
        ),
        Example(
            title="no name for torch",
            before="""
            from torch.autograd import Variable
            torch = None

            def f(h):
                return type(h) is not Variable
            """,
            notes=((5, "TU002", "no usable name for torch"),),
        ),
    )

    # -- helpers ---------------------------------------------------------------------------------------
    def _is_variable(self, node) -> bool:
        return isinstance(node, (cst.Name, cst.Attribute)) and self.imports.resolve(node) == VARIABLE

    def _tensor(self) -> Optional[cst.Attribute]:
        torch = self.module_name("torch")
        return cst.Attribute(value=cst.Name(torch), attr=cst.Name("Tensor")) if torch else None

    def _isinstance_variable(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        """The tested expression of ``isinstance(x, Variable)`` (or with a tuple holding it)."""
        if not isinstance(node, cst.Call) or not self.imports.is_builtin(node.func, "isinstance") or len(node.args) != 2:
            return None
        cls = node.args[1].value
        if self._is_variable(cls) or (isinstance(cls, cst.Tuple) and any(self._is_variable(e.value) for e in cls.elements)):
            return node.args[0].value
        return None

    def _enclosing(self, types) -> Optional[cst.CSTNode]:
        for anc in reversed(self.ctx.parents):
            if isinstance(anc, types):
                return anc
            if isinstance(anc, cst.BaseStatement) and not isinstance(anc, types):
                return None
        return None

    def _function(self) -> Optional[cst.FunctionDef]:
        for anc in reversed(self.ctx.parents):
            if isinstance(anc, cst.FunctionDef):
                return anc
        return None

    # -- isinstance -------------------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call):
        subject = self._isinstance_variable(original_node)
        if subject is None:
            return updated_node
        name = code_of(subject)
        parent = self.parent
        # the test of an if statement / conditional expression, possibly negated
        test_owner = self._test_owner(original_node)
        if isinstance(test_owner, cst.If) and test_owner.orelse is None and self._only_rewraps(test_owner, name):
            return updated_node  # the whole statement goes (leave_If)
        if isinstance(test_owner, cst.If) and test_owner.test is original_node and self._recurses_on_data(test_owner.body, name):
            tensor = self._tensor()
            if tensor is None:
                self.note(original_node, "no-torch")
                return updated_node
            self.edit(original_node, f"isinstance({name}, Variable) before a recursion on {name}.data -> isinstance({name}, torch.Tensor) and {name}.requires_grad")
            new = self._replace_class(original_node, updated_node, tensor)
            return cst.BooleanOperation(left=new, operator=cst.And(), right=cst.parse_expression(f"{name}.requires_grad"))
        if (
            isinstance(test_owner, (cst.If, cst.IfExp))
            and test_owner.test is (parent if isinstance(parent, cst.UnaryOperation) else original_node)
            and not self._same_for_tensors(test_owner, name)
        ):
            self.note(original_node, "distinguishes", name=name)
            return updated_node
        tensor = self._tensor()
        if tensor is None:
            self.note(original_node, "no-torch")
            return updated_node
        self.edit(original_node, "isinstance(x, Variable) -> isinstance(x, torch.Tensor)")
        return self._replace_class(original_node, updated_node, tensor)

    def _test_owner(self, call: cst.Call) -> Optional[cst.CSTNode]:
        parents = self.ctx.parents
        i = len(parents) - 1
        node: cst.CSTNode = call
        while i >= 0:
            p = parents[i]
            if isinstance(p, cst.UnaryOperation) and isinstance(p.operator, cst.Not):
                node, i = p, i - 1
                continue
            if isinstance(p, (cst.If, cst.IfExp)) and p.test is node:
                return p
            return None
        return None

    def _replace_class(self, original_node: cst.Call, updated_node: cst.Call, tensor: cst.Attribute) -> cst.Call:
        cls = original_node.args[1].value
        arg = updated_node.args[1]
        value: cst.BaseExpression
        if self._is_variable(cls):
            value = tensor.with_changes(lpar=cls.lpar, rpar=cls.rpar)
        else:
            assert isinstance(cls, cst.Tuple) and isinstance(arg.value, cst.Tuple)
            elements = [
                e.with_changes(value=tensor) if self._is_variable(o.value) else e for e, o in zip(arg.value.elements, cls.elements)
            ]
            # (torch.Tensor, Variable) -> torch.Tensor, not (torch.Tensor, torch.Tensor)
            # (TU041 rewrites torch._TensorBase beside it first)
            spelled = code_of(tensor)
            kept, seen = [], False
            for e in elements:
                same = not isinstance(e, cst.StarredElement) and code_of(e.value) == spelled
                if not (same and seen):
                    kept.append(e)
                seen = seen or same
            if len(kept) == 1 and seen:
                value = tensor  # the only class left
            else:
                if len(kept) < len(elements):
                    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                value = arg.value.with_changes(elements=kept)
        return updated_node.with_changes(args=[updated_node.args[0], arg.with_changes(value=value)])

    def _same_for_tensors(self, owner: cst.CSTNode, name: str) -> bool:
        """The first branch does for a plain tensor what the other branch (or falling through)
        did in 0.3: it only unwraps (``x.data``...), raises, or there is no other branch."""
        if isinstance(owner, cst.IfExp):
            return self._unwraps_only_expr(owner.body, name) and code_of(owner.orelse).strip() == name
        assert isinstance(owner, cst.If)
        if owner.orelse is None:
            return True
        body = owner.body.body if isinstance(owner.body, cst.IndentedBlock) else owner.body.body
        if all(self._raises(s) for s in body):
            return True
        other = owner.orelse
        if isinstance(other, cst.If) and self._dispatches_on_other_types(other):
            return True
        if isinstance(other, cst.Else):
            ob = other.body.body if isinstance(other.body, cst.IndentedBlock) else other.body.body
            if len(body) == len(ob) and all(self._same_modulo_data(a, b, name) for a, b in zip(body, ob)):
                return True
        return False

    def _dispatches_on_other_types(self, chain: cst.If) -> bool:
        """``elif isinstance(x, dict): ... elif isinstance(x, list): ...`` without a catch-all
        ``else`` (or one that raises): a plain tensor matched no branch in 0.3, so the code was
        not written for plain tensors there and the first branch is what it meant for tensors."""
        node: Optional[cst.CSTNode] = chain
        while isinstance(node, cst.If):
            test = node.test
            if not (isinstance(test, cst.Call) and self.imports.is_builtin(test.func, "isinstance") and len(test.args) == 2):
                return False
            classes = test.args[1].value
            elements = [e.value for e in classes.elements] if isinstance(classes, cst.Tuple) else [classes]
            for cls in elements:
                q = self.imports.resolve(cls) or ""
                if q.startswith("torch.") or "Tensor" in code_of(cls):
                    return False  # a branch for (plain) tensors
            node = node.orelse
        if isinstance(node, cst.Else):
            body = node.body.body if isinstance(node.body, cst.IndentedBlock) else node.body.body
            return all(self._raises(s) for s in body)
        return True

    @staticmethod
    def _raises(stmt: cst.CSTNode) -> bool:
        return isinstance(stmt, cst.SimpleStatementLine) and all(isinstance(s, cst.Raise) for s in stmt.body)

    def _same_modulo_data(self, a: cst.CSTNode, b: cst.CSTNode, name: str) -> bool:
        """Statement ``a`` is ``b`` with ``name`` replaced by ``name.data`` (and conversions)."""
        return code_of(a).replace(f"{name}.data", name) == code_of(b)

    def _unwraps_only_expr(self, expr: cst.CSTNode, name: str) -> bool:
        node = expr
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in _UNWRAP_METHODS:
            node = node.func.value
        while isinstance(node, cst.Attribute) and node.attr.value in ("data",):
            node = node.value
        return code_of(node).strip() == name and code_of(expr).count(name) == 1 and f"{name}.data" in code_of(expr)

    def _recurses_on_data(self, body, name: str) -> bool:
        """The branch calls the enclosing function (or ``self.<it>``) with ``name.data``."""
        func = self._function()
        if func is None:
            return False
        fname = func.name.value
        found = False

        class Finder(cst.CSTVisitor):
            def visit_Call(self, call: cst.Call) -> None:
                nonlocal found
                callee = dotted_name(call.func) or ""
                if callee in (fname, f"self.{fname}") and any(code_of(a.value).strip() == f"{name}.data" for a in call.args):
                    found = True

        cst_visit(body, Finder())
        return found

    # -- dead branches the Variable rules leave behind --------------------------------------------------------
    def leave_If(self, original_node: cst.If, updated_node: cst.If):
        if updated_node is original_node:
            return updated_node
        test = original_node.test
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test = test.expression
        subject = self._isinstance_variable(test)
        if subject is not None and updated_node.orelse is None and self._only_rewraps(original_node, code_of(subject)):
            self.edit(original_node, "`if not isinstance(x, Variable): x = Variable(x)` removed (a no-op since torch 0.4)")
            return self.remove(updated_node)
        emptied = _is_pass(updated_node.body) and not _is_pass(original_node.body)
        if emptied and updated_node.orelse is None and _pure(original_node.test):
            self.edit(original_node, "branch left empty by the migration removed")
            return self.remove(updated_node)
        orelse = updated_node.orelse
        if isinstance(orelse, cst.Else) and _is_pass(orelse.body) and isinstance(original_node.orelse, cst.Else) and not _is_pass(original_node.orelse.body):
            self.edit(original_node, "`else:` left empty by the migration removed")
            return updated_node.with_changes(orelse=None)
        return updated_node

    def _only_rewraps(self, node: cst.If, name: str) -> bool:
        body = node.body.body if isinstance(node.body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else []
        if len(body) != 1:
            return False
        stmt = body[0]
        small = stmt.body if isinstance(stmt, cst.SimpleStatementLine) else [stmt]
        if len(small) != 1 or not isinstance(small[0], cst.Assign) or len(small[0].targets) != 1:
            return False
        target, value = small[0].targets[0].target, small[0].value
        return (
            code_of(target).strip() == name and isinstance(value, cst.Call) and self._is_variable(value.func)
            and len(value.args) == 1 and code_of(value.args[0].value).strip() == name
        )

    # -- type(x) == Variable --------------------------------------------------------------------------------------
    def leave_Comparison(self, original_node, updated_node):
        if len(original_node.comparisons) != 1:
            return updated_node
        target = original_node.comparisons[0]
        op = target.operator
        if not isinstance(op, (cst.Equal, cst.NotEqual, cst.Is, cst.IsNot)):
            return updated_node
        left, right = original_node.left, target.comparator
        if self._is_variable(left):
            left, right = right, left
        if not (
            self._is_variable(right)
            and isinstance(left, cst.Call)
            and self.imports.is_builtin(left.func, "type")
            and len(left.args) == 1
            and not left.args[0].keyword
            and not left.args[0].star
        ):
            return updated_node
        tensor = self._tensor()
        if tensor is None:
            self.note(original_node, "no-torch")
            return updated_node
        negate = isinstance(op, (cst.NotEqual, cst.IsNot))
        self.edit(original_node, f"type(x) {'!=' if negate else '=='} Variable is always {'True' if negate else 'False'} on torch >= 0.4; -> {'not ' if negate else ''}isinstance(x, torch.Tensor)", FixClass.RESTORING)
        call = cst.Call(func=cst.Name("isinstance"), args=[cst.Arg(left.args[0].value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), cst.Arg(tensor)])
        new = cst.UnaryOperation(operator=cst.Not(), expression=call) if negate else call
        return new.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)

    # -- annotations ----------------------------------------------------------------------------------------------
    def leave_Name(self, original_node, updated_node):
        return self._annotation_ref(original_node, updated_node)

    def leave_Attribute(self, original_node, updated_node):
        return self._annotation_ref(original_node, updated_node)

    def _annotation_ref(self, original_node, updated_node):
        if not self._is_variable(original_node) or not any(isinstance(a, cst.Annotation) for a in self.ctx.parents):
            return updated_node
        parent = self.parent
        if isinstance(parent, cst.Attribute) and parent.value is original_node:
            return updated_node
        tensor = self._tensor()
        if tensor is None:
            self.note(original_node, "no-torch")
            return updated_node
        self.edit(original_node, "annotation Variable -> torch.Tensor")
        return tensor.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)

    def leave_Module(self, original_node, updated_node):
        if self.ctx.has_edits(self.code):
            self.ctx.drop_import_when_unused(VARIABLE)
        return updated_node


def _is_pass(block) -> bool:
    body = getattr(block, "body", None)
    if not body or len(body) != 1:
        return False
    stmt = body[0]
    small: List[cst.CSTNode] = list(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else [stmt]
    return len(small) == 1 and isinstance(small[0], cst.Pass)


def _pure(test: cst.CSTNode) -> bool:
    """A test without side effects (names, attributes, isinstance, comparisons, not/and/or)."""
    if isinstance(test, (cst.Name, cst.Attribute, cst.Integer, cst.SimpleString)):
        return True
    if isinstance(test, cst.UnaryOperation):
        return _pure(test.expression)
    if isinstance(test, cst.BooleanOperation):
        return _pure(test.left) and _pure(test.right)
    if isinstance(test, cst.Comparison):
        return _pure(test.left) and all(_pure(c.comparator) for c in test.comparisons)
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value in ("isinstance", "hasattr", "callable", "type"):
        return all(_pure(a.value) for a in test.args)
    if isinstance(test, cst.Tuple):
        return all(_pure(e.value) for e in test.elements)
    return False
