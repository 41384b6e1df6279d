"""TU001 variable-wrapper: ``Variable(t)`` -> ``t`` / ``t.detach()``; requires_grad into factories."""
from __future__ import annotations

import re
from typing import List, Set

import libcst as cst

from ..cstutil import grouped, method_call
from ..cstutil import target_names as _target_names
from ..model import Example, FixClass
from ..rule import LegacyTreeRule
from ..tensors import TENSOR_KINDS, ScopeTracking, TensorInference
from ..torchapi import (
    CONSTRUCTORS, FACTORIES_WITH_REQUIRES_GRAD, FRESH_FILL_METHODS, FRESH_VIEW_METHODS,
    NEW_TENSOR_METHODS, OTHER_FACTORIES, VARIABLE,
)

_LOADER = re.compile(r"loader", re.IGNORECASE)
_KNOWN_KWARGS = {"data", "requires_grad", "volatile", "name", "_grad_fn"}


class _ScopeBindings(cst.CSTVisitor):
    """Collect, for one function (or module) body, how each name is bound.

    Used to find names that only ever hold DataLoader batches (``for x, y in train_loader``),
    possibly re-wrapped (``x = Variable(x)``, ``x = x.cuda()``): those are fresh tensors."""

    def __init__(self, rule: "VariableWrapper"):
        self.rule = rule
        self.loader_names: Set[str] = set()
        self.bad: Set[str] = set()

    def visit_FunctionDef(self, node):
        return False

    def visit_ClassDef(self, node):
        return False

    def visit_Lambda(self, node):
        return False

    def visit_Param(self, node):
        self.bad.add(node.name.value)

    def visit_For(self, node):
        names = _target_names(node.target)
        (self.loader_names if _is_loader(node.iter) else self.bad).update(names)

    def visit_Call(self, node):
        # x.requires_grad_(): the name may hold a tensor that requires grad
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "requires_grad_" and isinstance(node.func.value, cst.Name):
            self.bad.add(node.func.value.value)

    def visit_Assign(self, node):
        for target in node.targets:
            if isinstance(target.target, cst.Attribute) and isinstance(target.target.value, cst.Name):
                self.bad.add(target.target.value.value)  # x.requires_grad = True, x.attr = ...
            pairs = _pairs(target.target, node.value)
            for name, value in pairs:
                if value is None or not self.rule.is_rewrap_of(value, name):
                    self.bad.add(name)

    def visit_AugAssign(self, node):
        self.bad.update(_target_names(node.target))

    def visit_AnnAssign(self, node):
        self.bad.update(_target_names(node.target))

    def visit_WithItem(self, node):
        if node.asname:
            self.bad.update(_target_names(node.asname.name))

    def visit_NamedExpr(self, node):
        self.bad.update(_target_names(node.target))

    @property
    def fresh(self) -> Set[str]:
        return self.loader_names - self.bad


def _is_loader(node: cst.CSTNode) -> bool:
    """``train_loader``, ``self.val_loader``, ``enumerate(loader)``, ``tqdm(loader)``: an
    iterable that yields DataLoader batches (not ``zip(loader, other)``)."""
    if isinstance(node, cst.Name):
        return bool(_LOADER.search(node.value))
    if isinstance(node, cst.Attribute):
        return bool(_LOADER.search(node.attr.value))
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("enumerate", "tqdm", "iter"):
        positional = [a for a in node.args if not a.keyword]
        return bool(positional) and _is_loader(positional[0].value)
    return False


def _pairs(target: cst.CSTNode, value: cst.CSTNode):
    """(name, value-or-None) for each name an assignment binds."""
    if isinstance(target, cst.Name):
        return [(target.value, value)]
    if isinstance(target, (cst.Tuple, cst.List)):
        if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(target.elements):
            out = []
            for t, v in zip(target.elements, value.elements):
                out.extend(_pairs(t.value, v.value) if not isinstance(v, cst.StarredElement) else [(n, None) for n in _target_names(t.value)])
            return out
        return [(n, None) for n in _target_names(target)]
    return []


def _is_literal_arg(arg: cst.Arg) -> bool:
    v = arg.value
    if isinstance(v, cst.UnaryOperation) and isinstance(v.operator, cst.Minus):
        v = v.expression
    return isinstance(v, (cst.Integer, cst.Float))


