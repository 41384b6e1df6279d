"""TU010's per-file plan: run the data flow over every scope and decide the rewrites.

The plan is made on the original module (the rule's ``visit_Module``) and keyed by the ids of
its nodes; the rule applies it in its leave hooks (``build_plan`` turns the analysis into edits,
notes and the ids to rewrite). The analysis is also run, without reporting anything, on *other*
modules of a project (``dry_outcomes``), from their files as the project index saw them: a
helper's parameter is removed only when every call site of it in the project was migrated. A
caller never depends on that decision: it drops a flag only where dropping it is right whether
the parameter goes or stays.

Region shape, per scope (see ``_regions``):

* a function whose statements are all R/P/N/C (see ``volatile_flow``) and that holds an R gets
  ``@torch.no_grad()`` (the typical ``validate()``/``test()``/``predict()``);
* otherwise, in each block, a region runs from the first to the last statement that needs
  no-grad, over the neutral statements between them, never over an X; a loop whose statements
  all qualify counts as one such statement (the region goes around the whole ``for``), other
  compound statements join a region only next to a statement that needs it, else regions go
  inside their blocks;
* every statement that needs no-grad must end up covered, and no region may contain a training
  call (``backward``, ``step``, ``zero_grad``, ``autograd.grad``): otherwise the scope is left
  with a note.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple, cast

import libcst as cst

from ..cstutil import code_of, node_positions
from ..imports import ImportTable, dotted_name
from ..model import FixClass
from ..semantic.kinds import UNKNOWN, FunctionRef
from ..semantic.model import SemanticModel
from ..semantic.scopes import Scope
from .volatile_flow import (
    NO_GRAD_CONTEXTS,
    TRUE,
    Helper,
    ScopeFlow,
    ScopeResult,
    Source,
    _all_nested_statements,
    _blocks,
    _contains_yield,
    _suite_statements,
    negate,
    walk,
)


def semantic_model(ctx) -> SemanticModel:
    """``ctx.analysis`` (the per-file semantic model), built once per file."""
    model = getattr(ctx, "analysis", None)
    return model if isinstance(model, SemanticModel) else ctx.shared(SemanticModel)


class PlanError(Exception):
    def __init__(self, key: str, **fields):
        super().__init__(key)
        self.key = key
        self.fields = fields


@dataclass(eq=False)
class ScopeInfo:
    node: cst.CSTNode  # Module, FunctionDef or ClassDef
    body: list
    owner: int  # id of the statement list's owner (Module or IndentedBlock)
    cls: Optional[str]  # class of a method
    params: Dict[str, cst.Param]
    parent: Optional["ScopeInfo"]
    model_scope: Optional[Scope]  # the semantic model's Scope (None if unknown)
    self_name: Optional[str] = None
    decorated_no_grad: bool = False
    wrapped: Set[str] = field(default_factory=set)
    local_names: Set[str] = field(default_factory=set)
    model_globals: Set[str] = field(default_factory=set)
    result: Optional[ScopeResult] = None
    qualname: str = ""
    names: Set[str] = field(default_factory=set)  # names spelled in its own statements

    @property
    def name(self) -> str:
        return self.node.name.value if isinstance(self.node, (cst.FunctionDef, cst.ClassDef)) else "<module>"

    @property
    def is_function(self) -> bool:
        return isinstance(self.node, cst.FunctionDef)


@dataclass
class ScopePlan:
    """What happens to one scope with volatile sources."""

    status: str = "none"  # applied | note | none | helper
    regions: List[Tuple[int, int, int, str]] = field(default_factory=list)  # (owner, start, end, flag)
    decorate: bool = False
    fix_class: FixClass = FixClass.RESTORING
    note_key: str = ""
    note_fields: dict = field(default_factory=dict)
    message: str = ""  # the fix description
    sources: List[Source] = field(default_factory=list)


@dataclass
class Plan:
    regions: Dict[int, List[Tuple[int, int, str]]] = field(default_factory=dict)  # owner -> (start, end, flag)
    decorate: Set[int] = field(default_factory=set)  # ids of FunctionDefs
    drop_args: Dict[int, Set[int]] = field(default_factory=dict)  # id(Call) -> arg indices
    remove_small: Set[int] = field(default_factory=set)  # ids of `x.volatile = ...` statements
    remove_params: Dict[int, str] = field(default_factory=dict)  # id(FunctionDef) -> param name
    flag_nodes: Dict[str, cst.BaseExpression] = field(default_factory=dict)
    # (kind, node, key-or-message, fields, fix class): kind is edit | fix | note
    reports: List[Tuple[str, cst.CSTNode, str, dict, Optional[FixClass]]] = field(default_factory=list)
    needs_torch: bool = False
    dropped_values: Set[int] = field(default_factory=set)  # ids of argument values dropped


class _Scopes:
    """The module, class and function scopes in source order (a walk over statements only)."""

    def __init__(self, module, model):
        self.model = model
        root = ScopeInfo(module, list(module.body), id(module), None, {}, None, model.scope_of(module) if model else None)
        self.scopes: List[ScopeInfo] = [root]
        self.func_names: Dict[Tuple[Optional[str], str], List[cst.FunctionDef]] = {}
        self.qual_names: Dict[str, List[cst.FunctionDef]] = {}
        self._statements(module.body, root)

    def _model_scope(self, node):
        return self.model.scope_of(node) if self.model is not None else None

    def _statements(self, stmts, parent: ScopeInfo) -> None:
        for stmt in stmts:
            if isinstance(stmt, cst.ClassDef):
                self._class(stmt, parent)
            elif isinstance(stmt, cst.FunctionDef):
                self._function(stmt, parent)
            elif not isinstance(stmt, cst.SimpleStatementLine):
                for b in _blocks(stmt):
                    self._statements(_suite_statements(b), parent)

    def _class(self, node, parent):
        body = list(node.body.body) if isinstance(node.body, cst.IndentedBlock) else []
        scope = ScopeInfo(node, body, id(node.body), None, {}, parent, self._model_scope(node))
        scope.qualname = _join(parent.qualname, node.name.value)
        self.scopes.append(scope)
        self._statements(body, scope)

    def _function(self, node, parent):
        cls = parent.node.name.value if isinstance(parent.node, cst.ClassDef) else None
        params = {}
        for p in [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]:
            params[p.name.value] = p
        body = list(node.body.body) if isinstance(node.body, cst.IndentedBlock) else []
        ms = self._model_scope(node)
        scope = ScopeInfo(node, body, id(node.body), cls, params, parent, ms)
        scope.self_name = getattr(ms, "self_name", None) if ms is not None else _self_name(node, cls)
        scope.qualname = _join(parent.qualname, node.name.value)
        self.scopes.append(scope)
        self.func_names.setdefault((cls, node.name.value), []).append(node)
        self.qual_names.setdefault(scope.qualname, []).append(node)
        self._statements(body, scope)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _self_name(node: cst.FunctionDef, cls) -> Optional[str]:
    if cls is None or any(isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in node.decorators):
        return None
    ps = [*node.params.posonly_params, *node.params.params]
    return ps[0].name.value if ps else None


def _wrapped_names(stmts, imports) -> Set[str]:
    """Names passed as the data of ``Variable(name, ...)`` (in these statements, not in nested
    functions or classes)."""
    from ..torchapi import VARIABLE

    names: Set[str] = set()
    for stmt in stmts:
        for n in walk(stmt, (cst.FunctionDef, cst.ClassDef)):
            if (
                isinstance(n, cst.Call) and n.args and not n.args[0].keyword and not n.args[0].star
                and isinstance(n.args[0].value, cst.Name) and isinstance(n.func, (cst.Name, cst.Attribute))
                and imports.resolve(n.func) == VARIABLE
            ):
                names.add(n.args[0].value.value)
    return names


def _own_names(stmts) -> Set[str]:
    """Every name spelled in these statements (nested functions and classes excluded)."""
    out: Set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            for d in stmt.decorators:
                out.update(n.value for n in walk(d) if isinstance(n, cst.Name))
            continue
        out.update(n.value for n in walk(stmt, (cst.FunctionDef, cst.ClassDef)) if isinstance(n, cst.Name))
    return out


def _tuple_calls(module: cst.Module) -> Set[int]:
    """ids of calls that are elements of a tuple or list display."""
    out: Set[int] = set()
    for n in walk(module):
        if isinstance(n, (cst.Tuple, cst.List)):
            for e in n.elements:
                if isinstance(e.value, cst.Call):
                    out.add(id(e.value))
    return out


class VolatileAnalysis:
    """The whole-file analysis and the regions per scope (no reports: ``build_plan`` turns them
    into edits and notes; for another module of a project only the outcomes are used)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.module: cst.Module = ctx.module
        self.imports: ImportTable = ctx.imports
        self.project = ctx.project
        self.model: Optional[SemanticModel] = semantic_model(ctx) if ctx.tree is not None else None
        self.module_name = None
        if self.project is not None:
            summary = self.project.module_for_path(ctx.path)
            self.module_name = summary.name if summary is not None else None
        self._suppressed = _suppressed_ids(ctx)
        self.tuple_elements: Set[int] = _tuple_calls(self.module)
        collector = _Scopes(self.module, self.model)
        self.scopes = collector.scopes
        self.func_names = collector.func_names
        self.qual_names = collector.qual_names
        for s in self.scopes:
            self._fill_scope(s)
        self.helpers: Dict[Tuple[Optional[str], str], Helper] = {}
        self._neutral: Dict[str, str] = {}
        self._dotted: Dict[Tuple[int, str], object] = {}
        self.results: List[ScopeResult] = []
        # only scopes that spell `volatile` or a helper's name can hold a source
        names = {"volatile"} | _project_helper_names(self.project)
        for _ in range(5):
            names |= {h.name for h in self.helpers.values()}
            self.results = [self._analyse(s) if s.names & names else self._empty(s) for s in self.scopes]
            new = self._find_helpers()
            if not new:
                break
            self.helpers.update(new)
        self.plans: Dict[int, ScopePlan] = {}
        self._plan_regions()

    # -- scopes and the semantic model -------------------------------------------------------------
    def _fill_scope(self, s: ScopeInfo) -> None:
        ms = s.model_scope
        if ms is not None:
            s.local_names = set(ms.bindings)
            s.model_globals = set(ms.globals)
            if s.self_name is None:
                s.self_name = ms.self_name
        else:
            s.local_names = set()
        s.wrapped = _wrapped_names(s.body, self.imports)
        s.names = _own_names(s.body)
        if isinstance(s.node, cst.FunctionDef):
            s.decorated_no_grad = any(self.is_no_grad_item(d.decorator) for d in s.node.decorators)

    def lookup(self, name: str, scope: ScopeInfo):
        if self.model is None or scope.model_scope is None:
            return UNKNOWN
        return self.model.lookup(name, scope.model_scope)

    def kind(self, expr: cst.CSTNode, scope: ScopeInfo):
        if self.model is None or scope.model_scope is None:
            return UNKNOWN
        if isinstance(expr, cst.Attribute):
            d = dotted_name(expr)
            if d is not None:
                key = (id(scope), d)
                hit = self._dotted.get(key)
                if hit is None:
                    hit = self.model.kind(expr, scope.model_scope)
                    self._dotted[key] = hit
                return hit
        try:
            return self.model.kind(expr, scope.model_scope)
        except Exception:  # an expression the converter does not handle
            return UNKNOWN

    def suppressed(self, stmt) -> bool:
        return id(stmt) in self._suppressed

    def is_no_grad_item(self, expr) -> bool:
        """``torch.no_grad()`` / ``torch.no_grad`` / ``torch.set_grad_enabled(False)``."""
        target = expr.func if isinstance(expr, cst.Call) else expr
        q = self.imports.resolve(target)
        if q in NO_GRAD_CONTEXTS:
            return True
        if q == "torch.set_grad_enabled" and isinstance(expr, cst.Call) and len(expr.args) == 1:
            v = expr.args[0].value
            return isinstance(v, cst.Name) and v.value == "False"
        return False

    def own_method(self, func: cst.Attribute, scope: ScopeInfo) -> bool:
        """``self.step(...)`` where the enclosing class defines ``step`` (not an optimizer)."""
        recv = func.value
        if not (isinstance(recv, cst.Name) and scope.self_name and recv.value == scope.self_name and scope.cls):
            return False
        return (scope.cls, func.attr.value) in self.func_names

    def is_no_grad_with(self, stmt: cst.With) -> bool:
        return any(self.is_no_grad_item(i.item) for i in stmt.items)

    def neutral_function(self, name: str, scope: ScopeInfo) -> str:
        """A function of this module that is neutral under no-grad: "any" (for any arguments,
        ``print_log(msg, log)``), "plain" (when its arguments hold plain values,
        ``accuracy(output.data, target)``) or "" (not known to be)."""
        k = self.lookup(name, scope)
        if not isinstance(k, FunctionRef) or k.ref.module:
            return ""
        qual = k.ref.qualname
        if qual in self._neutral:
            return self._neutral[qual] or ""
        self._neutral[qual] = ""  # recursion: not neutral
        target = None
        for s in self.scopes:
            if s.is_function and s.model_scope is not None and ".".join(s.model_scope.key) == qual:
                target = s
                break
        verdict = ""
        if target is not None and not target.node.asynchronous and not _contains_yield(target.node) and not target.node.decorators:
            for state, answer in (("U", "any"), ("P", "plain")):
                if self._neutral_body(target, state):
                    verdict = answer
                    break
        self._neutral[qual] = verdict
        return verdict

    def _neutral_body(self, target: ScopeInfo, state: str) -> bool:
        flow = ScopeFlow(self, target)
        flow.recording = False
        for p in target.params:
            flow.plain[p] = state
        if target.self_name:
            flow.plain[target.self_name] = "U"
        flow.res = ScopeResult(target.node)
        taint: dict = {}
        for stmt in target.body:
            info = flow.statement(stmt, taint, True)
            flow.res.stmts[id(stmt)] = info
            if info.mark not in ("N", "C") or info.has_r:
                return False
            if not isinstance(stmt, cst.SimpleStatementLine):
                for inner in _all_nested_statements(stmt):
                    m = flow.res.stmts.get(id(inner))
                    if m is None or m.mark not in ("N", "C"):
                        return False
        return True

    # -- flags ----------------------------------------------------------------------------------
    def flag_of(self, value: cst.BaseExpression) -> Optional[str]:
        """"True", "" (False / x.volatile: no effect), an expression key, or None (unsupported)."""
        if isinstance(value, cst.Name) and value.value in ("True", "False"):
            return TRUE if value.value == "True" else ""
        if isinstance(value, cst.Name) and value.value == "None":
            return ""
        if isinstance(value, cst.Attribute) and value.attr.value == "volatile":
            return ""
        if isinstance(value, cst.Integer):
            return TRUE if value.value != "0" else ""
        if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Not) and isinstance(value.expression, cst.Name) and value.expression.value in ("True", "False"):
            return "" if value.expression.value == "True" else TRUE
        if not self._stable(value):
            return None
        return code_of(value)

    def _stable(self, node) -> bool:
        if isinstance(node, cst.Name):
            return True
        if isinstance(node, cst.Attribute):
            return dotted_name(node) is not None
        if isinstance(node, cst.UnaryOperation):
            return isinstance(node.operator, cst.Not) and self._stable(node.expression)
        if isinstance(node, cst.BooleanOperation):
            return self._stable(node.left) and self._stable(node.right)
        if isinstance(node, cst.Comparison):
            return self._stable(node.left) and all(self._stable(t.comparator) for t in node.comparisons)
        return isinstance(node, (cst.Integer, cst.SimpleString))

    # -- helpers --------------------------------------------------------------------------------
    def helper_for(self, func, scope: ScopeInfo) -> Optional[Helper]:
        if isinstance(func, cst.Name):
            qual = None
            k = self.lookup(func.value, scope)
            if isinstance(k, FunctionRef) and not k.ref.module:
                qual = k.ref.qualname
            elif self.model is None or scope.model_scope is None:
                found = [q for (c, q) in self.helpers if c is None and q.rsplit(".", 1)[-1] == func.value]
                qual = found[0] if len(found) == 1 and func.value not in self.imports.aliases else None
            if qual is not None:
                h = self.helpers.get((None, qual))
                if h is not None:
                    return h
        cls = _enclosing_class(scope)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self" and cls:
            h = self.helpers.get((cls, func.attr.value))
            if h is not None:
                return h
        return self._external_helper(func)

    def _external_helper(self, func) -> Optional[Helper]:
        project = self.project
        if project is None or not isinstance(func, (cst.Name, cst.Attribute)):
            return None
        q = self.imports.resolve(func)
        if q is None:
            return None
        found = project.split(q)
        if found is None:
            return None
        summary, name = found
        if summary.name == self.module_name:
            return None  # this module's own functions are analysed here
        f = summary.functions.get(name)
        if f is None or (f.volatile_param is None and not f.volatile_always):
            return None
        if f.volatile_always:
            return Helper(None, name, None, None, external=(summary.name, name))
        param, index = f.volatile_param
        default = getattr(f, "volatile_default", "?")
        default_flag = TRUE if default is True else "" if default is False or default is None else None
        return Helper(None, name, None, param, index, external=(summary.name, name), default_flag=default_flag,
                      param_only=bool(getattr(f, "volatile_param_only", False)))

    def _find_helpers(self):
        new = {}
        for scope, res in zip(self.scopes, self.results):
            if not isinstance(scope.node, cst.FunctionDef) or res.bail or res.any_need or res.covered_need or not res.tainted_returns:
                continue
            if res.is_generator or scope.node.asynchronous or scope.decorated_no_grad:
                continue
            key = (scope.cls, scope.node.name.value) if scope.cls else (None, scope.qualname)
            if key in self.helpers:
                continue
            if len(self.func_names.get((scope.cls, scope.node.name.value), [])) != 1 if scope.cls else len(self.qual_names.get(scope.qualname, [])) != 1:
                continue
            if scope.cls is None and not isinstance(scope.parent.node, (cst.Module, cst.FunctionDef)):
                continue
            flags = {s.flag for s in res.sources if s.flag}
            if not flags or "?" in flags:
                continue
            if flags == {TRUE}:
                new[key] = Helper(scope.node, scope.node.name.value, scope.cls, None)
                continue
            if len(flags) != 1:
                continue
            (flag,) = flags
            node = res.flag_nodes.get(flag)
            polarity = True
            if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
                node, polarity = node.expression, False
            if not isinstance(node, cst.Name) or node.value not in scope.params or node.value in res.assigned:
                continue
            param = scope.params[node.value]
            p = scope.node.params
            positional = [*p.posonly_params, *p.params]
            if scope.self_name:
                positional = positional[1:]
            kwonly = param in p.kwonly_params
            index = positional.index(param) if param in positional else -1
            new[key] = Helper(
                scope.node, scope.node.name.value, scope.cls, param.name.value, index, polarity, param.default,
                kwonly=kwonly, param_only=_param_only(scope, res, param.name.value),
            )
        return new

    def helper_scope(self, scope: ScopeInfo) -> Optional[Helper]:
        if not isinstance(scope.node, cst.FunctionDef):
            return None
        key = (scope.cls, scope.node.name.value) if scope.cls else (None, scope.qualname)
        h = self.helpers.get(key)
        return h if h is not None and h.func is scope.node else None

    # -- per-scope analysis ---------------------------------------------------------------------
    def _empty(self, scope: ScopeInfo) -> ScopeResult:
        scope.result = ScopeResult(scope.node)
        return scope.result

    def _analyse(self, scope: ScopeInfo) -> ScopeResult:
        flow = ScopeFlow(self, scope)
        if scope.decorated_no_grad:
            flow.covered = 1
        flow.block(scope.body, {}, record=True)
        res = flow.res
        if isinstance(scope.node, cst.FunctionDef):
            res.is_generator = _contains_yield(scope.node)
        scope.result = res
        return res

    # -- region planning ------------------------------------------------------------------------
    def _plan_regions(self) -> None:
        for scope, res in zip(self.scopes, self.results):
            sources = [s for s in res.sources if s.flag]
            if not sources:
                continue
            if self.helper_scope(scope) is not None:
                self.plans[id(scope.node)] = ScopePlan("helper", sources=sources)
                continue
            self.plans[id(scope.node)] = self._plan_scope(scope, res, sources)

    def _plan_scope(self, scope: ScopeInfo, res: ScopeResult, sources: List[Source]) -> ScopePlan:
        plan = ScopePlan(sources=sources)
        where = f"`{scope.name}`" if isinstance(scope.node, (cst.FunctionDef, cst.ClassDef)) else "module level"

        def leave(key: str, **fields) -> ScopePlan:
            plan.status, plan.note_key, plan.note_fields = "note", key, fields
            return plan

        if res.bail:
            node, key, fields = res.bail
            return leave(key, **fields)
        if any(s.flag == "?" for s in sources):
            return leave("flag_expr")
        if res.uncoverable:
            return leave("no_region")
        if not res.any_need:
            if res.escapes and not res.covered_need:
                kinds = sorted({k for _, k in res.escapes})
                return leave("passed_on", how=", ".join(kinds))
            # nothing consumes the volatile value where it could matter: the flag has no effect
            plan.status, plan.fix_class = "applied", FixClass.EXACT
            plan.message = "already under no-grad" if res.covered_need else "no operation consumes the volatile value"
            return plan
        for flag, fnode in res.flag_nodes.items():
            if flag == TRUE or fnode is None:
                continue
            names = {n.value for n in _names_in(fnode)}
            if names & res.assigned:
                return leave("flag_reassigned", flag=flag, scope=where)
        if self.torch_name() is None:
            return leave("torch_taken")
        decorate = self._can_decorate(scope, res)
        try:
            regions = [] if decorate else self._regions(scope, res)
            self._check_cover(scope, res, regions, decorate)
        except PlanError as exc:
            return leave(exc.key, **exc.fields)
        plan.status = "applied"
        plan.decorate = decorate
        plan.regions = regions
        plan.fix_class = FixClass.UNPROVEN if res.escapes else FixClass.RESTORING
        return plan

    def allowed(self, fc: FixClass) -> bool:
        """A fix of this class is applied in this run."""
        return fc is not FixClass.UNPROVEN or bool(self.ctx.unsafe)

    def torch_name(self) -> Optional[str]:
        alias = self.imports.module_alias("torch")
        if alias:
            return alias
        if "torch" in self.ctx.pending_imports or self.imports.can_import("torch"):
            return "torch"
        return None

    def _can_decorate(self, scope: ScopeInfo, res: ScopeResult) -> bool:
        node = scope.node
        if not isinstance(node, cst.FunctionDef) or node.asynchronous or scope.decorated_no_grad:
            return False
        flags: Set[str] = set()
        for s in _flat(scope.body):
            m = res.stmts.get(id(s))
            if m is not None and m.mark == "R" and not m.covered:
                flags |= m.flags
            if m is not None and m.mark == "C" and m.has_r:
                flags |= m.flags
        if flags != {TRUE}:
            return False
        for s in scope.body:
            m = res.stmts.get(id(s))
            if m is None or m.mark == "X" or m.training:
                return False
        return True

    def _regions(self, scope: ScopeInfo, res: ScopeResult):
        """(owner, start, end, flag) for the scope; raises PlanError."""
        regions = []
        generator = res.is_generator

        def walk(owner, stmts):
            marks = [res.stmts.get(id(s)) for s in stmts]
            runs, cur = [], []
            for i, m in enumerate(marks):
                mark = m.mark if m is not None else "X"
                if generator and m is not None and m.has_yield and mark == "R" and m.has_r:
                    raise PlanError("yield")
                if mark == "X" or (generator and m is not None and m.has_yield):
                    if cur:
                        runs.append(cur)
                    cur = []
                    continue
                cur.append(i)
            if cur:
                runs.append(cur)
            covered = set()
            for run in runs:
                anchors = [i for i in run if marks[i].has_r and marks[i].mark in ("R", "C")]
                if not any(marks[i].mark == "R" or marks[i].loop for i in anchors):
                    continue
                start, end = anchors[0], anchors[-1]
                flags = set()
                for i in range(start, end + 1):
                    if marks[i].has_r:
                        flags |= marks[i].flags
                if len(flags) != 1:
                    raise PlanError("mixed_flags")
                regions.append((owner, start, end, next(iter(flags))))
                covered.update(range(start, end + 1))
            for i, s in enumerate(stmts):
                if i in covered or isinstance(s, (cst.SimpleStatementLine, cst.FunctionDef, cst.ClassDef)):
                    continue
                for b in _blocks(s):
                    if isinstance(b, cst.IndentedBlock):
                        walk(id(b), list(b.body))

        walk(scope.owner, scope.body)
        return regions

    def _check_cover(self, scope: ScopeInfo, res: ScopeResult, regions, decorate: bool) -> None:
        """Every statement that needs no-grad is covered; no region holds a training call."""
        if decorate:
            return
        blocks = dict(scope_blocks(scope))
        inside: Set[int] = set()
        for owner, start, end, _ in regions:
            for s in blocks[owner][start : end + 1]:
                inside.add(id(s))
                m = res.stmts.get(id(s))
                if m is not None and m.training:
                    raise PlanError("no_region")
                if not isinstance(s, (cst.SimpleStatementLine, cst.FunctionDef, cst.ClassDef)):
                    for inner in _all_nested_statements(s):
                        inside.add(id(inner))
                        mi = res.stmts.get(id(inner))
                        if mi is not None and mi.training:
                            raise PlanError("no_region")
        for s in _flat(scope.body):
            m = res.stmts.get(id(s))
            if m is None or not m.has_r:
                continue
            if m.mark == "R" and id(s) not in inside:
                raise PlanError("no_region")


