"""TU010's per-file plan: run the data-flow analysis over every scope and decide the rewrites."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from ..cstutil import target_names

from ..imports import dotted_name
from .volatile_flow import (
    HARMLESS_METHODS, NON_TENSOR_METHODS, SCALAR_BUILTINS, TRUE, Helper, ScopeFlow, ScopeResult,
    _all_nested_statements, _blocks, _contains_yield,
)

_STABLE = (cst.Name, cst.Attribute, cst.UnaryOperation, cst.Comparison, cst.BooleanOperation, cst.ComparisonTarget)


@dataclass
class Scope:
    node: cst.CSTNode  # Module, FunctionDef or ClassDef
    body: list
    owner: int  # id of the statement list's owner (Module or IndentedBlock)
    cls: Optional[str]  # class of a method
    params: Dict[str, cst.Param]
    parent: Optional["Scope"] = None
    result: Optional[ScopeResult] = None


@dataclass
class Plan:
    regions: Dict[int, List[Tuple[int, int, str]]] = field(default_factory=dict)  # owner -> (start, end, flag)
    decorate: Dict[int, str] = field(default_factory=dict)  # id(FunctionDef) -> flag
    drop_args: Dict[int, Set[int]] = field(default_factory=dict)  # id(Call) -> arg indices
    remove_small: Set[int] = field(default_factory=set)  # ids of `x.volatile = ...` statements
    remove_params: Dict[int, str] = field(default_factory=dict)  # id(FunctionDef) -> param name
    flag_nodes: Dict[str, Optional[cst.BaseExpression]] = field(default_factory=dict)


class _Scopes(cst.CSTVisitor):
    def __init__(self, module):
        self.scopes: List[Scope] = [Scope(module, list(module.body), id(module), None, {})]
        self.stack: List[Scope] = [self.scopes[0]]
        self.classes: List[Optional[str]] = [None]
        self.defs: Dict[str, int] = {}
        self.func_names: Dict[Tuple[Optional[str], str], List[cst.FunctionDef]] = {}

    def visit_ClassDef(self, node):
        body = list(node.body.body) if isinstance(node.body, cst.IndentedBlock) else []
        scope = Scope(node, body, id(node.body), None, {}, self.stack[-1])
        self.scopes.append(scope)
        self.stack.append(scope)
        self.classes.append(node.name.value)

    def leave_ClassDef(self, node):
        self.stack.pop()
        self.classes.pop()

    def visit_FunctionDef(self, node):
        cls = self.classes[-1] if isinstance(self.stack[-1].node, cst.ClassDef) else None
        params = {}
        for p in [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]:
            params[p.name.value] = p
        body = list(node.body.body) if isinstance(node.body, cst.IndentedBlock) else []
        scope = Scope(node, body, id(node.body), cls, params, self.stack[-1])
        self.scopes.append(scope)
        self.stack.append(scope)
        self.classes.append(None)
        self.func_names.setdefault((cls, node.name.value), []).append(node)

    def leave_FunctionDef(self, node):
        self.stack.pop()
        self.classes.pop()


def _is_method(scope: Scope) -> bool:
    if scope.cls is None:
        return False
    for d in scope.node.decorators:
        if isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod":
            return False
    return True


class VolatileAnalysis:
    """Computed once per file (shared by the rule through ctx.analysis)."""

    def __init__(self, rule, module: cst.Module):
        self.rule = rule
        self.module = module
        self.imports = rule.imports
        collector = _Scopes(module)
        module.visit(collector)
        self.scopes = collector.scopes
        self.func_names = collector.func_names
        self.helpers: Dict[Tuple[Optional[str], str], Helper] = {}
        self._scalar_cache: Dict[int, Set[str]] = {}
        for _ in range(5):
            self.results = [self._analyse(s) for s in self.scopes]
            new = self._find_helpers()
            if not new:
                break
            self.helpers.update(new)

    # -- flags ----------------------------------------------------------------------------------
    def flag_of(self, value: cst.BaseExpression) -> Optional[str]:
        """"True", "" (False / x.volatile: no effect), an expression key, or None (unsupported)."""
        if isinstance(value, cst.Name) and value.value in ("True", "False"):
            return TRUE if value.value == "True" else ""
        if isinstance(value, cst.Name) and value.value == "None":
            return ""
        if isinstance(value, cst.Attribute) and value.attr.value == "volatile":
            return ""
        if isinstance(value, (cst.Integer,)):
            return TRUE if value.value not in ("0",) else ""
        if not self._stable(value):
            return None
        return self.module.code_for_node(value)

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
    def helper_for(self, func, cls) -> Optional[Helper]:
        if isinstance(func, cst.Name):
            h = self.helpers.get((None, func.value))
            if h is not None and func.value not in self.imports.aliases:
                return h
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self" and cls:
            return self.helpers.get((cls, func.attr.value))
        return None

    def _find_helpers(self):
        new = {}
        for scope, res in zip(self.scopes, self.results):
            if not isinstance(scope.node, cst.FunctionDef) or res.bail or res.any_need or not res.tainted_returns:
                continue
            if res.is_generator or scope.node.asynchronous:
                continue
            key = (scope.cls, scope.node.name.value)
            if key in self.helpers or len(self.func_names.get(key, [])) != 1:
                continue
            if scope.cls is None and not isinstance(scope.parent.node, (cst.Module, cst.FunctionDef)):
                continue
            flags = {s.flag for s in res.sources if s.flag}
            if not flags or "?" in flags:
                continue
            if flags == {TRUE}:
                new[key] = Helper(scope.node, key[1], scope.cls, None)
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
            if _is_method(scope):
                positional = positional[1:]
            kwonly = param in p.kwonly_params
            index = positional.index(param) if param in positional else -1
            new[key] = Helper(
                scope.node, key[1], scope.cls, param.name.value, index, polarity, param.default,
                required=param.default is None, kwonly=kwonly,
            )
        return new

    # -- per-scope analysis ---------------------------------------------------------------------
    def _analyse(self, scope: Scope) -> ScopeResult:
        flow = ScopeFlow(self, scope.node, scope.body, scope.cls, scope.params)
        flow.scope = scope
        body = scope.body
        flow.block(body, {}, scope.owner, record=True)
        res = flow.res
        if isinstance(scope.node, cst.FunctionDef):
            res.is_generator = _contains_yield(scope.node)
        return res

    # -- neutrality -----------------------------------------------------------------------------
    def neutral_target(self, target) -> bool:
        if isinstance(target, cst.Name):
            return True
        if isinstance(target, (cst.Tuple, cst.List)):
            return all(self.neutral_target(e.value) for e in target.elements)
        return False

    def _inert(self, node) -> bool:
        if isinstance(node, (cst.Name, cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString, cst.Ellipsis)):
            return True
        if isinstance(node, cst.Attribute):
            return dotted_name(node) is not None
        if isinstance(node, (cst.Tuple, cst.List)):
            return all(self._inert(e.value) for e in node.elements)
        return False

    def scalar_names(self, flow) -> Set[str]:
        key = id(flow.scope.node)
        if key in self._scalar_cache:
            return self._scalar_cache[key]
        pairs: List[Tuple[str, Optional[cst.CSTNode]]] = []
        bad: Set[str] = set(flow.scope.params)
        stmts = list(flow.scope.body)
        for s in list(stmts):
            if not isinstance(s, (cst.SimpleStatementLine, cst.FunctionDef, cst.ClassDef)):
                stmts.extend(_all_nested_statements(s))
                if isinstance(s, cst.For):
                    bad.update(target_names(s.target))
        for s in stmts:
            if not isinstance(s, cst.SimpleStatementLine):
                continue
            for small in s.body:
                if isinstance(small, cst.Assign):
                    for t in small.targets:
                        if isinstance(t.target, cst.Name):
                            pairs.append((t.target.value, small.value))
                        else:
                            bad.update(target_names(t.target))
                elif isinstance(small, (cst.AugAssign, cst.AnnAssign)) and isinstance(small.target, cst.Name):
                    pairs.append((small.target.value, small.value))
        names = {n for n, _ in pairs} - bad
        while True:
            self._scalar_cache[key] = names
            drop = {n for n, v in pairs if n in names and (v is None or not self._scalar(v, names))}
            if not drop:
                break
            names = names - drop
        self._scalar_cache[key] = names
        return names

    def _scalar(self, node, names) -> bool:
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return True
        if isinstance(node, cst.Name):
            return node.value in ("True", "False", "None") or node.value in names
        if isinstance(node, cst.BinaryOperation):
            if isinstance(node.left, (cst.SimpleString, cst.ConcatenatedString)):
                return True
            return self._scalar(node.left, names) and self._scalar(node.right, names)
        if isinstance(node, cst.UnaryOperation):
            return self._scalar(node.expression, names)
        if isinstance(node, cst.BooleanOperation):
            return self._scalar(node.left, names) and self._scalar(node.right, names)
        if isinstance(node, cst.Comparison):
            return self._scalar(node.left, names) and all(self._scalar(t.comparator, names) for t in node.comparisons)
        if isinstance(node, cst.Call):
            f = node.func
            if isinstance(f, cst.Name) and f.value in SCALAR_BUILTINS and self.imports.is_builtin(f, f.value):
                return all(self._simple(a.value, names) for a in node.args)
            if isinstance(f, cst.Attribute) and f.attr.value in NON_TENSOR_METHODS:
                return self._simple(f.value, names) and all(self._simple(a.value, names) for a in node.args)
            return False
        if isinstance(node, cst.Subscript):
            return self._scalar(node.value, names)
        return False

    def _simple(self, node, names) -> bool:
        return self._scalar(node, names) or self._inert(node) or (
            isinstance(node, cst.Subscript) and self._simple(node.value, names)
        )

    def is_scalar(self, value, flow) -> bool:
        return self._inert(value) or self._scalar(value, self.scalar_names(flow))

    def neutral_expr_stmt(self, value, flow) -> bool:
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
            return True
        if isinstance(value, cst.Call):
            f = value.func
            if isinstance(f, cst.Name) and f.value == "print" and self.imports.is_builtin(f, "print"):
                return True
            if isinstance(f, cst.Attribute) and f.attr.value in HARMLESS_METHODS:
                names = self.scalar_names(flow)
                return self._inert(f.value) and all(self._simple(a.value, names) for a in value.args)
        return False


# -- region planning ------------------------------------------------------------------------------
def scope_blocks(scope: Scope):
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


def plan_regions(scope: Scope, res: ScopeResult, decorate: bool):
    """Regions for a scope: list of (owner, start, end, flag); or raise ValueError(reason)."""
    regions = []
    generator = res.is_generator and not decorate

    def walk(owner, stmts):
        marks = [res.stmts.get(id(s)) for s in stmts]
        runs, cur = [], []
        for i, (s, m) in enumerate(zip(stmts, marks)):
            mark = m.mark if m is not None else "X"
            breaks = mark == "X" or (generator and m is not None and m.has_yield)
            if generator and m is not None and m.has_yield and mark == "R":
                raise ValueError("a `yield` inside code that consumes volatile values: decorate the generator function by hand")
            if breaks:
                if cur:
                    runs.append(cur)
                cur = []
                continue
            cur.append(i)
        if cur:
            runs.append(cur)
        covered = set()
        for run in runs:
            idx = [i for i in run if marks[i].mark in ("R", "CR")]
            if not idx or not any(marks[i].mark == "R" for i in idx):
                continue
            start, end = idx[0], idx[-1]
            flags = set()
            for i in range(start, end + 1):
                if marks[i].mark in ("R", "CR"):
                    flags |= marks[i].flags
            if len(flags) != 1:
                raise ValueError("one region mixes different volatile flags")
            regions.append((owner, start, end, next(iter(flags))))
            covered.update(range(start, end + 1))
        for i, s in enumerate(stmts):
            if i in covered or isinstance(s, (cst.SimpleStatementLine, cst.FunctionDef, cst.ClassDef)):
                continue
            m = marks[i]
            if m is not None and m.mark == "R" and generator and m.has_yield:
                raise ValueError("a `yield` inside code that consumes volatile values")
            for b in _blocks(s):  # includes the blocks of `elif` branches
                if isinstance(b, cst.IndentedBlock):
                    walk(id(b), list(b.body))

    if decorate:
        return []
    walk(scope.owner, scope.body)
    return regions


def can_decorate(scope: Scope, res: ScopeResult) -> bool:
    node = scope.node
    if not isinstance(node, cst.FunctionDef) or node.asynchronous:
        return False
    flags = set()
    for s in _flat(scope.body):
        m = res.stmts.get(id(s))
        if m is not None and m.mark == "R":
            flags |= m.flags
    if flags != {TRUE}:
        return False
    for s in scope.body:
        m = res.stmts.get(id(s))
        if m is None or m.mark == "X":
            return False
    return True


def _flat(stmts):
    for s in stmts:
        yield s
        if not isinstance(s, (cst.SimpleStatementLine, cst.FunctionDef, cst.ClassDef)):
            yield from _all_nested_statements(s)
