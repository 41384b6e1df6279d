"""What the ``.data`` rules (TU020-TU023) share: the base class, and the classification of where a
``.data`` value flows, which decides how it is rewritten.

``x.data`` is an alias of ``x``'s storage with its *own* version counter, ``x.detach()`` shares
``x``'s counter: they differ only when the value (or a view of it) is saved by an autograd graph
that is backpropagated later *and* ``x`` or the value is modified in place before that backward
(``.detach()`` then raises where ``.data`` silently used the new values). So, walking up from the
``.data`` read:

* ``DROP``: the value only reaches results without gradient or Python values (comparisons,
  ``argmax``, the indices of ``max(dim)``, ``.item()``, ``.tolist()``, ``int()``/``float()``,
  integer casts): ``.data`` is simply dropped, as a person would write it;
* ``DETACH``: ``.detach()`` is exact: the value is converted (``.numpy()`` needs it), printed or
  formatted, combined only with grad-free operands, reduced, added or subtracted (their backward
  saves no operand), passed to ``Variable(...)`` (a working 0.3 program only passed plain
  tensors there), or stored in a local name that is never modified in place, aliased or passed to
  code the tool cannot see;
* ``COND``: exact only under an assumption the tool cannot prove (the value is returned, passed to
  a model or a user function, stored where it may change in place): ``.detach()`` is an unproven
  fix;
* ``MUTATE`` / ``WRITE``: the value is modified in place / assigned to (TU023's).
Views and conversions that may alias (``[...]``, ``.view()``, ``.chunk()``, ``.cpu()`` ...) are
followed.
"""
from __future__ import annotations

import ast
from typing import ClassVar, Dict, List, Optional, Tuple

import libcst as cst

from .. import torchapi as api
from ..rule import TreeRule
from ..semantic.kinds import PYNUM, PYVAL, Grad, Tensor
from ..semantic.scopes import Scope

DROP, DETACH, COND, MUTATE, WRITE = "drop", "detach", "cond", "mutate", "write"

def is_inplace(method: str) -> bool:
    return method.endswith("_") and not method.endswith("__")


def _aliasing_torch_function(q: str) -> bool:
    last = q.rsplit(".", 1)[-1]
    if q.startswith("torch.Tensor."):
        return last in api.ALIAS_METHODS
    return q in api.ALIAS_FUNCTIONS or "dropout" in last


def _is_target(node: cst.CSTNode, parent: Optional[cst.CSTNode]) -> bool:
    if isinstance(parent, cst.AssignTarget) and parent.target is node:
        return True
    if isinstance(parent, (cst.AugAssign, cst.AnnAssign)) and parent.target is node:
        return True
    if isinstance(parent, cst.Del):
        return True
    return isinstance(parent, (cst.For, cst.CompFor)) and parent.target is node


