"""TU010 volatile-no-grad and TU011 volatile-read.

The analysis lives in ``volatile_flow.py`` (data flow per scope) and ``volatile_plan.py``
(regions, helpers, the project-wide helper decision); this module declares the rules and applies
the plan in the batched traversal: the plan is made in ``visit_Module`` on the original module
and keyed by the ids of its nodes, the leave hooks rewrite.
"""
from __future__ import annotations

from typing import Optional, Set

import libcst as cst

from ..cstutil import cst_visit, prune_statements, strip_arg_comma
from ..model import Example, FixClass
from ..rule import TreeRule
from ..semantic.kinds import Tensor
from .volatile_flow import TRUE, walk
from .volatile_plan import Plan, VolatileAnalysis, build_plan, region_context, semantic_model


class _Shared:
    """Per-file facts TU010 tells TU011: the `volatile=...` argument values it drops."""

    def __init__(self, ctx):
        self.dropped: Set[int] = set()


_TU010_MESSAGES = {
    "backward": "volatile left unchanged: a value derived from a volatile input reaches `.backward()`; this could not run under 0.3 (add `.detach()` where the volatile branch should stop gradients)",
    "lambda": "volatile left unchanged: a lambda consumes the volatile value and runs later; set the region by hand",
    "decorator": "volatile left unchanged: a decorator consumes the volatile value",
    "assign_expr": "volatile left unchanged: `x.volatile = <expression>`; set the region by hand",
    "flag_expr": "volatile left unchanged: the volatile flag is not a simple expression (or a helper call passes it through *args); set the region by hand",
    "no_region": "volatile left unchanged: the code that computes on the volatile value cannot be put under no-grad without also covering code that needs gradients (or a training call); split it by hand",
    "passed_on": "volatile left unchanged: the volatile value is only passed on here ({how}); the code that consumes it is not visible, so no region can be placed: wrap the consumers in `torch.no_grad()` by hand",
    "flag_reassigned": "volatile left unchanged: `{flag}` is reassigned in {scope}, so the region's flag cannot be evaluated once",
    "torch_taken": "volatile left unchanged: the name `torch` is taken in this file, so no `torch.no_grad()` region can be written",
    "mixed_flags": "volatile left unchanged: one region would mix different volatile flags; set the regions by hand",
    "yield": "volatile left unchanged: a `yield` inside code that computes on volatile values (a region would leave no-grad on in the caller while the generator is suspended); decorate the generator by hand",
    "helper_param_kept": "`{name}` made volatile values from its `{param}` argument: its `volatile=` is dropped and its call sites here got the no-grad regions, but the parameter is kept ({why}); it has no effect now, so callers not migrated here must run their code under `torch.no_grad()` themselves",
    "helper_kept": "`{name}` returned a volatile value: its `volatile=True` is dropped and its callers here got the no-grad regions, but not every caller is visible ({why}); callers not migrated here must run their code under `torch.no_grad()` themselves",
    "helper_unchanged": "`{name}` returns volatile values: left unchanged because a call site of it here could not be migrated (see the note there)",
    "helper_outside_run": "`{name}` returns volatile values: left unchanged because {why} (its file is in the project index, not among the files given); migrate them together (name the callers' files too, or the whole project)",
    "arg_used": "the `{param}` argument of `{name}` is kept: `{name}` uses it for more than the volatile flag",
    "arg_kept": "the `{param}` argument of `{name}` is kept: the parameter stays, and dropping a positional argument would shift the others (it has no effect on gradients now)",
    "unknown_variable": "`Variable(..., volatile=...)` left unchanged: cannot tell that this `Variable` is torch's (star import or rebinding); migrate by hand",
}