def scope_blocks(scope: ScopeInfo):
    """(owner id, statements) for the scope body and every block nested in it (not in nested defs)."""
    out = [(scope.owner, scope.body)]
    for s in scope.body:
        out.extend(_nested_blocks(s))
    return out


def _nested_blocks(stmt):
    if isinstance(stmt, (cst.SimpleStatementLine, cst.FunctionDef, cst.ClassDef)):
        return []
    out = []
    for b in _blocks(stmt):
        if isinstance(b, cst.IndentedBlock):
            out.append((id(b), list(b.body)))
            for s in b.body:
                out.extend(_nested_blocks(s))
    return out


def _flat(stmts):
    for s in stmts:
        yield s
        if not isinstance(s, (cst.SimpleStatementLine, cst.FunctionDef, cst.ClassDef)):
            yield from _all_nested_statements(s)


def _names_in(node):
    return [n for n in walk(node) if isinstance(n, cst.Name)]


def _suppressed_ids(ctx) -> Set[int]:
    """ids of statements whose suppression comments name TU010 (or every rule)."""
    text = ctx.text or ""
    if "torchupgrade" not in text and "noqa" not in text.lower():
        return set()
    from ..engine import SuppressionError, _suppressed_statements, find_suppressions

    try:
        skip, sups = find_suppressions(text)
    except SuppressionError:
        return set()
    if not sups or ctx.module is None:
        return set()
    return {i for i, codes in _suppressed_statements(ctx.module, sups).items() if codes is None or "TU010" in codes}


