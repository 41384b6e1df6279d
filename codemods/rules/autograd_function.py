"""TU046 old-style-function: old-style autograd Functions -> ``@staticmethod forward(ctx, ...)``.

The analysis of a file's Function classes and of their uses is done once, in ``visit_Module``,
on the module the traversal visits (so that node identities match the hooks); the leave hooks
then apply the plan: the class is rebuilt in ``leave_ClassDef``, ``self.x`` becomes ``ctx.x`` in
``leave_Attribute``, call sites become ``Fn.apply(...)`` in ``leave_Call``.
"""
from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple, cast

import libcst as cst

from ..cstutil import code_of
from ..imports import canonical
from ..model import Example
from ..rule import TreeRule
from ..torchapi import AUTOGRAD_FUNCTION, FUNCTION_CTX_ATTRS
from ._legacy_util import module_ref
from ._static import Walk, has_call, literal_number
from ._static import walk as _walk

_CTX = "ctx"
_PURE_BUILTINS = frozenset(["int", "float", "bool", "str", "tuple", "list", "len", "abs", "min", "max", "round"])


# -- small syntactic helpers ----------------------------------------------------------------------
def _decorator_names(fn: cst.FunctionDef) -> List[str]:
    out = []
    for d in fn.decorators:
        dec = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
        if isinstance(dec, cst.Name):
            out.append(dec.value)
        elif isinstance(dec, cst.Attribute):
            out.append(dec.attr.value)
        else:
            out.append("?")
    return out


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _is_literal(expr: cst.BaseExpression) -> bool:
    if literal_number(expr) is not None or isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        return True
    return isinstance(expr, cst.Name) and expr.value in ("None", "True", "False")


def _body_statements(fn: cst.FunctionDef) -> Sequence[cst.BaseStatement]:
    return fn.body.body if isinstance(fn.body, cst.IndentedBlock) else ()


def _positional_params(fn: cst.FunctionDef) -> List[cst.Param]:
    return [*fn.params.posonly_params, *fn.params.params]


def _assigned_names(fn: cst.FunctionDef) -> Set[str]:
    """Names a function binds locally: parameters, assignment/for/with targets, import aliases,
    nested defs and classes."""
    params = fn.params
    out = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            out.add(star.name.value)
    for node, _parent, _ in _walk(fn.body).nodes:
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor)):
            out.update(_target_names(node.target))
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            out.update(_target_names(node.asname.name))
        elif isinstance(node, (cst.AsName, cst.FunctionDef, cst.ClassDef)) and isinstance(node.name, cst.Name):
            out.add(node.name.value)
    return out


