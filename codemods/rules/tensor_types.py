"""TU041 tensor-type-objects: ``x.type(torch.FloatTensor)`` and ``type(x) == torch.FloatTensor``."""
from __future__ import annotations

from typing import Optional, Tuple, Union, cast

import libcst as cst

from ..model import Example, FixClass
from ..rule import TreeRule
from ..torchapi import CONSTRUCTORS, DTYPE_METHODS, FACTORIES_WITH_REQUIRES_GRAD, LEGACY_TYPES, OTHER_FACTORIES, TENSOR_BASE, VARIABLE
from ._legacy_util import module_ref

# methods only tensors have, whose result is a tensor (a Module has none of them)
_TENSOR_ONLY_METHODS = frozenset(
    [
        "clone", "detach", "contiguous", "view", "view_as", "reshape", "permute", "t", "transpose", "squeeze",
        "unsqueeze", "expand", "expand_as", "narrow", "index_select", "masked_select", "gather", "matmul",
        "mm", "bmm", "sum", "mean", "abs", "exp", "log", "sqrt",
    ]
)
_TENSOR_FUNCTIONS = FACTORIES_WITH_REQUIRES_GRAD | OTHER_FACTORIES | CONSTRUCTORS | {"torch.from_numpy", "torch.as_tensor", "torch.cat", "torch.stack"}
_CPU_FUNCTIONS = frozenset({"torch.from_numpy"}) | frozenset(q for q, (_, dev) in LEGACY_TYPES.items() if dev is None)


def _type_string(expr: cst.BaseExpression) -> Optional[str]:
    if isinstance(expr, cst.SimpleString) and isinstance(expr.evaluated_value, str):
        return expr.evaluated_value
    return None