# -- the project: what other modules do with a helper ----------------------------------------------
@dataclass
class Outcomes:
    """Phase-1 facts of one module for the project-wide helper decision."""

    # (helper module, helper name) -> [migrated?] per recognised call site
    sites: Dict[Tuple[str, str], List[bool]] = field(default_factory=dict)
    # top-level helpers this module's own flow recognises: name -> (param, index) or None (always)
    helpers: Dict[str, Optional[Tuple[str, int]]] = field(default_factory=dict)


_DRY: Dict[Tuple, Optional[Outcomes]] = {}


def outcomes_of(analysis: VolatileAnalysis) -> Outcomes:
    out = Outcomes()
    mod = analysis.module_name or ""
    for scope in analysis.scopes:
        plan = analysis.plans.get(id(scope.node))
        res = scope.result
        if res is None:
            continue
        for s in res.sources:
            h = s.helper
            if h is None:
                continue
            key = h.external if h.external is not None else ((mod, h.name) if h.cls is None else None)
            if key is None:
                continue
            migrated = s.flag == "" or (plan is not None and plan.status == "applied" and analysis.allowed(plan.fix_class))
            out.sites.setdefault(key, []).append(migrated)
    for (cls, name), h in analysis.helpers.items():
        if cls is None and h.func is not None and _is_top_level(analysis, h.func):
            out.helpers[name] = (h.param, h.index) if h.param is not None else None
    return out


