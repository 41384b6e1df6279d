"""Shared machinery of the ``.data`` rules (TU020-TU023): scope tracking, tensor kinds, and the
test that decides whether replacing a ``.data`` read by ``.detach()`` is exact.

Why a context test (spec section 3): ``x.data`` is an alias with its *own* version counter, while
``x.detach()`` shares ``x``'s counter. They differ only when the result (or a view of it) is saved
by an autograd graph that is backpropagated later *and* ``x`` or the result is modified in place
before that backward (``.detach()`` then raises, ``.data`` silently used the new values). So the
rewrite is exact when the value provably never reaches such a graph:

* it is converted (``.numpy()``, ``.tolist()``, ``.item()``, ``float()``, ``print``, formatting,
  comparisons, ``.eq()``, ``.size()``), or
* it goes through ops whose other operands are grad-free (numbers, other ``.data`` / ``.detach()``
  values), so nothing requires grad and nothing is saved (``torch.max(out.data, 1)``,
  ``out.data.max(1)[1]``, ``x.data.norm()``, ``x.data * 2``), or through ``+``/``-`` (their
  backward saves no operand), or
Views and conversions that may alias (``[...]``, ``.view()``, ``.chunk()``, ``.swapaxes()``,
``torch.permute()``, ``.cpu()``, ``.float()``, ``.T`` ...) are followed. Anything else is
"conditional" and only rewritten with ``--unsafe``: arguments of model or user functions,
``return``, containers, and values stored in a name (``h = h.data``, ``a, b = x.data.chunk(2)``):
whether the tensor or the stored alias is modified in place before a later backward cannot be
decided locally (aliases ``x2 = x; x2.mul_(2)``, callees ``bump(x)``, ``torch.nn.init.*_(x)``).
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from ..rule import LegacyTreeRule
from ..tensors import ScopeTracking, TensorInference, TENSOR_KINDS

SAFE, COND, MUTATE, WRITE = "safe", "cond", "mutate", "write"

# Methods whose result may alias the receiver's storage (views, tuples of views, conversions that
# may return self): follow the value further. Keep this list complete: a method missing here whose
# arguments are grad-free is taken as SAFE (its result is assumed to be a fresh tensor).
ALIAS_METHODS = frozenset(
    (
        "view view_as reshape reshape_as squeeze unsqueeze t transpose swapaxes swapdims moveaxis "
        "movedim permute expand expand_as broadcast_to narrow select flatten unflatten ravel "
        "as_strided diagonal unfold chunk split split_with_sizes unsafe_chunk unsafe_split "
        "tensor_split hsplit vsplit dsplit unbind adjoint conj resolve_conj resolve_neg "
        "indices values crow_indices col_indices ccol_indices row_indices align_as align_to "
        "rename refine_names as_subclass __getitem__ contiguous cpu cuda to type float double half "
        "bfloat16 long int short byte char bool cfloat cdouble type_as pin_memory requires_grad_ "
        "detach view_as_real view_as_complex"
    ).split()
)
# Attributes whose value aliases the tensor.
ALIAS_ATTRS = frozenset("T mT H mH real imag data".split())
# Methods with non-differentiable results, or whose backward saves no tensor argument.
NONDIFF_METHODS = frozenset(
    (
        "eq ne lt le gt ge equal argmax argmin numpy tolist item size dim numel nelement sign isnan "
        "isinf nonzero add sub copy_ add_ sub_ new new_tensor new_zeros new_ones tolist long_ "
    ).split()
)
_SAFE_ATTRS = frozenset("shape dtype device is_cuda requires_grad is_leaf ndim layout is_sparse".split())
_SAFE_BUILTINS = frozenset("float int bool len str repr print format round abs".split())
_ALIAS_TORCH = frozenset(
    "torch." + n
    for n in (
        "squeeze unsqueeze t transpose swapaxes swapdims moveaxis movedim permute narrow select "
        "reshape flatten unflatten ravel chunk split split_with_sizes unsafe_chunk unsafe_split "
        "tensor_split hsplit vsplit dsplit unbind diagonal as_strided view_as_real view_as_complex "
        "real imag conj resolve_conj resolve_neg adjoint broadcast_to broadcast_tensors atleast_1d "
        "atleast_2d atleast_3d meshgrid detach as_tensor asarray"
    ).split()
)


def _aliasing_torch_function(q: str) -> bool:
    """A torch function whose result may be (a view of) its tensor argument: views, `as_tensor`,
    `torch.Tensor.<view method>`, and every dropout (returns its input itself when not training)."""
    last = q.rsplit(".", 1)[-1]
    if q.startswith("torch.Tensor."):
        return last in ALIAS_METHODS
    return q in _ALIAS_TORCH or "dropout" in last
# wrappers whose result shares the storage and may require grad
_GRAD_WRAPPERS = frozenset(("torch.nn.Parameter", "torch.nn.parameter.Parameter", "torch.autograd.Variable", "torch.autograd.variable.Variable"))
_NONDIFF_TORCH = frozenset(
    "torch." + n for n in "eq ne lt le gt ge equal argmax argmin isnan isinf numel is_tensor sign nonzero".split()
)


def grad_free(expr: cst.CSTNode, is_tensor=None) -> bool:
    """An expression that certainly does not require grad (so it makes no graph save anything).
    ``is_tensor`` (when given) must accept the receiver of a ``.data``: a PackedSequence's ``.data``
    may require grad."""
    if isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return True
    if isinstance(expr, cst.Name):
        return expr.value in ("None", "True", "False")
    if isinstance(expr, cst.UnaryOperation):
        return grad_free(expr.expression, is_tensor)
    if isinstance(expr, cst.BinaryOperation):
        return grad_free(expr.left, is_tensor) and grad_free(expr.right, is_tensor)
    if isinstance(expr, cst.Attribute):
        if expr.attr.value == "data":
            return is_tensor is None or is_tensor(expr.value)
        return expr.attr.value in _SAFE_ATTRS
    if isinstance(expr, cst.Subscript):
        return grad_free(expr.value, is_tensor)
    if isinstance(expr, (cst.Tuple, cst.List)):
        return all(grad_free(e.value, is_tensor) for e in expr.elements if not isinstance(e, cst.StarredElement))
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        m = expr.func.attr.value
        if m in ("detach", "item", "size", "dim", "numel", "tolist"):
            return True
        return grad_free(expr.func.value, is_tensor) and all(grad_free(a.value, is_tensor) for a in expr.args)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("float", "int", "len"):
        return True
    return False


def _is_target(node: cst.CSTNode, parent: Optional[cst.CSTNode]) -> bool:
    if isinstance(parent, cst.AssignTarget) and parent.target is node:
        return True
    if isinstance(parent, (cst.AugAssign, cst.AnnAssign)) and parent.target is node:
        return True
    if isinstance(parent, cst.Del):
        return True
    if isinstance(parent, (cst.For, cst.CompFor)) and parent.target is node:
        return True
    return False


class DataRule(ScopeTracking, LegacyTreeRule):
    """Base of the ``.data`` rules: scope tracking and tensor inference."""

    needles = (".data",)
    # every rewrite of these rules is of a `.data` in the statement's own text
    statement_needles = (".data",)

    @classmethod
    def applies_to(cls, text: str) -> bool:
        # a file that never mentions torch cannot import it: skip the pass (numpy has many .data)
        return "torch" in text and super().applies_to(text)

    def __init__(self, ctx):
        super().__init__(ctx)
        self._st_init()
        self._inf: Optional[TensorInference] = None

    @property
    def inf(self) -> TensorInference:
        if self._inf is None:
            self._inf = self.ctx.shared(TensorInference)
        return self._inf

    def active(self) -> bool:
        """False for files that do not import torch (checked before the analysis is built)."""
        return self.imports.imports_torch

    def gfree(self, expr: cst.CSTNode) -> bool:
        return grad_free(expr, self.is_tensor)

    def kind_of(self, expr: cst.CSTNode):
        return self.inf.kind(expr, self.scope_key)

    def is_tensor(self, expr: cst.CSTNode) -> bool:
        return self.kind_of(expr) in TENSOR_KINDS

    # -- where does a value flow? ----------------------------------------------------------
    def flow(self, node: cst.CSTNode, receiver: cst.CSTNode) -> Tuple[str, str]:
        """Classify the use of ``node`` (a ``.data`` read, or a ``.data[i]``) whose tensor is
        ``receiver``: SAFE (``.detach()`` exact), COND (exact only under the spec's precondition),
        MUTATE (modified in place: not a read) or WRITE (assignment target)."""
        anc: List[cst.CSTNode] = self.parents
        cur = node
        i = len(anc) - 1
        while i >= 0:
            p = anc[i]
            gp = anc[i - 1] if i > 0 else None
            if isinstance(p, cst.Attribute) and p.value is cur:
                m = p.attr.value
                if isinstance(gp, cst.Call) and gp.func is p:
                    if m == "requires_grad_":
                        # the value then requires grad: any op on it may save it
                        return COND, "made to require grad"
                    if m in ALIAS_METHODS:
                        cur, i = gp, i - 2
                        continue
                    if m.endswith("_") and not m.endswith("__"):
                        return MUTATE, f"modified in place by .{m}()"
                    if m in NONDIFF_METHODS or all(self.gfree(a.value) for a in gp.args):
                        return SAFE, ""
                    return COND, f"passed with possibly grad-requiring operands to .{m}()"
                if m in _SAFE_ATTRS:
                    return SAFE, ""
                if m in ALIAS_ATTRS:
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
            if isinstance(p, cst.Arg) and p.value is cur and isinstance(gp, cst.Call):
                status = self._as_argument(gp, p)
                if status == "alias":
                    cur, i = gp, i - 2
                    continue
                return status
            if isinstance(p, cst.BinaryOperation):
                other = p.right if p.left is cur else p.left
                if isinstance(p.operator, (cst.Add, cst.Subtract)):
                    return SAFE, ""
                if isinstance(p.operator, cst.Modulo) and isinstance(p.left, (cst.SimpleString, cst.ConcatenatedString)):
                    return SAFE, ""
                if self.gfree(other):
                    return SAFE, ""
                return COND, "combined with a tensor that may require grad"
            if isinstance(p, (cst.UnaryOperation, cst.Comparison, cst.ComparisonTarget, cst.FormattedStringExpression)):
                return SAFE, ""
            if isinstance(p, cst.AugAssign):
                if p.target is cur:
                    return MUTATE, "augmented assignment"
                if isinstance(p.operator, (cst.AddAssign, cst.SubtractAssign)):
                    return SAFE, ""
                return COND, "used in an augmented assignment"
            if isinstance(p, cst.AssignTarget) and p.target is cur:
                return WRITE, ""
            if isinstance(p, cst.Assign) and p.value is cur:
                return self._assigned(p, receiver)
            if isinstance(p, cst.Del):
                return WRITE, ""
            return COND, "the value is stored or passed on"
        return COND, "the value is stored or passed on"

    def _as_argument(self, call: cst.Call, arg: cst.Arg):
        others = [a for a in call.args if a is not arg]
        func = call.func
        if isinstance(func, cst.Name) and func.value in _SAFE_BUILTINS and self.imports.is_builtin(func, func.value):
            return SAFE, ""
        q = self.imports.resolve(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if q:
            if q.startswith("numpy.") or q in _NONDIFF_TORCH:
                return SAFE, ""
            if q.startswith("torch."):
                last = q.rsplit(".", 1)[-1]
                if (last.endswith("_") and not last.endswith("__")) or any(
                    a.keyword is not None and a.keyword.value in ("out", "inplace") for a in call.args
                ):
                    return MUTATE, f"possibly modified in place by {q}"
                if q in _GRAD_WRAPPERS or any(a.keyword is not None and a.keyword.value == "requires_grad" for a in call.args):
                    return COND, f"passed to {q}, which may make it require grad"
                if not all(self.gfree(a.value) for a in others):
                    return COND, f"passed to {q} with operands that may require grad"
                return "alias" if _aliasing_torch_function(q) else (SAFE, "")
            return COND, "passed to a function"
        if isinstance(func, cst.Attribute):
            m = func.attr.value
            if m in NONDIFF_METHODS or m in ("expand_as", "view_as", "type_as", "masked_fill", "masked_fill_"):
                return SAFE, ""
            if self.gfree(func.value) and all(self.gfree(a.value) for a in others):
                return SAFE, ""
        return COND, "passed to a function"

    def _assigned(self, assign: cst.Assign, receiver: cst.CSTNode):
        # A stored value can reach a graph later, and whether the tensor (or the stored alias) is
        # modified in place before that backward cannot be decided by a local scan: mutations go
        # through other names (`x2 = x; x2.mul_(2)`), called functions (`bump(x)`) and module
        # functions (`torch.nn.init.constant_(x, 2.)`, `torch.exp_(x)`). So storing is an unsafe fix.
        for t in assign.targets:
            if not isinstance(t.target, cst.Name):
                return COND, "assigned to an attribute or item"
        return COND, "the value is stored in a name (a graph may save it and an in-place change may follow)"
