"""TU001 variable-wrapper: ``Variable(t)`` -> ``t``; ``requires_grad=`` into factories."""
from __future__ import annotations

from typing import List, Optional

import libcst as cst

from ..cstutil import code_of, dedent_continuations, grouped, lost_comments, method_call, with_trailing_comments
from ..model import Example
from ..rule import TreeRule
from ..semantic.kinds import Grad, Legacy, Tensor, TorchRef
from ..torchapi import (
    CONSTRUCTORS,
    FACTORIES_WITH_REQUIRES_GRAD,
    FRESH_FILL_METHODS,
    FRESH_VIEW_METHODS,
    NEW_TENSOR_METHODS,
    OTHER_FACTORIES,
    VARIABLE,
)

_KNOWN_KWARGS = {"data", "requires_grad", "volatile", "name", "_grad_fn"}


def variable_statement_needles(ctx) -> tuple:
    """Statements that mention neither `Variable` nor a local alias of it hold nothing for the
    Variable rules (TU001, TU002)."""
    return ("Variable", *ctx.imports.local_names_for(VARIABLE))


def _same_target(target: cst.CSTNode, value: cst.CSTNode) -> bool:
    if isinstance(target, cst.Name) and isinstance(value, cst.Name):
        return target.value == value.value
    if isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)):
        return len(target.elements) == len(value.elements) and all(
            _same_target(t.value, v.value) for t, v in zip(target.elements, value.elements)
        )
    return False


def _is_literal_arg(arg: cst.Arg) -> bool:
    v = arg.value
    if isinstance(v, cst.UnaryOperation) and isinstance(v.operator, cst.Minus):
        v = v.expression
    return isinstance(v, (cst.Integer, cst.Float))


def _with_trailing_comma(args):
    args = list(args)
    if args and isinstance(args[-1].comma, cst.MaybeSentinel):
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return args


def carries_grad(kind) -> bool:
    """The value may require grad in the migrated program, as far as the model can see: a
    ``Parameter``, a module output, a Variable made to require grad."""
    return isinstance(kind, Tensor) and (kind.grad is Grad.PARAM or (kind.grad is Grad.MAY and kind.legacy is Legacy.VARIABLE))