_HELPER_NAMES: Dict[int, Tuple[object, Set[str]]] = {}


def _project_helper_names(project) -> Set[str]:
    """Names of the project's functions that make volatile values (cached per index)."""
    if project is None:
        return set()
    hit = _HELPER_NAMES.get(id(project))
    if hit is not None and hit[0] is project:
        return hit[1]
    names = {n for m in project.modules.values() for n, f in m.functions.items() if f.volatile_param is not None or f.volatile_always}
    _HELPER_NAMES[id(project)] = (project, names)
    return names


def _param_only(scope: ScopeInfo, res: ScopeResult, param: str) -> bool:
    """The helper reads ``param`` only in the volatile flags of its sources."""
    in_flags: Set[int] = set()
    for src in res.sources:
        if src.arg_index >= 0 and isinstance(src.call, cst.Call) and src.arg_index < len(src.call.args):
            in_flags.update(id(n) for n in walk(src.call.args[src.arg_index].value))
    not_reads = set()
    for stmt in scope.body:
        for n in walk(stmt):
            if isinstance(n, cst.Arg) and n.keyword is not None:
                not_reads.add(id(n.keyword))
            elif isinstance(n, cst.Attribute):
                not_reads.add(id(n.attr))
            elif isinstance(n, (cst.Param, cst.FunctionDef, cst.ClassDef)):
                not_reads.add(id(n.name))
    for stmt in scope.body:
        for n in walk(stmt):
            if isinstance(n, cst.Name) and n.value == param and id(n) not in in_flags and id(n) not in not_reads:
                return False
    return True


