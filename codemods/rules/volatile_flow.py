"""Data-flow analysis behind TU010 (volatile-no-grad): which statements consumed volatile values.

PyTorch 0.3 semantics: every value computed from a volatile Variable was volatile (no graph, no
gradient) until code reset it with ``x.volatile = False``; ``x.data`` and sizes were plain
tensors / numbers. The analysis walks each scope (module, function, class body) in order and
tracks, per name (or ``self.attr`` chain), the set of volatile *flags* it carries (``True`` or the
source expression of a ``volatile=<expr>``). For each statement it computes

* ``need``: flags of operations that take a volatile input (a forward pass, arithmetic, an unknown
  call). Such a statement must run under no-grad: mark ``R``.
* ``carry``: flags of the value a statement binds/returns without computing on it (names,
  containers, ``.cuda()``-style views, ``Variable(...)`` itself): mark ``P`` (propagates taint, no
  region needed: a view of a no-grad tensor does not require grad).

Everything else is ``N`` (neutral: safe to run under no-grad, e.g. counters, ``print``,
``model.eval()``) or ``X`` (anything else; never pulled into a region). The rule then turns
maximal runs of statements that start and end with ``R`` and contain only ``R``/``P``/``N`` into
``with torch.no_grad():`` blocks, or decorates a whole function.

The analysis is cheap: it only runs on files containing ``volatile`` and walks the libcst tree
once per scope (loops twice, to a fixpoint of their back edge).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

import libcst as cst

from ..imports import dotted_name
from ..torchapi import FRESH_VIEW_METHODS, VARIABLE

Flags = FrozenSet[str]
EMPTY: Flags = frozenset()
TRUE = "True"

# Attribute reads that give a non-tensor (or, for ``.data``, a plain tensor that 0.3 never marked
# volatile): reading them does not propagate volatility.
NON_TENSOR_ATTRS = frozenset(
    "data shape volatile requires_grad is_cuda dtype device grad ndim is_leaf grad_fn".split()
)
# Methods returning numbers / Python values.
NON_TENSOR_METHODS = frozenset(
    "size dim numel item tolist nelement ndimension get_device data_ptr is_contiguous element_size "
    "stride storage_offset format join".split()
)
# Builtins that take values without building a graph.
PLAIN_BUILTINS = frozenset(
    "print len isinstance issubclass int float str bool repr format type id hasattr getattr range "
    "enumerate zip round abs min max sorted list tuple dict set iter next".split()
)
# Calls that are harmless under no-grad when their result is discarded.
HARMLESS_METHODS = frozenset(
    "eval train update set_description set_postfix write flush info debug warning warn error "
    "log add_scalar add_scalars append extend reset".split()
)
# Methods that store their argument in the receiver (a list of volatile outputs is volatile).
CONTAINER_METHODS = frozenset("append extend insert add appendleft put".split())
# Calls whose result is a Python scalar (for "neutral" statement detection).
SCALAR_BUILTINS = frozenset("len int float str bool round abs range repr format".split())


@dataclass
class Source:
    call: cst.CSTNode  # the Variable/helper call, or the `x.volatile = True` statement (arg_index -2)
    flag: str  # "True" or an expression key (code)
    flag_node: Optional[cst.BaseExpression]  # the volatile expression (None for True)
    arg_index: int  # index of the volatile argument in call.args (-1: none, helper default)
    helper: Optional["Helper"] = None


@dataclass
class Helper:
    """A function whose return value is volatile (``to_var``-style)."""

    func: cst.FunctionDef
    name: str
    cls: Optional[str]  # enclosing class for methods (called as self.name)
    param: Optional[str]  # the forwarded parameter; None: always volatile
    index: int = -1  # positional index of param at call sites (self excluded)
    polarity: bool = True  # volatile == param (True) or == not param (False)
    default: Optional[cst.BaseExpression] = None
    required: bool = False
    kwonly: bool = False


@dataclass
class StmtInfo:
    mark: str = "X"  # R, P, N, C (coverable compound), CR (compound with inner regions), X
    flags: Flags = EMPTY  # flags of the region need
    has_yield: bool = False


@dataclass
class ScopeResult:
    node: cst.CSTNode  # Module, FunctionDef or ClassDef
    sources: List[Source] = field(default_factory=list)
    drops: List[Tuple[cst.Call, int]] = field(default_factory=list)  # safe: volatile=False args
    resets: List[Tuple[cst.SimpleStatementLine, cst.BaseSmallStatement, str]] = field(default_factory=list)
    stmts: Dict[int, StmtInfo] = field(default_factory=dict)
    block_of: Dict[int, int] = field(default_factory=dict)
    bail: Optional[Tuple[cst.CSTNode, str]] = None
    escapes: List[Tuple[cst.CSTNode, str]] = field(default_factory=list)
    tainted_returns: bool = False
    any_need: bool = False
    is_generator: bool = False
    assigned: Set[str] = field(default_factory=set)
    flag_nodes: Dict[str, cst.BaseExpression] = field(default_factory=dict)
    lambda_sources: List[cst.CSTNode] = field(default_factory=list)


class _Eval:
    """Evaluate expressions against the current taint: returns (carry, need)."""

    def __init__(self, flow: "ScopeFlow"):
        self.flow = flow

    def __call__(self, node: cst.CSTNode, taint: Dict[str, Flags]) -> Tuple[Flags, Flags]:
        m = getattr(self, "e_" + type(node).__name__, None)
        if m is not None:
            return m(node, taint)
        return self.generic(node, taint)

    def generic(self, node, taint):
        carry, need = EMPTY, EMPTY
        for child in node.children:
            if isinstance(child, cst.BaseExpression) or isinstance(child, (cst.Arg, cst.Element, cst.DictElement, cst.StarredDictElement, cst.Index, cst.Slice, cst.SubscriptElement, cst.FormattedStringExpression, cst.ComparisonTarget)):
                c, n = self(child, taint)
                carry |= c
                need |= n
        return carry, need

    def _lookup(self, key: str, taint) -> Flags:
        while True:
            if key in taint:
                return taint[key]
            if "." not in key:
                return EMPTY
            key = key.rsplit(".", 1)[0]

    def e_Name(self, node, taint):
        return self._lookup(node.value, taint), EMPTY

    def e_Attribute(self, node, taint):
        if node.attr.value in NON_TENSOR_ATTRS:
            _, need = self(node.value, taint)
            return EMPTY, need
        d = dotted_name(node)
        if d is not None:
            return self._lookup(d, taint), EMPTY
        return self(node.value, taint)

    def e_Subscript(self, node, taint):
        carry, need = self(node.value, taint)
        for el in node.slice:
            c, n = self(el, taint)
            need |= n | c  # a volatile index makes the result volatile: an op
            carry |= c
        return carry, need

    def e_Lambda(self, node, taint):
        inner = dict(taint)
        for p in node.params.params:
            inner.pop(p.name.value, None)
        carry, need = self(node.body, inner)
        self.flow.lambdas.append(node)
        return carry, need

    def _comp(self, node, taint, elts):
        inner = dict(taint)
        need = EMPTY
        comp = node.for_in
        while comp is not None:
            c, n = self(comp.iter, inner)
            need |= n
            self.flow.bind_target(comp.target, c, inner)
            for cond in comp.ifs:
                c2, n2 = self(cond.test, inner)
                need |= n2
            comp = comp.inner_for_in
        carry = EMPTY
        for e in elts:
            c, n = self(e, inner)
            carry |= c
            need |= n
        return carry, need

    def e_ListComp(self, node, taint):
        return self._comp(node, taint, [node.elt])

    e_SetComp = e_ListComp
    e_GeneratorExp = e_ListComp

    def e_DictComp(self, node, taint):
        return self._comp(node, taint, [node.key, node.value])

    def e_BinaryOperation(self, node, taint):
        cl, nl = self(node.left, taint)
        cr, nr = self(node.right, taint)
        return cl | cr, nl | nr | cl | cr

    def e_UnaryOperation(self, node, taint):
        c, n = self(node.expression, taint)
        if isinstance(node.operator, cst.Not):
            return EMPTY, n
        return c, n | c

    def e_Comparison(self, node, taint):
        carry, need = self(node.left, taint)
        for t in node.comparisons:
            c, n = self(t.comparator, taint)
            carry |= c
            need |= n
        return carry, need | carry

    def e_BooleanOperation(self, node, taint):
        cl, nl = self(node.left, taint)
        cr, nr = self(node.right, taint)
        return cl | cr, nl | nr

    def e_Yield(self, node, taint):
        self.flow.saw_yield = True
        if node.value is None:
            return EMPTY, EMPTY
        value = node.value.item if isinstance(node.value, cst.From) else node.value
        return self(value, taint)

    def e_Await(self, node, taint):
        return self(node.expression, taint)

    def e_Call(self, node, taint):
        flow = self.flow
        func = node.func
        args_carry, args_need = EMPTY, EMPTY
        arg_carries = []
        for a in node.args:
            c, n = self(a.value, taint)
            arg_carries.append(c)
            args_carry |= c
            args_need |= n
        q = flow.resolve(func)
        if q == VARIABLE:
            src = flow.variable_source(node)
            if src is not None and src.flag:
                data = [a for a in node.args if not a.keyword or a.keyword.value == "data"]
                _, n0 = self(data[0].value, taint) if data else (EMPTY, EMPTY)
                return frozenset([src.flag]), args_need
            return EMPTY, args_need
        helper = flow.helper_for(func)
        if helper is not None:
            src = flow.helper_source(node, helper)
            if src is not None and src.flag:
                return frozenset([src.flag]), args_need | args_carry
            return args_carry, args_need | args_carry
        if isinstance(func, cst.Name):
            if flow.imports.is_builtin(func, func.value) and func.value in PLAIN_BUILTINS:
                if func.value in ("list", "tuple", "sorted", "iter", "next", "min", "max", "zip", "enumerate", "dict", "set"):
                    return args_carry, args_need
                return EMPTY, args_need
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            rc, rn = self(func.value, taint)
            if method == "backward" and rc:
                flow.backward_taint.append(node)
            if method in NON_TENSOR_METHODS:
                return EMPTY, rn | args_need
            if method in FRESH_VIEW_METHODS:
                return rc, rn | args_need
            if method in HARMLESS_METHODS and method in ("append", "extend"):
                return EMPTY, rn | args_need  # receiver taint handled by the statement
            if method == "volatile":
                return EMPTY, rn | args_need
            carry = rc | args_carry
            return carry, rn | args_need | carry
        if isinstance(func, cst.Call) and isinstance(func.func, cst.Name) and func.func.value == "type":
            # type(batch)([...]): a container of the same type
            _, n = self(func, taint)
            return args_carry, args_need | n
        fc, fn = self(func, taint)
        if q is not None and q in ("torch.autograd.grad", "torch.autograd.backward") and args_carry:
            flow.backward_taint.append(node)
        carry = fc | args_carry
        return carry, fn | args_need | carry


class ScopeFlow:
    """Run the analysis over one scope's statements."""

    def __init__(self, analysis, scope_node, body, cls: Optional[str], params: Dict[str, cst.Param]):
        self.analysis = analysis
        self.imports = analysis.imports
        self.res = ScopeResult(scope_node)
        self.cls = cls
        self.params = params
        self.eval = _Eval(self)
        self.lambdas: List[cst.Lambda] = []
        self.backward_taint: List[cst.CSTNode] = []
        self.saw_yield = False
        self.recording = True
        self.seen_sources: Dict[int, Source] = {}
        self.body = body

    # -- helpers used by _Eval ------------------------------------------------------------------
    def resolve(self, func):
        return self.imports.resolve(func)

    def helper_for(self, func) -> Optional[Helper]:
        return self.analysis.helper_for(func, self.cls)

    def _record(self, src: Source) -> Source:
        if self.recording and id(src.call) not in self.seen_sources:
            self.seen_sources[id(src.call)] = src
            self.res.sources.append(src)
        return src

    def variable_source(self, call: cst.Call) -> Optional[Source]:
        """A ``Variable(..., volatile=...)`` call: Source with flag, or flag "" for a dropped False."""
        if any(a.star for a in call.args):
            return None
        idx = None
        for i, a in enumerate(call.args):
            if a.keyword and a.keyword.value == "volatile":
                idx = i
        positional = [i for i, a in enumerate(call.args) if not a.keyword]
        if idx is None and len(positional) == 3:
            idx = positional[2]
        if idx is None:
            return None
        value = call.args[idx].value
        flag = self.analysis.flag_of(value)
        if flag == "":
            if self.recording and id(call) not in self.seen_sources:
                self.seen_sources[id(call)] = Source(call, "", None, idx)
                self.res.drops.append((call, idx))
            return None
        if flag is None:
            return self._record(Source(call, "?", value, idx))
        if flag != TRUE:
            self.res.flag_nodes[flag] = value
        return self._record(Source(call, flag, None if flag == TRUE else value, idx))

    def helper_source(self, call: cst.Call, helper: Helper) -> Optional[Source]:
        if helper.param is None:
            return self._record(Source(call, TRUE, None, -1, helper))
        if any(a.star for a in call.args):
            return self._record(Source(call, "?", None, -1, helper))
        idx = None
        for i, a in enumerate(call.args):
            if a.keyword and a.keyword.value == helper.param:
                idx = i
        if idx is None and not helper.kwonly:
            positional = [i for i, a in enumerate(call.args) if not a.keyword]
            if len(positional) > helper.index >= 0:
                idx = positional[helper.index]
        value = call.args[idx].value if idx is not None else helper.default
        if value is None:
            return self._record(Source(call, "?", None, -1, helper))
        if not helper.polarity:
            value = negate(value)
        flag = self.analysis.flag_of(value)
        if flag == "":
            src = Source(call, "", None, -1 if idx is None else idx, helper)
            if self.recording and id(call) not in self.seen_sources:
                self.seen_sources[id(call)] = src
                self.res.sources.append(src)
            return None
        if flag is None:
            return self._record(Source(call, "?", value, -1 if idx is None else idx, helper))
        if idx is None and flag != TRUE:
            return self._record(Source(call, "?", value, -1, helper))  # non-literal default
        if flag != TRUE:
            self.res.flag_nodes[flag] = value
        return self._record(Source(call, flag, None if flag == TRUE else value, -1 if idx is None else idx, helper))

    # -- bindings -------------------------------------------------------------------------------
    def bind_target(self, target, flags: Flags, taint: Dict[str, Flags]) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self.bind_target(el.value, flags, taint)
            return
        if isinstance(target, cst.StarredElement):
            self.bind_target(target.value, flags, taint)
            return
        if isinstance(target, cst.Subscript):
            base = dotted_name(target.value)
            if base and flags:
                taint[base] = taint.get(base, EMPTY) | flags
            return
        key = dotted_name(target)
        if key is None:
            return
        if isinstance(target, cst.Name):
            self.res.assigned.add(key)
        for k in [k for k in taint if k.startswith(key + ".")]:
            del taint[k]
        if flags:
            taint[key] = flags
        else:
            taint.pop(key, None)

    def assign(self, target, value, taint, flags_of_value) -> None:
        if isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)) and len(
            target.elements
        ) == len(value.elements) and not any(isinstance(e, cst.StarredElement) for e in value.elements):
            for t, v in zip(target.elements, value.elements):
                c, _ = self.eval(v.value, taint)
                self.assign(t.value, v.value, taint, c)
            return
        self.bind_target(target, flags_of_value, taint)

    # -- statements -----------------------------------------------------------------------------
    def simple(self, line: cst.SimpleStatementLine, taint) -> StmtInfo:
        info = StmtInfo()
        need_all, carry_all = EMPTY, EMPTY
        neutral = True
        before = len(self.backward_taint)
        self.saw_yield = False
        for small in line.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Attribute) and small.targets[0].target.attr.value == "volatile":
                tgt = small.targets[0].target
                key = dotted_name(tgt.value)
                val = small.value
                lit = val.value if isinstance(val, cst.Name) and val.value in ("True", "False") else None
                if key is None or lit is None:
                    self.bail(small, "`x.volatile = <expression>`: set the region by hand")
                    continue
                if self.recording:
                    self.res.resets.append((line, small, lit))
                if lit == "True":
                    taint[key] = taint.get(key, EMPTY) | frozenset([TRUE])
                    if self.recording and id(small) not in self.seen_sources:
                        self.seen_sources[id(small)] = Source(small, TRUE, None, -2)
                        self.res.sources.append(self.seen_sources[id(small)])
                else:
                    for k in [k for k in taint if k == key or k.startswith(key + ".")]:
                        del taint[k]
                continue
            if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
                value = small.value
                if value is None:
                    continue
                c, n = self.eval(value, taint)
                need_all |= n
                carry_all |= c
                if isinstance(value, cst.Lambda) and (c or n):
                    self.bail(small, "a lambda that consumes a volatile value runs later: set the region by hand")
                if isinstance(small, cst.Assign):
                    for t in small.targets:
                        if isinstance(t.target, (cst.Attribute, cst.Subscript)) and c and not isinstance(t.target, cst.Subscript):
                            self.res.escapes.append((small, "stored in an attribute"))
                        self.assign(t.target, value, taint, c)
                        neutral = neutral and self.analysis.neutral_target(t.target) and self.analysis.is_scalar(value, self)
                elif isinstance(small, cst.AnnAssign):
                    self.assign(small.target, value, taint, c)
                    neutral = neutral and self.analysis.neutral_target(small.target) and self.analysis.is_scalar(value, self)
                else:
                    key = dotted_name(small.target)
                    prev = self.eval(small.target, taint)[0]
                    if c and prev != c:
                        need_all |= c  # x += volatile: an op on x
                    if key is not None:
                        if prev | c:
                            taint[key] = prev | c
                        if isinstance(small.target, cst.Name):
                            self.res.assigned.add(key)
                    elif isinstance(small.target, cst.Subscript):
                        self.bind_target(small.target, c, taint)
                    neutral = neutral and self.analysis.neutral_target(small.target) and self.analysis.is_scalar(value, self)
                continue
            if isinstance(small, cst.Expr):
                c, n = self.eval(small.value, taint)
                need_all |= n
                carry_all |= c
                v = small.value
                if isinstance(v, cst.Call) and isinstance(v.func, cst.Attribute):
                    args_c = EMPTY
                    for a in v.args:
                        args_c |= self.eval(a.value, taint)[0]
                    recv = dotted_name(v.func.value)
                    if args_c and recv is not None and recv != "self" and v.func.attr.value in CONTAINER_METHODS:
                        taint[recv] = taint.get(recv, EMPTY) | args_c
                neutral = neutral and self.analysis.neutral_expr_stmt(v, self)
                continue
            if isinstance(small, cst.Return):
                if small.value is not None:
                    c, n = self.eval(small.value, taint)
                    need_all |= n
                    carry_all |= c
                    if c:
                        self.res.tainted_returns = True
                        if self.recording:
                            self.res.escapes.append((small, "returned"))
                    neutral = neutral and self.analysis.is_scalar(small.value, self)
                continue
            if isinstance(small, cst.Del):
                c, n = self.eval(small.target, taint)
                for t in _del_targets(small.target):
                    key = dotted_name(t)
                    if key:
                        taint.pop(key, None)
                continue
            if isinstance(small, (cst.Pass, cst.Break, cst.Continue, cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal)):
                continue
            # raise, assert, ...
            c, n = self.eval(small, taint)
            need_all |= n
            carry_all |= c
            neutral = False
        info.has_yield = self.saw_yield
        if len(self.backward_taint) > before:
            self.bail(line, "a value derived from a volatile input reaches `.backward()`; this could not run under 0.3 (add `.detach()` where the volatile branch should stop gradients)")
        if need_all:
            info.mark, info.flags = "R", need_all
        elif carry_all:
            info.mark, info.flags = "P", carry_all
        elif neutral:
            info.mark = "N"
        else:
            info.mark = "X"
        return info

    def bail(self, node, why: str) -> None:
        if self.res.bail is None and self.recording:
            self.res.bail = (node, why)

    def block(self, stmts, taint: Dict[str, Flags], owner_id: int, record: bool = True) -> Dict[str, Flags]:
        """Analyse a statement list; records marks when ``record``. Returns the taint at its end."""
        for stmt in stmts:
            info = self.statement(stmt, taint, record)
            if record:
                self.res.stmts[id(stmt)] = info
                self.res.block_of[id(stmt)] = owner_id
                if info.mark == "R":
                    self.res.any_need = True
        return taint

    def statement(self, stmt, taint, record) -> StmtInfo:
        if isinstance(stmt, cst.SimpleStatementLine):
            return self.simple(stmt, taint)
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            for d in stmt.decorators:
                c, n = self.eval(d.decorator, taint)
                if c or n:
                    self.bail(stmt, "a decorator consumes a volatile value")
            return StmtInfo("N")
        # compound statements
        header_c, header_n = EMPTY, EMPTY
        self.saw_yield = False
        for h in _headers(stmt):
            c, n = self.eval(h, taint)
            header_c |= c
            header_n |= n
        header_yield = self.saw_yield
        if header_n:
            # the whole statement consumes volatile values: it goes into the region as a whole
            old = self.recording
            self.recording = False if not old else old
            self._compound_inner(stmt, taint, header_c, record=False)
            self.recording = old
            info = StmtInfo("R", header_n, has_yield=_contains_yield(stmt))
            if self.res.any_need is False and record:
                self.res.any_need = True
            # sources inside still need recording: walk once more in recording mode (marks ignored)
            if record:
                self._record_sources_in(stmt)
            return info
        self._compound_inner(stmt, taint, header_c, record=record)
        info = StmtInfo("C", has_yield=_contains_yield(stmt) or header_yield)
        if isinstance(stmt, cst.Match) or _has_simple_suite(stmt):
            info.mark = "X"
        if record:
            inner = list(_inner_statements(stmt))
            marks = [self.res.stmts.get(id(s)) for s in inner]
            if any(m is None or m.mark == "X" for m in marks):
                info.mark = "X"
            if any(m is not None and m.mark in ("R", "CR") for m in marks):
                if info.mark == "C":
                    info.mark = "CR"
                fl = EMPTY
                for s in _all_nested_statements(stmt):
                    m = self.res.stmts.get(id(s))
                    if m is not None and m.mark == "R":
                        fl |= m.flags
                info.flags = fl
            elif info.mark == "C" and (header_c or any(m is not None and m.mark == "P" for m in marks)):
                pass
        return info

    def _record_sources_in(self, stmt):
        # evaluate every expression once with an all-tainted view to record sources
        class V(cst.CSTVisitor):
            def __init__(v):
                v.calls = []

            def visit_Call(v, node):
                v.calls.append(node)

            def visit_FunctionDef(v, node):
                return False

            def visit_ClassDef(v, node):
                return False

        vis = V()
        stmt.visit(vis)
        for call in vis.calls:
            if self.resolve(call.func) == VARIABLE:
                self.variable_source(call)
            else:
                h = self.helper_for(call.func)
                if h is not None:
                    self.helper_source(call, h)

    def _compound_inner(self, stmt, taint, header_c, record):
        if isinstance(stmt, (cst.For, cst.While)):
            if isinstance(stmt, cst.For):
                pass
            # loop fixpoint: the end of the body flows back to its start
            for _ in range(3):
                start = dict(taint)
                if isinstance(stmt, cst.For):
                    self.bind_target(stmt.target, header_c, start)
                saved = self.recording
                self.recording = False
                end = self.block(stmt.body.body, dict(start), id(stmt.body), record=False)
                self.recording = saved
                merged = _merge(taint, end)
                if merged == taint:
                    break
                taint.clear()
                taint.update(merged)
            start = dict(taint)
            if isinstance(stmt, cst.For):
                self.bind_target(stmt.target, header_c, start)
            end = self.block(stmt.body.body, start, id(stmt.body), record=record)
            merged = _merge(taint, end)
            if stmt.orelse is not None:
                merged = _merge(merged, self.block(stmt.orelse.body.body, dict(merged), id(stmt.orelse.body), record=record))
            taint.clear()
            taint.update(merged)
            return
        if isinstance(stmt, cst.If):
            a = self.block(stmt.body.body, dict(taint), id(stmt.body), record=record)
            if stmt.orelse is None:
                b = dict(taint)
            elif isinstance(stmt.orelse, cst.If):
                b = dict(taint)
                info = self.statement(stmt.orelse, b, record)
                if record:
                    self.res.stmts[id(stmt.orelse)] = info
                    self.res.block_of[id(stmt.orelse)] = id(stmt.orelse)
            else:
                b = self.block(stmt.orelse.body.body, dict(taint), id(stmt.orelse.body), record=record)
            taint.clear()
            taint.update(_merge(a, b))
            return
        if isinstance(stmt, cst.With):
            for item in stmt.items:
                if item.asname is not None:
                    c, _ = self.eval(item.item, taint)
                    self.bind_target(item.asname.name, c, taint)
            self.block(stmt.body.body, taint, id(stmt.body), record=record)
            return
        if isinstance(stmt, (cst.Try, getattr(cst, "TryStar", cst.Try))):
            start = dict(taint)
            after_body = self.block(stmt.body.body, dict(taint), id(stmt.body), record=record)
            merged = _merge(start, after_body)
            for h in stmt.handlers:
                hs = dict(merged)
                if h.name is not None:
                    self.bind_target(h.name.name, EMPTY, hs)
                merged = _merge(merged, self.block(h.body.body, hs, id(h.body), record=record))
            if stmt.orelse is not None:
                merged = _merge(merged, self.block(stmt.orelse.body.body, dict(after_body), id(stmt.orelse.body), record=record))
            if stmt.finalbody is not None:
                merged = self.block(stmt.finalbody.body.body, merged, id(stmt.finalbody.body), record=record)
            taint.clear()
            taint.update(merged)
            return
        # Match and anything else: analyse nested blocks without regions
        for s in _all_nested_statements(stmt):
            pass