def _target_names(target: cst.CSTNode) -> List[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _target_names(e.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


# -- the plan for one class -------------------------------------------------------------------------
@dataclass
class _Site:
    """A construction ``Fn(args)`` the rule rewrites: ``direct`` (called at once: ``Fn(a)(x)``,
    the rewrite happens on the outer call) or ``partial`` (stored, called later)."""

    kind: str
    ctor: cst.Call
    ctor_sources: List[Tuple[str, object]]  # per __init__ parameter: ("arg", i) or ("default", expr)
    outer: Optional[cst.Call] = None
    input_sources: List[Tuple[str, object]] = field(default_factory=list)  # ("arg", i) / ("star", i) / ("default", expr)


@dataclass
class _Plan:
    cls: cst.ClassDef
    name: str
    reasons: List[str] = field(default_factory=list)
    blockers: List[Tuple[cst.CSTNode, str]] = field(default_factory=list)  # uses that stop the conversion
    init: Optional[cst.FunctionDef] = None
    forward: Optional[cst.FunctionDef] = None
    backward: Optional[cst.FunctionDef] = None
    ctor_params: List[cst.Param] = field(default_factory=list)
    inline: List[cst.BaseStatement] = field(default_factory=list)  # __init__ statements moved into forward
    n_inputs: Optional[int] = None  # positional inputs of forward (None with *args)
    attrs: Dict[int, str] = field(default_factory=dict)  # id(self.x) -> "ctx" | "class" | "nig"
    nig_index: Dict[int, int] = field(default_factory=dict)  # id(self.needs_input_grad[i]) -> new i
    returns: Set[int] = field(default_factory=set)  # ids of backward's returns to prefix with Nones
    sites: List[_Site] = field(default_factory=list)
    # for a class of another project module: its qualified name (the plan is a copy of the one
    # its own module makes, holding this module's sites)
    foreign: Optional[str] = None

    @property
    def k(self) -> int:
        return len(self.ctor_params)


class OldStyleFunction(TreeRule):
    code = "TU046"
    owns = ("class:old-style autograd Function",)
    after = ("TU038",)
    name = "old-style-function"
    summary = "Old-style autograd Functions (`forward(self, ...)`, called as `Fn(args)(x)`; a RuntimeError in torch 2.13) -> `@staticmethod forward(ctx, args..., x)` and `Fn.apply(args..., x)`"
    needles = ("Function",)
    description = """
An old-style autograd Function (PyTorch <= 0.3) is a class deriving from
`torch.autograd.Function` with instance methods `forward(self, ...)` / `backward(self, ...)`,
configured through its constructor and called as `RoIPool(7, 7, 1/16)(features, rois)`. torch
2.13 refuses it: `RuntimeError: Legacy autograd function with non-static forward method is
deprecated. Please use new-style autograd function with static forward method.` (and warns that
Functions should not be instantiated). Such classes are everywhere in 2017 detection and
segmentation code (RoI pooling, crop layers, SRU, custom CUDA kernel wrappers).

The rule converts the class to the static form and migrates its call sites in the same file:

* `forward` and `backward` become `@staticmethod`s whose first parameter is `ctx`; every
  `self.attr` inside them becomes `ctx.attr` (`save_for_backward`, `saved_tensors`,
  `needs_input_grad`, `mark_dirty`, `mark_non_differentiable`, and attributes set in `forward`
  and read in `backward`); `self.attr` naming a class attribute or a static/class method becomes
  `Fn.attr`;
* the constructor's parameters become the **first** parameters of `forward`, after `ctx`, and
  the constructor's assignments (`self.h = h`) move to the top of `forward` (on `ctx`);
  `backward` returns `None` for each of them, first (`return grad` -> `return None, None,
  grad`), and `self.needs_input_grad[i]` indices are shifted accordingly;
* `Fn(a, b)(x, y)` -> `Fn.apply(a, b, x, y)`: the constructor arguments come first so that they
  are evaluated before the inputs, as they were; keyword arguments are placed by the
  constructor's and forward's signatures, omitted ones get their literal defaults: arguments
  to `apply` are passed by position only (verified under torch 2.13: `Fn.apply(x, k=3.0)`
  fails with `forward() missing required argument` when a parameter before `k` has a default);
  omitted trailing inputs keep `forward`'s own defaults (`backward` may return more gradients
  than there were inputs as long as the extra ones are `None`: verified);
* a stored instance, `self.roi_pool = RoIPool(7, 7, s)` ... `self.roi_pool(x, rois)` (or a
  local `f = Fn(a)` ... `f(x)`), becomes `functools.partial(RoIPool.apply, 7, 7, s)`: the
  arguments are evaluated once, at the same point, every later call works unchanged, and the
  attribute stays a plain callable (not a registered sub-module: `model.modules()`,
  `state_dict()` and `print(model)` are unchanged). Without constructor arguments it is just
  `Fn.apply`.

With the project index (the CLI always builds one), the class and its uses in the other
modules of the project change together: `from roi import RoIPool` ... `RoIPool(7, 7, s)(x, r)`,
`roi.RoIPool(...)`, a stored instance and names brought in by `from roi import *` are migrated
in their own files as in the class's file. The class is converted only if every module that
uses it is migrated by the same run and none of them has a use that cannot be migrated (a
subclass, `isinstance`, an instance's attribute read, the imported name rebound): otherwise it
is left unchanged, and its note names the module and the use; the callers of a class whose own
file the run does not migrate keep their calls, noted. Each module's uses are judged on its text
as the index read it, so the decision does not depend on the order files are written or on
`--jobs`. Without an index (`migrate()` on a lone source), calls in other modules cannot be
seen: when the class is public, or has no call site in its file, a note gives the new calling
convention; with the index, that note is given only when the project has no call site at all. What cannot be converted
exactly is left unchanged with a note saying why: an instance that keeps state across calls
(`forward` or `backward` assigning an attribute the constructor set, `forward` reading what a
previous `backward` stored), `forward` reading an attribute nobody sets, `self` used other than
as `self.attr`, other instance methods, a constructor doing more than storing values computed
from its arguments, a subclass of such a class (or the class with subclasses), a use of the
class the rule cannot follow (`isinstance(x, Fn)`, an instance passed along, an instance's
attribute read), call sites with `**kwargs` or non-literal omitted defaults.

Fix safety: exact. A static Function computes what the instance did: a new `ctx` per call
holds what `self` held, since the constructor's assignments run first in `forward` with the
same argument values; the gradients returned for the inputs are the same (the extra `None`s are
for the constructor arguments, which are not tensors needing gradients). `ctx.save_for_backward`
accepts intermediate tensors as the old `self.save_for_backward` did (verified). Verified under torch
2.13: forward values and gradients of converted Functions (with constructor arguments, a stored
instance reused across calls, `needs_input_grad`, attributes passed from `forward` to
`backward`) equal those of a hand-written modern Function bitwise, and
`torch.autograd.gradcheck` passes on a double version.
"""
    messages = {
        "not-converted": "old-style autograd Function {name} (instance forward, called as {name}(...)(x): a RuntimeError in torch 2.13) left unchanged: {why}; convert it by hand to @staticmethod forward(ctx, ...)/backward(ctx, ...) called as {name}.apply(...)",
        "blocking-use": "{name} is an old-style autograd Function; this use stops its conversion: {why}",
        "foreign-not-converted": "{name} is an old-style autograd Function (a RuntimeError in torch 2.13) of another module; its calls here are left unchanged: {why}",
        "other-modules": "{name} converted to a static autograd Function: calls in other modules must become {name}.apply({args}) ({why})",
    }
    examples = (
        Example(
            title="RoI pooling: constructor arguments, a stored instance, save_for_backward",
            before="""
            import torch
            import torch.nn as nn
            from torch.autograd import Function


            class _RoIPool(Function):
                def __init__(self, pooled_h, pooled_w, scale):
                    super(_RoIPool, self).__init__()
                    self.pooled_h = pooled_h
                    self.pooled_w = pooled_w
                    self.scale = scale

                def forward(self, features, rois):
                    self.save_for_backward(rois)
                    self.feature_size = features.size()
                    return roi_pool_forward(features, rois, self.pooled_h, self.pooled_w, self.scale)

                def backward(self, grad_output):
                    rois, = self.saved_tensors
                    grad = roi_pool_backward(grad_output, rois, self.feature_size, self.scale)
                    return grad, None


            class Head(nn.Module):
                def __init__(self, s):
                    super(Head, self).__init__()
                    self.roi_pool = _RoIPool(7, 7, s)

                def forward(self, x, rois):
                    return self.roi_pool(x, rois)


            def pool_once(x, rois):
                return _RoIPool(3, 3, 1.0 / 16)(x, rois)
            """,
            after="""
            import torch
            import functools
            import torch.nn as nn
            from torch.autograd import Function


            class _RoIPool(Function):
                @staticmethod
                def forward(ctx, pooled_h, pooled_w, scale, features, rois):
                    ctx.pooled_h = pooled_h
                    ctx.pooled_w = pooled_w
                    ctx.scale = scale
                    ctx.save_for_backward(rois)
                    ctx.feature_size = features.size()
                    return roi_pool_forward(features, rois, ctx.pooled_h, ctx.pooled_w, ctx.scale)

                @staticmethod
                def backward(ctx, grad_output):
                    rois, = ctx.saved_tensors
                    grad = roi_pool_backward(grad_output, rois, ctx.feature_size, ctx.scale)
                    return None, None, None, grad, None


            class Head(nn.Module):
                def __init__(self, s):
                    super(Head, self).__init__()
                    self.roi_pool = functools.partial(_RoIPool.apply, 7, 7, s)

                def forward(self, x, rois):
                    return self.roi_pool(x, rois)


            def pool_once(x, rois):
                return _RoIPool.apply(3, 3, 1.0 / 16, x, rois)
            """,
        ),
        Example(
            title="no constructor, needs_input_grad, keyword and default constructor arguments",
            before="""
            from torch.autograd import Function

            class _Square(Function):
                def forward(self, x):
                    self.save_for_backward(x)
                    return x * x

                def backward(self, g):
                    x, = self.saved_tensors
                    return 2 * x * g

            class _Scale(Function):
                def __init__(self, k, bias=0.0):
                    super().__init__()
                    self.k = k

                def forward(self, x, y):
                    return x * self.k + y

                def backward(self, g):
                    gx = g * self.k if self.needs_input_grad[0] else None
                    return gx, g

            def f(x, y):
                sq = _Square()
                return sq(x) + _Scale(k=2.0)(x, y)
            """,
            after="""
            from torch.autograd import Function

            class _Square(Function):
                @staticmethod
                def forward(ctx, x):
                    ctx.save_for_backward(x)
                    return x * x

                @staticmethod
                def backward(ctx, g):
                    x, = ctx.saved_tensors
                    return 2 * x * g

            class _Scale(Function):
                @staticmethod
                def forward(ctx, k, bias, x, y):
                    ctx.k = k
                    return x * ctx.k + y

                @staticmethod
                def backward(ctx, g):
                    gx = g * ctx.k if ctx.needs_input_grad[2] else None
                    return None, None, gx, g

            def f(x, y):
                sq = _Square.apply
                return sq(x) + _Scale.apply(2.0, 0.0, x, y)
            """,
        ),
        Example(
            title="a public class: converted, and a note for calls in other modules",
            before="""
            import torch

            class ReverseGrad(torch.autograd.Function):
                def __init__(self, lambd):
                    self.lambd = lambd

                def forward(self, x):
                    return x.view_as(x)

                def backward(self, g):
                    return -self.lambd * g
            """,
            after="""
            import torch

            class ReverseGrad(torch.autograd.Function):
                @staticmethod
                def forward(ctx, lambd, x):
                    ctx.lambd = lambd
                    return x.view_as(x)

                @staticmethod
                def backward(ctx, g):
                    return None, -ctx.lambd * g
            """,
            notes=((3, "TU046", "calls in other modules must become ReverseGrad.apply(lambd, x)"),),
        ),
        Example(
            title="state kept across calls, a subclass, an inspected instance: left with notes",
            before="""
            from torch.autograd import Function

            class _Counter(Function):
                def __init__(self):
                    self.calls = 0

                def forward(self, x):
                    self.calls += 1
                    return x.clone()

                def backward(self, g):
                    return g

            class _Base(Function):
                def forward(self, x):
                    return x.clone()

                def backward(self, g):
                    return g

            class _Child(_Base):
                pass

            class _Inspected(Function):
                def __init__(self, k):
                    self.k = k

                def forward(self, x):
                    return x * self.k

                def backward(self, g):
                    return g * self.k

            fn = _Inspected(2)
            y = fn(x)
            print(fn.k)
            """,
            notes=(
                (3, "TU046", "keeps state across calls"),
                (14, "TU046", "has subclasses"),
                (24, "TU046", "left unchanged"),
                (36, "TU046", "attribute of an instance"),
            ),
        ),
        Example(
            title="with the project index: a class used in a module the run does not migrate is left whole",
            before="""
            from torch.autograd import Function

            class Crop(Function):
                def __init__(self, size):
                    self.size = size

                def forward(self, x):
                    return x[:self.size].clone()

                def backward(self, g):
                    return g
            """,
            modules=(("train", """
                from example import Crop

                def step(x):
                    return Crop(4)(x)
                """),),
            notes=((3, "TU046", "a use in `train` is not migrated by this run"),),
        ),
        Example(
            title="with the project index: calls of a class whose module the run does not migrate are left, noted",
            before="""
            from roi import RoIPool

            def pool(x, rois):
                return RoIPool(7, 7, 0.0625)(x, rois)
            """,
            modules=(("roi", """
                from torch.autograd import Function

                class RoIPool(Function):
                    def __init__(self, h, w, scale):
                        self.scale = scale

                    def forward(self, x, rois):
                        return x * self.scale

                    def backward(self, g):
                        return g * self.scale, None
                """),),
            notes=((4, "TU046", "its module `roi` is not migrated by this run"),),
        ),
        Example(
            title="new-style Functions and classes that are not torch's are left alone",
            before="""
            import torch

            class Exp(torch.autograd.Function):
                @staticmethod
                def forward(ctx, x):
                    y = x.exp()
                    ctx.save_for_backward(y)
                    return y

                @staticmethod
                def backward(ctx, g):
                    y, = ctx.saved_tensors
                    return g * y

            class Function:
                def forward(self, x):
                    return x

            class Mine(Function):
                def forward(self, x):
                    return x
            """,
        ),
    )

    @classmethod
    def applies_in_project(cls, project, path: str) -> bool:
        # a module that uses an old-style Function of another module need not say "Function"
        summary = project.module_for_path(path)
        return summary is not None and summary.function_text is not None

    def __init__(self, ctx):
        super().__init__(ctx)
        self._plans: Dict[int, _Plan] = {}  # id(ClassDef) -> plan of a class that is converted
        self._attrs: Dict[int, Tuple[_Plan, str]] = {}
        self._nig: Dict[int, int] = {}
        self._returns: Dict[int, _Plan] = {}
        self._direct: Dict[int, Tuple[_Plan, _Site]] = {}  # id(outer call) -> site
        self._partial: Dict[int, Tuple[_Plan, _Site]] = {}  # id(constructor call) -> site
        self._functools: Optional[str] = None
        self._rebound: Dict[str, str] = {}  # local name imported from a class's module, rebound -> class
        self._rebound_star: Dict[str, str] = {}  # class -> its name, star-imported and rebound

    # == analysis ===================================================================================
    def visit_Module(self, node: cst.Module) -> None:
        found = self.analyse(node)
        if found is None:
            return
        project, module_name = self.ctx.project, self._module_name()
        for plan in found.local.values():
            if plan.reasons or plan.blockers:
                why = "; ".join(plan.reasons) if plan.reasons else "a use in this file cannot be migrated (see the other note)"
                self.note(plan.cls, "not-converted", name=plan.name, why=why)
                for use, why_use in plan.blockers:
                    self.note(use, "blocking-use", name=plan.name, why=why_use)
                continue
            if project is not None and module_name is not None:
                ok, why = project_decision(project, f"{module_name}.{plan.name}", module_name, found)
                if not ok:
                    self.note(plan.cls, "not-converted", name=plan.name, why=why)
                    continue
                self._adopt(plan, found)
                continue
            self._adopt(plan)
        for qualified, fplan in found.foreign.items():
            assert project is not None and module_name is not None  # foreign uses need the index
            ok, why = project_decision(project, qualified, module_name, found)
            if fplan.blockers:
                for use, why_use in fplan.blockers:
                    self.note(use, "blocking-use", name=fplan.name, why=why_use)
                continue
            if not ok:
                if fplan.sites and not project.is_target(qualified.rpartition(".")[0]):
                    self.note(fplan.sites[0].ctor, "foreign-not-converted", name=fplan.name, why=why)
                continue
            for site in fplan.sites:
                if site.kind == "direct":
                    assert site.outer is not None
                    self._direct[id(site.outer)] = (fplan, site)
                else:
                    self._partial[id(site.ctor)] = (fplan, site)

    def _module_name(self) -> Optional[str]:
        project = self.ctx.project
        summary = project.module_for_path(self.ctx.path) if project is not None else None
        return summary.name if summary is not None else None

    def analyse(self, node: cst.Module) -> Optional["ModuleUses"]:
        """The plans for the module's own old-style Functions and for the project ones it uses
        (with the index), before anything is reported; None when there are none."""
        candidates = []
        for stmt in node.body:
            if isinstance(stmt, cst.ClassDef) and self._old_style(stmt):
                candidates.append(stmt)
        foreign = self._foreign_plans()
        if not candidates and not foreign:
            return None
        walk = _walk(node)
        names = {c.name.value for c in candidates}
        plans = {c.name.value: self._analyse_class(c) for c in candidates}
        self._check_bindings(node, plans)
        # subclasses of a candidate (a subclass of a subclass cannot be converted alone)
        for sub, _, _ in walk.nodes:
            if isinstance(sub, cst.ClassDef) and sub.name.value not in names:
                for base in sub.bases:
                    if isinstance(base.value, cst.Name) and base.value.value in plans:
                        plans[base.value.value].reasons.append(f"it has subclasses ({sub.name.value}), which would need converting with it")
        self._find_uses(walk, plans, foreign)
        return ModuleUses(plans, foreign)

    def _foreign_plans(self) -> Dict[str, _Plan]:
        """One empty plan per old-style Function of another project module this file imports
        (its signature from the class's own module, as the index read it)."""
        project = self.ctx.project
        module_name = self._module_name()
        if project is None or module_name is None:
            return {}
        out: Dict[str, _Plan] = {}
        for summary in project.modules.values():
            for name, cls in summary.classes.items():
                if not cls.old_style_function or module_name not in cls.users:
                    continue
                plan = _dry_signatures(project, summary.name).get(name)
                if plan is not None:
                    qualified = f"{summary.name}.{name}"
                    out[qualified] = _foreign_copy(plan, qualified)
                    if name not in self.imports.aliases and self.imports.resolve_dotted(name) != qualified and not self.imports.is_free(name):
                        # brought in by a star import and rebound: its uses cannot be told apart
                        self._rebound_star.setdefault(qualified, name)
        for local, targets in sorted(self.imports.aliases.items()):
            for target in sorted(targets):
                qualified = canonical(project.reexported(target))
                if qualified in out and self.imports.resolve_dotted(local) != qualified:
                    # ``from fn import RoIPool`` and the name rebound: its uses cannot be told
                    # apart (the blocker is noted on the import, see _find_uses)
                    self._rebound[local] = qualified
        return out

    def _old_style(self, cls: cst.ClassDef) -> bool:
        if not any(self.imports.resolve(b.value) in AUTOGRAD_FUNCTION for b in cls.bases):
            return False
        for stmt in _class_members(cls):
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "forward":
                return not ({"staticmethod", "classmethod"} & set(_decorator_names(stmt)))
        return False

    def _check_bindings(self, module: cst.Module, plans: Dict[str, _Plan]) -> None:
        """The class name must mean the class everywhere in the file."""
        tree = self.ctx.tree
        if tree is None:
            return
        counts: Dict[str, int] = {}
        for node in ast.walk(tree):
            bound = None
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound = node.name
            elif isinstance(node, ast.arg):
                bound = node.arg
            elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                bound = node.id
            elif isinstance(node, ast.alias):
                bound = node.asname or node.name.split(".")[0]
            if bound in plans:
                counts[bound] = counts.get(bound, 0) + 1
        for name, n in counts.items():
            if n > 1:
                plans[name].reasons.append(f"the name {name} is bound more than once in this file")

    def _analyse_class(self, cls: cst.ClassDef) -> _Plan:
        plan = _Plan(cls=cls, name=cls.name.value)
        reasons = plan.reasons
        if len(cls.bases) != 1 or cls.keywords:
            reasons.append("it has several base classes or a metaclass")
        class_attrs: Set[str] = set()
        helpers: Set[str] = set()
        methods: Dict[str, cst.FunctionDef] = {}
        for stmt in _class_members(cls):
            if isinstance(stmt, cst.FunctionDef):
                decos = set(_decorator_names(stmt))
                if stmt.name.value in ("__init__", "forward", "backward"):
                    if decos & {"property", "classmethod", "staticmethod"} - ({"staticmethod"} if stmt.name.value == "backward" else set()):
                        reasons.append(f"{stmt.name.value} has a @{sorted(decos)[0]} decorator")
                    methods[stmt.name.value] = stmt
                elif decos & {"staticmethod", "classmethod"}:
                    helpers.add(stmt.name.value)
                else:
                    reasons.append(f"it has another instance method ({stmt.name.value}) that forward/backward may rely on")
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        for t in small.targets:
                            class_attrs.update(_target_names(t.target))
                    elif isinstance(small, cst.AnnAssign):
                        class_attrs.update(_target_names(small.target))
                    elif not isinstance(small, (cst.Expr, cst.Pass)):
                        reasons.append("its class body has statements other than methods and attributes")
            else:
                reasons.append("its class body has statements other than methods and attributes")
        plan.init, plan.forward, plan.backward = methods.get("__init__"), methods.get("forward"), methods.get("backward")
        forward = plan.forward
        assert forward is not None
        if plan.backward is not None and "staticmethod" in _decorator_names(plan.backward):
            reasons.append("backward is already static while forward is not")
        for fn in filter(None, (plan.init, forward, plan.backward)):
            if fn.params.posonly_params:
                reasons.append(f"{fn.name.value} has positional-only parameters")
                return plan
            if not _positional_params(fn):
                reasons.append(f"{fn.name.value} takes no self parameter")
                return plan
        if reasons:
            return plan
        # forward's signature
        fparams = forward.params
        if fparams.kwonly_params or isinstance(fparams.star_kwarg, cst.Param):
            reasons.append("forward takes keyword-only or **kwargs parameters (apply passes arguments by position)")
        inputs = _positional_params(forward)[1:]
        plan.n_inputs = None if isinstance(fparams.star_arg, cst.Param) else len(inputs)
        # the constructor
        init_set: Set[str] = set()
        if plan.init is not None:
            self._analyse_init(plan, init_set, class_attrs | helpers)
            if reasons:
                return plan
        ctor_names = [p.name.value for p in plan.ctor_params]
        input_names = {p.name.value for p in inputs} | ({fparams.star_arg.name.value} if isinstance(fparams.star_arg, cst.Param) else set())
        clash = set(ctor_names) & input_names
        if clash:
            reasons.append(f"a constructor parameter and a forward parameter share the name {sorted(clash)[0]}")
        # self.x in forward and backward
        sets: Dict[str, Set[str]] = {}
        reads: Dict[str, Set[str]] = {}
        for fn in filter(None, (forward, plan.backward)):
            s, r = self._self_uses(plan, fn)
            sets[fn.name.value], reads[fn.name.value] = s, r
        fset, bset = sets.get("forward", set()), sets.get("backward", set())
        instance = init_set | fset | bset
        for attr in sorted((fset | bset) & init_set):
            reasons.append(f"it keeps state across calls (self.{attr} is set by the constructor and changed by forward/backward)")
        for attr in sorted(reads.get("forward", set()) - init_set - fset - class_attrs - helpers - FUNCTION_CTX_ATTRS):
            if attr in bset:
                reasons.append(f"it keeps state across calls (forward reads self.{attr}, which a previous backward set)")
            else:
                reasons.append(f"forward reads self.{attr}, which nothing in the class sets")
        for attr in sorted(reads.get("backward", set()) - instance - class_attrs - helpers - FUNCTION_CTX_ATTRS):
            reasons.append(f"backward reads self.{attr}, which nothing in the class sets")
        for attr in sorted(instance & (class_attrs | helpers)):
            reasons.append(f"self.{attr} is both a class attribute and an instance attribute")
        if reasons:
            return plan
        # names: ctx must be free; constructor parameters must not shadow names forward reads
        for fn in filter(None, (forward, plan.backward)):
            local = _assigned_names(fn)
            used = {n.value for n, parent, _ in _walk(fn.body).nodes if isinstance(n, cst.Name) and not (isinstance(parent, cst.Attribute) and parent.attr is n)}
            if _CTX in (local | used) - {_positional_params(fn)[0].name.value}:
                reasons.append(f"{fn.name.value} already uses the name ctx")
            if fn is forward:
                shadow = (set(ctor_names) & used) - local
                if shadow:
                    reasons.append(f"forward reads the name {sorted(shadow)[0]}, which the constructor parameter of that name would shadow")
                init_self = {_positional_params(plan.init)[0].name.value} if plan.init is not None else set()
                init_free = self._init_free_names(plan) - set(ctor_names) - init_self
                hidden = init_free & (local - {_positional_params(fn)[0].name.value})
                if hidden:
                    reasons.append(f"the constructor reads {sorted(hidden)[0]}, which forward binds locally")
        # map the attributes: ctx, class, needs_input_grad
        for fn in filter(None, (plan.init, forward, plan.backward)):
            self._map_attrs(plan, fn, class_attrs | helpers)
        if plan.backward is not None and plan.k:
            for node, _, scopes in _walk(plan.backward.body).nodes:
                if isinstance(node, cst.Return) and not any(isinstance(s, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) for s in scopes):
                    value = node.value
                    if (value is None or (isinstance(value, cst.Name) and value.value == "None")) and plan.n_inputs != 1:
                        reasons.append("backward returns None for several inputs")
                    plan.returns.add(id(node))
        return plan

    def _analyse_init(self, plan: _Plan, init_set: Set[str], class_names: Set[str]) -> None:
        init = plan.init
        assert init is not None
        p = init.params
        if p.kwonly_params or isinstance(p.star_arg, cst.Param) or isinstance(p.star_kwarg, cst.Param) or p.posonly_params:
            plan.reasons.append("the constructor takes *args, **kwargs or keyword-only parameters")
            return
        self_name = p.params[0].name.value
        plan.ctor_params = list(p.params[1:])
        ctor_names = {q.name.value for q in plan.ctor_params}
        for stmt in _body_statements(init):
            if _is_docstring(stmt) or self._is_super_init(stmt, plan.name, self_name):
                continue
            if not isinstance(stmt, cst.SimpleStatementLine):
                plan.reasons.append("its constructor does more than store values computed from its arguments")
                return
            for small in stmt.body:
                if isinstance(small, cst.Pass):
                    continue
                if isinstance(small, cst.Global):
                    plan.reasons.append("its constructor uses a global statement")
                    return
                target_value = None
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target_value = (small.targets[0].target, small.value)
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    target_value = (small.target, small.value)
                if target_value is None:
                    plan.reasons.append("its constructor does more than store values computed from its arguments")
                    return
                target, value = target_value
                attrs = self._self_targets(target, self_name)
                if attrs is None or not self._pure(value, self_name, ctor_names, init_set | class_names):
                    plan.reasons.append("its constructor does more than store values computed from its arguments")
                    return
                init_set.update(attrs)
            plan.inline.append(stmt)

    @staticmethod
    def _self_targets(target: cst.BaseExpression, self_name: str) -> Optional[List[str]]:
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == self_name:
            return [target.attr.value]
        if isinstance(target, (cst.Tuple, cst.List)):
            out: List[str] = []
            for e in target.elements:
                sub = OldStyleFunction._self_targets(e.value, self_name)
                if sub is None:
                    return None
                out.extend(sub)
            return out
        return None

    def _pure(self, expr: cst.BaseExpression, self_name: str, params: Set[str], known_attrs: Set[str]) -> bool:
        """An expression that reads its names once and has no effects: it gives the same value
        when evaluated at the start of forward instead of in the constructor."""
        for node, parent, _ in _walk(expr).nodes:
            if isinstance(node, cst.Call):
                if not (isinstance(node.func, cst.Name) and node.func.value in _PURE_BUILTINS and self.imports.is_builtin(node.func, node.func.value)):
                    return False
            elif isinstance(node, (cst.Lambda, cst.Await, cst.Yield, cst.NamedExpr, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)) or (
                # a read of self other than self.<known attribute>
                isinstance(node, cst.Name) and node.value == self_name
                and not (isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value in known_attrs)
            ):
                return False
        return True

    def _init_free_names(self, plan: _Plan) -> Set[str]:
        out: Set[str] = set()
        for stmt in plan.inline:
            for node, parent, _ in _walk(stmt).nodes:
                if isinstance(node, cst.Name) and not (isinstance(parent, cst.Attribute) and parent.attr is node):
                    out.add(node.value)
        return out

    @staticmethod
    def _is_super_init(stmt: cst.CSTNode, cls_name: str, self_name: str) -> bool:
        """``super(Cls, self).__init__()``, ``super().__init__()`` or ``Function.__init__(self)``."""
        if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)):
            return False
        call = stmt.body[0].value
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "__init__"):
            return False
        recv = call.func.value
        if isinstance(recv, cst.Call) and isinstance(recv.func, cst.Name) and recv.func.value == "super":
            return not call.args
        return len(call.args) == 1 and isinstance(call.args[0].value, cst.Name) and call.args[0].value.value == self_name

    def _self_uses(self, plan: _Plan, fn: cst.FunctionDef) -> Tuple[Set[str], Set[str]]:
        """(attributes ``fn`` sets on self, attributes it reads); a bare use of self is a reason."""
        self_name = _positional_params(fn)[0].name.value
        nodes = _walk(fn.body).nodes
        stores: Set[int] = set()  # self.x nodes that are only written (x = ..., del)
        sets: Set[str] = set()
        for node, _, _ in nodes:
            if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.Del)):
                target = node.target
                for attr_node in self._attr_targets(target, self_name):
                    sets.add(attr_node.attr.value)
                    if not isinstance(node, cst.AugAssign):
                        stores.add(id(attr_node))
        reads: Set[str] = set()
        for node, parent, _ in nodes:
            if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                params = node.params
                if any(p.name.value == self_name for p in (*params.posonly_params, *params.params, *params.kwonly_params)):
                    plan.reasons.append(f"a function nested in {fn.name.value} rebinds {self_name}")
            if not (isinstance(node, cst.Name) and node.value == self_name):
                continue
            if isinstance(parent, cst.Attribute) and parent.attr is node:
                continue
            if not (isinstance(parent, cst.Attribute) and parent.value is node):
                plan.reasons.append(f"{fn.name.value} uses {self_name} other than as {self_name}.attribute")
                continue
            if id(parent) not in stores:
                reads.add(parent.attr.value)
        return sets, reads

    @staticmethod
    def _attr_targets(target: cst.BaseExpression, self_name: str) -> List[cst.Attribute]:
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == self_name:
            return [target]
        if isinstance(target, (cst.Tuple, cst.List)):
            return [a for e in target.elements for a in OldStyleFunction._attr_targets(e.value, self_name)]
        if isinstance(target, cst.StarredElement):
            return OldStyleFunction._attr_targets(target.value, self_name)
        return []

    def _map_attrs(self, plan: _Plan, fn: cst.FunctionDef, class_names: Set[str]) -> None:
        self_name = _positional_params(fn)[0].name.value
        parents: Dict[int, cst.CSTNode] = {}
        nodes = _walk(fn.body).nodes
        for node, parent, _ in nodes:
            if parent is not None:
                parents[id(node)] = parent
        for node, _parent, _ in nodes:
            if not (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == self_name):
                continue
            attr = node.attr.value
            if attr in class_names:
                plan.attrs[id(node)] = "class"
            elif attr == "needs_input_grad" and plan.k:
                sub = parents.get(id(node))
                index = None
                if isinstance(sub, cst.Subscript) and sub.value is node and len(sub.slice) == 1 and isinstance(sub.slice[0].slice, cst.Index):
                    index = literal_number(sub.slice[0].slice.value)
                if isinstance(index, int):
                    plan.attrs[id(node)] = "ctx"
                    if index >= 0:
                        plan.nig_index[id(sub)] = index + plan.k
                else:
                    plan.attrs[id(node)] = "nig"
            else:
                plan.attrs[id(node)] = "ctx"

    # -- uses of the class in the file ----------------------------------------------------------------
    def _find_uses(self, walk: Walk, plans: Dict[str, _Plan], foreign: Dict[str, _Plan]) -> None:
        parent_of: Dict[int, cst.CSTNode] = {id(n): p for n, p, _ in walk.nodes if p is not None}
        scopes_of: Dict[int, Tuple[cst.CSTNode, ...]] = {id(n): s for n, _, s in walk.nodes}
        project = self.ctx.project
        foreign_names: Set[str] = set()
        if foreign and project is not None:
            foreign_names = {q.rpartition(".")[2] for q in foreign}
            foreign_names |= {local for local, targets in self.imports.aliases.items() if any(canonical(project.reexported(t)) in foreign for t in targets)}
        for node, parent, scopes in walk.nodes:
            if isinstance(node, cst.ImportAlias) and self._rebound:
                local = node.evaluated_alias or node.evaluated_name
                if local in self._rebound:
                    fplan = foreign[self._rebound[local]]
                    fplan.blockers.append((node, f"the name {local} is bound more than once in this file"))
            elif isinstance(node, cst.ImportFrom) and isinstance(node.names, cst.ImportStar) and self._rebound_star:
                for qualified, name in sorted(self._rebound_star.items()):
                    foreign[qualified].blockers.append((node, f"the name {name}, which this star import binds, is bound again in this file"))
                self._rebound_star = {}
            if parent is None:
                continue
            plan: Optional[_Plan] = None
            if isinstance(node, cst.Name) and node.value in plans:
                plan = plans[node.value]
            elif foreign_names and (
                (isinstance(node, cst.Name) and node.value in foreign_names) or (isinstance(node, cst.Attribute) and node.attr.value in foreign_names)
            ):
                if isinstance(parent, (cst.ImportAlias, cst.AsName)):
                    continue  # the import itself
                plan = foreign.get(self.imports.resolve(node) or "")
            if plan is None:
                continue
            if isinstance(parent, cst.ClassDef) and parent.name is node:
                continue
            if isinstance(parent, cst.Attribute) and parent.attr is node:
                continue
            if plan.foreign is None and scopes and scopes[0] is plan.cls and not (isinstance(parent, cst.Call) and parent.func is node):
                continue  # inside the class itself (super(Fn, self), Fn.CONSTANT): handled with it
            if isinstance(parent, cst.Arg) and isinstance(parent_of.get(id(parent)), cst.ClassDef):
                if plan.foreign is not None:
                    sub = cast(cst.ClassDef, parent_of[id(parent)])
                    plan.blockers.append((sub, f"{sub.name.value} subclasses it, and would need converting with it"))
                continue  # a base class: the subclass check
            if isinstance(parent, cst.Call) and parent.func is node:
                self._construction(plan, parent, parent_of, scopes_of, walk)
                continue
            plan.blockers.append((node, f"{code_of(node)} is used other than by constructing and calling it"))

    def _construction(self, plan: _Plan, call: cst.Call, parent_of, scopes_of, walk: Walk) -> None:
        ctor_sources = self._bind_ctor(plan, call)
        if ctor_sources is None:
            return
        holder = parent_of.get(id(call))
        if isinstance(holder, cst.Call) and holder.func is call:
            inputs = self._bind_inputs(plan, holder, holder)
            if inputs is not None:
                plan.sites.append(_Site("direct", call, ctor_sources, outer=holder, input_sources=inputs))
            return
        if isinstance(holder, cst.Assign) and len(holder.targets) == 1:
            target = holder.targets[0].target
            if isinstance(target, cst.Name):
                scope = scopes_of.get(id(call), ())
                region = scope[-1] if scope else None
                if self._uses_ok(plan, walk, region, lambda n, p: isinstance(n, cst.Name) and n.value == target.value and not (isinstance(p, cst.Attribute) and p.attr is n)):
                    plan.sites.append(_Site("partial", call, ctor_sources))
                return
            if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
                scope = scopes_of.get(id(call), ())
                cls = next((s for s in reversed(scope) if isinstance(s, cst.ClassDef)), None)
                attr, obj = target.attr.value, target.value.value
                if self._uses_ok(plan, walk, cls, lambda n, p: isinstance(n, cst.Attribute) and n.attr.value == attr and isinstance(n.value, cst.Name) and n.value.value == obj):
                    plan.sites.append(_Site("partial", call, ctor_sources))
                return
        plan.blockers.append((call, f"the instance {code_of(call)} is used in a way the rule does not follow (store it in a variable or attribute, or call it at once)"))

    def _uses_ok(self, plan: _Plan, walk: Walk, region: Optional[cst.CSTNode], matches) -> bool:
        """Every use of the stored instance inside ``region`` (its scope) is a plain call or a
        plain reference: no attribute of the instance is read, no keyword argument passed."""
        ok = True
        for node, parent, scopes in walk.nodes:
            if region is not None and region not in scopes:
                continue
            if not matches(node, parent):
                continue
            if isinstance(parent, cst.Attribute) and parent.value is node:
                plan.blockers.append((parent, f"{code_of(parent)} reads an attribute of an instance, which a static Function does not have"))
                ok = False
            elif isinstance(parent, cst.Call) and parent.func is node and any(a.keyword or a.star == "**" for a in parent.args):
                plan.blockers.append((parent, "a call with keyword arguments (apply takes positional arguments only)"))
                ok = False
        return ok

    def _bind_ctor(self, plan: _Plan, call: cst.Call) -> Optional[List[Tuple[str, object]]]:
        return self._bind(plan, call, plan.ctor_params, "the constructor")

    def _bind_inputs(self, plan: _Plan, call: cst.Call, where: cst.CSTNode) -> Optional[List[Tuple[str, object]]]:
        assert plan.forward is not None
        params = _positional_params(plan.forward)[1:]
        if plan.n_inputs is None:  # forward(self, *inputs) or (self, a, *rest): positional calls only
            if any(a.keyword for a in call.args):
                plan.blockers.append((where, "keyword arguments for a forward that takes *args"))
                return None
            return [("star", i) if a.star else ("arg", i) for i, a in enumerate(call.args)]
        return self._bind(plan, call, params, "forward", allow_omitted_defaults=True)

    def _bind(self, plan: _Plan, call: cst.Call, params: Sequence[cst.Param], what: str, allow_omitted_defaults: bool = False):
        """Each parameter's source at this call: ("arg", index) or ("default", expression)."""
        args = call.args
        if any(a.star for a in args):
            plan.blockers.append((call, f"*args/**kwargs passed to {what}"))
            return None
        names = [p.name.value for p in params]
        bound: Dict[str, int] = {}
        positional = [i for i, a in enumerate(args) if a.keyword is None]
        if len(positional) > len(names):
            plan.blockers.append((call, f"more arguments than {what} takes"))
            return None
        for name, i in zip(names, positional):
            bound[name] = i
        order = []
        for i, a in enumerate(args):
            if a.keyword is not None:
                if a.keyword.value not in names or a.keyword.value in bound:
                    plan.blockers.append((call, f"an argument {what} does not take"))
                    return None
                bound[a.keyword.value] = i
                order.append(names.index(a.keyword.value))
        if order != sorted(order) and sum(has_call(args[bound[names[j]]].value) for j in order) > 0:
            plan.blockers.append((call, f"keyword arguments of {what} out of order, with calls in them (their evaluation order would change)"))
            return None
        sources: List[Tuple[str, object]] = []
        trailing = True
        for idx in range(len(names) - 1, -1, -1):
            name, p = names[idx], params[idx]
            if name in bound:
                sources.append(("arg", bound[name]))
                trailing = False
            elif p.default is not None and allow_omitted_defaults and trailing:
                continue  # a trailing omitted input keeps forward's own default
            elif p.default is not None and _is_literal(p.default):
                sources.append(("default", p.default))
            elif p.default is not None:
                plan.blockers.append((call, f"{what}'s parameter {name} is omitted and its default is not a literal"))
                return None
            else:
                plan.blockers.append((call, f"{what}'s parameter {name} is not given"))
                return None
        sources.reverse()
        return sources

    # == rewriting ======================================================================================
    def _adopt(self, plan: _Plan, own: Optional[ModuleUses] = None) -> None:
        self._plans[id(plan.cls)] = plan
        for node_id, kind in plan.attrs.items():
            self._attrs[node_id] = (plan, kind)
        self._nig.update(plan.nig_index)
        for rid in plan.returns:
            self._returns[rid] = plan
        for site in plan.sites:
            if site.kind == "direct":
                assert site.outer is not None
                self._direct[id(site.outer)] = (plan, site)
            else:
                self._partial[id(site.ctor)] = (plan, site)
        assert plan.forward is not None  # see _analyse_class
        args = ", ".join([p.name.value for p in plan.ctor_params] + [p.name.value for p in _positional_params(plan.forward)[1:]])
        module_name = self._module_name()
        if own is not None and module_name is not None:
            # the index saw the project: its call sites in other modules change with the class
            if not plan.sites and not _project_sites(self.ctx.project, f"{module_name}.{plan.name}", module_name, own):
                self.note(plan.cls, "other-modules", name=plan.name, args=args, why="no call site in the project")
        elif not plan.sites:
            self.note(plan.cls, "other-modules", name=plan.name, args=args, why="no call site in this file")
        elif not plan.name.startswith("_"):
            self.note(plan.cls, "other-modules", name=plan.name, args=args, why="the class is public")
        self.edit(plan.cls, f"old-style autograd Function {plan.name} -> static forward(ctx, ...)/backward(ctx, ...)")

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        found = self._attrs.get(id(original_node))
        if found is None:
            return updated_node
        plan, kind = found
        if kind == "class":
            return updated_node.with_changes(value=cst.Name(plan.name))
        new = updated_node.with_changes(value=cst.Name(_CTX))
        if kind == "nig":
            return cst.Subscript(value=new, slice=[cst.SubscriptElement(cst.Slice(lower=cst.Integer(str(plan.k)), upper=None))])
        return new

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        index = self._nig.get(id(original_node))
        if index is None:
            return updated_node
        element = updated_node.slice[0]
        return updated_node.with_changes(slice=[element.with_changes(slice=element.slice.with_changes(value=cst.Integer(str(index))))])

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        plan = self._returns.get(id(original_node))
        if plan is None:
            return updated_node
        nones = [cst.Element(cst.Name("None")) for _ in range(plan.k)]
        value = updated_node.value
        if isinstance(value, cst.Tuple):
            elements = [e.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for e in nones] + list(value.elements)
            return updated_node.with_changes(value=value.with_changes(elements=elements))
        last: cst.BaseElement
        if value is None or plan.n_inputs == 1:
            last = cst.Element(value if value is not None else cst.Name("None"))
        else:
            last = cst.StarredElement(value)
        elements = [e.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for e in nones] + [last]
        parens: Dict[str, list] = {"lpar": [], "rpar": []} if plan.n_inputs == 1 or value is None else {}
        return updated_node.with_changes(value=cst.Tuple(elements=elements, **parens), whitespace_after_return=cst.SimpleWhitespace(" "))

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        plan = self._plans.get(id(original_node))
        if plan is None:
            return updated_node
        body = list(cast(cst.IndentedBlock, updated_node.body).body)  # a class with methods
        by_name = {m.name.value: m for m in body if isinstance(m, cst.FunctionDef)}
        inline: List[cst.BaseStatement] = []
        if plan.init is not None:
            new_init = by_name.get("__init__")
            old, new = _body_statements(plan.init), _body_statements(new_init) if new_init is not None else ()
            if len(old) != len(new):  # another rule changed the constructor: do not guess
                self.note(plan.cls, "not-converted", name=plan.name, why="another rule changed its constructor in this run; run torchupgrade again")
                return original_node
            kept = {id(s) for s in plan.inline}
            inline = [u for o, u in zip(old, new) if id(o) in kept]
        out: List[cst.BaseStatement] = []
        carry = None  # the leading lines of the removed __init__, for the member after it
        for member in body:
            if isinstance(member, cst.FunctionDef) and member.name.value == "__init__" and plan.init is not None:
                carry = member.leading_lines
                continue
            if isinstance(member, cst.FunctionDef) and member.name.value == "forward":
                member = self._static(member, extra=plan.ctor_params, prologue=inline, strip_defaults=self._strip_defaults(plan))
            elif isinstance(member, cst.FunctionDef) and member.name.value == "backward" and plan.backward is not None:
                member = self._static(member)
            if carry is not None:
                if isinstance(member, cst.FunctionDef) and member.decorators:
                    member = member.with_changes(decorators=[member.decorators[0].with_changes(leading_lines=carry), *member.decorators[1:]])
                else:
                    member = member.with_changes(leading_lines=carry)
                carry = None
            out.append(member)
        return updated_node.with_changes(body=updated_node.body.with_changes(body=out))

    @staticmethod
    def _strip_defaults(plan: _Plan) -> bool:
        assert plan.forward is not None  # see _analyse_class
        return any(p.default is None for p in _positional_params(plan.forward)[1:])

    def _static(self, fn: cst.FunctionDef, extra: Sequence[cst.Param] = (), prologue: Sequence[cst.BaseStatement] = (), strip_defaults: bool = False) -> cst.FunctionDef:
        """``fn`` as a static method: ``ctx`` first, then ``extra`` (the constructor's parameters),
        then its own parameters; ``prologue`` (the constructor's body) at the top of its body."""
        params = fn.params
        first = params.params[0].with_changes(name=cst.Name(_CTX))
        rest = list(params.params[1:])
        space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        added = []
        for p in extra:
            p = p.with_changes(comma=space, whitespace_after_param=cst.SimpleWhitespace(""))
            if strip_defaults:
                p = p.with_changes(default=None, equal=cst.MaybeSentinel.DEFAULT)
            added.append(p)
        if added:
            more = rest or params.kwonly_params or not isinstance(params.star_arg, cst.MaybeSentinel) or isinstance(params.star_kwarg, cst.Param)
            if not more:
                added[-1] = added[-1].with_changes(comma=first.comma)
                first = first.with_changes(comma=space)
            elif not isinstance(first.comma, cst.Comma):
                first = first.with_changes(comma=space)
        new = fn.with_changes(
            params=params.with_changes(params=[first, *added, *rest]),
            decorators=[
                cst.Decorator(decorator=cst.Name("staticmethod"), leading_lines=fn.leading_lines),
                *[d.with_changes(leading_lines=[]) if i == 0 else d for i, d in enumerate(fn.decorators)],
            ],
            leading_lines=[],
        )
        if prologue and isinstance(fn.body, cst.IndentedBlock):
            stmts = list(fn.body.body)
            at = 1 if stmts and _is_docstring(stmts[0]) else 0
            moved = [s.with_changes(leading_lines=[]) for s in prologue]
            new = new.with_changes(body=fn.body.with_changes(body=stmts[:at] + moved + stmts[at:]))
        return new

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        site = self._direct.get(id(original_node))
        if site is not None:
            plan, s = site
            ctor = updated_node.func
            assert isinstance(ctor, cst.Call)
            args = self._args(s.ctor_sources, ctor.args) + self._args(s.input_sources, updated_node.args)
            self.edit(original_node, f"{plan.name}(...)(inputs) -> {plan.name}.apply(constructor arguments, inputs)")
            return cst.Call(func=cst.Attribute(value=self._callee(ctor.func), attr=cst.Name("apply")), args=self._commas(args, updated_node.args), lpar=updated_node.lpar, rpar=updated_node.rpar)
        site = self._partial.get(id(original_node))
        if site is not None:
            plan, s = site
            apply = cst.Attribute(value=self._callee(updated_node.func), attr=cst.Name("apply"))
            self.edit(original_node, f"stored {plan.name}(...) instance -> " + (f"functools.partial({plan.name}.apply, ...)" if plan.k else f"{plan.name}.apply"))
            if not plan.k:
                return apply
            partial = self._partial_ref()
            args = [cst.Arg(apply)] + self._args(s.ctor_sources, updated_node.args)
            return cst.Call(func=cst.parse_expression(partial), args=self._commas(args, updated_node.args), lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node

    @staticmethod
    def _callee(func: cst.BaseExpression) -> cst.BaseExpression:
        """The class as the call site names it (``RoIPool``, ``roi.RoIPool``), without the
        call's own parentheses or spacing."""
        return func.with_changes(lpar=[], rpar=[]) if isinstance(func, (cst.Name, cst.Attribute)) else func

    def _partial_ref(self) -> str:
        if self._functools is None:
            local = self.imports.local_names_for("functools.partial")
            if local and local[0] in self.imports.module_level:
                self._functools = local[0]
            else:
                ref = module_ref(self, "functools")
                self._functools = f"{ref}.partial" if ref else "functools.partial"
        return self._functools

    @staticmethod
    def _args(sources, args: Sequence[cst.Arg]) -> List[cst.Arg]:
        out = []
        for kind, value in sources:
            if kind == "default":
                out.append(cst.Arg(value))
            else:
                a = args[value]
                out.append(a.with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT))
        return out

    @staticmethod
    def _commas(args: List[cst.Arg], original: Sequence[cst.Arg]) -> List[cst.Arg]:
        out = []
        for i, a in enumerate(args):
            if i < len(args) - 1:
                comma = a.comma if isinstance(a.comma, cst.Comma) else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                out.append(a.with_changes(comma=comma))
            else:
                out.append(a.with_changes(comma=original[-1].comma if original else cst.MaybeSentinel.DEFAULT))
        return out