def _enclosing_class(scope: ScopeInfo) -> Optional[str]:
    """The class of the method the scope is (or is nested in: ``self`` of a closure)."""
    s: Optional[ScopeInfo] = scope
    while s is not None:
        if s.cls:
            return s.cls
        s = s.parent
    return None


def _is_top_level(analysis: VolatileAnalysis, func) -> bool:
    return any(s is func for s in analysis.module.body)


def dry_outcomes(project, module: str, unsafe: bool) -> Optional[Outcomes]:
    """The phase-1 outcomes of another project module, computed from the text the index read
    (cached): the file on disk may already have been migrated by this run."""
    from ..rule import FileContext

    summary = project.modules.get(module)
    if summary is None:
        return None
    text = getattr(summary, "volatile_text", None)
    if text is None:
        return Outcomes()  # TU010's needle is not in the file: the engine never gives it the file
    key = (summary.path, summary.sha1, unsafe, id(project))
    if key in _DRY:
        return _DRY[key]
    result: Optional[Outcomes] = Outcomes()
    try:
        text = _text_repaired(summary.path, text)
        tree = ast.parse(text)
        mod = cst.parse_module(text)
        imports = ImportTable(tree, summary.name, project, summary.package)
        ctx = FileContext(summary.path, text, mod, imports, unsafe, tree=tree, project=project)
        result = outcomes_of(VolatileAnalysis(ctx))
    except (SyntaxError, ValueError, RecursionError, cst.ParserSyntaxError):
        result = None
    _DRY[key] = result
    return result