class VariableWrapper(TreeRule):
    code = "TU001"
    owns = ("call:Variable(volatile=)", "call:Variable")
    after = ("TU010",)
    name = "variable-wrapper"
    summary = "Unwrap `Variable(t)` (`x = Variable(x)` disappears); move `requires_grad=True` into factories or `.detach().requires_grad_()`"
    needles = ("Variable",)
    uses_analysis = True

    @classmethod
    def statement_filter(cls, ctx):
        return variable_statement_needles(ctx)

    messages = {
        "as-value": "Variable used as a value (not called): left unchanged; torch.Tensor is the modern class",
        "star-args": "Variable(*args/**kwargs) left unchanged: cannot see the arguments",
        "unexpected": "Variable(...) with unexpected arguments left unchanged",
        "name-arg": "Variable(..., name=/_grad_fn=) left unchanged: no modern equivalent",
        "literal": "Variable(<non-tensor literal>) raises TypeError on torch >= 0.4; wrap the data in torch.tensor(...) by hand",
        "subclass": "class derives from Variable: migrate it by hand (derive from torch.Tensor or wrap a tensor)",
        "comments": "Variable(...) left unchanged: unwrapping it would delete the comments inside the call, and this statement has no line end to move them to",
    }
    description = """
Since PyTorch 0.4 tensors and Variables are one type: `Variable(t)` only returns `t.detach()`
(with `requires_grad` set). The rule rewrites every call of `torch.autograd.Variable` (found
through the file's imports, any alias, also re-exported by a project module):

* `Variable(e)` -> `e`. In PyTorch 0.3 `Variable` accepted only plain tensors, which cannot
  require grad, so the argument of a `Variable(...)` in a working 0.3 program is a tensor that
  does not require grad in the migrated program either (the `.data` rules keep such values
  grad-free). `.detach()` is kept only where the model sees that `e` may carry gradient today
  (a `Parameter`, a module output): `Variable(model.weight)` -> `model.weight.detach()`.
* `x = Variable(x)` (also `x, y = Variable(x), Variable(y)`, `x = Variable(x.cuda())` ->
  `x = x.cuda()`) becomes nothing: the statement is deleted, not left as `x = x`.
* `Variable(h.data)` -> `h.detach()` (with TU020).
* `Variable(t, requires_grad=True)` -> `torch.randn(3, requires_grad=True)` for factories that
  take the keyword; `t.requires_grad_()` for other fresh tensors (a call result nothing else
  references); `t.detach().requires_grad_()` otherwise (a new leaf, as in 0.3). A non-literal
  flag becomes `requires_grad_(flag)`. `requires_grad=False` is dropped. `Variable()` ->
  `torch.empty(0)`.
* Calls with `volatile=` are left to TU010 (which drops the flag and adds a no-grad region);
  calls with `name=`/`_grad_fn=`, star-arguments, or non-tensor literals (`Variable([1, 2])`
  already raises) are left with a note. The `Variable` import is removed once unused.

Fix safety: exact. For a plain tensor `t` (the only thing 0.3 accepted) `Variable(t)` and `t`
have the same values and neither requires grad; what differs is object identity and in-place
*metadata* changes (`resize_`) through one of two names, which 0.3 code does not rely on.
`t.detach()` (kept where `t` may require grad) and `t.detach().requires_grad_()` are what the
legacy call does on today's torch.
"""
    examples = (
        Example(
            title="DataLoader batches and factories",
            before="""
            import torch
            from torch.autograd import Variable

            for data, target in train_loader:
                data, target = Variable(data), Variable(target)
                images = Variable(images.cuda())
                h = Variable(torch.zeros(2, 3))
                w = Variable(torch.randn(3, 2), requires_grad=True)
            """,
            after="""
            import torch

            for data, target in train_loader:
                images = images.cuda()
                h = torch.zeros(2, 3)
                w = torch.randn(3, 2, requires_grad=True)
            """,
        ),
        Example(
            title="values that may carry gradient keep .detach()",
            before="""
            import torch.nn as nn
            from torch.autograd import Variable as V

            net = nn.Linear(2, 2)

            def step(x, hidden):
                out = net(V(x))
                frozen = V(net.weight)
                leaf = V(out, requires_grad=True)
                return out, frozen, leaf
            """,
            after="""
            import torch.nn as nn

            net = nn.Linear(2, 2)

            def step(x, hidden):
                out = net(x)
                frozen = net.weight.detach()
                leaf = out.detach().requires_grad_()
                return out, frozen, leaf
            """,
        ),
        Example(
            title="chains, comprehensions, constructors; import torch added",
            before="""
            import torch.nn as nn
            from torch import autograd

            def init_hidden(bsz):
                return (autograd.Variable(torch_zeros(bsz)).cuda(),
                        [autograd.Variable(t) for t in ts])
            x = autograd.Variable(torch_ones(3), requires_grad=flag)
            y = autograd.Variable()
            """,
            after="""
            import torch.nn as nn
            import torch
            from torch import autograd

            def init_hidden(bsz):
                return (torch_zeros(bsz).cuda(),
                        [t for t in ts])
            x = torch_ones(3).detach().requires_grad_(flag)
            y = torch.empty(0)
            """,
        ),
        Example(
            title="a module's own Variable is never touched",
            before="""
            class Variable:
                def __init__(self, value):
                    self.value = value

            v = Variable(3)
            """,
        ),
        Example(
            title="volatile is left for TU010; name=, literals, star-args and subclasses are left with a note",
            before="""
            from torch.autograd import Variable
            x = Variable(batch, volatile=True)
            y = Variable(batch, name='y')
            z = Variable([1, 2])
            a = Variable(*args)
            b = Variable(batch, True, False, 3)
            cls = Variable
            class Mine(Variable):
                pass
            """,
            notes=(
                (3, "TU001", "no modern equivalent"), (4, "TU001", "non-tensor literal"),
                (5, "TU001", "cannot see the arguments"), (6, "TU001", "unexpected arguments"),
                (7, "TU001", "used as a value"), (8, "TU001", "derives from Variable"),
            ),
        ),
        Example(
            title="comments survive; the input rebinding disappears",
            before="""
            from torch.autograd import Variable

            def forward(self, x, h):
                # wrap the input
                x = Variable(x)
                return self.rnn(x, Variable(h))
            """,
            after="""
            def forward(self, x, h):
                # wrap the input
                return self.rnn(x, h)
            """,
        ),
        Example(
            title="comments inside a multi-line call move to the end of the statement",
            before="""
            import torch
            from torch.autograd import Variable

            v = Variable(torch.zeros(3),  # the input
                         requires_grad=False)
            for w in Variable(torch.ones(2),  # the weights
                              requires_grad=False):
                print(w)
            """,
            after="""
            import torch
            from torch.autograd import Variable

            v = torch.zeros(3)  # the input
            for w in Variable(torch.ones(2),  # the weights
                              requires_grad=False):
                print(w)
            """,
            notes=((6, "TU001", "delete the comments inside the call"),),
        ),
    )

    def start(self) -> None:
        self._names = {"Variable", *self.imports.local_names_for(VARIABLE)}
        # comments the unwraps inside each enclosing simple statement removed from their calls
        self._statements: List[List[str]] = []

    # -- references to the class itself ---------------------------------------------------------------
    def visit_Import(self, node):
        return False

    def visit_ImportFrom(self, node):
        return False

    def visit_Annotation(self, node):
        return False  # `x: Variable` annotations are TU002's

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self._names:
            self._reference(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "Variable":
            self._reference(node)

    def _reference(self, node: cst.CSTNode) -> None:
        if self.imports.resolve(node) != VARIABLE:
            return
        parent = self.parent
        if isinstance(parent, cst.Attribute) and parent.value is node:
            return  # part of a longer dotted name
        if isinstance(parent, cst.Call) and parent.func is node:
            return  # a call: leave_Call
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            return
        for anc in reversed(self.ctx.parents):
            if isinstance(anc, (cst.Comparison, cst.Annotation)):
                return  # `type(x) == Variable`: TU002's
            if isinstance(anc, cst.Call) and self.imports.is_builtin(anc.func, "isinstance"):
                return  # TU002's
            if isinstance(anc, cst.Arg) and isinstance(self._grandparent(anc), cst.ClassDef):
                return  # a base class: noted at the class
            if isinstance(anc, cst.BaseStatement):
                break
        self.note(node, "as-value")

    def _grandparent(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        parents = self.ctx.parents
        for i in range(len(parents) - 1, 0, -1):
            if parents[i] is node:
                return parents[i - 1]
        return None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if any(self.imports.resolve(b.value) == VARIABLE for b in node.bases):
            self.note(node, "subclass")

    # -- classification ---------------------------------------------------------------------------------
    def is_fresh(self, expr: cst.BaseExpression) -> bool:
        """A new tensor that nothing else references (safe to make require grad in place)."""
        if isinstance(expr, cst.Attribute) and expr.attr.value == "data":
            return True  # a new alias without history (TU020 may spell it .detach())
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "detach" and not expr.args:
            return True
        if isinstance(expr, cst.Call):
            q = self.imports.resolve(expr.func)
            if q is None and isinstance(expr.func, cst.Name):
                ref = self.ctx.analysis.kind(expr.func)
                q = ref.qualified if isinstance(ref, TorchRef) else None  # a constructor alias
            if q in FACTORIES_WITH_REQUIRES_GRAD or q in OTHER_FACTORIES:
                return not any(a.keyword and a.keyword.value in ("requires_grad", "out") for a in expr.args)
            if q in CONSTRUCTORS:
                return True
            if q == VARIABLE:
                return False
            if isinstance(expr.func, cst.Attribute):
                method = expr.func.attr.value
                if method in NEW_TENSOR_METHODS:
                    return True
                if method in FRESH_VIEW_METHODS or (method in FRESH_FILL_METHODS and all(_is_literal_arg(a) for a in expr.args)):
                    return self.is_fresh(expr.func.value)
        if isinstance(expr, cst.BinaryOperation):
            parts = [expr.left, expr.right]
            return all(self.is_fresh(p) or isinstance(p, (cst.Integer, cst.Float)) for p in parts) and any(self.is_fresh(p) for p in parts)
        return False

    # -- the rewrite -------------------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.imports.resolve(original_node.func) != VARIABLE:
            return updated_node
        args = updated_node.args
        if any(a.star for a in args):
            self.note(original_node, "star-args")
            return updated_node
        positional = [a for a in args if not a.keyword]
        keywords = {a.keyword.value: a for a in args if a.keyword}
        if set(keywords) - _KNOWN_KWARGS or len(positional) > 3:
            self.note(original_node, "unexpected")
            return updated_node
        if "volatile" in keywords or len(positional) == 3:
            return updated_node  # TU010 owns the flag; it drops it where it places a region
        if "name" in keywords or "_grad_fn" in keywords:
            self.note(original_node, "name-arg")
            return updated_node
        data = positional[0] if positional else keywords.get("data")
        rg = positional[1] if len(positional) > 1 else keywords.get("requires_grad")
        if data is None:
            if rg is not None:
                return updated_node
            torch = self.module_name("torch")
            if torch is None:
                return updated_node
            self.edit(original_node, "Variable() -> torch.empty(0)")
            self._rewrote()
            return cst.parse_expression(f"{torch}.empty(0)")
        value = data.value
        if isinstance(value, (cst.List, cst.Tuple, cst.Integer, cst.Float, cst.SimpleString, cst.Dict)):
            self.note(original_node, "literal")
            return updated_node
        value = grouped(value)
        original_value = next(a.value for a in original_node.args if a.keyword is None or a.keyword.value == "data")
        flag = rg.value if rg is not None else None
        if isinstance(flag, cst.Name) and flag.value == "False":
            flag = None
        requires = isinstance(flag, cst.Name) and flag.value == "True"
        new: cst.BaseExpression
        if value is data.value and not isinstance(updated_node.whitespace_before_args, cst.ParenthesizedWhitespace):
            # the value started right after `Variable(`: its continuation lines move left with it
            shift = len(code_of(updated_node.func)) + len(code_of(updated_node.whitespace_after_func)) + 1 + len(code_of(updated_node.whitespace_before_args))
            value = dedent_continuations(value, shift)
        if flag is None:
            if carries_grad(self.ctx.analysis.kind(original_value)):
                new = method_call(value, "detach")
                msg = "Variable(t) -> t.detach() (t may require grad)"
            else:
                new = value
                msg = "Variable(t) -> t"
        elif requires and self.is_fresh(original_value) and isinstance(value, cst.Call) and self.imports.resolve(value.func) in FACTORIES_WITH_REQUIRES_GRAD:
            new = value.with_changes(
                args=[*_with_trailing_comma(value.args), cst.Arg(keyword=cst.Name("requires_grad"), value=cst.Name("True"), equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))]
            )
            msg = "Variable(factory(...), requires_grad=True) -> factory(..., requires_grad=True)"
        else:
            fresh = self.is_fresh(original_value)
            receiver = value if fresh else method_call(value, "detach")
            new = method_call(receiver, "requires_grad_", [] if requires else [cst.Arg(flag)])
            msg = f"Variable(t, requires_grad=...) -> t{'' if fresh else '.detach()'}.requires_grad_(...)"
        lost = lost_comments(original_node, new)
        if lost:
            if not self._statements:
                self.note(original_node, "comments")
                return updated_node
            self._statements[-1].extend(lost)  # they go to the end of the statement's line
        self.edit(original_node, msg)
        self._rewrote()
        return new

    def visit_SimpleStatementLine(self, node) -> None:
        self._statements.append([])

    def _rewrote(self) -> None:
        self.ctx.drop_import_when_unused(VARIABLE)

    def leave_SimpleStatementLine(self, original_node, updated_node):
        lost = self._statements.pop() if self._statements else []
        if lost:
            updated_node = with_trailing_comments(updated_node, lost)
        # `x, y = Variable(x), Variable(y)` became `x, y = x, y`: drop it.
        if (
            updated_node is not original_node
            and len(updated_node.body) == 1
            and isinstance(updated_node.body[0], cst.Assign)
            and len(updated_node.body[0].targets) == 1
            and isinstance(original_node.body[0], cst.Assign)
        ):
            assign = updated_node.body[0]
            if _same_target(assign.targets[0].target, assign.value) and not _same_target(
                original_node.body[0].targets[0].target, original_node.body[0].value
            ):
                return self.remove(updated_node)
        return updated_node
