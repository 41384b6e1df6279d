"""TU010 volatile-no-grad and TU011 volatile-read.

The analysis lives in ``volatile_flow.py`` (data flow per scope) and ``volatile_plan.py``
(regions, helpers); this module turns the plan into edits.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Set

import libcst as cst

from ..cstutil import code_of, prune_statements, strip_arg_comma
from ..model import Example, FixClass
from ..rule import LegacyTreeRule
from ..tensors import TENSOR_KINDS, ScopeTracking, TensorInference
from .volatile_flow import TRUE, negate
from .volatile_plan import Plan, VolatileAnalysis, can_decorate, plan_regions, scope_blocks



class VolatileNoGrad(LegacyTreeRule):
    code = "TU010"
    owns = ("call:Variable(volatile=)", "attr:volatile=", "volatile-helpers")
    name = "volatile-no-grad"
    summary = "`Variable(x, volatile=True)` -> `torch.no_grad()` regions around the code that consumes it"
    fix_class = FixClass.UNPROVEN
    fix_classes = (FixClass.UNPROVEN, FixClass.EXACT)
    needles = ("volatile",)
    description = """
`volatile=True` has had no effect since PyTorch 0.4: it only warns ("volatile was removed and now
has no effect. Use `with torch.no_grad():` instead."). In 0.3 every value computed from a volatile
Variable was volatile (no graph, no gradient) until code reset it with `x.volatile = False`;
`x.data` and sizes were plain values. Legacy evaluation code therefore builds graphs today, and
training code that used volatile to *block* gradients (the DQN target pattern) now leaks gradients
into networks 0.3 kept frozen. The rule restores the 0.3 behaviour with modern constructs.

What it does, per scope (module, function, class body), by data flow in statement order:

* Sources: `Variable(x, volatile=True)` (any alias of `Variable`, keyword or third positional
  argument), `x.volatile = True`, and calls of same-module *helpers* (below). The flag is
  dropped; the Variable itself is left to TU001.
* Volatile-derived names are tracked through assignments, augmented assignments, tuple unpacking,
  loop targets, `lst.append(v)`, `buf[i] = v` and `self.attr` chains; `x.volatile = False` ends
  the propagation and is removed; `.data`, `.size()`, `.item()`, `.shape` give plain values.
* A statement that *computes* on a volatile-derived value (a forward pass, arithmetic, an unknown
  call) goes under `with torch.no_grad():`. Statements that only pass values on (names, `.cuda()`,
  containers, `return v`) need no region. A region spans consecutive such statements and may
  include statements in between that are neutral under no-grad (counters, `print`,
  `model.eval()`, definitions); it never includes anything else, so a forward pass on
  non-volatile inputs stays outside. A loop whose results are used after it is wrapped whole
  when everything in it is neutral or volatile.
* When the whole body of a function qualifies, the function gets `@torch.no_grad()` instead
  (typical `validate()`, `test()`, `predict()`). This is also how generator functions are handled:
  torch's decorator switches the mode per step, so the caller's grad mode is untouched while the
  generator is suspended. Otherwise a region never contains a `yield`.
* `volatile=<expression>` (`volatile=not train`) becomes
  `with torch.set_grad_enabled(<negated expression>):` (`train`, never `not not train`); the
  expression must not be reassigned in the function. `volatile=False` is dropped.
* Helpers that return a volatile value, `def to_var(x, volatile=False): return Variable(x,
  volatile=volatile)` (or always-volatile ones), move the decision to their call sites in the same
  module (functions called by name, methods called as `self.f(...)`): calls with `volatile=True`
  put the statements that consume the result under no-grad. The helper drops the parameter when
  the module is a script (it has a `__main__` guard or top-level loops) and every use is a call
  that was migrated; otherwise the parameter stays (so callers in other modules keep working, with
  the flag ignored as it is today) and a note says so.
* `import torch` is added when the file lacks it.

Left unchanged, with a note: a volatile value that reaches `.backward()` (it could not run under
0.3; the fix is a `.detach()` where the volatile branch should stop gradients), regions that mix
different flags, volatile values consumed in a lambda or decorator, values that are only returned
or stored (their consumers are not visible here), `x.volatile = <expression>`, and a `yield`
inside code that computes on volatile values.

Fix safety: unsafe. Restoring no-grad regions changes what the legacy code does on modern torch
(where `volatile` is ignored): results computed from volatile inputs no longer require grad and
build no graph (less memory), and in training code that relied on volatile to block gradients the
parameter gradients change back to what 0.3 computed (no gradient through the volatile branch).
This is the author's intent, but it is a behaviour change, so it needs `--unsafe`; without it each
volatile use gets a note describing the region. Values that leave the region (returned, stored)
have `requires_grad=False` but later operations on them outside the region build a graph again,
where 0.3 kept them volatile; values and gradients are the same. Safe parts are applied always:
`volatile=False` (and `volatile=x.volatile`, always False today) is dropped, and
`x.volatile = False` in a scope with no volatile source is deleted (both have no effect today).
"""
    examples = (
        Example(
            title="eval loop: only the statements that consume the volatile input",
            unsafe=True,
            also=("TU001",),
            before="""
            import torch
            from torch.autograd import Variable

            def evaluate(model, loader, criterion):
                model.eval()
                total_loss = 0
                for data, target in loader:
                    data, target = Variable(data, volatile=True), Variable(target)
                    output = model(data)
                    total_loss += criterion(output, target).data[0]
                    pred = output.data.max(1)[1]
                return total_loss
            """,
            after="""
            import torch

            def evaluate(model, loader, criterion):
                model.eval()
                total_loss = 0
                for data, target in loader:
                    with torch.no_grad():
                        output = model(data)
                        total_loss += criterion(output, target).data[0]
                    pred = output.data.max(1)[1]
                return total_loss
            """,
        ),
        Example(
            title="validate() with an early return: a with-block after it",
            unsafe=True,
            before="""
            import torch
            from torch.autograd import Variable

            def validate(self, batch):
                if batch is None:
                    return None
                self.model.load(self.path)
                x = Variable(batch, volatile=True)
                out = self.model(x)
                return out.data
            """,
            after="""
            import torch
            from torch.autograd import Variable

            def validate(self, batch):
                if batch is None:
                    return None
                self.model.load(self.path)
                x = Variable(batch)
                with torch.no_grad():
                    out = self.model(x)
                return out.data
            """,
        ),
        Example(
            title="DQN target network: gradient only through the online network",
            unsafe=True,
            also=("TU001",),
            before="""
            import torch.nn.functional as F
            from torch.autograd import Variable

            def optimize(model, optimizer, s, a, r, s2, gamma):
                q = model(Variable(s)).gather(1, a)
                next_q = model(Variable(s2, volatile=True)).max(1)[0]
                next_q.volatile = False
                target = r + gamma * next_q
                loss = F.smooth_l1_loss(q, target)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            """,
            after="""
            import torch.nn.functional as F
            import torch

            def optimize(model, optimizer, s, a, r, s2, gamma):
                q = model(s).gather(1, a)
                with torch.no_grad():
                    next_q = model(s2).max(1)[0]
                target = r + gamma * next_q
                loss = F.smooth_l1_loss(q, target)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            """,
        ),
        Example(
            title="volatile=not train -> set_grad_enabled(train)",
            unsafe=True,
            before="""
            import torch
            from torch.autograd import Variable

            def run(model, x, train):
                v = Variable(x, volatile=not train)
                h = model(v)
                loss = h.sum()
                return loss
            """,
            after="""
            import torch
            from torch.autograd import Variable

            def run(model, x, train):
                v = Variable(x)
                with torch.set_grad_enabled(train):
                    h = model(v)
                    loss = h.sum()
                return loss
            """,
        ),
        Example(
            title="to_var helper in a script: call sites get the region, the helper loses the flag",
            unsafe=True,
            also=("TU001",),
            before="""
            import torch
            from torch.autograd import Variable

            def to_var(x, volatile=False):
                if torch.cuda.is_available():
                    x = x.cuda()
                return Variable(x, volatile=volatile)

            for images, labels in test_loader:
                images = to_var(images, volatile=True)
                outputs = net(images)
                _, predicted = torch.max(outputs.data, 1)
            """,
            after="""
            import torch

            def to_var(x):
                if torch.cuda.is_available():
                    x = x.cuda()
                return x

            for images, labels in test_loader:
                images = to_var(images)
                with torch.no_grad():
                    outputs = net(images)
                _, predicted = torch.max(outputs.data, 1)
            """,
        ),
        Example(
            title="generator function: decorated, never a yield inside a with-block",
            unsafe=True,
            before="""
            from torch import autograd

            def predictions(model, batches):
                for b in batches:
                    out = model(autograd.Variable(b, volatile=True))
                    yield out
            """,
            after="""
            from torch import autograd
            import torch

            @torch.no_grad()
            def predictions(model, batches):
                for b in batches:
                    out = model(autograd.Variable(b))
                    yield out
            """,
        ),
        Example(
            title="without --unsafe: notes only; volatile=False is dropped (safe)",
            before="""
            from torch.autograd import Variable
            x = Variable(batch, volatile=False)
            """,
            after="""
            from torch.autograd import Variable
            x = Variable(batch)
            """,
        ),
        Example(
            title="without --unsafe the region is not applied",
            before="""
            from torch.autograd import Variable
            out = model(Variable(batch, volatile=True))
            """,
        ),
        Example(
            title="a volatile value that reaches backward() is left with a note",
            unsafe=True,
            before="""
            from torch.autograd import Variable

            def step(model, s2, r):
                target = r + model(Variable(s2, volatile=True)).max(1)[0]
                loss = (target ** 2).mean()
                loss.backward()
            """,
        ),
    )

    # -- planning -------------------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        self.plan = Plan()
        self.torch: Optional[str] = None
        analysis = VolatileAnalysis(self, node)
        self.analysis = analysis
        plan = self.plan
        applied_scopes: Set[int] = set()
        helper_scopes = {id(h.func): h for h in analysis.helpers.values()}
        helper_sites: Dict[int, List] = {}
        for scope, res in zip(analysis.scopes, analysis.results):
            for call, idx in res.drops:
                plan.drop_args.setdefault(id(call), set()).add(idx)
                self.edit(call, "volatile=False dropped (no effect since torch 0.4)", FixClass.EXACT)
            sources = [s for s in res.sources if s.flag]
            for s in res.sources:
                if s.helper is not None:
                    helper_sites.setdefault(id(s.helper.func), []).append((s, scope))
            if not sources:
                if res.resets and not res.bail:
                    for line, small, lit in res.resets:
                        plan.remove_small.add(id(small))
                        self.edit(small, f"`x.volatile = {lit}` removed (no effect since torch 0.4)", FixClass.EXACT)
                continue
            applied = self._plan_scope(scope, res, sources, helper_scopes.get(id(scope.node)))
            if applied:
                applied_scopes.add(id(scope.node))
        # helper call sites and parameters
        script = self._is_script(node)
        for hid, helper in ((id(h.func), h) for h in analysis.helpers.values()):
            sites = helper_sites.get(hid, [])
            helper_applied = hid in applied_scopes
            all_applied = all(id(sc.node) in applied_scopes or not s.flag for s, sc in sites)
            removable = (
                helper.param is not None and helper_applied and all_applied and script and helper.cls is None
                and self._only_called(node, helper.name, len(sites))
            )
            if helper.param is not None and helper_applied and not removable:
                self.note(helper.func, f"`{helper.param}` kept so callers elsewhere keep working; it has no effect (as on torch >= 0.4): callers in other modules must run their code under `torch.no_grad()` themselves")
            if helper.param is None and helper_applied:
                self.note(helper.func, f"`{helper.name}` returns a volatile value: its callers in this module got no-grad regions; callers in other modules must use `torch.no_grad()` themselves")
            if removable:
                plan.remove_params[hid] = helper.param
                self.edit(helper.func, f"parameter `{helper.param}` removed: the call sites in this module decide the no-grad region")
            for s, sc in sites:
                if id(sc.node) not in applied_scopes and s.flag:
                    continue
                if s.arg_index >= 0 and (removable or not helper.required):
                    if s.flag or id(sc.node) in applied_scopes or removable:
                        plan.drop_args.setdefault(id(s.call), set()).add(s.arg_index)

    def _is_script(self, module: cst.Module) -> bool:
        for s in module.body:
            if isinstance(s, (cst.For, cst.While)):
                return True
            if isinstance(s, cst.If) and "__name__" in code_of(s.test):
                return True
        return False

    def _only_called(self, module: cst.Module, name: str, calls: int) -> bool:
        count = {"refs": 0, "calls": 0}

        class V(cst.CSTVisitor):
            def visit_Name(v, n):
                if n.value == name:
                    count["refs"] += 1

            def visit_Call(v, n):
                if isinstance(n.func, cst.Name) and n.func.value == name:
                    count["calls"] += 1
                    if any(a.star for a in n.args):
                        count["calls"] -= 10**6

            def visit_FunctionDef(v, n):
                if n.name.value == name:
                    count["refs"] -= 1

        module.visit(V())
        return count["refs"] == count["calls"] == calls

    def _lines(self, stmts) -> str:
        a, b = self.line(stmts[0]), self.line(stmts[-1])
        return f"line {a}" if a == b else f"lines {a}-{b}"

    def _plan_scope(self, scope, res, sources, helper) -> bool:
        plan = self.plan
        where = f"`{scope.node.name.value}`" if isinstance(scope.node, (cst.FunctionDef, cst.ClassDef)) else "module level"

        def leave(why: str) -> bool:
            for s in sources:
                self.note(s.call, f"volatile left unchanged: {why}. `volatile` has had no effect since torch 0.4")
            return False

        if res.bail:
            return leave(res.bail[1])
        if any(s.flag == "?" for s in sources):
            return leave("the volatile flag is not a simple expression (or a helper call passes it through *args); set the region by hand")
        if helper is not None:
            msg = f"`{scope.node.name.value}` returns a volatile value: volatile flag dropped here, the no-grad region moves to its call sites"
            if not all(self.fix(s.call, msg) for s in sources):
                return False
            for s in sources:
                self._drop_source(s)
            for line, small, lit in res.resets:
                plan.remove_small.add(id(small))
            return True
        if not res.any_need:
            kinds = sorted({k for _, k in res.escapes}) or ["not used"]
            return leave(f"the volatile value is only passed on here ({', '.join(kinds)}); the code that consumes it is not visible, so no region can be placed: wrap the consumers in `torch.no_grad()` by hand")
        for flag, fnode in res.flag_nodes.items():
            if flag == TRUE or fnode is None:
                continue
            names = {n.value for n in _names_in(fnode)}
            if names & res.assigned:
                return leave(f"`{flag}` is reassigned in {where}, so the region's flag cannot be evaluated once")
        decorate = can_decorate(scope, res)
        try:
            regions = plan_regions(scope, res, decorate)
        except ValueError as exc:
            return leave(str(exc))
        if not decorate and not regions:
            return leave("no statement in the same block computes on the volatile value")
        torch = self.torch or self.module_name_if_applying("torch")
        if torch is None:
            return leave("the name `torch` is taken in this file")
        if decorate:
            desc = f"`@torch.no_grad()` on {where}"
        else:
            blocks = dict(scope_blocks(scope))
            parts = []
            for owner, start, end, flag in regions:
                stmts = blocks[owner][start : end + 1]
                ctx = "torch.no_grad()" if flag == TRUE else f"torch.set_grad_enabled({code_of(negate(res.flag_nodes[flag]))})"
                parts.append(f"`with {ctx}:` around {self._lines(stmts)}")
            desc = "; ".join(parts)
        msg = f"volatile has had no effect since torch 0.4 (a graph is built); restore the 0.3 no-grad behaviour: {desc}"
        if not all(self.fix(s.call, msg) for s in sources):
            return False
        self.torch = self.module_name("torch")
        if decorate:
            plan.decorate[id(scope.node)] = TRUE
        for owner, start, end, flag in regions:
            plan.regions.setdefault(owner, []).append((start, end, flag))
            if flag != TRUE:
                plan.flag_nodes[flag] = res.flag_nodes[flag]
        for s in sources:
            self._drop_source(s)
        for line, small, lit in res.resets:
            plan.remove_small.add(id(small))
        return True

    def module_name_if_applying(self, module: str) -> Optional[str]:
        alias = self.imports.module_alias(module)
        if alias:
            return alias
        return module if (module in self.ctx.pending_imports or self.imports.can_import(module)) else None

    def _drop_source(self, s) -> None:
        if s.arg_index == -2:
            self.plan.remove_small.add(id(s.call))
        elif s.helper is None and s.arg_index >= 0:
            self.plan.drop_args.setdefault(id(s.call), set()).add(s.arg_index)

    # -- the rewrite ----------------------------------------------------------------------------
    def visit_Call(self, node):
        if (
            isinstance(node.func, cst.Name)
            and node.func.value == "Variable"
            and self.imports.resolve(node.func) is None
            and any(a.keyword and a.keyword.value == "volatile" for a in node.args)
        ):
            self.note(node, "`Variable(..., volatile=...)` left unchanged: cannot tell that this `Variable` is torch's (star import or rebinding); migrate by hand")

    def leave_Call(self, original_node, updated_node):
        drop = self.plan.drop_args.get(id(original_node))
        if not drop:
            return updated_node
        args = [a for i, a in enumerate(updated_node.args) if i not in drop]
        if max(drop) >= len(updated_node.args) - 1:
            args = strip_arg_comma(args)
        return updated_node.with_changes(args=args)

    def leave_SimpleStatementLine(self, original_node, updated_node):
        if not self.plan.remove_small:
            return updated_node
        keep = [u for o, u in zip(original_node.body, updated_node.body) if id(o) not in self.plan.remove_small]
        if len(keep) == len(updated_node.body):
            return updated_node
        if not keep:
            return self.mark_removed(updated_node)
        keep[-1] = keep[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(body=keep)

    def leave_FunctionDef(self, original_node, updated_node):
        param = self.plan.remove_params.get(id(original_node))
        if param is not None:
            p = updated_node.params
            params = [x for x in p.params if x.name.value != param]
            kwonly = [x for x in p.kwonly_params if x.name.value != param]
            if params and not kwonly and isinstance(p.star_arg, cst.MaybeSentinel) and p.star_kwarg is None:
                params[-1] = params[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            if kwonly and p.star_kwarg is None:
                kwonly[-1] = kwonly[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            star_arg = p.star_arg
            if not kwonly and isinstance(star_arg, cst.ParamStar):
                star_arg = cst.MaybeSentinel.DEFAULT
                if params and p.star_kwarg is None:
                    params[-1] = params[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            updated_node = updated_node.with_changes(params=p.with_changes(params=params, kwonly_params=kwonly, star_arg=star_arg))
        if id(original_node) in self.plan.decorate:
            deco = cst.Decorator(decorator=cst.parse_expression(f"{self.torch}.no_grad()"))
            updated_node = updated_node.with_changes(decorators=[*updated_node.decorators, deco])
        return updated_node

    def _wrap(self, original_node, body):
        regions = self.plan.regions.get(id(original_node))
        if not regions:
            return body
        body = list(body)
        for start, end, flag in sorted(regions, reverse=True):
            stmts, carry = prune_statements(body[start : end + 1], self._removed_ids)
            first = stmts[0]
            inner = [first.with_changes(leading_lines=[]), *stmts[1:]]
            if flag == TRUE:
                item = cst.parse_expression(f"{self.torch}.no_grad()")
            else:
                item = cst.parse_expression(f"{self.torch}.set_grad_enabled({code_of(negate(self.plan.flag_nodes[flag]))})")
            with_node = cst.With(
                items=[cst.WithItem(item=item)],
                body=cst.IndentedBlock(body=inner, footer=carry if any(l.comment for l in carry) else []),
                leading_lines=first.leading_lines,
            )
            body[start : end + 1] = [with_node]
        return body

    def leave_IndentedBlock(self, original_node, updated_node):
        if id(original_node) in self.plan.regions:
            updated_node = updated_node.with_changes(body=self._wrap(original_node, updated_node.body))
        return super().leave_IndentedBlock(original_node, updated_node)

    def leave_Module(self, original_node, updated_node):
        if id(original_node) in self.plan.regions:
            updated_node = updated_node.with_changes(body=self._wrap(original_node, updated_node.body))
        return super().leave_Module(original_node, updated_node)


def _names_in(node):
    out = []

    class V(cst.CSTVisitor):
        def visit_Name(v, n):
            out.append(n)

        def visit_Attribute(v, n):
            v_ = n.value
            while isinstance(v_, cst.Attribute):
                v_ = v_.value
            if isinstance(v_, cst.Name):
                out.append(v_)
            return False

    node.visit(V())
    return out


class VolatileRead(ScopeTracking, LegacyTreeRule):
    code = "TU011"
    owns = ("attr:volatile",)
    after = ("TU010",)
    name = "volatile-read"
    summary = "Reads of `x.volatile` (always False since torch 0.4) -> `False`; a note where it guards control flow"
    needles = (".volatile",)
    description = """
Since PyTorch 0.4 `x.volatile` always returns `False` (with a warning: "volatile was removed
(Variable.volatile is always False)"). A read used as a value (`flag = x.volatile`,
`f(x, volatile=x.volatile)`) becomes the constant `False`. Where the read decides control flow
(`if`/`while`/`assert` tests, conditional expressions, `and`/`or`/`not`) the code is left with a
note: the guarded branch is dead today, but in 0.3 it ran, and freezing that in silently would hide
the intent. Assignments `x.volatile = ...` are TU010's.

Only reads on objects the shared tensor inference knows to be tensors are rewritten: an
`args.volatile` command-line flag or a user class's own `volatile` attribute is left alone
(with a note).

Fix safety: safe. The constant is exactly what the read returns today; only the warning goes away.
"""
    examples = (
        Example(
            title="a value read becomes False",
            before="""
            import torch

            def wrap(x):
                var = torch.zeros(2)
                flag = var.volatile
                return flag
            """,
            after="""
            import torch

            def wrap(x):
                var = torch.zeros(2)
                flag = False
                return flag
            """,
        ),
        Example(
            title="a read that guards control flow is left with a note",
            before="""
            import torch

            def f(x):
                if x.volatile:
                    return x
                assert x.volatile is not train
            """,
        ),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self._st_init()
        self.guard_depth = 0
        self.target_ids: Set[int] = set()
        self.active = self.imports.imports_torch

    def _push(self, node):
        self.guard_depth += 1

    def _pop(self, original_node, updated_node=None):
        self.guard_depth -= 1
        return updated_node if updated_node is not None else original_node

    def visit_If(self, node):
        node.test.visit(_Marker(self.guards))
        return True

    def visit_Module(self, node):
        self.guards: Set[int] = set()

    def visit_While(self, node):
        node.test.visit(_Marker(self.guards))

    def visit_Assert(self, node):
        node.test.visit(_Marker(self.guards))

    def visit_IfExp(self, node):
        node.test.visit(_Marker(self.guards))

    def visit_BooleanOperation(self, node):
        node.visit(_Marker(self.guards))

    def visit_UnaryOperation(self, node):
        if isinstance(node.operator, cst.Not):
            node.visit(_Marker(self.guards))

    def visit_Call(self, node):
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "volatile":
            self.target_ids.add(id(node.func))  # obj.volatile(): a method of some other object

    def visit_AssignTarget(self, node):
        node.visit(_Marker(self.target_ids))

    def visit_AugAssign(self, node):
        node.target.visit(_Marker(self.target_ids))

    def visit_Del(self, node):
        node.visit(_Marker(self.target_ids))

    def leave_Attribute(self, original_node, updated_node):
        if original_node.attr.value != "volatile" or not self.active or id(original_node) in self.target_ids:
            return updated_node
        if id(original_node) in self.guards:
            self.note(original_node, "`x.volatile` is always False since torch 0.4 (the branch it guards is dead today; in 0.3 it ran): review by hand")
            return updated_node
        if self.ctx.shared(TensorInference).kind(original_node.value, self.scope_key) not in TENSOR_KINDS:
            self.note(original_node, "`.volatile` left unchanged: the object is not known to be a tensor (on a tensor it is always False since torch 0.4)")
            return updated_node
        self.edit(original_node, "`x.volatile` -> False (always False since torch 0.4)")
        return cst.Name("False", lpar=original_node.lpar, rpar=original_node.rpar)


class _Marker(cst.CSTVisitor):
    def __init__(self, ids: Set[int]):
        self.ids = ids

    def visit_Attribute(self, node):
        if node.attr.value == "volatile":
            self.ids.add(id(node))