class DataRule(TreeRule):
    """Base of the ``.data`` rules: tensor kinds from the semantic model, and ``flow``."""

    needles: ClassVar[Tuple[str, ...]] = (".data",)
    # every rewrite of these rules is of a `.data` in the statement's own text
    statement_needles: ClassVar[Optional[Tuple[str, ...]]] = (".data",)
    uses_analysis = True

    @classmethod
    def applies_to(cls, text: str) -> bool:
        # a file that never mentions torch cannot import it (numpy has many .data)
        return ("torch" in text or "import *" in text) and super().applies_to(text)

    def active(self) -> bool:
        return self.imports.imports_torch or bool(self.imports.star_modules)

    def tensor(self, expr: cst.CSTNode) -> Optional[Tensor]:
        return self.ctx.analysis.tensor_here(expr)

    def is_tensor(self, expr: cst.CSTNode) -> bool:
        return self.tensor(expr) is not None

    def gfree(self, expr: cst.CSTNode) -> bool:
        """``expr`` certainly does not require grad (so it makes no graph save anything)."""
        if isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return True
        if isinstance(expr, cst.Name) and expr.value in ("None", "True", "False"):
            return True
        k = self.ctx.analysis.kind(expr)
        if k in (PYNUM, PYVAL):
            return True
        return isinstance(k, Tensor) and k.grad is Grad.NO

    # -- where does a value flow? ------------------------------------------------------------------
    def flow(self, node: cst.CSTNode) -> Tuple[str, str]:
        """Classify the use of ``node`` (a ``.data`` read, or an expression built on one)."""
        anc: List[cst.CSTNode] = self.ctx.parents
        cur = node
        i = len(anc) - 1
        while i >= 0:
            p = anc[i]
            gp = anc[i - 1] if i > 0 else None
            if isinstance(p, cst.Attribute) and p.value is cur:
                m = p.attr.value
                if isinstance(gp, cst.Call) and gp.func is p:
                    if m == "requires_grad_":
                        return COND, "made to require grad"
                    if m == "numpy":
                        return DETACH, ""
                    if m in api.GRADLESS_RESULT_METHODS:
                        return DROP, ""
                    if m in ("max", "min", "sort", "topk", "kthvalue", "median", "mode") and gp.args:
                        index = self._tuple_index(gp, i - 1)
                        if index == 1:
                            return DROP, ""
                        if index is None and not all(self.gfree(a.value) for a in gp.args):
                            return COND, f"passed with possibly grad-requiring operands to .{m}()"
                        return DETACH, ""
                    if m in api.ALIAS_METHODS:
                        cur, i = gp, i - 2
                        continue
                    if is_inplace(m):
                        return MUTATE, f"modified in place by .{m}()"
                    if m in api.SAVES_NO_OPERAND_METHODS or all(self.gfree(a.value) for a in gp.args):
                        return self._fresh(gp, i - 1)
                    return COND, f"passed with possibly grad-requiring operands to .{m}()"
                if m in api.DATA_VALUE_ATTRS:
                    return DROP, ""
                if m in api.ALIAS_ATTRS:
                    cur, i = p, i - 1
                    continue
                if _is_target(p, gp):
                    return WRITE, ""
                return COND, f"its .{m} attribute is used"
            if isinstance(p, cst.Subscript) and p.value is cur:
                if _is_target(p, gp):
                    return WRITE, ""
                cur, i = p, i - 1
                continue
            if isinstance(p, (cst.SubscriptElement, cst.Index)):
                return DETACH, ""  # used as an index
            if isinstance(p, cst.Arg) and p.value is cur and isinstance(gp, cst.Call):
                status = self._as_argument(gp, p, i - 1)
                if status == "alias":
                    cur, i = gp, i - 2
                    continue
                return status
            if isinstance(p, cst.BinaryOperation):
                other = p.right if p.left is cur else p.left
                if isinstance(p.operator, cst.Modulo) and isinstance(p.left, (cst.SimpleString, cst.ConcatenatedString)):
                    return DETACH, ""
                if self.gfree(other):
                    return self._fresh(p, i)
                if isinstance(p.operator, (cst.Add, cst.Subtract)):
                    return DETACH, ""
                return COND, "combined with a tensor that may require grad"
            if isinstance(p, (cst.Comparison, cst.ComparisonTarget)):
                return DROP, ""
            if isinstance(p, (cst.UnaryOperation, cst.FormattedStringExpression)):
                return DETACH, ""
            if isinstance(p, cst.AugAssign):
                if p.target is cur:
                    return MUTATE, "augmented assignment"
                if isinstance(p.operator, (cst.AddAssign, cst.SubtractAssign)):
                    return DETACH, ""
                return COND, "used in an augmented assignment"
            if isinstance(p, cst.AssignTarget) and p.target is cur:
                return WRITE, ""
            if isinstance(p, cst.Assign) and p.value is cur:
                return self._assigned(p, _receiver_of(node))
            if isinstance(p, cst.Del):
                return WRITE, ""
            return COND, "the value is stored or passed on"
        return COND, "the value is stored or passed on"

    def _fresh(self, node: cst.CSTNode, index: int) -> Tuple[str, str]:
        """``node`` (at ``ctx.parents[index]``) is a new grad-free value computed from the
        ``.data``: ``.detach()`` is exact, and ``.data`` may even go if the value only reaches
        results without gradient further up."""
        anc = self.ctx.parents
        cur, i = node, index - 1
        while i >= 0:
            p = anc[i]
            gp = anc[i - 1] if i > 0 else None
            if isinstance(p, cst.Attribute) and p.value is cur and isinstance(gp, cst.Call) and gp.func is p:
                m = p.attr.value
                if m in api.GRADLESS_RESULT_METHODS:
                    return DROP, ""
                if m == "numpy" or is_inplace(m):
                    break
                cur, i = gp, i - 2
                continue
            if isinstance(p, cst.Subscript) and p.value is cur:
                cur, i = p, i - 1
                continue
            if isinstance(p, (cst.Comparison, cst.ComparisonTarget)):
                return DROP, ""
            if isinstance(p, cst.Arg) and p.value is cur and isinstance(gp, cst.Call):
                func = gp.func
                if isinstance(func, cst.Name) and func.value in api.NUMBER_BUILTINS and self.imports.is_builtin(func, func.value):
                    return DROP, ""
                q = self.imports.resolve(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
                if q in api.NONDIFF_FUNCTIONS or (isinstance(func, cst.Attribute) and func.attr.value in api.GRADLESS_RESULT_METHODS and q is None):
                    return DROP, ""
            break
        return DETACH, ""

    def _tuple_index(self, call: cst.Call, call_index: int) -> Optional[int]:
        """For ``x.max(1)`` (at ``ctx.parents[call_index]``): 1 if only the indices are used
        (``x.max(1)[1]``, ``_, i = x.max(1)``), 0 for the values, None when unknown."""
        anc = self.ctx.parents
        p = anc[call_index - 1] if call_index >= 1 else None
        if isinstance(p, cst.Subscript) and p.value is call and len(p.slice) == 1 and isinstance(p.slice[0].slice, cst.Index):
            v = p.slice[0].slice.value
            if isinstance(v, cst.Integer):
                return int(v.value)
        if isinstance(p, cst.Assign) and p.value is call and len(p.targets) == 1:
            t = p.targets[0].target
            if isinstance(t, (cst.Tuple, cst.List)) and len(t.elements) == 2:
                first = t.elements[0].value
                if isinstance(first, cst.Name) and first.value == "_":
                    return 1
        return None

    def _as_argument(self, call: cst.Call, arg: cst.Arg, call_index: int):
        others = [a for a in call.args if a is not arg]
        func = call.func
        if isinstance(func, cst.Name) and self.imports.is_builtin(func, func.value):
            if func.value in api.NUMBER_BUILTINS:
                return DROP, ""
            if func.value in api.DISPLAY_BUILTINS:
                return DETACH, ""
        q = self.imports.resolve(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if q:
            if q in api.VARIABLE_CLASSES:
                return DETACH, ""  # a working 0.3 program passed a plain tensor: grad-free
            if q.startswith("numpy."):
                return DETACH, ""
            if q in api.NONDIFF_FUNCTIONS:
                return DROP, ""
            if q.startswith("torch.nn.init."):
                return MUTATE, f"initialised in place by {q}"
            if q.startswith("torch."):
                last = q.rsplit(".", 1)[-1]
                if is_inplace(last) or any(a.keyword is not None and a.keyword.value in ("out", "inplace") for a in call.args):
                    return MUTATE, f"possibly modified in place by {q}"
                if q in api.GRAD_WRAPPERS or any(a.keyword is not None and a.keyword.value == "requires_grad" for a in call.args):
                    return COND, f"passed to {q}, which may make it require grad"
                if not all(self.gfree(a.value) for a in others):
                    return COND, f"passed to {q} with operands that may require grad"
                if last in ("max", "min", "sort", "topk") and self._tuple_index(call, call_index) == 1:
                    return DROP, ""
                return "alias" if _aliasing_torch_function(q) else (DETACH, "")
            return COND, "passed to a function"
        if isinstance(func, cst.Attribute):
            m = func.attr.value
            if m in api.GRADLESS_RESULT_METHODS:
                return DROP, ""
            if m in api.SAVES_NO_OPERAND_METHODS or m in ("add_", "sub_"):
                return DETACH, ""
            if m in ("expand_as", "view_as", "type_as", "masked_fill", "masked_fill_", "append"):
                return (DETACH, "") if m != "append" else (COND, "stored in a container")
            if self.gfree(func.value) and all(self.gfree(a.value) for a in others):
                return DETACH, ""
        return COND, "passed to a function"

    def _assigned(self, assign: cst.Assign, receiver: Optional[cst.CSTNode]) -> Tuple[str, str]:
        """A stored value is exact with ``.detach()`` when neither the name it is stored in nor
        the tensor it aliases can change in place: the name is local and never modified in place,
        aliased, returned or passed to code the tool cannot see, and the tensor is a fresh result
        (``model(x).data``) or such a local name itself."""
        if len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
            return COND, "assigned to an attribute, an item or several names"
        name = assign.targets[0].target.value
        scope = self.ctx.analysis.scope
        if scope.kind not in ("function", "module"):
            return COND, "the value is stored outside a function body"
        for n in (name, receiver.value if isinstance(receiver, cst.Name) else None):
            if n is None:
                continue
            if n in scope.inplace or n in scope.globals:
                return COND, f"`{n}` is modified in place in this scope"
            if n != name and any(b.how == "param" for b in scope.bindings.get(n, ())):
                return COND, f"`{n}` is a parameter: the caller may change it in place"
            why = self._escapes(scope, n)
            if why:
                return COND, why
        if receiver is not None and not isinstance(receiver, (cst.Name, cst.Call)):
            return COND, "the tensor is reached through an attribute or an item, which may change in place elsewhere"
        return DETACH, ""

    def _escapes(self, scope: Scope, name: str) -> str:
        """Why a stored tensor might be changed in place through another route ("" if never)."""
        cache: Dict[Tuple[int, str], str] = self.ctx.shared(_EscapeCache).table
        key = (id(scope), name)
        if key not in cache:
            cache[key] = _escape_reason(self, scope, name)
        return cache[key]


def _receiver_of(node: cst.CSTNode) -> Optional[cst.CSTNode]:
    """``E`` of the ``E.data`` a flow starts at."""
    if isinstance(node, cst.Attribute) and node.attr.value == "data":
        return node.value
    return None


class _EscapeCache:
    def __init__(self, ctx) -> None:
        self.table: Dict[Tuple[int, str], str] = {}


def _escape_reason(rule: DataRule, scope: Scope, name: str) -> str:
    analysis = rule.ctx.analysis
    resolve = analysis.file.qualified
    node = scope.node
    body = node.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)) else []
    parents: Dict[int, ast.AST] = {}
    stack: List[ast.AST] = list(body)
    for s in body:
        parents[id(s)] = node
    while stack:
        n = stack.pop()
        for child in ast.iter_child_nodes(n):
            parents[id(child)] = n
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.append(child)
            elif any(isinstance(x, ast.Name) and x.id == name for x in ast.walk(child)):
                return "the name is used in a nested function"
    for s in body:
        for n in ast.walk(s):
            if not (isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)):
                continue
            p = parents.get(id(n))
            if isinstance(p, ast.Attribute):
                continue  # x.size(), x.cpu(): in-place methods are in scope.inplace
            if isinstance(p, (ast.BinOp, ast.Compare, ast.UnaryOp, ast.BoolOp, ast.IfExp, ast.Subscript, ast.JoinedStr, ast.FormattedValue)):
                continue
            if isinstance(p, ast.Call) and n in p.args + [k.value for k in p.keywords]:
                q = resolve(p.func)
                if (
                    q and (q.startswith("torch.") or q.startswith("numpy.")) and not q.rsplit(".", 1)[-1].endswith("_")
                    and not any(k.arg in ("out", "inplace") for k in p.keywords)
                ):
                    continue
                if isinstance(p.func, ast.Name) and p.func.id in ("print", "len", "float", "int", "str", "repr", "format", "isinstance"):
                    continue
                if isinstance(p.func, ast.Attribute) and p.func.attr in ("format", "write", "info", "debug"):
                    continue
                return "the value is passed to a function"
            if isinstance(p, ast.Call) and p.func is n:
                return "the name is called"
            if isinstance(p, (ast.Return, ast.Yield)):
                return "the value is returned"
            if isinstance(p, ast.Assign) and p.value is n:
                return "the value is stored under another name"
            if isinstance(p, (ast.Tuple, ast.List, ast.Dict, ast.Set, ast.keyword, ast.Starred)):
                return "the value is stored in a container or passed on"
            if isinstance(p, (ast.Expr, ast.If, ast.While, ast.Assert, ast.comprehension)):
                continue
            return "the value is stored or passed on"
    return ""