# == the project: call sites in other modules ===============================================================
@dataclass
class ModuleUses:
    """One module's analysis: plans for its own old-style Functions (by name) and for those of
    other project modules it uses (by qualified name: the sites and blockers in this module)."""

    local: Dict[str, _Plan]
    foreign: Dict[str, _Plan]


def _foreign_copy(plan: _Plan, qualified: str) -> _Plan:
    return _Plan(
        cls=plan.cls, name=plan.name, init=plan.init, forward=plan.forward, backward=plan.backward,
        ctor_params=plan.ctor_params, n_inputs=plan.n_inputs, foreign=qualified,
    )


@dataclass
class _DryModule:
    """Another project module as the index read it (the file on disk may already have been
    migrated by this run): parsed once per index, its class signatures and its analysis."""

    rule: Optional["OldStyleFunction"]  # the rule on that text; None when it cannot be parsed
    tree: Optional[cst.Module]
    signatures: Optional[Dict[str, _Plan]] = None
    uses: Optional[ModuleUses] = None


_DRY: "weakref.WeakKeyDictionary[object, Dict[str, _DryModule]]" = weakref.WeakKeyDictionary()


def _dry(project, module: str) -> _DryModule:
    per_project = _DRY.setdefault(project, {})
    found = per_project.get(module)
    if found is not None:
        return found
    found = _DryModule(None, None)
    summary = project.modules.get(module)
    text = summary.function_text if summary is not None else None
    if text is not None:
        from ..imports import ImportTable
        from ..rule import FileContext
        from .volatile_plan import _text_repaired

        try:
            text = _text_repaired(summary.path, text)
            tree = ast.parse(text)
            mod = cst.parse_module(text)
        except (SyntaxError, ValueError, RecursionError, cst.ParserSyntaxError):
            mod = None
        if mod is not None:
            imports = ImportTable(tree, summary.name, project, summary.package)
            found = _DryModule(OldStyleFunction(FileContext(summary.path, text, mod, imports, False, tree=tree, project=project)), mod)
    per_project[module] = found
    return found