def _merge(a: Dict[str, Flags], b: Dict[str, Flags]) -> Dict[str, Flags]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, EMPTY) | v
    return out


def _headers(stmt):
    if isinstance(stmt, cst.If):
        return [stmt.test]
    if isinstance(stmt, cst.While):
        return [stmt.test]
    if isinstance(stmt, cst.For):
        return [stmt.iter]
    if isinstance(stmt, cst.With):
        return [i.item for i in stmt.items]
    if isinstance(stmt, cst.Match):
        return [stmt.subject]
    return []


def _blocks(stmt):
    """Indented blocks directly owned by a compound statement."""
    out = []
    body = getattr(stmt, "body", None)
    if isinstance(body, cst.BaseSuite):
        out.append(body)
    for h in getattr(stmt, "handlers", ()) or ():
        out.append(h.body)
    orelse = getattr(stmt, "orelse", None)
    if isinstance(orelse, cst.If):
        out.extend(_blocks(orelse))
    elif orelse is not None:
        out.append(orelse.body)
    fin = getattr(stmt, "finalbody", None)
    if fin is not None:
        out.append(fin.body)
    for case in getattr(stmt, "cases", ()) or ():
        out.append(case.body)
    return out


def _has_simple_suite(stmt) -> bool:
    return any(isinstance(b, cst.SimpleStatementSuite) for b in _blocks(stmt))