def _text_repaired(path: str, text: str) -> str:
    """The text the engine gives the tree rules: after the text rules' repairs (``async=``)."""
    try:
        ast.parse(text)
        return text
    except SyntaxError:
        if "async" not in text:
            raise
    from ..rule import FileContext
    from .async_kwarg import AsyncNonBlocking

    repair = AsyncNonBlocking(FileContext(path, text, None, None, False))
    repaired = repair.transform(text)
    return text if repair.failure else repaired


def project_removal(analysis: VolatileAnalysis, hmod: str, hname: str, own: Outcomes) -> Tuple[bool, str]:
    """May the helper ``hmod.hname`` (of this module) lose its volatile parameter (or flag)?
    (yes/no, why not). Every call site in the project must have been migrated: the other
    modules' sites are judged on their files as the index saw them (``dry_outcomes``)."""
    project = analysis.project
    summary = project.modules.get(hmod)
    f = summary.functions.get(hname) if summary else None
    if f is None or (f.volatile_param is None and not f.volatile_always):
        return False, "the project index does not know it as a helper"
    if f.volatile_param is not None and not getattr(f, "volatile_param_only", False):
        return False, f"it uses `{f.volatile_param[0]}` for more than the volatile flag"
    if not project.sees_every_call(hmod, hname):
        return False, "it is used other than by plain calls (passed on, `*args`/`**kwargs`)"
    why = project.left_out_mentions(hname)
    if why:
        return False, why
    counts: Dict[str, int] = {}  # calling module -> call sites that pass the flag
    for calling, npos, kws in f.call_sites:
        if f.volatile_param is not None:
            param, index = f.volatile_param
            if param not in kws and npos > index + 1:
                return False, "a call site passes it positionally before other arguments"
            if param not in kws and npos <= index:
                continue  # the default: nothing to migrate there
            if param not in kws and calling != hmod and not _literal_default(f):
                return False, f"a call site in `{calling}` passes it positionally and it has no literal default"
        counts[calling] = counts.get(calling, 0) + 1
    outside = sorted(m for m in counts if not project.is_target(m))
    if outside:
        return False, f"a call site in `{outside[0]}` is not migrated by this run"
    outcome_of = {}

    def get(module: str) -> Optional[Outcomes]:
        if module == analysis.module_name:
            return own
        if module not in outcome_of:
            outcome_of[module] = dry_outcomes(project, module, analysis.ctx.unsafe)
        return outcome_of[module]

    home = get(hmod)
    expected = f.volatile_param if f.volatile_param is not None else None
    if home is None or hname not in home.helpers or home.helpers[hname] != expected:
        return False, "its own module does not treat it as a helper"
    for module, n in counts.items():
        o = get(module)
        sites = o.sites.get((hmod, hname), []) if o is not None else []
        if len(sites) < n or not all(sites):
            return False, f"a call site in `{module}` was not migrated"
    return True, ""


def _callers_outside_run(project, hmod: str, hname: str) -> bool:
    """A function of ``hmod`` is called from a module the run indexes but does not migrate."""
    f = project.modules[hmod].functions.get(hname) if hmod in project.modules else None
    return f is not None and any(not project.is_target(calling) for calling, _, _ in f.call_sites)


def _literal_default(f) -> bool:
    return getattr(f, "volatile_default", "?") in (True, False, None)


def region_lines(module: cst.Module, scope: ScopeInfo, regions) -> List[Tuple[int, int]]:
    blocks = dict(scope_blocks(scope))
    nodes = []
    for owner, start, end, _ in regions:
        stmts = blocks[owner]
        nodes.extend([stmts[start], stmts[end]])
    pos = node_positions(module, nodes) if nodes else []
    out = []
    for i in range(0, len(pos), 2):
        out.append((pos[i][0], pos[i + 1][2] or pos[i + 1][0]))
    return out


def region_context(torch: str, flag: str, flag_nodes) -> str:
    if flag == TRUE:
        return f"{torch}.no_grad()"
    return f"{torch}.set_grad_enabled({code_of(negate(flag_nodes[flag]))})"


# -- the decisions, for the rule ---------------------------------------------------------------------
def _is_script(module: cst.Module) -> bool:
    for s in module.body:
        if isinstance(s, (cst.For, cst.While)):
            return True
        if isinstance(s, cst.If) and "__name__" in code_of(s.test):
            return True
    return False