def _dry_signatures(project, module: str) -> Dict[str, _Plan]:
    """The class analyses (signatures, reasons) of another module's old-style Functions, without
    their uses: what a caller needs to bind its call sites (and no recursion into other modules)."""
    dry = _dry(project, module)
    if dry.signatures is None:
        dry.signatures = {}
        if dry.rule is not None and dry.tree is not None:
            for stmt in dry.tree.body:
                if isinstance(stmt, cst.ClassDef) and dry.rule._old_style(stmt):
                    dry.signatures[stmt.name.value] = dry.rule._analyse_class(stmt)
    return dry.signatures


def _dry_analysis(project, module: str) -> Optional[ModuleUses]:
    """The analysis of another project module (its own classes and its uses of the others');
    cached per index. None: it cannot be analysed."""
    summary = project.modules.get(module)
    if summary is not None and summary.function_text is None:
        return ModuleUses({}, {})  # neither defines nor uses one
    dry = _dry(project, module)
    if dry.uses is None and dry.rule is not None and dry.tree is not None:
        dry.uses = dry.rule.analyse(dry.tree) or ModuleUses({}, {})
    return dry.uses


def project_decision(project, qualified: str, own_module: str, own: ModuleUses) -> Tuple[bool, str]:
    """Is the old-style Function ``qualified`` converted by this run? Its own module must
    convert it and be migrated by the run, and so must every module of the project that uses
    it, without a use that cannot be migrated: the class and its call sites change together.
    ``own``: this module's analysis (the others are computed from the index's text)."""

    def analysis(module: str) -> Optional[ModuleUses]:
        return own if module == own_module else _dry_analysis(project, module)

    module, _, name = qualified.rpartition(".")
    if not project.is_target(module):
        return False, f"its module `{module}` is not migrated by this run (name its file too, or the whole project)"
    home = analysis(module)
    plan = home.local.get(name) if home is not None else None
    if plan is None or plan.reasons or plan.blockers:
        return False, f"it cannot be converted in `{module}` (see the note there)"
    summary = project.modules[module].classes.get(name)
    users = sorted(summary.users) if summary is not None else []
    for user in users:
        if not project.is_target(user):
            return False, f"a use in `{user}` is not migrated by this run (its file is in the project index, not among the files given; name it too, or the whole project)"
        uses = analysis(user)
        if uses is None:
            return False, f"`{user}`, which uses it, could not be analysed"
        fplan = uses.foreign.get(qualified)
        if fplan is not None and fplan.blockers:
            return False, f"a use in `{user}` cannot be migrated: {fplan.blockers[0][1]}"
    why = project.left_out_mentions(name)
    if why:
        return False, why
    return True, ""


def _project_sites(project, qualified: str, own_module: str, own: ModuleUses) -> int:
    """The call sites of ``qualified`` in the other modules of the project."""
    module, _, name = qualified.rpartition(".")
    summary = project.modules[module].classes.get(name)
    n = 0
    for user in sorted(summary.users) if summary is not None else []:
        uses = own if user == own_module else _dry_analysis(project, user)
        fplan = uses.foreign.get(qualified) if uses is not None else None
        n += len(fplan.sites) if fplan is not None else 0
    return n


def _class_members(cls: cst.ClassDef) -> Sequence[cst.CSTNode]:
    return cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
