"""What the advisory rules (TU050-TU054) look at in one function body (or a module's top level):
its calls and assignments in textual order, each with whether it runs in a no-grad region.

Nested functions, classes and lambdas are not entered (they run at another time); each is a
body of its own when the rules visit it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Union, cast

import libcst as cst

from ..cstutil import cst_visit
from ..imports import dotted_name
from ..model import RuleKind
from ..rule import TreeRule
from ..torchapi import NO_GRAD_CONTEXTS, SET_GRAD_ENABLED

Body = Union[cst.FunctionDef, cst.Module]


def is_no_grad(expr: cst.BaseExpression, imports) -> bool:
    """``torch.no_grad()``, ``torch.inference_mode()``, ``torch.set_grad_enabled(False)`` (also as
    decorators, with or without the call)."""
    func = expr.func if isinstance(expr, cst.Call) else expr
    q = imports.resolve(func)
    if q in NO_GRAD_CONTEXTS:
        return True
    if q in SET_GRAD_ENABLED and isinstance(expr, cst.Call) and expr.args:
        v = expr.args[0].value
        return isinstance(v, cst.Name) and v.value == "False"
    return False


@dataclass
class Event:
    node: cst.CSTNode  # a Call, or an assignment target
    no_grad: bool
    loops: Tuple[cst.For, ...]  # enclosing for loops (innermost last)
    order: int  # textual order among the body's events
    value: Optional[cst.BaseExpression] = None  # for assignments: the assigned value

    @property
    def call(self) -> cst.Call:
        """The node of a call event (one of ``BodyEvents.calls``)."""
        return cast(cst.Call, self.node)


class BodyEvents(cst.CSTVisitor):
    def __init__(self, imports, root: Body):
        self.imports = imports
        self.root = root
        self.depth = 0
        self.loops: List[cst.For] = []
        self.calls: List[Event] = []
        self.assigns: List[Event] = []
        self._regions: List[cst.With] = []
        self._seq = 0
        decorated = isinstance(root, cst.FunctionDef) and any(is_no_grad(d.decorator, imports) for d in root.decorators)
        self.decorated_no_grad = decorated
        if decorated:
            self.depth = 1

    @property
    def in_no_grad(self) -> bool:
        return self.depth > 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.root

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_With(self, node: cst.With) -> None:
        if any(is_no_grad(item.item, self.imports) for item in node.items):
            self._regions.append(node)
            self.depth += 1

    def leave_With(self, original_node: cst.With) -> None:
        if self._regions and self._regions[-1] is original_node:
            self._regions.pop()
            self.depth -= 1

    def visit_For(self, node: cst.For) -> None:
        self.loops.append(node)

    def leave_For(self, original_node: cst.For) -> None:
        self.loops.pop()

    def _event(self, node, value=None) -> Event:
        self._seq += 1
        return Event(node, self.in_no_grad, tuple(self.loops), self._seq, value)

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(self._event(node))

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self.assigns.append(self._event(t.target, node.value))

    # -- queries -----------------------------------------------------------------------------------
    def method_calls(self, method: str) -> List[Tuple[int, Event, Optional[str]]]:
        """(index, event, receiver's dotted name) of every ``<receiver>.method(...)`` call."""
        out = []
        for i, e in enumerate(self.calls):
            func = e.call.func
            if isinstance(func, cst.Attribute) and func.attr.value == method:
                out.append((i, e, dotted_name(func.value)))
        return out

    def computes_gradients(self) -> bool:
        """The body calls ``.backward()``, ``torch.autograd.grad``/``backward``, or steps an
        optimizer: it wants gradients."""
        for e in self.calls:
            func = e.call.func
            if isinstance(func, cst.Attribute) and func.attr.value in ("backward", "step") and self.imports.resolve(func) is None:
                return True
            if self.imports.resolve(func) in ("torch.autograd.grad", "torch.autograd.backward"):
                return True
        return False


def body_events(imports, root: Body) -> BodyEvents:
    events = BodyEvents(imports, root)
    if isinstance(root, cst.Module):
        for stmt in root.body:
            if not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                cst_visit(stmt, events)
    else:
        cst_visit(root, events)
    return events


class _EventsOfFile:
    """The events of each body, computed once per file for all the advisory rules."""

    def __init__(self, ctx) -> None:
        self.by_body: Dict[int, BodyEvents] = {}


class AdvisoryRule(TreeRule):
    """Base of the advisories: notes only, looking at each function body and the module's top
    level of a file that imports torch (``check`` gets that body and its events)."""

    kind = RuleKind.ADVISORY

    def visit_Module(self, node: cst.Module) -> None:
        self._visit_body(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._visit_body(node)

    def _visit_body(self, body: Body) -> None:
        if not self.imports.imports_torch or not self.wants(body):
            return
        cache = self.ctx.shared(_EventsOfFile).by_body
        events = cache.get(id(body))
        if events is None:
            events = cache[id(body)] = body_events(self.imports, body)
        self.check(body, events)

    def wants(self, body: Body) -> bool:
        """A cheap test before the events are computed (``False``: nothing to check here)."""
        return True

    def check(self, body: Body, events: BodyEvents) -> None:  # pragma: no cover - interface
        raise NotImplementedError


def requires_grad_false(event: Event) -> Optional[str]:
    """The dotted name ``x`` of an ``x.requires_grad = False`` assignment event."""
    t = event.node
    if isinstance(t, cst.Attribute) and t.attr.value == "requires_grad" and isinstance(event.value, cst.Name) and event.value.value == "False":
        return dotted_name(t.value)
    return None


def requires_grad_false_call(event: Event) -> Optional[str]:
    """The dotted name ``x`` of an ``x.requires_grad_(False)`` call event."""
    call = event.call
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "requires_grad_" and len(call.args) == 1:
        v = call.args[0].value
        if isinstance(v, cst.Name) and v.value == "False":
            return dotted_name(func.value)
    return None


def parameters_loop_root(name: str, loops: Tuple[cst.For, ...]) -> Optional[str]:
    """If ``name`` is the target of an enclosing ``for name in M.parameters():`` (also
    ``named_parameters()`` pairs), the dotted name ``M``."""
    for loop in reversed(loops):
        it = loop.iter
        if not (isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute) and it.func.attr.value in ("parameters", "named_parameters")):
            continue
        target = loop.target
        names = [target.value] if isinstance(target, cst.Name) else [e.value.value for e in getattr(target, "elements", ()) if isinstance(e.value, cst.Name)]
        if name in names:
            return dotted_name(it.func.value)
    return None


def frozen_roots(events: BodyEvents) -> List[Tuple[Event, str, str]]:
    """Every freeze in the body: (event, frozen dotted name, module root whose parameters are
    frozen). ``for p in M.parameters(): p.requires_grad = False`` gives root ``M``;
    ``M.fc.weight.requires_grad = False`` gives root ``M.fc.weight``; ``M.requires_grad_(False)``
    gives ``M``."""
    out = []
    for e in events.assigns:
        name = requires_grad_false(e)
        if name is not None:
            out.append((e, name, parameters_loop_root(name, e.loops) or name))
    for e in events.calls:
        name = requires_grad_false_call(e)
        if name is not None:
            out.append((e, name, parameters_loop_root(name, e.loops) or name))
    return sorted(out, key=lambda f: f[0].order)


def prefix_of(a: Optional[str], b: Optional[str]) -> bool:
    """``a`` is ``b`` or a leading part of it (``model`` of ``model.features``)."""
    if not a or not b:
        return False
    return a == b or b.startswith(a + ".")
