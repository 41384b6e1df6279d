"""TU035 softmax-implicit-dim: ``F.softmax(x)`` without ``dim`` -> the dim torch picks today."""
from __future__ import annotations

from typing import Dict, List, Optional, Set

import libcst as cst

from ..imports import dotted_name
from ..model import Example, FixClass
from ..rule import TreeRule
from ..torchapi import RANKED_FACTORIES, RANKED_VIEWS, SOFTMAX_FUNCTIONS, SOFTMAX_MODULES
from ._legacy_util import insert_arg, is_number, kwarg
from ._static import walk

# methods of nn.Module that return the module itself: nn.LogSoftmax().cuda() is still that module
_MODULE_CHAIN = frozenset({"cuda", "cpu", "to", "float", "double", "half", "train", "eval", "type"})


def _legacy_dim(rank: int) -> int:
    return 0 if rank in (0, 1, 3) else 1


class SoftmaxImplicitDim(TreeRule):
    code = "TU035"
    owns = ("call:softmax without dim",)
    name = "softmax-implicit-dim"
    uses_analysis = True
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    summary = "`F.softmax(x)`/`log_softmax`/`softmin` without `dim` -> the dim torch chooses (exact), else a note"
    needles = ("softmax", "Softmax", "softmin", "Softmin")
    description = """
`F.softmax(x)`, `F.log_softmax(x)` and `F.softmin(x)` without `dim` warn on every call under
torch 2.13 (`Implicit dimension choice for softmax has been deprecated`), an error under
`python -W error`. The dim torch picks is **0 if `x.dim()` is 0, 1 or 3, else 1** (verified for
ranks 0-4; 3-D input is normalised over dim 0, probably a latent bug, but that is what the code
computes). The rule adds exactly that dim:

* when the input's rank is visible in the code (`x.view(-1, n)`, `x.view(-1)`,
  `torch.randn(a, b, c)`): `dim=1` or `dim=0`;
* when the input is a plain name or attribute (`logits`, `self.scores`): the exact expression
  `dim=(0 if x.dim() in (0, 1, 3) else 1)` (evaluating a name twice has no effect);
* otherwise it leaves the call with a note; `--unsafe` writes `dim=1`, right for 2-D and 4-D
  inputs (the usual `(batch, classes)`) but not for 1-D or 3-D ones.

`nn.Softmax()`, `nn.LogSoftmax()`, `nn.Softmin()` without `dim` choose the dim at every call
(and warn at every call) from that call's input. The module takes one dim, so the rule writes it
only when it can see every call: the module is stored in a variable (`sm = nn.Softmax()`, in a
function or at module level) or an attribute (`self.softmax = nn.LogSoftmax()`, calls through
`self.softmax(...)` in the same class; `.cuda()` and the like may follow the constructor), every
use is a call with one argument, and every argument's rank is visible as above: then `dim=` is
the dim torch would pick at all of them (exact). Otherwise a note; `--unsafe` writes `dim=1`
(right for 2-D and 4-D inputs), except where the visible calls need different dims.

Fix safety: exact. The dim written is the one torch computes for that call today (for a
module: at each of its calls), so the output is bitwise identical and only the warning
disappears. Where the input's rank is not known, `dim=1` is unproven (`--unsafe`; a note
otherwise): it is exact only for inputs of rank 2 or 4. A module used
anywhere else (passed to `nn.Sequential`, returned, stored in a list) cannot have its calls seen.
"""
    messages = {
        "disagree": "{name}() without dim is called on inputs whose implicit dims differ ({dims}): one dim= cannot serve all its calls; use one module per rank, or F.{func}(x, dim=...) at each call",
    }
    examples = (
        Example(
            title="modules whose every call is visible: the dim torch picks at all of them",
            before="""
            import torch.nn as nn

            class Attention(nn.Module):
                def __init__(self):
                    super(Attention, self).__init__()
                    self.softmax = nn.Softmax()

                def forward(self, scores, n):
                    return self.softmax(scores.view(-1, n))

            def log_probs(x, b):
                lsm = nn.LogSoftmax().cuda()
                return lsm(x.view(b, -1)), lsm(x.view(-1, 10))
            """,
            after="""
            import torch.nn as nn

            class Attention(nn.Module):
                def __init__(self):
                    super(Attention, self).__init__()
                    self.softmax = nn.Softmax(dim=1)

                def forward(self, scores, n):
                    return self.softmax(scores.view(-1, n))

            def log_probs(x, b):
                lsm = nn.LogSoftmax(dim=1).cuda()
                return lsm(x.view(b, -1)), lsm(x.view(-1, 10))
            """,
        ),
        Example(
            title="a module called on inputs of different ranks",
            unsafe=True,
            before="""
            import torch.nn as nn
            sm = nn.Softmax()
            a = sm(x.view(-1))
            b = sm(x.view(2, -1))
            """,
            notes=((2, "TU035", "whose implicit dims differ (0, 1)"),),
        ),
        Example(
            title="rank visible in the code, or a plain name",
            before="""
            import torch.nn.functional as F

            p = F.softmax(scores.view(-1, n_classes))
            q = F.log_softmax(x.view(-1))
            r = F.softmax(logits)
            """,
            after="""
            import torch.nn.functional as F

            p = F.softmax(scores.view(-1, n_classes), dim=1)
            q = F.log_softmax(x.view(-1), dim=0)
            r = F.softmax(logits, dim=(0 if logits.dim() in (0, 1, 3) else 1))
            """,
        ),
        Example(
            title="--unsafe: dim=1 for unknown ranks",
            unsafe=True,
            before="""
            import torch.nn as nn
            import torch.nn.functional as F
            out = F.softmax(self.fc(h))
            layer = nn.Softmax()
            """,
            after="""
            import torch.nn as nn
            import torch.nn.functional as F
            out = F.softmax(self.fc(h), dim=1)
            layer = nn.Softmax(dim=1)
            """,
        ),
        Example(
            title="calls with dim (keyword or positional) and unknown ranks by default are left alone",
            before="""
            import torch.nn as nn
            import torch.nn.functional as F
            a = F.softmax(x, dim=-1)
            b = F.log_softmax(x, 1)
            c = F.softmax(self.fc(h))
            layer = nn.Softmax()
            """,
            notes=((5, "TU035", "dim=1 assumes 2-D or 4-D input"), (6, "TU035", "dim=1 assumes 2-D or 4-D input")),
        ),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        # id(module constructor call) -> the implicit dim at each of its visible calls
        self._module_dims: Dict[int, List[int]] = {}

    def visit_Module(self, node: cst.Module) -> None:
        if "Softmax()" not in self.ctx.text and "Softmin()" not in self.ctx.text:
            return
        w = walk(node)
        parent_of = {id(n): p for n, p, _ in w.nodes if p is not None}
        for n, _, scopes in w.nodes:
            if not (isinstance(n, cst.Call) and not n.args and self.imports.resolve(n.func) in SOFTMAX_MODULES):
                continue
            expr: cst.BaseExpression = n
            holder = parent_of.get(id(expr))
            while isinstance(holder, cst.Attribute) and holder.value is expr and holder.attr.value in _MODULE_CHAIN:
                call = parent_of.get(id(holder))
                if not (isinstance(call, cst.Call) and call.func is holder):
                    break
                expr, holder = call, parent_of.get(id(call))
            if not (isinstance(holder, cst.Assign) and len(holder.targets) == 1 and holder.value is expr):
                continue
            target = holder.targets[0].target
            if isinstance(target, cst.Name):
                region = scopes[-1] if scopes else None
                same = lambda u, t=target: isinstance(u, cst.Name) and u.value == t.value  # noqa: E731
            elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
                region = next((s for s in reversed(scopes) if isinstance(s, cst.ClassDef)), None)
                if region is None:
                    continue
                same = lambda u, t=target: isinstance(u, cst.Attribute) and u.attr.value == t.attr.value and isinstance(u.value, cst.Name) and u.value.value == t.value.value  # noqa: E731
            else:
                continue
            dims = self._call_dims(w, parent_of, region, same, target)
            if dims:
                self._module_dims[id(n)] = dims

    def _call_dims(self, w, parent_of, region, same, target) -> Optional[List[int]]:
        """The implicit dim at every use of the stored module, or None if a use is not a call on
        an input of visible rank."""
        inside: Set[int] = set()
        for u, _, _ in w.nodes:
            if u is target:
                inside.update(id(x) for x, _, _ in walk(u).nodes)
        dims: List[int] = []
        for u, parent, scopes in w.nodes:
            if id(u) in inside or not same(u) or (region is not None and region not in scopes):
                continue
            if isinstance(u, cst.Name) and isinstance(parent, cst.Attribute) and parent.attr is u:
                continue
            call = parent
            if not (isinstance(call, cst.Call) and call.func is u and len(call.args) == 1 and not call.args[0].keyword and not call.args[0].star):
                return None
            rank = self._rank(call.args[0].value)
            if rank is None:
                return None
            dims.append(_legacy_dim(rank))
        return dims or None

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        q = self.imports.resolve(original_node.func)
        if q not in SOFTMAX_FUNCTIONS and q not in SOFTMAX_MODULES:
            return updated_node
        args = updated_node.args
        if any(a.star for a in args) or any(a.keyword and a.keyword.value == "dim" for a in args):
            return updated_node
        pos = [a for a in args if a.keyword is None]
        short = q.rsplit(".", 1)[1]
        if q in SOFTMAX_MODULES:
            if pos:
                return updated_node
            dims = self._module_dims.get(id(original_node))
            if dims is not None and len(set(dims)) == 1:
                self.edit(original_node, f"{short}() -> dim={dims[0]} (the dim torch picks at each of its {len(dims)} call(s))")
                return updated_node.with_changes(args=[kwarg("dim", cst.Integer(str(dims[0])))])
            if dims is not None:
                func = {"Softmax": "softmax", "LogSoftmax": "log_softmax", "Softmin": "softmin"}[short]
                self.note(original_node, "disagree", name=short, dims=", ".join(str(d) for d in sorted(set(dims))), func=func)
                return updated_node
            if not self.fix(original_node, f"{short}() without dim: the dim is chosen per call from the input's rank (0 for 1-D/3-D input, else 1); dim=1 assumes 2-D or 4-D input", FixClass.UNPROVEN):
                return updated_node
            return updated_node.with_changes(args=[kwarg("dim", cst.Integer("1"))])
        if len(pos) != 1:
            return updated_node
        x = original_node.args[[a.keyword is None for a in original_node.args].index(True)].value
        rank = self._rank(x)
        if rank is not None:
            dim: cst.BaseExpression = cst.Integer(str(_legacy_dim(rank)))
            self.edit(original_node, f"{short}(x) -> dim={_legacy_dim(rank)} (input rank {rank})")
        elif dotted_name(x) is not None:
            name = dotted_name(x)
            dim = cst.parse_expression(f"(0 if {name}.dim() in (0, 1, 3) else 1)")
            self.edit(original_node, f"{short}(x) -> dim=(0 if x.dim() in (0, 1, 3) else 1) (exactly the implicit choice)")
        else:
            if not self.fix(original_node, f"{short}(...) without dim: torch picks dim 0 for 0-/1-/3-D input, else 1; dim=1 assumes 2-D or 4-D input", FixClass.UNPROVEN):
                return updated_node
            dim = cst.Integer("1")
        index = [a.keyword is None for a in args].index(True) + 1
        return updated_node.with_changes(args=insert_arg(args, index, kwarg("dim", dim)))

    def _rank(self, x: cst.BaseExpression) -> Optional[int]:
        """A rank of ``x`` that decides the implicit dim (any of them, when they all agree)."""
        rank = self._syntactic_rank(x)
        if rank is not None:
            return rank
        k = self.ctx.analysis.tensor_here(x)
        if k is not None and k.rank and len({_legacy_dim(r) for r in k.rank}) == 1:
            return min(k.rank)
        return None

    def _syntactic_rank(self, x: cst.BaseExpression) -> Optional[int]:
        if not isinstance(x, cst.Call) or any(a.star or a.keyword for a in x.args):
            return None
        if (
            isinstance(x.func, cst.Attribute) and x.func.attr.value in RANKED_VIEWS and self.imports.resolve(x.func) is None
        ) or self.imports.resolve(x.func) in RANKED_FACTORIES:
            sizes = list(x.args)
        else:
            return None
        if len(sizes) == 1:
            v = sizes[0].value
            if isinstance(v, (cst.Tuple, cst.List)):
                if any(isinstance(e, cst.StarredElement) for e in v.elements):
                    return None
                return len(v.elements)
            return 1 if is_number(v) else None
        return len(sizes) or None