def _only_called(root: cst.CSTNode, name: str, calls: int, memo: Optional[Dict[int, tuple]] = None) -> bool:
    """Every reference to ``name`` under ``root`` is a plain call (``calls`` of them). ``memo``
    keeps the counts of every name under each root, so that many helpers cost one walk."""
    counts = memo.get(id(root)) if memo is not None else None
    if counts is None:
        counts = _name_counts(root)
        if memo is not None:
            memo[id(root)] = counts
    refs, called, defs = counts
    return refs.get(name, 0) - defs.get(name, 0) == called.get(name, 0) == calls


def _name_counts(root: cst.CSTNode) -> tuple:
    """(references, plain calls, definitions) of each name under ``root``; a call with a star
    argument counts as -10**6 calls, so that it never matches."""
    refs: Dict[str, int] = {}
    called: Dict[str, int] = {}
    defs: Dict[str, int] = {}
    for n in walk(root):
        if isinstance(n, cst.Name):
            refs[n.value] = refs.get(n.value, 0) + 1
        elif isinstance(n, cst.Call) and isinstance(n.func, cst.Name):
            called[n.func.value] = called.get(n.func.value, 0) + (1 if not any(a.star for a in n.args) else -(10**6))
        elif isinstance(n, cst.FunctionDef):
            defs[n.name.value] = defs.get(n.name.value, 0) + 1
    return refs, called, defs


def _positional_last(s: Source) -> bool:
    """Dropping the argument shifts no other positional argument."""
    if s.keyword or s.arg_index < 0:
        return True
    call = cast(cst.Call, s.call)  # an argument index: the source is a call
    return all(a.keyword for a in call.args[s.arg_index + 1 :] if not a.star)


