"""TU023 data-inplace: in-place updates through ``.data`` -> ``torch.no_grad()`` / ``nn.init``."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Set

import libcst as cst

from ..cstutil import cst_visit
from ..model import Example, FixClass
from ..semantic.kinds import Grad
from .data_common import DataRule

# Tensor.<m>_(args) -> nn.init.<fn>(t, args): same arguments, same RNG draws (spec section 3).
_INIT = {"normal_": "normal_", "uniform_": "uniform_", "fill_": "constant_", "zero_": "zeros_"}


def _is_inplace(method: str) -> bool:
    return method.endswith("_") and not method.endswith("__") and method != "requires_grad_"


def _data_root(expr: cst.CSTNode) -> Optional[cst.Attribute]:
    """``R.data`` at the root of ``R.data``, ``R.data[i]``, ``R.data[i][j]``."""
    while isinstance(expr, cst.Subscript):
        expr = expr.value
    if isinstance(expr, cst.Attribute) and expr.attr.value == "data":
        return expr
    return None


def _neutral(stmt: cst.CSTNode) -> bool:
    """``continue``/``pass``/``break`` lines and ``if ...: continue`` (harmless under no_grad)."""
    if isinstance(stmt, cst.SimpleStatementLine):
        return all(isinstance(s, (cst.Continue, cst.Pass, cst.Break)) for s in stmt.body)
    if isinstance(stmt, cst.If) and stmt.orelse is None and isinstance(stmt.body, cst.IndentedBlock):
        return all(_neutral(s) for s in stmt.body.body)
    return False


class _StripData(cst.CSTTransformer):
    def __init__(self, rule: "DataInplace"):
        self.rule = rule

    def leave_Attribute(self, original_node, updated_node):
        if original_node.attr.value != "data":
            return updated_node
        recv = original_node.value
        if isinstance(recv, cst.Attribute) and recv.attr.value == "grad":
            return updated_node
        if self.rule.is_tensor(recv):
            return updated_node.value
        return updated_node


class DataInplace(DataRule):
    code = "TU023"
    owns = ("attr:.data",)
    after = ("TU022",)
    name = "data-inplace"
    summary = "In-place updates through `.data` -> `with torch.no_grad():`; init through `.data` -> `nn.init.*_`"
    fix_class = FixClass.UNPROVEN
    fix_classes = (FixClass.UNPROVEN, FixClass.EXACT)
    needles = (".data",)
    description = """
Legacy code updates parameters through `.data` so that autograd does not see the update:
manual SGD `p.data.add_(-lr, p.grad)`, EMA `tp.data.mul_(tau).add_((1 - tau) * p.data)`, WGAN
clipping `p.data.clamp_(-c, c)`, `dst.data.copy_(src.data)`, `emb.weight.data[pad].zero_()`,
`p.data -= lr * p.grad`. The modern idiom is the same update without `.data` inside
`with torch.no_grad():`; consecutive update statements share one block, and a `for` loop whose
body only updates (and maybe `continue`s) is wrapped as a whole. Initialisation statements
`w.data.normal_(mean, std)`, `.uniform_(a, b)`, `.fill_(c)`, `.zero_()` become
`nn.init.normal_(w, mean, std)`, `nn.init.uniform_(w, a, b)`, `nn.init.constant_(w, c)`
(`zeros_`/`ones_` for literal 0/1) and `nn.init.zeros_(w)`, which draw the same random numbers
and give bitwise identical values. Only receivers the tensor inference knows to be tensors are
rewritten (parameters from `.parameters()`, `m.weight`/`m.bias` of known modules, including the
argument of a function passed to `model.apply(fn)`, `self.w` assigned a tensor ...).

`p.data = t` and `p.data[i] = t` are kept: swapping a parameter's storage (shape and dtype may
change, the Parameter object and optimizer references stay) has no exact modern spelling; they
get a note.