def _same_target(target: cst.CSTNode, value: cst.CSTNode) -> bool:
    if isinstance(target, cst.Name) and isinstance(value, cst.Name):
        return target.value == value.value
    if isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)):
        return len(target.elements) == len(value.elements) and all(
            _same_target(t.value, v.value) for t, v in zip(target.elements, value.elements)
        )
    return False


def variable_statement_needles(ctx) -> tuple:
    """Statements that mention neither `Variable` nor a local alias of it hold nothing for the
    Variable rules (TU001, TU002)."""
    return ("Variable", *ctx.imports.local_names_for(VARIABLE))


class VariableWrapper(ScopeTracking, LegacyTreeRule):
    code = "TU001"
    owns = ("call:Variable(volatile=)", "call:Variable")
    after = ("TU010",)
    name = "variable-wrapper"
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    summary = "Unwrap `Variable(t)`; move `requires_grad=True` into factories or `.detach().requires_grad_()`"
    needles = ("Variable",)

    @classmethod
    def statement_filter(cls, ctx):
        return variable_statement_needles(ctx)

    description = """
Since PyTorch 0.4 tensors and Variables are one type, and `Variable(t, requires_grad=False)` is
`t.detach()` with the flag set: a new leaf that shares storage (and the version counter) with
`t` and never passes gradient back to it. The rule rewrites every call of
`torch.autograd.Variable` (found through the file's imports, any alias) as follows:

* `Variable(t)` where `t` is a *fresh* tensor -> `t`. Fresh means a factory or constructor call
  (`torch.randn(...)`, `torch.zeros(...)`, `torch.from_numpy(a)`, `torch.FloatTensor(2, 3)`),
  conversions and views of one (`.cuda()`, `.float()`, `.view(...)`), `x.data` where `x` is
  known to be a tensor (shared tensor inference; a `PackedSequence.data` is a real field), or
  a name that only ever holds DataLoader batches: bound by `for ... in <...loader...>`
  (`enumerate`/`tqdm` of one, not `zip`), never given attributes or `requires_grad_()`, and
  wrapped in place (`x = Variable(x)`) or as a temporary (`model(Variable(x))`), never bound to
  another name (`v = Variable(x)` would make `v` and `x` one object).
* `Variable(t)` for anything else -> `t.detach()` (exact); so `Variable(h.data)` with an
  unknown `h` becomes `h.data.detach()`, and with a known tensor `h.data` (which TU020 turns into
  `h.detach()`).
* `Variable(t, requires_grad=True)` -> `torch.randn(3, requires_grad=True)` for factories
  that take the keyword; `t.requires_grad_()` for other fresh tensors;
  `t.detach().requires_grad_()` otherwise. A non-literal flag becomes `requires_grad_(flag)`.
* `requires_grad=False` is dropped. `Variable()` -> `torch.empty(0)`.
* An assignment left as `x = x` (the DataLoader idiom `x, y = Variable(x), Variable(y)`) is removed.
* Calls with `volatile=` are left to TU010; calls with `name=`/`_grad_fn=`, star-arguments, or
  non-tensor literals (`Variable([1, 2])` already raises) are left with a note.
* The `Variable` import is removed once no use remains; `import torch` is added when needed.

Fix safety: safe. `t.detach()` is exactly what `Variable(t)` does today. Dropping the wrapper is
exact for a fresh tensor: nothing else references it and it does not require grad, so the only
difference is object identity of a temporary. For DataLoader loop variables the rule relies on
the loader yielding tensors that do not require grad (true for `torch.utils.data.DataLoader`).
`--unsafe` additionally drops the wrapper around any other plain name (exact only if that
tensor never requires grad and is not modified in place through another alias).
"""
    examples = (
        Example(
            title="DataLoader batches and factories",
            before="""
            import torch
            from torch.autograd import Variable

            for data, target in train_loader:
                data, target = Variable(data), Variable(target)
                h = Variable(torch.zeros(2, 3))
                w = Variable(torch.randn(3, 2), requires_grad=True)
            """,
            after="""
            import torch

            for data, target in train_loader:
                h = torch.zeros(2, 3)
                w = torch.randn(3, 2, requires_grad=True)
            """,
        ),
        Example(
            title="unknown tensors are detached (exact)",
            before="""
            from torch.autograd import Variable as V

            def step(model, x, hidden):
                out = model(V(x))
                hidden = V(hidden.data)
                frozen = V(model.weight, requires_grad=True)
                return out, hidden, frozen
            """,
            after="""
            def step(model, x, hidden):
                out = model(x.detach())
                hidden = hidden.data.detach()
                frozen = model.weight.detach().requires_grad_()
                return out, hidden, frozen
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
            x = autograd.Variable(nn.init.xavier_uniform(w))
            y = autograd.Variable()
            """,
            after="""
            import torch.nn as nn
            import torch
            from torch import autograd

            def init_hidden(bsz):
                return (torch_zeros(bsz).detach().cuda(),
                        [t.detach() for t in ts])
            x = nn.init.xavier_uniform(w).detach()
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
            title="volatile is left for TU010; name= is left with a note",
            before="""
            from torch.autograd import Variable
            x = Variable(batch, volatile=True)
            y = Variable(batch, name='y')
            """,
        ),
        Example(
            title="--unsafe drops the wrapper around any name",
            unsafe=True,
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
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self._st_init()
        self.scopes: List[_ScopeBindings] = []
        self.rewrote = False
        # ids of Variable references that are handled (calls, type checks, class bases)
        self._handled: Set[int] = set()
        self._variable_names = set(self.imports.local_names_for(VARIABLE))
        self._shadows: List[Set[str]] = []  # lambda parameters, comprehension targets
        self._aliasing: Set[int] = set()  # Variable(x) calls bound to another name

    # -- references to the class itself ---------------------------------------------------------
    def visit_Import(self, node):
        return False

    def visit_ImportFrom(self, node):
        return False

    def visit_Call(self, node):
        if self.is_variable(node.func):
            self._handled.add(id(node.func))
        elif self.imports.is_builtin(node.func, "isinstance") and len(node.args) == 2:
            cls = node.args[1].value  # TU002's business
            self._handled.add(id(cls))
            if isinstance(cls, cst.Tuple):
                self._handled.update(id(e.value) for e in cls.elements)

    def visit_Annotation(self, node):
        return False  # `x: Variable` annotations are TU002's business

    def visit_Comparison(self, node):
        self._handled.add(id(node.left))  # `type(x) == Variable`: TU002's business
        self._handled.update(id(c.comparator) for c in node.comparisons)

    def visit_Attribute(self, node):
        self._handled.add(id(node.attr))
        if id(node) not in self._handled and self.is_variable(node):
            self.note(node, "Variable used as a value (not called): left unchanged; torch.Tensor is the modern class")
            self._handled.add(id(node))

    def visit_Name(self, node):
        if node.value in self._variable_names and id(node) not in self._handled and self.is_variable(node):
            self.note(node, "Variable used as a value (not called): left unchanged; torch.Tensor is the modern class")

    # -- scope bookkeeping for DataLoader variables --------------------------------------------
    def _push_scope(self, body: cst.CSTNode) -> None:
        bindings = _ScopeBindings(self)
        if isinstance(body, cst.Module):
            for stmt in body.body:
                stmt.visit(bindings)
        else:
            body.visit(bindings)
        self.scopes.append(bindings)

    def visit_Module(self, node):
        self._push_scope(node)

    def visit_ClassDef(self, node):
        self._handled.update(id(b.value) for b in node.bases)
        self._push_scope(node.body)  # a class body is a scope of its own

    def _shadow(self, names) -> None:
        self._shadows.append(set(names))

    def visit_Lambda(self, node):
        self._shadow(p.name.value for p in [*node.params.params, *node.params.kwonly_params, *node.params.posonly_params])

    def leave_Lambda(self, original_node, updated_node):
        self._shadows.pop()
        return updated_node

    def _visit_comp(self, node):
        names = []
        comp = node.for_in
        while comp is not None:
            names.extend(_target_names(comp.target))
            comp = comp.inner_for_in
        self._shadow(names)

    def _leave_comp(self, original_node, updated_node):
        self._shadows.pop()
        return updated_node

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comp
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave_comp

    def visit_Assign(self, node):
        # `v = Variable(x)`: dropping the wrapper would make `v` and `x` one object
        for target in node.targets:
            for name, value in _pairs(target.target, node.value):
                if isinstance(value, cst.Call) and self.is_variable(value.func):
                    args = [a for a in value.args if not a.keyword]
                    if args and isinstance(args[0].value, cst.Name) and args[0].value.value != name:
                        self._aliasing.add(id(value))

    def visit_FunctionDef(self, node):
        self._handled.add(id(node.name))
        self._push_scope(node.body)
        for p in [*node.params.params, *node.params.kwonly_params, *node.params.posonly_params]:
            self.scopes[-1].bad.add(p.name.value)

    def leave_FunctionDef(self, original_node, updated_node):
        self.scopes.pop()
        return updated_node

    def _loader_fresh(self, name: str) -> bool:
        if any(name in shadow for shadow in self._shadows):
            return False
        return bool(self.scopes) and name in self.scopes[-1].fresh

    # -- classification ------------------------------------------------------------------------
    def is_variable(self, func: cst.CSTNode) -> bool:
        return self.imports.resolve(func) == VARIABLE

    def is_fresh(self, expr: cst.BaseExpression) -> bool:
        """A tensor that does not require grad and that nothing else references."""
        if isinstance(expr, cst.Attribute) and expr.attr.value == "data":
            # x.data of a tensor: a new alias with its own version counter, no grad. Other
            # objects have a .data field of their own (PackedSequence.data requires grad).
            return self._known_tensor(expr.value)
        if isinstance(expr, cst.Call):
            q = self.imports.resolve(expr.func)
            if q in FACTORIES_WITH_REQUIRES_GRAD or q in OTHER_FACTORIES:
                return not any(a.keyword and a.keyword.value in ("requires_grad", "out") for a in expr.args)
            if q in CONSTRUCTORS:
                return self._constructor_is_fresh(expr)
            if q == VARIABLE:
                return False
            if isinstance(expr.func, cst.Attribute):
                method = expr.func.attr.value
                if method in NEW_TENSOR_METHODS:
                    # x.new(), x.new(2, 3), x.new_zeros(...): a new tensor without grad
                    return method != "new" or len(expr.args) != 1 or self._constructor_is_fresh(expr)
                if method in FRESH_VIEW_METHODS or (
                    method in FRESH_FILL_METHODS and all(_is_literal_arg(a) for a in expr.args)
                ):
                    return self.is_fresh(expr.func.value)
        if isinstance(expr, cst.Subscript):
            return self.is_fresh(expr.value)
        if isinstance(expr, cst.BinaryOperation):
            parts = [expr.left, expr.right]
            return all(self.is_fresh(p) or isinstance(p, (cst.Integer, cst.Float)) for p in parts) and any(
                self.is_fresh(p) for p in parts
            )
        if isinstance(expr, cst.Name):
            return self._loader_fresh(expr.value)
        return False

    def _known_tensor(self, expr: cst.BaseExpression) -> bool:
        """Tensor inference (shared with the .data rules) says ``expr`` is a tensor."""
        return self.ctx.shared(TensorInference).kind(expr, self.scope_key) in TENSOR_KINDS

    def _constructor_is_fresh(self, call: cst.Call) -> bool:
        args = [a for a in call.args if not a.keyword]
        if len(args) != len(call.args) or any(a.star == "**" for a in args):
            return False
        if len(args) != 1 or args[0].star == "*":
            return True  # sizes: several, unpacked (`*shape`), or no argument
        v = args[0].value
        if isinstance(v, (cst.Integer, cst.List, cst.ListComp, cst.Tuple)):
            return True
        return isinstance(v, cst.Call) and isinstance(v.func, cst.Attribute) and v.func.attr.value == "size"

    def is_rewrap_of(self, value: cst.BaseExpression, name: str) -> bool:
        """``Variable(name)``, ``name.cuda()``, ``Variable(name.cuda())`` ...: same batch, re-wrapped."""
        if isinstance(value, cst.Name):
            return value.value == name
        if isinstance(value, cst.Call):
            if self.is_variable(value.func):
                data = [a for a in value.args if not a.keyword]
                extra = [a for a in value.args if a.keyword and a.keyword.value != "volatile"]
                return len(data) == 1 and not extra and self.is_rewrap_of(data[0].value, name)
            if isinstance(value.func, cst.Attribute) and value.func.attr.value in FRESH_VIEW_METHODS:
                return self.is_rewrap_of(value.func.value, name)
        return False

    # -- the rewrite ---------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not self.is_variable(original_node.func):
            return updated_node
        args = updated_node.args
        if any(a.star for a in args):
            self.note(original_node, "Variable(*args/**kwargs) left unchanged: cannot see the arguments")
            return updated_node
        positional = [a for a in args if not a.keyword]
        keywords = {a.keyword.value: a for a in args if a.keyword}
        if set(keywords) - _KNOWN_KWARGS or len(positional) > 3:
            self.note(original_node, "Variable(...) with unexpected arguments left unchanged")
            return updated_node
        if "volatile" in keywords or len(positional) == 3:
            return updated_node  # TU010 (volatile) owns these calls
        if "name" in keywords or "_grad_fn" in keywords:
            self.note(original_node, "Variable(..., name=/_grad_fn=) left unchanged: no modern equivalent")
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
            self.rewrote = True
            return cst.parse_expression(f"{torch}.empty(0)")
        value = data.value
        if isinstance(value, (cst.List, cst.Tuple, cst.Integer, cst.Float, cst.SimpleString, cst.Dict)):
            self.note(original_node, "Variable(<non-tensor literal>) raises TypeError on torch >= 0.4; wrap the data in torch.tensor(...) by hand")
            return updated_node
        value = grouped(value)
        flag = rg.value if rg is not None else None
        if isinstance(flag, cst.Name) and flag.value == "False":
            flag = None
        requires = isinstance(flag, cst.Name) and flag.value == "True"
        data_node = original_node.args[data_index(original_node)].value
        fresh = self.is_fresh(data_node) and not (isinstance(data_node, cst.Name) and id(original_node) in self._aliasing)
        if flag is None:
            if fresh:
                new = value
                msg = "Variable(t) -> t (fresh tensor)"
            elif isinstance(value, cst.Name) and self.ctx.unsafe:
                new = value
                self.edit(original_node, "Variable(name) -> name (--unsafe)", FixClass.UNPROVEN)
                self.rewrote = True
                return new
            else:
                new = method_call(value, "detach")
                msg = "Variable(t) -> t.detach()"
        elif requires and fresh and isinstance(value, cst.Call) and self.imports.resolve(value.func) in FACTORIES_WITH_REQUIRES_GRAD:
            new = value.with_changes(
                args=[*_with_trailing_comma(value.args), cst.Arg(keyword=cst.Name("requires_grad"), value=cst.Name("True"), equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))]
            )
            msg = "Variable(factory(...), requires_grad=True) -> factory(..., requires_grad=True)"
        else:
            receiver = value if fresh else method_call(value, "detach")
            new = method_call(receiver, "requires_grad_", [] if requires else [cst.Arg(flag)])
            msg = f"Variable(t, requires_grad=...) -> t{'' if fresh else '.detach()'}.requires_grad_(...)"
        self.edit(original_node, msg)
        self.rewrote = True
        return new

    def leave_SimpleStatementLine(self, original_node, updated_node):
        # `x, y = Variable(x), Variable(y)` became `x, y = x, y`: drop it.
        if (
            len(updated_node.body) == 1
            and isinstance(updated_node.body[0], cst.Assign)
            and len(updated_node.body[0].targets) == 1
            and not updated_node.trailing_whitespace.comment
            and updated_node is not original_node
        ):
            assign = updated_node.body[0]
            if _same_target(assign.targets[0].target, assign.value) and not _same_target(
                original_node.body[0].targets[0].target, original_node.body[0].value
            ):
                return self.mark_removed(updated_node)
        return updated_node

    def leave_ClassDef(self, original_node, updated_node):
        self.scopes.pop()
        for base in original_node.bases:
            if self.is_variable(base.value):
                self.note(original_node, "class derives from Variable: migrate it by hand (derive from torch.Tensor or wrap a tensor)")
        return updated_node

    def leave_Module(self, original_node, updated_node):
        if self.rewrote:
            self.ctx.drop_import_when_unused(VARIABLE)
        return super().leave_Module(original_node, updated_node)


def data_index(call: cst.Call) -> int:
    for i, a in enumerate(call.args):
        if not a.keyword or a.keyword.value == "data":
            return i
    return 0


def _with_trailing_comma(args):
    args = list(args)
    if args and isinstance(args[-1].comma, cst.MaybeSentinel):
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return args