def build_plan(a: VolatileAnalysis) -> Plan:
    """Turn the analysis into edits (ids of original nodes) and reports."""
    plan = Plan()
    torch = a.torch_name() or "torch"
    EXACT = FixClass.EXACT

    def drop(call, idx) -> None:
        plan.drop_args.setdefault(id(call), set()).add(idx)
        if isinstance(call, cst.Call) and 0 <= idx < len(call.args):
            v = call.args[idx].value
            plan.dropped_values.add(id(v))
            for n in _attrs_in(v):
                plan.dropped_values.add(id(n))

    def report(kind, node, text, fc=None, **fields):
        plan.reports.append((kind, node, text, fields, fc))

    def tuple_drops(sp) -> None:
        """``data, target = Variable(data, volatile=True), Variable(target)`` left unmigrated:
        TU001 unwraps the other elements, so the flag goes too (it has had no effect since torch
        0.4), and the statement never ends half migrated; the note says where the region goes."""
        for s in sp.sources:
            if s.helper is None and s.arg_index >= 0 and id(s.call) in a.tuple_elements and s.flag not in ("?", ""):
                drop(s.call, s.arg_index)
                report("edit", s.call, "`volatile` dropped in a tuple so that the statement migrates whole (no effect since torch 0.4; the no-grad region is left to you, see the note)", EXACT)

    scope_of_node = {id(s.node): s for s in a.scopes}
    # safe drops and resets
    for scope in a.scopes:
        res = scope.result
        for call, idx in res.drops:
            drop(call, idx)
            report("edit", call, "`volatile=False` dropped (no effect since torch 0.4, none in 0.3)", EXACT)
        if not [s for s in res.sources if s.flag] and res.bail and res.bail[1] == "assign_expr":
            report("note", res.bail[0], "assign_expr")
        elif not [s for s in res.sources if s.flag] and res.resets and not res.bail:
            for _, small, lit in res.resets:
                plan.remove_small.add(id(small))
                report("edit", small, f"`x.volatile = {lit}` removed (no effect since torch 0.4)", EXACT)
    # scopes with sources
    applied: Set[int] = set()
    for scope in a.scopes:
        sp = a.plans.get(id(scope.node))
        if sp is None or sp.status == "helper":
            continue
        if sp.status == "note":
            for s in sp.sources:
                report("note", s.call, sp.note_key, **sp.note_fields)
            tuple_drops(sp)
            continue
        desc = _describe(a, scope, sp, torch)
        if sp.fix_class is EXACT:
            msg = f"`volatile` dropped: {sp.message} (the same on torch 0.3 and today)"
        else:
            msg = f"volatile has had no effect since torch 0.4 (a graph is built); restore the 0.3 no-grad behaviour: {desc}"
            if sp.fix_class is FixClass.UNPROVEN:
                kinds = sorted({k for _, k in scope.result.escapes})
                msg += f"; volatile values leave it ({', '.join(kinds)}), and code outside runs with gradients again"
        for s in sp.sources:
            report("fix", s.call, msg, sp.fix_class)
        if not a.allowed(sp.fix_class):
            tuple_drops(sp)
            continue
        applied.add(id(scope.node))
        if sp.decorate:
            plan.decorate.add(id(scope.node))
        for owner, start, end, flag in sp.regions:
            plan.regions.setdefault(owner, []).append((start, end, flag))
            if flag != TRUE:
                plan.flag_nodes[flag] = scope.result.flag_nodes[flag]
        if sp.decorate or sp.regions:
            plan.needs_torch = True
        for s in sp.sources:
            if s.helper is None:
                if s.arg_index == -2:
                    plan.remove_small.add(id(s.call))
                elif s.arg_index >= 0:
                    drop(s.call, s.arg_index)
        for _, small, _lit in scope.result.resets:
            plan.remove_small.add(id(small))

    def site_list(pred):
        out = []
        for scope in a.scopes:
            for s in scope.result.sources:
                if s.helper is not None and pred(s.helper):
                    out.append((s, scope))
        return out

    helper_of_scope = {id(h.func): h for h in a.helpers.values() if h.func is not None}
    handled_memo: Dict[int, bool] = {}

    def handled(h) -> bool:
        """Every call site of the helper in view was migrated (a site in another helper counts
        when that helper is handled: its flag goes to its own call sites)."""
        key = id(h)
        if key in handled_memo:
            return handled_memo[key]
        handled_memo[key] = False  # a cycle of helpers: not handled
        ok = all(migrated(s, sc) for s, sc in site_list(lambda hh: hh is h))
        handled_memo[key] = ok
        return ok

    def migrated(s, scope) -> bool:
        if s.flag == "" or id(scope.node) in applied:
            return True
        outer = helper_of_scope.get(id(scope.node))
        return outer is not None and handled(outer)

    def settle_sites(sites, removable: bool) -> None:
        for s, scope in sites:
            if s.arg_index < 0:
                continue
            if s.flag == "":
                if removable:
                    drop(s.call, s.arg_index)
                continue
            if not migrated(s, scope):
                continue
            if not s.helper.param_only:
                report("note", s.call, "arg_used", name=s.helper.name, param=s.helper.param)
            elif removable or s.keyword:
                drop(s.call, s.arg_index)
            else:
                report("note", s.call, "arg_kept", name=s.helper.name, param=s.helper.param)

    own = outcomes_of(a)
    script = _is_script(a.module)
    name_memo: Dict[int, tuple] = {}
    for (cls, name), h in a.helpers.items():
        sites = site_list(lambda hh, h=h: hh is h)
        hscope = scope_of_node.get(id(h.func))
        hsp = a.plans.get(id(h.func))
        inner = hsp.sources if hsp is not None else []
        parent = hscope.parent if hscope is not None else None
        nested_in = parent.node if parent is not None and isinstance(parent.node, cst.FunctionDef) else None
        nested = nested_in is not None
        outside_run = False
        if cls is not None:
            ok, why = False, "it is a method: callers outside this module are not visible"
        elif h.param is not None and not h.param_only:
            ok, why = False, f"it uses `{h.param}` for more than the volatile flag"
        elif a.project is not None and a.module_name and not nested and _is_top_level(a, h.func):
            ok, why = project_removal(a, a.module_name, name, own)
            # callers in files the run indexes (the package) but does not write: the helper stays
            # whole, its flag being the marker by which a run over the whole project migrates them
            outside_run = not ok and _callers_outside_run(a.project, a.module_name, name)
        else:
            ok, why = True, ""
            if not all(migrated(s, sc) for s, sc in sites):
                ok, why = False, "not every call site in this module was migrated"
            elif not all(_positional_last(s) for s, _ in sites):
                ok, why = False, "a call site passes it positionally before other arguments"
            elif not _only_called(nested_in if nested_in is not None else a.module, h.name, len(sites), name_memo):
                ok, why = False, "it is used other than by plain calls in this module"
            elif not (script or nested):
                ok, why = False, "callers in other modules may pass it (no project index)"
        if not sites and not ok:
            why = why or "no call site in this module"
        if not handled(h):
            # a caller in view could not be migrated: the helper keeps its flag (the marker)
            report("note", h.func, "helper_unchanged", name=h.name)
            settle_sites(sites, False)
            continue
        if outside_run:
            report("note", h.func, "helper_outside_run", name=h.name, why=why)
            settle_sites(sites, False)
            continue
        # the flag inside the helper goes: the regions are the call sites' now, and it has had no
        # effect since torch 0.4 (callers out of view keep today's behaviour; the note says so)
        for s in inner:
            if s.arg_index >= 0:
                drop(s.call, s.arg_index)
        if ok and h.param is not None:
            plan.remove_params[id(h.func)] = h.param
            report("edit", h.func, f"`{h.name}`: parameter `{h.param}` and its `volatile=` removed: every call site was migrated to a no-grad region", EXACT)
        elif ok:
            report("edit", h.func, f"`{h.name}`: `volatile=True` removed: every caller was migrated to a no-grad region", EXACT)
        elif h.param is not None:
            report("edit", h.func, f"`{h.name}`: its `volatile=` flag removed (no effect since torch 0.4); the no-grad regions go to its call sites", EXACT)
            report("note", h.func, "helper_param_kept", name=h.name, param=h.param, why=why)
        else:
            report("edit", h.func, f"`{h.name}`: `volatile=True` removed (no effect since torch 0.4); the no-grad regions go to its call sites", EXACT)
            report("note", h.func, "helper_kept", name=h.name, why=why)
        settle_sites(sites, ok)
    # helpers of other project modules called here
    external: Dict[Tuple[str, str], List] = {}
    for s, scope in site_list(lambda hh: hh.external is not None):
        external.setdefault(s.helper.external, []).append((s, scope))
    for (hmod, hname), sites in sorted(external.items()):
        # Another module decides about the parameter, possibly in another process and after
        # this file was written: a migrated call site drops a keyword flag, or the last
        # positional one when the parameter has a literal default, whatever it decides (the
        # parameter either goes, or stays and takes its default); anything else stays.
        f = a.project.modules[hmod].functions.get(hname)
        for s, scope in sites:
            if s.arg_index < 0 or not migrated(s, scope):
                continue
            if not s.helper.param_only:
                if s.flag != "":
                    report("note", s.call, "arg_used", name=s.helper.name, param=s.helper.param)
            elif s.keyword or (_positional_last(s) and f is not None and _literal_default(f)):
                drop(s.call, s.arg_index)
            elif s.flag != "":
                report("note", s.call, "arg_kept", name=s.helper.name, param=s.helper.param)
    return plan


def _attrs_in(node):
    return [n for n in walk(node) if isinstance(n, cst.Attribute)]


def _describe(a: VolatileAnalysis, scope: ScopeInfo, sp: ScopePlan, torch: str) -> str:
    if sp.decorate:
        return f"`@{torch}.no_grad()` on `{scope.name}`"
    assert scope.result is not None  # a scope with a plan has been analysed
    parts = []
    for (_owner, _start, _end, flag), (l1, l2) in zip(sp.regions, region_lines(a.module, scope, sp.regions)):
        lines = f"line {l1}" if l1 == l2 else f"lines {l1}-{l2}"
        parts.append(f"`with {region_context(torch, flag, scope.result.flag_nodes)}:` around {lines}")
    return "; ".join(parts)