def _inner_statements(stmt):
    for b in _blocks(stmt):
        if isinstance(b, cst.IndentedBlock):
            yield from b.body
    orelse = getattr(stmt, "orelse", None)
    if isinstance(orelse, cst.If):
        yield orelse


def _all_nested_statements(stmt):
    for s in _inner_statements(stmt):
        yield s
        if not isinstance(s, (cst.SimpleStatementLine, cst.FunctionDef, cst.ClassDef)):
            yield from _all_nested_statements(s)


class _YieldFinder(cst.CSTVisitor):
    def __init__(self):
        self.found = False

    def visit_Yield(self, node):
        self.found = True

    def visit_FunctionDef(self, node):
        return False

    def visit_Lambda(self, node):
        return False

    def visit_ClassDef(self, node):
        return False


def _contains_yield(node) -> bool:
    f = _YieldFinder()
    if isinstance(node, cst.FunctionDef):
        node.body.visit(f)
    else:
        node.visit(f)
    return f.found


def _del_targets(target):
    if isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            yield from _del_targets(el.value)
    else:
        yield target


def negate(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``not expr`` written cleanly: ``not x`` -> ``x``, ``True`` -> ``False``."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
        inner = expr.expression
        return inner.with_changes(lpar=[], rpar=[]) if inner.lpar and not isinstance(inner, (cst.Tuple, cst.GeneratorExp)) else inner
    if isinstance(expr, cst.Name) and expr.value in ("True", "False"):
        return cst.Name("False" if expr.value == "True" else "True")
    if isinstance(expr, (cst.BooleanOperation, cst.IfExp, cst.Lambda, cst.NamedExpr)) and not expr.lpar:
        expr = expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.UnaryOperation(operator=cst.Not(), expression=expr)