class TensorTypeObjects(TreeRule):
    code = "TU041"
    owns = ("call:x.type(torch.XTensor)", "compare:type(x) == torch.XTensor", "attr:torch._TensorBase")
    name = "tensor-type-objects"
    fix_classes = (FixClass.EXACT, FixClass.RESTORING, FixClass.UNPROVEN)
    summary = "`x.type(torch.FloatTensor)` -> `x.to('cpu', torch.float32)` on tensors; `type(x) == torch.FloatTensor` (always False since 0.4) -> `isinstance(x, torch.FloatTensor)`"
    needles = ("Tensor",)
    description = """
Two uses of the legacy type objects (`torch.FloatTensor`, `torch.cuda.LongTensor`, ...):

* `x.type(torch.FloatTensor)` / `x.type('torch.DoubleTensor')` still works in torch 2.13; on a
  tensor it is `x.to('cpu', torch.float32)` (the same conversion: returns `x` itself when
  nothing changes, differentiable, moves a CUDA tensor to the CPU). The rule rewrites it where
  the receiver is visibly a tensor (a torch factory or constructor call, `torch.from_numpy(...)`,
  or the result of a tensor-only method such as `.clone()` or `.view()`); on a CPU tensor from
  `torch.from_numpy(...)` it writes the dtype method (`.float()`). On an unknown receiver it
  leaves the call with a note: `Module.type(torch.FloatTensor)` also casts integer buffers, which
  `Module.to(torch.float32)` does not. `x.type(torch.cuda.FloatTensor)` -> `x.to('cuda',
  torch.float32)` is offered under `--unsafe` only: `.type` keeps a tensor that is already on
  another GPU on that GPU, `.to('cuda')` moves it to the current device (identical on one GPU).
* `type(x) == torch.FloatTensor` (also `is`, `!=`, `is not`, `type(x) in (torch.FloatTensor,
  torch.cuda.FloatTensor)`) is **always False since 0.4**: `type(x)` is `torch.Tensor` for every
  tensor. Under 0.3 it was True for a float CPU tensor, so branches written for tensors silently
  stopped running. The rule restores the 0.3 test: `isinstance(x, torch.FloatTensor)` (which
  torch 2.13 still answers by dtype and device).

`torch._TensorBase` (and `torch.tensor._TensorBase`), the base class of every 0.3 tensor type,
is gone (an AttributeError in torch 2.13, when the line runs): as the class of an `isinstance`
test it becomes `torch.Tensor`. In 0.3 it matched every plain tensor and no `Variable`; today
every tensor is a `torch.Tensor`. So the rewrite is exact where `Variable` is in the same
`isinstance` tuple (`(torch.tensor._TensorBase, Variable)`: both matched in 0.3) or where the
test is an `elif` after `if isinstance(x, Variable):` on the same name (a Variable never
reached it); restoring in a file that does not use `Variable`; elsewhere unproven (a Variable
reaching it was not a `_TensorBase` in 0.3). Other uses get a note.

`x.type()` (the type string) and comparisons such as `x.type() == 'torch.cuda.FloatTensor'` still
work as in 0.3 and are left alone (there is no shorter exact spelling: the string also encodes
the layout). `isinstance(x, torch.FloatTensor)` is kept too.

Fix safety: `x.type(T)` -> `x.to('cpu', dtype)` is exact on tensors (verified under torch 2.13:
same values, dtype, identity when unchanged, grad_fn). `type(x) == T` -> `isinstance(x, T)` is
restoring: it makes the branch behave as it did on 0.3 for tensors; in 0.3 a `Variable` was
never of a tensor type, so in a file that uses `Variable` (where `x` may have been one) the
rewrite is unproven and needs `--unsafe`. The CUDA `.to('cuda', ...)` form is unproven (it
assumes one GPU).
"""
    messages = {
        "receiver": "x.type({type}) left unchanged: on a tensor it is x.to({device!r}, torch.{dtype}), but the receiver may be an nn.Module, whose .type() also casts integer buffers",
        "mixed-types": "type(x) in (...) with legacy tensor types among other classes: type(x) is torch.Tensor for every tensor since 0.4, so the tensor types never match; rewrite with isinstance by hand",
        "no-torch": "no usable name for torch in this file",
        "tensor-base": "{name} was removed (an AttributeError in torch 2.13): it was the base class of the 0.3 tensor types; use torch.Tensor by hand (which also matches what were Variables)",
    }
    examples = (
        Example(
            title="conversions on visible tensors",
            before="""
            import numpy as np
            import torch
            a = torch.from_numpy(np.array(img)).type(torch.FloatTensor)
            b = torch.randn(3).type('torch.DoubleTensor')
            c = w.clone().type(torch.LongTensor)
            """,
            after="""
            import numpy as np
            import torch
            a = torch.from_numpy(np.array(img)).float()
            b = torch.randn(3).to('cpu', torch.float64)
            c = w.clone().to('cpu', torch.int64)
            """,
        ),
        Example(
            title="type(x) == torch.FloatTensor: always False since 0.4, the 0.3 test restored",
            before="""
            import torch
            if type(x) == torch.FloatTensor:
                x = x.numpy()
            ok = type(y) is not torch.cuda.LongTensor
            t = type(z) in (torch.FloatTensor, torch.cuda.FloatTensor)
            """,
            after="""
            import torch
            if isinstance(x, torch.FloatTensor):
                x = x.numpy()
            ok = not isinstance(y, torch.cuda.LongTensor)
            t = isinstance(z, (torch.FloatTensor, torch.cuda.FloatTensor))
            """,
        ),
        Example(
            title="--unsafe: CUDA conversions, and type checks in a file that uses Variable",
            unsafe=True,
            before="""
            import torch
            from torch.autograd import Variable
            p = m_param.clone().type(torch.cuda.FloatTensor).detach()
            if type(v) == torch.FloatTensor:
                v = Variable(v)
            """,
            after="""
            import torch
            from torch.autograd import Variable
            p = m_param.clone().to('cuda', torch.float32).detach()
            if isinstance(v, torch.FloatTensor):
                v = Variable(v)
            """,
        ),
        Example(
            title="unknown receivers, type strings, isinstance and mixed classes are left",
            before="""
            import torch
            import numpy as np
            model.type(torch.FloatTensor)
            same = x.type() == 'torch.cuda.FloatTensor'
            ok = isinstance(x, torch.FloatTensor)
            t = type(x) in (torch.FloatTensor, np.ndarray)
            base = type(x) == torch.Tensor
            """,
            notes=((3, "TU041", "may be an nn.Module"), (6, "TU041", "among other classes")),
        ),
        Example(
            title="torch._TensorBase (removed) in isinstance tests: after a Variable branch, beside Variable",
            before="""
            import torch
            from torch.autograd import Variable

            def sanitize(x):
                if isinstance(x, Variable):
                    return sanitize(x.data)
                elif isinstance(x, torch._TensorBase):
                    return x.cpu().tolist()
                return x

            def is_data(x):
                return isinstance(x, (torch.tensor._TensorBase, Variable))
            """,
            after="""
            import torch
            from torch.autograd import Variable

            def sanitize(x):
                if isinstance(x, Variable):
                    return sanitize(x.data)
                elif isinstance(x, torch.Tensor):
                    return x.cpu().tolist()
                return x

            def is_data(x):
                return isinstance(x, (torch.Tensor, Variable))
            """,
        ),
        Example(
            title="torch._TensorBase elsewhere: unproven in a file with Variable, noted outside isinstance",
            before="""
            import torch
            from torch.autograd import Variable

            def plain(x):
                return isinstance(x, torch._TensorBase)

            base = torch._TensorBase
            """,
            notes=((5, "TU041", "--unsafe"), (7, "TU041", "torch._TensorBase was removed")),
        ),
        Example(
            title="no name for torch",
            before="""
            from torch import DoubleTensor, randn
            torch = None
            y = randn(2).type(DoubleTensor)
            """,
            notes=((3, "TU041", "no usable name"),),
        ),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self._uses_variable = "Variable" in ctx.text
        # local names imported as torch._TensorBase (``from torch import _TensorBase as TB``)
        self._tensor_base_names = {local for local, targets in self.imports.aliases.items() if targets & TENSOR_BASE} if self.imports else set()

    # -- x.type(T) ------------------------------------------------------------------------------
    def _legacy_type(self, expr: cst.BaseExpression) -> Optional[Tuple[str, Tuple[str, Optional[str]]]]:
        s = _type_string(expr)
        q = s if s is not None else self.imports.resolve(expr)
        if not q:
            return None
        info = LEGACY_TYPES.get(q)
        return (q, info) if info else None

    def _tensor_receiver(self, expr: cst.BaseExpression) -> Optional[str]:
        """"cpu" for a visible CPU tensor, "tensor" for another visible tensor, else None."""
        if not isinstance(expr, cst.Call):
            return None
        q = self.imports.resolve(expr.func)
        if q in _CPU_FUNCTIONS:
            return "cpu"
        if q in _TENSOR_FUNCTIONS:
            return "tensor"
        if q is None and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _TENSOR_ONLY_METHODS:
            return "tensor"
        return None

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "type" or self.imports.resolve(func) is not None:
            return updated_node
        args = original_node.args
        if len(args) < 1 or args[0].keyword or args[0].star or any(a.star or (a.keyword and a.keyword.value != "non_blocking") for a in args[1:]) or len([a for a in args if not a.keyword]) != 1:
            return updated_node
        found = self._legacy_type(args[0].value)
        if found is None:
            return updated_node
        q, (dtype, device) = found
        short = q.replace("torch.", "", 1)
        receiver = self._tensor_receiver(func.value)
        if receiver is None:
            self.note(original_node, "receiver", type=short, device=device or "cpu", dtype=dtype)
            return updated_node
        torch_ref = module_ref(self, "torch")
        if torch_ref is None:
            self.note(original_node, "no-torch")
            return updated_node
        rest = list(updated_node.args[1:])
        if device is None and receiver == "cpu" and not rest:
            new_func = updated_node.func.with_changes(attr=cst.Name(DTYPE_METHODS[dtype]))
            if not self.fix(original_node, f"x.type({short}) -> x.{DTYPE_METHODS[dtype]}() (x is a CPU tensor)", FixClass.EXACT):
                return updated_node
            self._drop(args[0].value, q)
            return updated_node.with_changes(func=new_func, args=[])
        dev = device or "cpu"
        if device is None:
            ok = self.fix(original_node, f"x.type({short}) -> x.to('cpu', torch.{dtype}) (x is a tensor)", FixClass.EXACT)
        else:
            ok = self.fix(original_node, f"x.type({short}) -> x.to('cuda', torch.{dtype}): exact on one GPU (.type keeps a tensor that is on another GPU there; .to('cuda') moves it to the current device)", FixClass.UNPROVEN)
        if not ok:
            return updated_node
        self._drop(args[0].value, q)
        first = updated_node.args[0]
        new_args = [
            cst.Arg(cst.SimpleString(f"'{dev}'"), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            first.with_changes(value=cst.parse_expression(f"{torch_ref}.{dtype}")),
            *rest,
        ]
        return updated_node.with_changes(func=updated_node.func.with_changes(attr=cst.Name("to")), args=new_args)

    def _drop(self, expr: cst.BaseExpression, q: str) -> None:
        if isinstance(expr, cst.Name):
            self.ctx.drop_import_when_unused(q)

    # -- torch._TensorBase ----------------------------------------------------------------------
    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if original_node.attr.value != "_TensorBase":
            return updated_node
        return self._tensor_base(original_node, updated_node)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if original_node.value not in self._tensor_base_names:
            return updated_node
        parent = self.ctx.parents[-1] if self.ctx.parents else None
        if isinstance(parent, (cst.Attribute, cst.ImportAlias, cst.AsName)):
            return updated_node  # a part of a dotted name, or the import itself
        return self._tensor_base(original_node, updated_node)

    def _tensor_base(self, original_node: Union[cst.Name, cst.Attribute], updated_node: cst.BaseExpression) -> cst.BaseExpression:
        q = self.imports.resolve(original_node)
        if q not in TENSOR_BASE:
            return updated_node
        parents = self.ctx.parents
        # isinstance(x, TB) or isinstance(x, (TB, ...)): the class argument
        k = len(parents) - 1
        tuple_node = None
        if k >= 1 and isinstance(parents[k], cst.Element) and isinstance(parents[k - 1], cst.Tuple):
            tuple_node = cast(cst.Tuple, parents[k - 1])
            k -= 2
        arg = parents[k] if k >= 0 else None
        call = parents[k - 1] if k >= 1 else None
        if not (
            isinstance(arg, cst.Arg) and isinstance(call, cst.Call) and self.imports.is_builtin(call.func, "isinstance")
            and len(call.args) == 2 and call.args[1] is arg and not arg.keyword and not arg.star
        ):
            self.note(original_node, "tensor-base", name=q)
            return updated_node
        torch_ref = module_ref(self, "torch")
        if torch_ref is None:
            self.note(original_node, "no-torch")
            return updated_node
        subject = call.args[0].value
        if tuple_node is not None and any(
            isinstance(e, cst.Element) and self.imports.resolve(e.value) == VARIABLE for e in tuple_node.elements
        ):
            fix_class, why = FixClass.EXACT, "Variable is matched by the same test"
        elif self._after_variable_branch(call, subject, k - 2):
            fix_class, why = FixClass.EXACT, "an elif after the Variable branch: no Variable reached it"
        elif not self._uses_variable:
            fix_class, why = FixClass.RESTORING, "the 0.3 result for tensors"
        else:
            fix_class, why = FixClass.UNPROVEN, "in 0.3 a Variable was not a _TensorBase, and this file uses Variable"
        short = q.replace("torch.", "", 1)
        if not self.fix(original_node, f"isinstance(x, {short}) -> isinstance(x, torch.Tensor) ({short} was removed; {why})", fix_class):
            return updated_node
        if isinstance(original_node, cst.Name):
            self.ctx.drop_import_when_unused(q)
        return cst.parse_expression(f"{torch_ref}.Tensor")

    def _after_variable_branch(self, call: cst.Call, subject: cst.BaseExpression, i: int) -> bool:
        """``call`` is the whole test of an ``elif`` whose ``if`` tests ``isinstance(subject,
        Variable)`` on the same name (``i``: the index of the elif's If among the parents)."""
        parents = self.ctx.parents
        if i < 1 or not isinstance(subject, cst.Name):
            return False
        elif_, prev = parents[i], parents[i - 1]
        if not (isinstance(elif_, cst.If) and elif_.test is call and isinstance(prev, cst.If) and prev.orelse is elif_):
            return False
        test = prev.test
        return (
            isinstance(test, cst.Call) and self.imports.is_builtin(test.func, "isinstance") and len(test.args) == 2
            and isinstance(test.args[0].value, cst.Name) and test.args[0].value.value == subject.value
            and self.imports.resolve(test.args[1].value) == VARIABLE
        )

    # -- type(x) == T ---------------------------------------------------------------------------
    def _type_call_arg(self, expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
        if (
            isinstance(expr, cst.Call) and self.imports.is_builtin(expr.func, "type")
            and len(expr.args) == 1 and not expr.args[0].keyword and not expr.args[0].star
        ):
            return expr.args[0].value
        return None

    def leave_Comparison(self, original_node: cst.Comparison, updated_node: cst.Comparison) -> cst.BaseExpression:
        if len(original_node.comparisons) != 1:
            return updated_node
        target = original_node.comparisons[0]
        op = target.operator
        left, right = original_node.left, target.comparator
        u_left, u_right = updated_node.left, updated_node.comparisons[0].comparator
        if isinstance(op, (cst.Equal, cst.NotEqual, cst.Is, cst.IsNot)):
            if self._type_call_arg(left) is not None and self._legacy_type(right) is not None and _type_string(right) is None:
                x, types = _type_call_value(u_left), u_right
            elif self._type_call_arg(right) is not None and self._legacy_type(left) is not None and _type_string(left) is None:
                x, types = _type_call_value(u_right), u_left
            else:
                return updated_node
            negate = isinstance(op, (cst.NotEqual, cst.IsNot))
        elif isinstance(op, (cst.In, cst.NotIn)) and self._type_call_arg(left) is not None and isinstance(right, (cst.Tuple, cst.List, cst.Set)):
            elements = right.elements
            legacy = [e for e in elements if not isinstance(e, cst.StarredElement) and self._legacy_type(e.value) is not None and _type_string(e.value) is None]
            if not legacy:
                return updated_node
            if len(legacy) != len(elements):
                self.note(original_node, "mixed-types")
                return updated_node
            x = _type_call_value(u_left)
            types = cst.Tuple(elements=list(cast(Union[cst.Tuple, cst.List, cst.Set], u_right).elements), lpar=[cst.LeftParen()], rpar=[cst.RightParen()]) if not isinstance(u_right, cst.Tuple) else u_right
            negate = isinstance(op, cst.NotIn)
        else:
            return updated_node
        fix_class = FixClass.UNPROVEN if self._uses_variable else FixClass.RESTORING
        why = "in 0.3 a Variable was never of a tensor type, and this file uses Variable" if self._uses_variable else "the 0.3 result for tensors"
        if not self.fix(original_node, f"type(x) {'!=' if negate else '=='} torch.XTensor (always {'True' if negate else 'False'} since 0.4) -> {'not ' if negate else ''}isinstance(x, torch.XTensor) ({why})", fix_class):
            return updated_node
        call = cst.Call(
            func=cst.Name("isinstance"),
            args=[cst.Arg(x, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), cst.Arg(types)],
        )
        new: cst.BaseExpression = cst.UnaryOperation(operator=cst.Not(), expression=call) if negate else call
        return new.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)


def _type_call_value(updated: cst.BaseExpression) -> cst.BaseExpression:
    """``x`` of the updated ``type(x)`` call (its original passed ``_type_call_arg``)."""
    return cast(cst.Call, updated).args[0].value