class VolatileNoGrad(TreeRule):
    code = "TU010"
    owns = ("call:Variable(volatile=)", "attr:volatile=", "volatile-helpers")
    name = "volatile-no-grad"
    summary = "`Variable(x, volatile=True)` -> `torch.no_grad()` regions around the code that consumes it (restores 0.3)"
    fix_class = FixClass.RESTORING
    fix_classes = (FixClass.RESTORING, FixClass.EXACT, FixClass.UNPROVEN)
    needles = ("volatile",)
    uses_analysis = True
    messages = _TU010_MESSAGES
    description = """
`volatile=True` has had no effect since PyTorch 0.4: it only warns ("volatile was removed and now
has no effect. Use `with torch.no_grad():` instead."). In 0.3 every value computed from a volatile
Variable was volatile (no graph, no gradient) until code reset it with `x.volatile = False`;
`x.data`, `x.detach()` and sizes were plain values. Legacy evaluation code therefore builds graphs
today, and training code that used volatile to *block* gradients (the DQN target pattern) now leaks
gradients into networks 0.3 kept frozen. The rule restores the 0.3 behaviour with `torch.no_grad()`
regions, by default.

What it does, per scope (module, function, class body), by data flow in statement order:

* Sources: `Variable(x, volatile=True)` (any alias of `Variable`, keyword or third positional
  argument), `x.volatile = True`, and calls of *helpers* (below). The flag is dropped; the
  Variable itself is left to TU001.
* Volatile-derived names are tracked through assignments, augmented assignments, tuple unpacking,
  loop targets, `lst.append(v)`, `buf[i] = v` and `self.attr` chains; `x.volatile = False` ends
  the propagation and is removed; `.data`, `.detach()`, `.size()`, `.item()`, `.shape` and
  comparisons give plain values.
* A statement that *computes* on a volatile-derived value (a forward pass, arithmetic, an unknown
  call) needs no-grad. Statements that only pass values on (names, `.cuda()`, containers) need no
  region. Statements are *neutral* when they compute only on grad-free values (the semantic
  model's grad-free tensors: `.data`-derived values, DataLoader batches, factories; sizes,
  counters, `print`, `model.eval()`, meters' `update(...)`, this module's functions that are
  neutral themselves): they may sit inside a region. Anything else (training calls, forward
  passes on other inputs, unknown calls) never does.
* Region shape, as a person writes it: when every statement of a function qualifies, the function
  gets `@torch.no_grad()` (typical `validate()`, `test()`, `predict()`; generators too: torch's
  decorator switches the mode per step, so the caller's grad mode is untouched while the generator
  is suspended). Otherwise one `with torch.no_grad():` per block runs from the first to the last
  statement that needs it, over the neutral statements between them (never starting or ending with
  one of them); a loop whose statements all qualify counts as one such statement, so the region
  goes around the whole `for batch in loader:`. Other compound statements join a region next to a
  statement that needs one, else get regions inside their blocks. A region never contains
  `.backward()`, `optimizer.step()`, `zero_grad()` or `autograd.grad`, never a `yield`, and every
  statement that needs no-grad must be covered, else the scope is left with a note. Statements
  already under `torch.no_grad()` need nothing (the flag is just dropped).
* `volatile=<expression>` (`volatile=not train`) becomes
  `with torch.set_grad_enabled(<negated expression>):` (`train`, never `not not train`); the
  expression must not be reassigned in the function. `volatile=False` is dropped.
* Helpers that return a volatile value, `def to_var(x, volatile=False): return Variable(x,
  volatile=volatile)` (or always-volatile ones, nested ones too), move the region to their call
  sites: calls with `volatile=True` get the region around the statements that consume the result.
  In the same module that covers functions called by name and methods called as `self.f(...)`.
  With a project index (the files of a run analysed together), calls of a helper defined in
  another module (`from utils import to_var`, `utils.to_var(x, volatile=True)`) are sources in
  the calling module too. When every call site in view got its region, the helper's inner
  `volatile=` goes (it has had no effect since 0.4; callers out of view keep today's behaviour, and
  the note says so); if one of them could not be migrated, the helper is left unchanged, as a
  marker. The parameter itself is removed only when every call site was migrated and dropping it
  shifts no argument: with a project index, when the index sees every call of it (none passes it
  on, none uses `*args`/`**kwargs`, no file of the project was left out of the index), the
  parameter feeds nothing but the flag, every call site passes it as a keyword or as the last
  positional argument, and every call site in the project was migrated (other modules are judged
  on their files as the index saw them, so files migrated in any order agree); without an index,
  when the module is a script (a `__main__` guard or top-level loops) or the helper is nested, and
  every use is a migrated call. Otherwise the parameter stays (it has no effect; a note says why).
  A migrated call site drops the flag when passed as a keyword, or as the last positional
  argument when the parameter has a literal default (the parameter then either goes or takes its
  default); it never shifts other positional arguments, and keeps an argument the helper also
  uses for something else (`numericalize(arr, train=False)`). The rule only reads files that
  mention `volatile`: a caller that passes the flag positionally in a file that never spells it
  is not migrated (and the helper keeps its parameter).
* `import torch` is added when the file lacks it.

Left unchanged, with a note: a volatile value that reaches `.backward()` (it could not run under
0.3; the fix is a `.detach()` where the volatile branch should stop gradients), regions that mix
different flags, volatile values consumed in a lambda or decorator, values that are only passed on
(returned, stored: their consumers are not visible here), `x.volatile = <expression>`, a `yield`
inside code that computes on volatile values, and code where the consumers of a volatile value
cannot be separated from code that needs gradients. In such a scope a `Variable(x, volatile=True)`
that is one element of a tuple (`data, target = Variable(data, volatile=True), Variable(target)`)
still loses its flag (it has no effect since 0.4), so that the statement migrates whole, never
half (TU001 unwraps the other elements); the note says where the region belongs.

Fix safety: restoring. The regions make the migrated code do on today's torch what the legacy
code did on 0.3: results computed from volatile inputs do not require grad and build no graph
(less memory), and in training code that relied on volatile to block gradients the parameter
gradients are 0.3's again (no gradient through the volatile branch; verified bitwise for the DQN
target pattern). They are applied by default when the data flow is complete. Where a volatile
value leaves the region (returned, stored on `self` or in a container passed in, made global), the
region's extent rests on an assumption the tool cannot check (0.3 kept the value volatile in its
consumers, today code outside the region builds a graph on it again): such regions are unproven
and applied only with `--unsafe`, otherwise a note describes them. Exact parts are always
applied (the same on 0.3 and today): `volatile=False` (and `volatile=x.volatile`, always False
today) is dropped, `x.volatile = False` in a scope with no volatile source is deleted, a flag no
operation consumes (`Variable(x, volatile=True).data`) or one already under `torch.no_grad()` is
dropped, and a helper's parameter is removed when all its call sites were migrated. Two edits are
labelled exact because they change nothing on today's torch, although they restore nothing for
code out of view: a helper's inner `volatile=` once every call site in view got its region (a
caller elsewhere keeps today's behaviour; the note on the helper says so), and the flag of a
tuple element in a scope left with a note (see above; the note gives the region).
"""
    examples = (
        Example(
            title="a helper whose callers are in a file the run indexes but does not write (`apply utils.py` in a package): left whole, so that a run over the whole project still finds them",
            before="""
            from torch.autograd import Variable

            def to_var(x, volatile=False):
                return Variable(x, volatile=volatile)
            """,
            modules=(("train", """
                from example import to_var

                def evaluate(model, x):
                    return model(to_var(x, volatile=True))
                """),),
            notes=((3, "TU010", "not migrated by this run"),),
        ),
        Example(
            title="eval function: the whole function qualifies, so it is decorated",
            before="""
            import torch
            from torch.autograd import Variable

            def evaluate(model, loader, criterion):
                model.eval()
                total_loss = 0
                for data, target in loader:
                    data = Variable(data, volatile=True)
                    output = model(data)
                    total_loss += criterion(output, target).data[0]
                    pred = output.data.max(1)[1]
                return total_loss
            """,
            after="""
            import torch
            from torch.autograd import Variable

            @torch.no_grad()
            def evaluate(model, loader, criterion):
                model.eval()
                total_loss = 0
                for data, target in loader:
                    data = Variable(data)
                    output = model(data)
                    total_loss += criterion(output, target).data[0]
                    pred = output.data.max(1)[1]
                return total_loss
            """,
        ),
        Example(
            title="test loop next to other work: one region around the whole loop",
            before="""
            import torch
            from torch.autograd import Variable

            def test(epoch):
                net.eval()
                correct = 0
                for inputs, targets in testloader:
                    inputs = Variable(inputs, volatile=True)
                    outputs = net(inputs)
                    _, predicted = torch.max(outputs.data, 1)
                    correct += predicted.eq(targets).sum()
                acc = 100. * correct / len(testloader.dataset)
                save_checkpoint(net, acc)
            """,
            after="""
            import torch
            from torch.autograd import Variable

            def test(epoch):
                net.eval()
                correct = 0
                with torch.no_grad():
                    for inputs, targets in testloader:
                        inputs = Variable(inputs)
                        outputs = net(inputs)
                        _, predicted = torch.max(outputs.data, 1)
                        correct += predicted.eq(targets).sum()
                acc = 100. * correct / len(testloader.dataset)
                save_checkpoint(net, acc)
            """,
        ),
        Example(
            title="DQN target network: gradient only through the online network",
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
            from torch.autograd import Variable

            def optimize(model, optimizer, s, a, r, s2, gamma):
                q = model(Variable(s)).gather(1, a)
                with torch.no_grad():
                    next_q = model(Variable(s2)).max(1)[0]
                target = r + gamma * next_q
                loss = F.smooth_l1_loss(q, target)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            """,
        ),
        Example(
            title="validate() with an early return and a training call after: a with-block",
            before="""
            import torch
            from torch.autograd import Variable

            def validate(self, batch):
                if batch is None:
                    return None
                self.model.load(self.path)
                x = Variable(batch, volatile=True)
                out = self.model(x)  # forward
                score = out.data.mean()
                self.log(score)
                return score
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
                    out = self.model(x)  # forward
                score = out.data.mean()
                self.log(score)
                return score
            """,
        ),
        Example(
            title="volatile=not train -> set_grad_enabled(train); a backslash continuation is re-indented",
            before="""
            import torch
            from torch.autograd import Variable

            def run(model, x, train, log):
                v = Variable(x, volatile=not train)
                h = model(v) + \\
                    model(v * 2)
                loss = h.sum()
                log(loss.data[0])
            """,
            after="""
            import torch
            from torch.autograd import Variable

            def run(model, x, train, log):
                v = Variable(x)
                with torch.set_grad_enabled(train):
                    h = model(v) + \\
                        model(v * 2)
                    loss = h.sum()
                log(loss.data[0])
            """,
        ),
        Example(
            title="to_var helper in a script: call sites get the region, the helper loses the flag",
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
                print(predicted)
            """,
            after="""
            import torch
            from torch.autograd import Variable

            def to_var(x):
                if torch.cuda.is_available():
                    x = x.cuda()
                return Variable(x)

            with torch.no_grad():
                for images, labels in test_loader:
                    images = to_var(images)
                    outputs = net(images)
                    _, predicted = torch.max(outputs.data, 1)
                    print(predicted)
            """,
        ),
        Example(
            title="a helper other modules may call keeps its parameter (unused now); a positional flag stays",
            before="""
            from torch.autograd import Variable

            def to_var(x, volatile=False):
                return Variable(x, volatile=volatile)

            def predict(net, x):
                out = net(to_var(x, True))
                return out.data.max(1)[1]
            """,
            after="""
            from torch.autograd import Variable
            import torch

            def to_var(x, volatile=False):
                return Variable(x)

            @torch.no_grad()
            def predict(net, x):
                out = net(to_var(x, True))
                return out.data.max(1)[1]
            """,
            notes=(
                (3, "TU010", "the parameter is kept (callers in other modules may pass it"),
                (7, "TU010", "dropping a positional argument would shift the others"),
            ),
        ),
        Example(
            title="a nested always-volatile helper: its callers get the region",
            before="""
            from torch.autograd import Variable

            def evaluate(net, batches, out):
                def var(a):
                    return Variable(a, volatile=True)
                for b in batches:
                    out.append(net(var(b)).data)
            """,
            after="""
            from torch.autograd import Variable
            import torch

            @torch.no_grad()
            def evaluate(net, batches, out):
                def var(a):
                    return Variable(a)
                for b in batches:
                    out.append(net(var(b)).data)
            """,
        ),
        Example(
            title="generator function: decorated, never a yield inside a with-block",
            before="""
            from torch import autograd

            def predictions(model, batches):
                for b in batches:
                    out = model(autograd.Variable(b, volatile=True))
                    yield out.data
            """,
            after="""
            from torch import autograd
            import torch

            @torch.no_grad()
            def predictions(model, batches):
                for b in batches:
                    out = model(autograd.Variable(b))
                    yield out.data
            """,
        ),
        Example(
            title="a volatile value that leaves the function: the region needs --unsafe",
            before="""
            import torch
            from torch.autograd import Variable

            def predict(self, x):
                out = self.net(Variable(x, volatile=True))
                return out
            """,
            notes=((5, "TU010", "unproven fix not applied (use --unsafe)"),),
        ),
        Example(
            title="a tuple with a volatile element is never left half migrated",
            before="""
            from torch.autograd import Variable

            def predict(net, loader):
                outs = []
                for data, target in loader:
                    data, target = Variable(data, volatile=True), Variable(target)
                    outs.append(net(data))
                return outs
            """,
            after="""
            from torch.autograd import Variable

            def predict(net, loader):
                outs = []
                for data, target in loader:
                    data, target = Variable(data), Variable(target)
                    outs.append(net(data))
                return outs
            """,
            notes=((6, "TU010", "volatile values leave it (returned)"),),
        ),
        Example(
            title="... and with --unsafe",
            unsafe=True,
            before="""
            import torch
            from torch.autograd import Variable

            def predict(self, x):
                out = self.net(Variable(x, volatile=True))
                return out
            """,
            after="""
            import torch
            from torch.autograd import Variable

            @torch.no_grad()
            def predict(self, x):
                out = self.net(Variable(x))
                return out
            """,
        ),
        Example(
            title="volatile=False and flags nothing consumes are dropped (exact)",
            before="""
            from torch.autograd import Variable
            x = Variable(batch, volatile=False)
            sampled = project(Variable(prev, volatile=True).data)
            """,
            after="""
            from torch.autograd import Variable
            x = Variable(batch)
            sampled = project(Variable(prev).data)
            """,
        ),
        Example(
            title="a volatile value that reaches backward() is left with a note",
            before="""
            from torch.autograd import Variable

            def step(model, s2, r):
                target = r + model(Variable(s2, volatile=True)).max(1)[0]
                loss = (target ** 2).mean()
                loss.backward()
            """,
            notes=((4, "TU010", "reaches `.backward()`"),),
        ),
        Example(
            title="consumers mixed with training code: left with a note",
            before="""
            from torch.autograd import Variable

            def step(model, opt, s, s2):
                h = model(Variable(s2, volatile=True)) + model(s)
                opt.zero_grad(); h.sum()
            """,
            notes=((4, "TU010", "cannot be put under no-grad"),),
        ),
        Example(
            title="only passed on: the consumers are not visible",
            before="""
            from torch.autograd import Variable

            def wrap(self, x):
                self.inp = Variable(x, volatile=True)
            """,
            notes=((4, "TU010", "only passed on here (stored in an attribute)"),),
        ),
        Example(
            title="notes: lambdas, decorators, x.volatile = <expr>, flags and the torch name",
            before="""
            from torch.autograd import Variable

            def a(net, x):
                f = lambda: net(Variable(x, volatile=True))
                return f

            def b(net, x, flag):
                v = Variable(x)
                v.volatile = flag
                return net(v)

            def c(net, x, cfg):
                return net(Variable(x, volatile=cfg.get("volatile")))

            def d(net, x, train):
                v = Variable(x, volatile=not train)
                train = False
                net(v)

            def e(net, x, y, train):
                u = Variable(x, volatile=True)
                w = Variable(y, volatile=not train)
                net(u) + net(w)

            def g(net, batches):
                for b in batches:
                    yield net(Variable(b, volatile=not net.training))

            v = Variable(z, volatile=True)
            @register(net(v))
            def h():
                pass
            """,
            notes=(
                (4, "TU010", "a lambda consumes"),
                (9, "TU010", "`x.volatile = <expression>`"),
                (13, "TU010", "not a simple expression"),
                (16, "TU010", "`not train` is reassigned in `d`"),
                (21, "TU010", "mix different volatile flags"),
                (22, "TU010", "mix different volatile flags"),
                (27, "TU010", "a `yield` inside code"),
                (29, "TU010", "a decorator consumes"),
            ),
        ),
        Example(
            title="the name torch taken; a Variable that may not be torch's",
            before="""
            from torch.autograd import *
            from mylib import *
            torch = load_config()
            out = model(Variable(batch, volatile=True))
            """,
            notes=((4, "TU010", "cannot tell that this `Variable` is torch's"),),
        ),
        Example(
            title="the name torch taken",
            before="""
            from torch.autograd import Variable
            torch = load_config()
            out = model(Variable(batch, volatile=True))
            """,
            notes=((3, "TU010", "the name `torch` is taken"),),
        ),
        Example(
            title="a method helper keeps its parameter (callers elsewhere)",
            before="""
            from torch.autograd import Variable

            class Trainer:
                def wrap(self, x, volatile=False):
                    return Variable(x, volatile=volatile)

                def evaluate(self, x):
                    out = self.net(self.wrap(x, volatile=True))
                    return out.data
            """,
            after="""
            from torch.autograd import Variable
            import torch

            class Trainer:
                def wrap(self, x, volatile=False):
                    return Variable(x)

                @torch.no_grad()
                def evaluate(self, x):
                    out = self.net(self.wrap(x))
                    return out.data
            """,
            notes=((4, "TU010", "it is a method"),),
        ),
        Example(
            title="a helper that uses its flag for more than volatile: the call sites keep passing it",
            before="""
            from torch.autograd import Variable

            def numericalize(arr, train=True):
                arr = postprocess(arr, train)
                return Variable(arr, volatile=not train)

            def evaluate(net, batch):
                return net(numericalize(batch, train=False)).data
            """,
            after="""
            from torch.autograd import Variable
            import torch

            def numericalize(arr, train=True):
                arr = postprocess(arr, train)
                return Variable(arr)

            @torch.no_grad()
            def evaluate(net, batch):
                return net(numericalize(batch, train=False)).data
            """,
            notes=((3, "TU010", "it uses `train` for more than the volatile flag"), (8, "TU010", "uses it for more than the volatile flag")),
        ),
        Example(
            title="a helper whose caller cannot be migrated keeps its flag",
            before="""
            from torch.autograd import Variable

            def to_var(x, volatile=False):
                return Variable(x, volatile=volatile)

            def step(net, x, r):
                loss = (r - net(to_var(x, volatile=True))).mean()
                loss.backward()
            """,
            notes=((3, "TU010", "a call site of it here could not be migrated"), (7, "TU010", "reaches `.backward()`")),
        ),
        Example(
            title="an always-volatile helper used as a value: its flag goes, its callers are noted",
            before="""
            from torch.autograd import Variable

            def var(a):
                return Variable(a, volatile=True)

            inputs = list(map(var, batches))
            """,
            after="""
            from torch.autograd import Variable

            def var(a):
                return Variable(a)

            inputs = list(map(var, batches))
            """,
            notes=((3, "TU010", "not every caller is visible"),),
        ),
    )

    # -- planning -------------------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        self.analysis = VolatileAnalysis(self.ctx)
        self.plan: Plan = build_plan(self.analysis)
        self.torch: Optional[str] = None
        self._seen: Set[int] = set()
        if self.plan.needs_torch:
            self.torch = self.module_name("torch")
        self.ctx.shared(_Shared).dropped |= self.plan.dropped_values
        for kind, where, text, fields, fc in self.plan.reports:
            if kind == "edit":
                self.edit(where, text, fc)
            elif kind == "fix":
                self.fix(where, text, fc)
            else:
                self.note(where, text, **fields)

    # -- the rewrite ----------------------------------------------------------------------------
    # Statements under a suppression the engine was given (``review`` rejecting a hunk) are not
    # shown to the rule: a region or decorator is only written where the rule saw everything.
    def visit_SimpleStatementLine(self, node):
        self._seen.add(id(node))

    def visit_Parameters(self, node):
        self._seen.add(id(node))

    def _all_seen(self, stmts) -> bool:
        for stmt in stmts:
            for n in walk(stmt, (cst.SimpleStatementLine,)):
                if isinstance(n, cst.SimpleStatementLine) and id(n) not in self._seen:
                    return False
                if isinstance(n, cst.FunctionDef) and id(n.params) not in self._seen:
                    return False
        return True

    def visit_Call(self, node):
        if (
            isinstance(node.func, cst.Name)
            and node.func.value == "Variable"
            and self.imports.resolve(node.func) is None
            and any(a.keyword and a.keyword.value == "volatile" for a in node.args)
        ):
            self.note(node, "unknown_variable")

    def leave_Call(self, original_node, updated_node):
        drop = self.plan.drop_args.get(id(original_node))
        if not drop:
            return updated_node
        if len(updated_node.args) != len(original_node.args):
            raise RuntimeError("TU010: a call's arguments changed before the volatile flag was dropped")
        args = [a for i, a in enumerate(updated_node.args) if i not in drop]
        if max(drop) >= len(updated_node.args) - 1:
            args = strip_arg_comma(args)
        return updated_node.with_changes(args=args)

    def leave_SimpleStatementLine(self, original_node, updated_node):
        remove = self.plan.remove_small
        if not remove or not any(id(o) in remove for o in original_node.body):
            return updated_node
        keep = [u for o, u in zip(original_node.body, updated_node.body) if id(o) not in remove]
        if not keep:
            return self.remove(updated_node)
        keep[-1] = keep[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(body=keep)

    def leave_FunctionDef(self, original_node, updated_node):
        param = self.plan.remove_params.get(id(original_node))
        header_seen = id(original_node.params) in self._seen
        if param is not None and header_seen:
            updated_node = updated_node.with_changes(params=_without_param(updated_node.params, param))
        if id(original_node) in self.plan.decorate and header_seen:
            deco = cst.Decorator(decorator=cst.parse_expression(f"{self.torch}.no_grad()"))
            updated_node = updated_node.with_changes(decorators=[*updated_node.decorators, deco])
        return updated_node

    def _wrap(self, original_node, updated_node):
        regions = self.plan.regions.get(id(original_node))
        if not regions:
            return updated_node
        body = list(updated_node.body)
        if len(body) != len(original_node.body):
            raise RuntimeError("TU010: a block's statements changed before its no-grad region was placed")
        removed = self.ctx.removed
        indent = _indent_unit(self.ctx.module, original_node)
        for start, end, flag in sorted(regions, reverse=True):
            if not self._all_seen(original_node.body[start : end + 1]):
                continue  # a statement of it is suppressed for this rule
            stmts, carry = prune_statements(body[start : end + 1], removed)
            if not stmts:
                continue
            stmts = [cst_visit(s, _Reindent(indent)) for s in stmts]
            first = stmts[0]
            inner = [first.with_changes(leading_lines=[]), *stmts[1:]]
            item = cst.parse_expression(region_context(self.torch or "torch", flag, self.plan.flag_nodes))
            with_node = cst.With(
                items=[cst.WithItem(item=item)],
                body=cst.IndentedBlock(body=inner, footer=carry if any(line.comment for line in carry) else []),
                leading_lines=first.leading_lines,
            )
            body[start : end + 1] = [with_node]
        return updated_node.with_changes(body=body)

    def leave_IndentedBlock(self, original_node, updated_node):
        return self._wrap(original_node, updated_node)

    def leave_Module(self, original_node, updated_node):
        return self._wrap(original_node, updated_node)


def _indent_unit(module: cst.Module, block) -> str:
    if isinstance(block, cst.IndentedBlock) and block.indent is not None:
        return block.indent
    return module.default_indent


class _Reindent(cst.CSTTransformer):
    """Lines that libcst does not re-indent when a statement moves into a new block: backslash
    continuations and bracketed lines that were not at the block's indentation."""

    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def leave_SimpleWhitespace(self, original_node, updated_node):
        v = updated_node.value
        if "\\" in v and "\n" in v:
            return updated_node.with_changes(value=v.replace("\n", "\n" + self.unit))
        return updated_node

    def leave_ParenthesizedWhitespace(self, original_node, updated_node):
        if not updated_node.indent:
            last = updated_node.last_line
            updated_node = updated_node.with_changes(last_line=last.with_changes(value=self.unit + last.value))
        return updated_node

    def leave_EmptyLine(self, original_node, updated_node):
        if not updated_node.indent and updated_node.comment is not None:
            return updated_node.with_changes(whitespace=cst.SimpleWhitespace(self.unit + updated_node.whitespace.value))
        return updated_node

    # strings keep their bytes
    def visit_SimpleString(self, node):
        return False

    def visit_FormattedString(self, node):
        return False


def _without_param(p: cst.Parameters, param: str) -> cst.Parameters:
    params = [x for x in p.params if x.name.value != param]
    posonly = [x for x in p.posonly_params if x.name.value != param]
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
    return p.with_changes(params=params, posonly_params=posonly, kwonly_params=kwonly, star_arg=star_arg)


class VolatileRead(TreeRule):
    code = "TU011"
    owns = ("attr:volatile",)
    after = ("TU010",)
    name = "volatile-read"
    summary = "Reads of `x.volatile` (always False since torch 0.4) -> `False`; a note where it guards control flow"
    needles = (".volatile",)
    uses_analysis = True
    messages = {
        "guard": "`x.volatile` is always False since torch 0.4 (the branch it guards is dead today; in 0.3 it ran): review by hand",
        "not_tensor": "`.volatile` left unchanged: the object is not known to be a tensor (on a tensor it is always False since torch 0.4)",
    }
    description = """
Since PyTorch 0.4 `x.volatile` always returns `False` (with a warning: "volatile was removed
(Variable.volatile is always False)"). A read used as a value (`flag = x.volatile`,
`f(x, flag=x.volatile)`) becomes the constant `False`. Where the read decides control flow
(`if`/`while`/`assert` tests, conditional expressions, `and`/`or`/`not`) the code is left with a
note: the guarded branch is dead today, but in 0.3 it ran, and freezing that in silently would hide
the intent. Assignments `x.volatile = ...` and `Variable(m, volatile=x.volatile)` arguments are
TU010's.

Only reads on objects the semantic model knows to be tensors are rewritten: an `args.volatile`
command-line flag or a user class's own `volatile` attribute is left alone (with a note).

Fix safety: exact. The constant is exactly what the read returns today; only the warning goes away.
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
            title="a read that guards control flow, or on an unknown object, is left with a note",
            before="""
            import torch

            def f(x, args):
                if torch.zeros(1).volatile:
                    return x
                return args.volatile
            """,
            notes=((4, "TU011", "the branch it guards is dead today"), (6, "TU011", "not known to be a tensor")),
        ),
    )

    def visit_Module(self, node):
        self.guards: Set[int] = set()
        self.target_ids: Set[int] = set()
        self.active = self.imports.imports_torch
        self.model = semantic_model(self.ctx)
        self.skip = self.ctx.shared(_Shared).dropped

    def visit_If(self, node):
        cst_visit(node.test, _Marker(self.guards))

    def visit_While(self, node):
        cst_visit(node.test, _Marker(self.guards))

    def visit_Assert(self, node):
        cst_visit(node.test, _Marker(self.guards))

    def visit_IfExp(self, node):
        cst_visit(node.test, _Marker(self.guards))

    def visit_BooleanOperation(self, node):
        cst_visit(node, _Marker(self.guards))

    def visit_UnaryOperation(self, node):
        if isinstance(node.operator, cst.Not):
            cst_visit(node, _Marker(self.guards))

    def visit_Call(self, node):
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "volatile":
            self.target_ids.add(id(node.func))  # obj.volatile(): a method of some other object

    def visit_AssignTarget(self, node):
        cst_visit(node, _Marker(self.target_ids))

    def visit_AugAssign(self, node):
        cst_visit(node.target, _Marker(self.target_ids))

    def visit_Del(self, node):
        cst_visit(node, _Marker(self.target_ids))

    def leave_Attribute(self, original_node, updated_node):
        if original_node.attr.value != "volatile" or not self.active or id(original_node) in self.target_ids:
            return updated_node
        if id(original_node) in self.skip:
            return updated_node  # TU010 drops the argument it is in
        if id(original_node) in self.guards:
            self.note(original_node, "guard")
            return updated_node
        if not isinstance(self.model.kind(original_node.value), Tensor):
            self.note(original_node, "not_tensor")
            return updated_node
        self.edit(original_node, "`x.volatile` -> False (always False since torch 0.4)")
        return cst.Name("False", lpar=original_node.lpar, rpar=original_node.rpar)


class _Marker(cst.CSTVisitor):
    def __init__(self, ids: Set[int]):
        self.ids = ids

    def visit_Attribute(self, node):
        if node.attr.value == "volatile":
            self.ids.add(id(node))


__all__ = ["VolatileNoGrad", "VolatileRead", "TRUE"]