Fix safety: unproven. The values are bitwise identical, but `.data` updates do not bump the
tensor's version counter while the `no_grad`/`nn.init` forms do: if a graph
that saved the tensor is still alive and is backpropagated after the update, the new code
raises "one of the variables needed for gradient computation has been modified by an inplace
operation" where the old code silently used the new values. Ordinary
`zero_grad -> forward -> backward -> update` loops and construction-time initialisation are
exact (and applied by default where the tool sees them). Without `--unsafe` every such statement is reported as a note.
"""
    examples = (
        Example(
            title="manual SGD: one no_grad block around the loop",
            unsafe=True,
            before="""
            import torch

            def sgd_step(model, lr):
                for p in model.parameters():
                    if p.grad is None:
                        continue
                    p.data.add_(-lr * p.grad)
                model.zero_grad()
            """,
            after="""
            import torch

            def sgd_step(model, lr):
                with torch.no_grad():
                    for p in model.parameters():
                        if p.grad is None:
                            continue
                        p.add_(-lr * p.grad)
                model.zero_grad()
            """,
        ),
        Example(
            title="EMA, clipping and copies; consecutive updates share a block",
            unsafe=True,
            before="""
            import torch.nn as nn

            def soft_update(target, source, tau):
                for tp, sp in zip(target.parameters(), source.parameters()):
                    tp.data.mul_(1 - tau).add_(tau * sp.data)

            def clip(netD, c):
                for p in netD.parameters():
                    p.data.clamp_(-c, c)

            enc = nn.Embedding(10, 4)
            dec = nn.Linear(4, 10)
            # tie and clear padding
            dec.weight.data.copy_(enc.weight.data)
            enc.weight.data[0].zero_()
            dec.bias.data -= 1.0
            """,
            after="""
            import torch.nn as nn
            import torch

            def soft_update(target, source, tau):
                with torch.no_grad():
                    for tp, sp in zip(target.parameters(), source.parameters()):
                        tp.mul_(1 - tau).add_(tau * sp)

            def clip(netD, c):
                with torch.no_grad():
                    for p in netD.parameters():
                        p.clamp_(-c, c)

            enc = nn.Embedding(10, 4)
            dec = nn.Linear(4, 10)
            # tie and clear padding
            with torch.no_grad():
                dec.weight.copy_(enc.weight)
                enc.weight[0].zero_()
                dec.bias -= 1.0
            """,
        ),
        Example(
            title="initialisation becomes nn.init (DCGAN weights_init through model.apply)",
            unsafe=True,
            before="""
            import torch.nn as nn

            def weights_init(m):
                classname = m.__class__.__name__
                if classname.find('Conv') != -1:
                    m.weight.data.normal_(0.0, 0.02)
                elif classname.find('BatchNorm') != -1:
                    m.weight.data.normal_(1.0, 0.02)
                    m.bias.data.fill_(0)

            netG.apply(weights_init)
            for m in net.modules():
                if isinstance(m, nn.Linear):
                    m.weight.data.uniform_(-0.1, 0.1)
                    m.bias.data.zero_()
            """,
            after="""
            import torch.nn as nn

            def weights_init(m):
                classname = m.__class__.__name__
                if classname.find('Conv') != -1:
                    nn.init.normal_(m.weight, 0.0, 0.02)
                elif classname.find('BatchNorm') != -1:
                    nn.init.normal_(m.weight, 1.0, 0.02)
                    nn.init.zeros_(m.bias)

            netG.apply(weights_init)
            for m in net.modules():
                if isinstance(m, nn.Linear):
                    nn.init.uniform_(m.weight, -0.1, 0.1)
                    nn.init.zeros_(m.bias)
            """,
        ),
        Example(
            title="without --unsafe: notes only; p.data = t kept; unknown receivers untouched",
            before="""
            import torch

            for p in model.parameters():
                p.data.add_(-lr, p.grad)
                p.data = p.data.half()
            self.data.fill_(0)
            buffer.data.zero_()
            """,
            notes=((4, "TU023", "unproven fix not applied"), (5, "TU023", "no exact modern spelling")),
        ),
        Example(
            title="no name for torch or torch.nn.init: notes",
            unsafe=True,
            before="""
            from torch.nn import Linear
            torch = None
            fc = Linear(2, 2)
            for p in fc.parameters():
                p.data.clamp_(-1, 1)
            fc.weight.data.normal_(0, 1)
            """,
            notes=((5, "TU023", "cannot name torch here"), (6, "TU023", "cannot name torch.nn.init")),
        ),
    )

    messages = {
        "storage-swap": "`p.data = t` / `p.data[i] = t` kept: no exact modern spelling (storage swap / unversioned write)",
        "no-torch": "in-place update through .data left: cannot name torch here",
        "no-init": "initialisation through .data left: cannot name torch.nn.init here",
    }

    def __init__(self, ctx):
        super().__init__(ctx)
        # id -> node (the node is kept alive so that its id is not reused)
        self._updates: Dict[int, cst.CSTNode] = {}
        self._for_bodies: Set[int] = set()
        self._pure_for_bodies: Set[int] = set()

    # -- statement classification --------------------------------------------------------------
    def _update_root(self, small: cst.BaseSmallStatement) -> Optional[cst.Attribute]:
        """The ``R.data`` an in-place update statement writes through, or None."""
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            c: cst.BaseExpression = small.value
            while isinstance(c, cst.Call) and isinstance(c.func, cst.Attribute):
                if not _is_inplace(c.func.attr.value):
                    return None
                c = c.func.value
            return _data_root(c)
        if isinstance(small, cst.AugAssign) and isinstance(small.operator, (cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign, cst.DivideAssign)):
            return _data_root(small.target)
        return None

    def _known(self, root: cst.Attribute) -> bool:
        recv = root.value
        if isinstance(recv, cst.Attribute) and recv.attr.value == "grad":
            return False  # TU022's business
        return self.is_tensor(recv)

    def _init_call(self, small: cst.BaseSmallStatement) -> Optional[cst.Call]:
        if not (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)):
            return None
        call = small.value
        if not isinstance(call.func, cst.Attribute) or call.func.attr.value not in _INIT:
            return None
        root = call.func.value
        if not (isinstance(root, cst.Attribute) and root.attr.value == "data"):
            return None
        method = call.func.attr.value
        args = call.args
        if any(a.star for a in args):
            return None
        pos = [a for a in args if not a.keyword]
        kws = {a.keyword.value for a in args if a.keyword}
        allowed = {"normal_": (2, {"mean", "std", "generator"}), "uniform_": (2, {"generator"}), "fill_": (1, set()), "zero_": (0, set())}
        n, names = allowed[method]
        if len(pos) > n or kws - names or (method == "fill_" and len(pos) != 1):
            return None
        return call

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call):
        """``nn.init.xavier_uniform(w.data)`` -> ``nn.init.xavier_uniform(w)``: the initialisers
        run under ``no_grad`` themselves (TU031 adds the ``_``)."""
        q = self.imports.resolve(original_node.func)
        if not q or not q.startswith("torch.nn.init.") or not original_node.args:
            return updated_node
        first = original_node.args[0]
        root = first.value
        if first.keyword or not (isinstance(root, cst.Attribute) and root.attr.value == "data") or not self.is_tensor(root.value):
            return updated_node
        new_first = updated_node.args[0]
        if not (isinstance(new_first.value, cst.Attribute) and new_first.value.attr.value == "data"):
            return updated_node
        fix_class = FixClass.EXACT if self._at_construction() else FixClass.UNPROVEN
        if not self.fix(original_node, "nn.init.X(w.data) -> nn.init.X(w) (the initialisers run under no_grad)", fix_class):
            return updated_node
        return updated_node.with_changes(args=[new_first.with_changes(value=new_first.value.value), *updated_node.args[1:]])

    def leave_SimpleStatementLine(self, original_node, updated_node):
        roots = [self._update_root(s) for s in original_node.body]
        assigns = [s for s in original_node.body if isinstance(s, cst.Assign)]
        if not (any(r is not None for r in roots) or assigns) or not self.active():
            return updated_node
        # p.data = t / p.data[i] = t: kept with a note
        for s in assigns:
            for t in s.targets:
                root = _data_root(t.target)
                if root is not None and self._known(root):
                    self.note(original_node, "storage-swap")
        if not roots or any(r is None or not self._known(r) for r in roots):
            return updated_node
        if len(original_node.body) == 1:
            init = self._init_call(original_node.body[0])
            root = roots[0]
            k = self.tensor(root.value) if root is not None else None
            if init is not None and k is not None and k.grad is Grad.PARAM:
                return self._to_init(original_node, updated_node)  # parameters only: nn.init is for weights
        torch = self.module_name("torch") if self.ctx.unsafe else "torch"
        if torch is None:
            self.note(original_node, "no-torch")
            return updated_node
        if not self.fix(original_node, "in-place update through .data -> the update without .data under torch.no_grad()"):
            return updated_node
        new = cst_visit(updated_node, _StripData(self))
        self._updates[id(new)] = new
        return new

    def _to_init(self, original_node, updated_node):
        call: cst.Call = updated_node.body[0].value
        method = call.func.attr.value
        fn = _INIT[method]
        if method == "fill_":
            v = call.args[0].value
            if isinstance(v, (cst.Integer, cst.Float)) and v.value in ("0", "0.", "0.0"):
                fn = "zeros_"
            elif isinstance(v, (cst.Integer, cst.Float)) and v.value in ("1", "1.", "1.0"):
                fn = "ones_"
        if fn in ("zeros_", "ones_"):
            args: List[cst.Arg] = []
        else:
            args = list(call.args)
        fix_class = FixClass.EXACT if self._at_construction() else FixClass.UNPROVEN
        if not self.allowed(fix_class):
            self.fix(original_node, f"initialisation through .data -> nn.init.{fn}", fix_class)
            return updated_node
        init = self._init_module()
        if init is None:
            self.note(original_node, "no-init")
            return updated_node
        self.fix(original_node, f"initialisation through .data -> nn.init.{fn}", fix_class)
        target = call.func.value.value  # R of R.data
        first = cst.Arg(target, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if args else cst.MaybeSentinel.DEFAULT)
        new_call = cst.Call(func=cst.parse_expression(f"{init}.{fn}"), args=[first, *args])
        return updated_node.with_changes(body=[updated_node.body[0].with_changes(value=new_call)])

    def _at_construction(self) -> bool:
        """The statement runs while a model is built, before any graph exists: in ``__init__``,
        ``reset_parameters``/``init_weights``-style methods, or a function given to ``m.apply``."""
        scope = self.ctx.analysis.scope.function()
        if scope.kind != "function":
            return False
        name = scope.name
        return name in ("__init__", "reset_parameters") or name in self.ctx.analysis.scopes.applied or (
            "init" in name.lower() and "weight" in name.lower()
        )

    def _init_module(self) -> Optional[str]:
        nn = self.imports.module_alias("torch.nn")
        if nn:
            return f"{nn}.init"
        init = self.imports.module_alias("torch.nn.init")
        if init:
            return init
        torch = self.module_name("torch")
        return f"{torch}.nn.init" if torch else None

    # -- grouping into no_grad blocks ----------------------------------------------------------
    def visit_For(self, node):
        if node.orelse is None and isinstance(node.body, cst.IndentedBlock):
            self._for_bodies.add(id(node.body))
        return True

    def leave_For(self, original_node, updated_node):
        if id(original_node.body) in self._pure_for_bodies:
            self._updates[id(updated_node)] = updated_node
        return updated_node

    def _group(self, body: Sequence[cst.BaseStatement]) -> List[cst.BaseStatement]:
        out: List[cst.BaseStatement] = []
        run: List[cst.BaseStatement] = []

        def flush():
            if not run:
                return
            first = run[0]
            lead = first.leading_lines
            stmts = [first.with_changes(leading_lines=[]), *run[1:]]
            out.append(
                cst.With(
                    items=[cst.WithItem(item=cst.parse_expression("torch.no_grad()"))],
                    body=cst.IndentedBlock(body=stmts),
                    leading_lines=lead,
                )
            )
            run.clear()

        for stmt in body:
            if id(stmt) in self._updates:
                run.append(stmt)
            else:
                flush()
                out.append(stmt)
        flush()
        return out

    def leave_IndentedBlock(self, original_node, updated_node):
        body = updated_node.body
        if any(id(s) in self._updates for s in body):
            pure = all(id(s) in self._updates or _neutral(s) for s in body)
            if id(original_node) in self._for_bodies and pure:
                self._pure_for_bodies.add(id(original_node))
            else:
                updated_node = updated_node.with_changes(body=self._group_named(body))
        return updated_node

    def leave_Module(self, original_node, updated_node):
        if any(id(s) in self._updates for s in updated_node.body):
            updated_node = updated_node.with_changes(body=self._group_named(updated_node.body))
        return updated_node

    def _group_named(self, body):
        torch = self.module_name("torch") or "torch"
        grouped = self._group(body)
        old = {id(s) for s in body}
        if torch != "torch":
            expr = cst.parse_expression(f"{torch}.no_grad()")
            grouped = [
                s.with_changes(items=[cst.WithItem(item=expr)]) if isinstance(s, cst.With) and id(s) not in old else s
                for s in grouped
            ]
        return grouped
