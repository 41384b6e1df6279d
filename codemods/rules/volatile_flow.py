"""Data-flow analysis behind TU010 (volatile-no-grad): which statements consumed volatile values.

PyTorch 0.3 semantics: every value computed from a volatile Variable was volatile (no graph, no
gradient) until code reset it with ``x.volatile = False``; ``x.data``, ``x.detach()`` and sizes
were plain values. ``ScopeFlow`` walks one scope (module, function or class body) in statement
order and tracks, per name (or ``self.attr`` chain), the set of volatile *flags* it carries
(``True``, or the source expression of a ``volatile=<expr>``), and which names hold *plain*
values (grad-free tensors and Python values). For each statement it records a ``StmtInfo``:

* ``R`` (region): an operation takes a volatile input (a forward pass, arithmetic, an unknown
  call): the statement must run under no-grad;
* ``P`` (passes on): it binds or returns a volatile value without computing on it (names,
  containers, ``.cuda()``-style views, ``Variable(...)`` itself): no region needed, since a view
  of a grad-free tensor does not require grad;
* ``N`` (neutral): it computes only on plain values (``.data``-derived values, sizes, counters,
  ``print``, ``model.eval()``, calls of this module's functions that are neutral themselves),
  so running it under no-grad changes nothing: it may sit inside a region;
* ``C``: a compound statement (loop, ``if``, ``try``, ``with``) whose statements are all
  R/P/N/C, so it may be covered whole; ``has_r`` says whether it holds an uncovered R;
* ``X``: anything else (it may need gradients: training steps, forward passes on other inputs,
  unknown calls); never inside a region.

Grad-freeness of values that are not volatile comes from the semantic model
(``ctx.analysis``: a tensor whose ``grad`` is ``Grad.NO``, numbers, strings, DataLoader batches)
and from 0.3 facts the flow sees in statement order (``Variable(x)`` required a plain tensor
``x``; ``E.data`` is a plain tensor). Statements already under ``with torch.no_grad():`` (or in a
function decorated with ``@torch.no_grad()``) are *covered*: they need no new region.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

import libcst as cst

from ..cstutil import children, code_of, target_names
from ..imports import dotted_name
from ..semantic.kinds import PYNUM, PYVAL, Enumerate, Grad, Module, Sequence_, Simple, Tensor, TorchRef, Tuple_, Zip
from ..torchapi import COMPARISON_METHODS, FRESH_VIEW_METHODS, INDEX_METHODS, VARIABLE

Flags = FrozenSet[str]
EMPTY: Flags = frozenset()
TRUE = "True"

# Attribute reads that give a non-tensor (or, for ``.data``, a plain tensor that 0.3 never marked
# volatile): reading them does not propagate volatility.
NON_TENSOR_ATTRS = frozenset(
    ["data", "shape", "volatile", "requires_grad", "is_cuda", "dtype", "device", "grad", "ndim", "is_leaf", "grad_fn"]
)
# Methods returning numbers / Python values (no graph, whatever the receiver).
NON_TENSOR_METHODS = frozenset(
    ["size", "dim", "numel", "item", "tolist", "nelement", "ndimension", "get_device", "data_ptr", "is_contiguous", "element_size", "stride", "storage_offset"]
)
# ``x.detach()`` gives a plain value like ``.data`` (TU020 writes it for ``.data``: the fixed
# point of a run depends on both being read alike).
DETACH_METHODS = frozenset({"detach", "detach_"})
# Builtins that take values without building a graph.
PLAIN_BUILTINS = frozenset(
    ["print", "len", "isinstance", "issubclass", "int", "float", "str", "bool", "repr", "format", "type", "id", "hasattr", "getattr", "range", "enumerate", "zip", "round", "abs", "min", "max", "sorted", "list", "tuple", "dict", "set", "iter", "next", "sum", "any", "all", "divmod", "pow", "reversed", "callable", "chr", "ord", "hex", "oct", "bin", "hash", "slice", "frozenset"]
)
# Builtins that only read (format, test) their arguments: harmless on any value.
_READING_BUILTINS = frozenset(["print", "str", "repr", "format", "len", "isinstance", "issubclass", "type", "id", "hasattr", "callable"])
_PASS_THROUGH_BUILTINS = frozenset(["list", "tuple", "sorted", "iter", "next", "min", "max", "zip", "enumerate", "dict", "set", "reversed"])
# Methods that are harmless under no-grad whatever their receiver (logging, progress, mode).
HARMLESS_METHODS = frozenset(
    ["eval", "train", "update", "set_description", "set_postfix", "write", "flush", "info", "debug", "warning", "warn", "error", "log", "add_scalar", "add_scalars", "add_text", "reset", "close"]
)
# Methods that store their argument in the receiver (a list of volatile outputs is volatile).
CONTAINER_METHODS = frozenset(["append", "extend", "insert", "add", "appendleft", "put"])
# Calls that need gradients: a region must never contain them.
TRAINING_METHODS = frozenset(["backward", "step", "zero_grad"])
TRAINING_FUNCTIONS = frozenset({"torch.autograd.backward", "torch.autograd.grad"})
# Contexts that switch gradients off (statements under them are already covered).
NO_GRAD_CONTEXTS = frozenset({"torch.no_grad", "torch.autograd.no_grad", "torch.inference_mode", "torch.autograd.grad_mode.no_grad"})

# plain-value states of a name
PLAIN = "P"  # a grad-free tensor or a Python value
UNKNOWN = "U"  # anything else
MODULE = "M"  # an nn.Module instance (calling it may build a graph)


@dataclass
class Helper:
    """A function whose return value is volatile (``to_var``-style): defined in this module
    (``func``) or, with a project index, in another module (``external``: (module, name))."""

    func: Optional[cst.FunctionDef]
    name: str
    cls: Optional[str]  # enclosing class for methods (called as self.name)
    param: Optional[str]  # the forwarded parameter; None: always volatile
    index: int = -1  # positional index of param at call sites (self excluded)
    polarity: bool = True  # volatile == param (True) or == not param (False)
    default: Optional[cst.BaseExpression] = None
    kwonly: bool = False
    external: Optional[Tuple[str, str]] = None
    default_flag: Optional[str] = None  # external helpers: flag of the default ("", "True", None)
    param_only: bool = True  # the parameter feeds nothing but the volatile flag


@dataclass
class Source:
    call: cst.CSTNode  # the Variable/helper call, or the `x.volatile = True` statement (arg_index -2)
    flag: str  # "True", an expression key (code), "?" (not supported) or "" (False: no effect)
    flag_node: Optional[cst.BaseExpression]  # the volatile expression (None for True)
    arg_index: int  # index of the volatile argument in call.args (-1: none, helper default)
    helper: Optional[Helper] = None
    keyword: bool = False  # the argument is passed by keyword


@dataclass
class StmtInfo:
    mark: str = "X"  # R, P, N, C, X (see the module docstring)
    flags: Flags = EMPTY  # flags of the region need (of the statement, or nested for C)
    has_yield: bool = False
    has_r: bool = False  # R or C: an uncovered R statement in it
    loop: bool = False  # a for/while statement
    covered: bool = False  # already under no-grad
    training: bool = False  # contains backward()/step()/zero_grad()


@dataclass
class ScopeResult:
    node: cst.CSTNode  # Module, FunctionDef or ClassDef
    sources: List[Source] = field(default_factory=list)
    drops: List[Tuple[cst.Call, int]] = field(default_factory=list)  # volatile=False arguments
    resets: List[Tuple[cst.SimpleStatementLine, cst.BaseSmallStatement, str]] = field(default_factory=list)
    stmts: Dict[int, StmtInfo] = field(default_factory=dict)
    bail: Optional[Tuple[cst.CSTNode, str, dict]] = None  # (node, message key, fields)
    escapes: List[Tuple[cst.CSTNode, str]] = field(default_factory=list)
    tainted_returns: bool = False
    any_need: bool = False  # an uncovered R statement exists
    covered_need: bool = False  # an R statement exists that is already under no-grad
    uncoverable: bool = False  # an R need sits in a statement that cannot be covered
    is_generator: bool = False
    assigned: Set[str] = field(default_factory=set)
    flag_nodes: Dict[str, cst.BaseExpression] = field(default_factory=dict)


def walk(node: cst.CSTNode, stop: tuple = ()):
    """``node`` and every node below it; below a ``stop`` node (other than ``node``) nothing."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if n is not node and stop and isinstance(n, stop):
            continue
        stack.extend(children(n))


_EVALUATED = (
    cst.BaseExpression, cst.Arg, cst.Element, cst.DictElement, cst.StarredDictElement, cst.Index, cst.Slice,
    cst.SubscriptElement, cst.FormattedStringExpression, cst.ComparisonTarget,
)


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
        for child in children(node):
            if isinstance(child, _EVALUATED):
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
        if carry or need:
            self.flow.bail(node, "lambda")
        return carry, need

    def _comp(self, node, taint, elts):
        inner = dict(taint)
        need = EMPTY
        comp = node.for_in
        while comp is not None:
            c, n = self(comp.iter, inner)
            need |= n
            self.flow.bind_target(comp.target, c, inner, record=False)
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
        # a comparison result is a byte/bool tensor or a Python bool: never part of a graph
        carry, need = self(node.left, taint)
        for t in node.comparisons:
            _, n = self(t.comparator, taint)
            need |= n
        return EMPTY, need

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
        for a in node.args:
            c, n = self(a.value, taint)
            args_carry |= c
            args_need |= n
        q = flow.resolve(func)
        if q == VARIABLE:
            src = flow.variable_source(node)
            if src is not None and src.flag:
                return frozenset([src.flag]), args_need
            return args_carry, args_need
        helper = flow.helper_for(func)
        if helper is not None:
            src = flow.helper_source(node, helper)
            if src is not None and src.flag:
                return frozenset([src.flag]), args_need | args_carry
            return args_carry, args_need | args_carry
        if isinstance(func, cst.Name) and flow.imports.is_builtin(func, func.value) and func.value in PLAIN_BUILTINS:
            if func.value in _PASS_THROUGH_BUILTINS:
                return args_carry, args_need
            return EMPTY, args_need
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            rc, rn = self(func.value, taint)
            if method == "backward" and (rc or args_carry):
                flow.backward_taint.append(node)
            if method in NON_TENSOR_METHODS or method in DETACH_METHODS:
                return EMPTY, rn | args_need
            if method in COMPARISON_METHODS or method in INDEX_METHODS:
                return EMPTY, rn | args_need  # bool/integer results: never part of a graph
            if method in FRESH_VIEW_METHODS:
                return rc, rn | args_need
            if method in CONTAINER_METHODS:
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
        if q is not None and q in TRAINING_FUNCTIONS and args_carry:
            flow.backward_taint.append(node)
        carry = fc | args_carry
        return carry, fn | args_need | carry


class _Plain:
    """Is an expression plain (grad-free, and evaluating it runs nothing that may need
    gradients)? Only called on expressions that carry no volatile value."""

    def __init__(self, flow: "ScopeFlow"):
        self.flow = flow

    def __call__(self, node: cst.CSTNode) -> bool:
        m = getattr(self, "p_" + type(node).__name__, None)
        if m is None:
            return False
        try:
            return m(node)
        except RecursionError:
            return False

    def all(self, nodes) -> bool:
        return all(self(n) for n in nodes)

    # atoms
    def p_Name(self, node):
        return self.flow.state_of(node.value) == PLAIN

    def p_Integer(self, node):
        return True

    p_Float = p_Imaginary = p_SimpleString = p_Ellipsis = p_Integer

    def p_ConcatenatedString(self, node):
        return True

    def p_FormattedString(self, node):
        return all(self(p.expression) for p in node.parts if isinstance(p, cst.FormattedStringExpression))

    def p_Attribute(self, node):
        if node.attr.value in NON_TENSOR_ATTRS:
            return self.safe_read(node.value)
        if dotted_name(node) is not None:
            k = self.flow.model_kind(node)
            if _plain_kind(k):
                return True
            return self.flow.state_of(dotted_name(node)) == PLAIN
        return False

    def safe_read(self, node) -> bool:
        """Evaluating ``node`` (to test it, print it, read a size or ``.data`` off it) runs
        nothing that needs gradients, whatever the value is."""
        if isinstance(node, (cst.Name, cst.Attribute)) and dotted_name(node) is not None:
            return True
        if isinstance(node, cst.Subscript):
            return self.safe_read(node.value) and all(self._slice(el) for el in node.slice)
        if isinstance(node, cst.BooleanOperation):
            return self.safe_read(node.left) and self.safe_read(node.right)
        if isinstance(node, cst.UnaryOperation):
            return self.safe_read(node.expression)
        if isinstance(node, cst.BinaryOperation):
            return self.safe_read(node.left) and self.safe_read(node.right)
        if isinstance(node, (cst.Tuple, cst.List)):
            return all(self.safe_read(e.value) for e in node.elements)
        if isinstance(node, cst.Comparison):
            return self.p_Comparison(node)
        return self(node)

    def _slice(self, el) -> bool:
        s = el.slice
        if isinstance(s, cst.Index):
            return self(s.value)
        return all(self(x) for x in (s.lower, s.upper, s.step) if x is not None)

    def p_Subscript(self, node):
        return self(node.value) and all(self._slice(el) for el in node.slice)

    def p_Tuple(self, node):
        return all(self(e.value) for e in node.elements)

    p_List = p_Set = p_Tuple

    def p_Dict(self, node):
        for e in node.elements:
            if isinstance(e, cst.DictElement):
                if not (self(e.key) and self(e.value)):
                    return False
            elif not self(e.value):
                return False
        return True

    def p_BinaryOperation(self, node):
        return self(node.left) and self(node.right)

    def p_UnaryOperation(self, node):
        return self(node.expression)

    def p_BooleanOperation(self, node):
        return self(node.left) and self(node.right)

    def p_Comparison(self, node):
        # a comparison never builds a graph: reading its operands must be harmless
        return self.safe_read(node.left) and all(self.safe_read(t.comparator) for t in node.comparisons)

    def p_IfExp(self, node):
        return self(node.test) and self(node.body) and self(node.orelse)

    def _comp(self, node, elts):
        comp = node.for_in
        bound: List[str] = []
        while comp is not None:
            if not self(comp.iter):
                return False
            bound.extend(target_names(comp.target))
            comp = comp.inner_for_in
        saved = {n: self.flow.plain.get(n) for n in bound}
        for n in bound:
            self.flow.plain[n] = PLAIN
        try:
            ok = all(self(e) for e in elts)
            c = node.for_in
            while ok and c is not None:
                ok = all(self(i.test) for i in c.ifs)
                c = c.inner_for_in
            return ok
        finally:
            for n, v in saved.items():
                if v is None:
                    self.flow.plain.pop(n, None)
                else:
                    self.flow.plain[n] = v

    def p_ListComp(self, node):
        return self._comp(node, [node.elt])

    p_SetComp = p_GeneratorExp = p_ListComp

    def p_DictComp(self, node):
        return self._comp(node, [node.key, node.value])

    def p_Call(self, node):
        return self.flow.plain_call(node, self)


def value_plain(flow: "ScopeFlow", node) -> bool:
    """The value of ``node`` is grad-free, whatever evaluating it runs (``f(x).data[0]``)."""
    if flow.is_plain(node):
        return True
    if isinstance(node, cst.Attribute) and node.attr.value in NON_TENSOR_ATTRS:
        return True
    if isinstance(node, cst.Comparison):
        return True
    if isinstance(node, cst.Call):
        f = node.func
        q = flow.resolve(f)
        if q is not None and q.startswith("torch.") and q.count(".") == 1:
            return all(value_plain(flow, a.value) for a in node.args)
        if isinstance(f, cst.Attribute) and q is None:
            m = f.attr.value
            if m in NON_TENSOR_METHODS or m in DETACH_METHODS or m in COMPARISON_METHODS or m in INDEX_METHODS:
                return True
            if m in FRESH_VIEW_METHODS or m in _VALUE_METHODS:
                return value_plain(flow, f.value) and all(value_plain(flow, a.value) for a in node.args)
        if isinstance(f, cst.Name) and f.value in ("float", "int", "len", "bool", "str", "round") and flow.imports.is_builtin(f, f.value):
            return True
    if isinstance(node, cst.Subscript):
        return value_plain(flow, node.value) and all(
            flow.is_plain._slice(el) or isinstance(el.slice, cst.Index) and value_plain(flow, el.slice.value) for el in node.slice
        )
    if isinstance(node, cst.BinaryOperation):
        return value_plain(flow, node.left) and value_plain(flow, node.right)
    if isinstance(node, cst.IfExp):
        return value_plain(flow, node.body) and value_plain(flow, node.orelse)
    if isinstance(node, cst.UnaryOperation):
        return value_plain(flow, node.expression)
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(value_plain(flow, e.value) for e in node.elements)
    return flow.is_plain(node)


# tensor methods whose result is grad-free when the receiver and arguments are
_VALUE_METHODS = frozenset(
    ["max", "min", "sum", "mean", "cpu", "numpy", "float", "double", "long", "int", "topk", "sort", "squeeze", "unsqueeze", "view", "t", "abs", "exp", "log", "sqrt", "pow", "mul", "div", "add", "sub", "clamp", "norm", "std", "var", "argmax", "argmin", "cumsum", "prod"]
)


def _plain_kind(k) -> bool:
    if isinstance(k, Tensor):
        return k.grad is Grad.NO
    if k in (PYNUM, PYVAL, Simple.LOADER):
        return True
    if isinstance(k, (Tuple_, Zip)):
        return all(_plain_kind(i) for i in k.items)
    if isinstance(k, Sequence_):
        return _plain_kind(k.item)
    if isinstance(k, Enumerate):
        return _plain_kind(k.inner)
    return False


class ScopeFlow:
    """Run the analysis over one scope's statements."""

    def __init__(self, analysis, scope):
        self.analysis = analysis
        self.imports = analysis.imports
        self.scope = scope
        self.res = ScopeResult(scope.node)
        self.cls = scope.cls
        self.eval = _Eval(self)
        self.is_plain = _Plain(self)
        self.backward_taint: List[cst.CSTNode] = []
        self.saw_yield = False
        self.recording = True
        self.seen_sources: Dict[int, Source] = {}
        self.plain: Dict[str, str] = {}
        self.covered = 0  # depth of enclosing no-grad contexts
        self.wrapped = scope.wrapped  # names passed to Variable(...): plain tensors in 0.3
        self._initial: Dict[str, str] = {}

    # -- names ----------------------------------------------------------------------------------
    def state_of(self, name: str) -> str:
        v = self.plain.get(name)
        if v is not None:
            return v
        return self.initial_state(name)

    def initial_state(self, name: str) -> str:
        """The state of a name not bound yet in the flow (parameters, globals, outer names)."""
        hit = self._initial.get(name)
        if hit is None:
            hit = self._initial[name] = self._initial_state(name)
        return hit

    def _initial_state(self, name: str) -> str:
        head = name.split(".")[0]
        if head == self.scope.self_name and name == head:
            return UNKNOWN
        k = self.analysis.lookup(name, self.scope) if "." not in name else self.analysis.kind(cst.parse_expression(name), self.scope)
        if isinstance(k, Module):
            return MODULE
        if _plain_kind(k):
            return PLAIN
        if name in self.wrapped:
            return PLAIN
        if name in self.imports.aliases or name in ("True", "False", "None"):
            return PLAIN if name in ("True", "False", "None") else UNKNOWN
        return UNKNOWN

    def model_kind(self, node):
        return self.analysis.kind(node, self.scope)

    def resolve(self, func):
        return self.imports.resolve(func)

    def helper_for(self, func) -> Optional[Helper]:
        return self.analysis.helper_for(func, self.scope)

    # -- plain calls ----------------------------------------------------------------------------
    def plain_call(self, node: cst.Call, plain: _Plain) -> bool:
        func = node.func
        args = [a.value for a in node.args]
        if any(a.star == "**" for a in node.args):
            return False
        if isinstance(func, cst.Name):
            name = func.value
            if self.imports.is_builtin(func, name) and name in _READING_BUILTINS:
                return all(plain.safe_read(a) for a in args)
            if self.imports.is_builtin(func, name) and name in PLAIN_BUILTINS:
                return plain.all(args)
            verdict = self.analysis.neutral_function(name, self.scope)
            if verdict == "any":
                return all(plain.safe_read(a) for a in args)
            if verdict == "plain":
                return plain.all(args)
        q = self.resolve(func)
        if q is None and isinstance(func, cst.Name):
            # a module-level alias of a torch callable (`Tensor = torch.cuda.FloatTensor if cuda
            # else torch.FloatTensor`), as the semantic model knows it
            ref = self.model_kind(func)
            if isinstance(ref, TorchRef):
                q = ref.qualified
        if q is not None:
            if q == VARIABLE:  # (before the torch.autograd prefix below: Variable is in it)
                return plain.all(args[:1]) and not any(a.keyword and a.keyword.value == "requires_grad" for a in node.args)
            if q in TRAINING_FUNCTIONS or q.startswith("torch.autograd.") or q.startswith("torch.optim."):
                return False
            if q.startswith("torch.nn.") and q[len("torch.nn."):][:1].isupper():
                return False  # constructing a module: parameters that require grad
            if q.startswith("torch.") and not q.startswith("torch.nn.Parameter"):
                if any(a.keyword and a.keyword.value == "requires_grad" for a in node.args):
                    return False
                return plain.all(args)
            if q in ("tqdm.tqdm", "tqdm.auto.tqdm", "tqdm.tqdm_notebook", "time.time", "time.perf_counter", "math.sqrt", "math.log", "math.exp", "numpy.mean", "numpy.sum", "numpy.array", "numpy.asarray", "numpy.concatenate", "os.path.join"):
                return plain.all(args)
            return False
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            recv = func.value
            if method in TRAINING_METHODS or method in ("register_hook", "requires_grad_", "retain_grad"):
                return False
            if method in NON_TENSOR_METHODS or method in DETACH_METHODS:
                return plain.safe_read(recv) and plain.all(args)
            if method in COMPARISON_METHODS or method in INDEX_METHODS:
                return plain.safe_read(recv) and all(plain.safe_read(a) for a in args)
            if method in HARMLESS_METHODS and isinstance(recv, (cst.Name, cst.Attribute)) and dotted_name(recv):
                return plain.all(args)
            if isinstance(recv, (cst.SimpleString, cst.ConcatenatedString)):
                return all(plain.safe_read(a) for a in args)  # "...".format(meter): formatting
            if plain(recv):
                return plain.all(args)
        return False

    # -- sources ------------------------------------------------------------------------------
    def _record(self, src: Source) -> Source:
        if self.recording and id(src.call) not in self.seen_sources:
            self.seen_sources[id(src.call)] = src
            self.res.sources.append(src)
        return src

    def variable_source(self, call: cst.Call) -> Optional[Source]:
        """A ``Variable(..., volatile=...)`` call: Source with flag, or None (no volatile
        argument, or a dropped ``volatile=False``)."""
        if any(a.star for a in call.args):
            return None
        idx = None
        for i, a in enumerate(call.args):
            if a.keyword and a.keyword.value == "volatile":
                idx = i
        positional = [i for i, a in enumerate(call.args) if not a.keyword]
        keyword = idx is not None
        if idx is None and len(positional) == 3:
            idx = positional[2]
        if idx is None:
            return None
        value = call.args[idx].value
        flag = self.analysis.flag_of(value)
        if flag == "":
            if self.recording and id(call) not in self.seen_sources:
                self.seen_sources[id(call)] = Source(call, "", None, idx, keyword=keyword)
                self.res.drops.append((call, idx))
            return None
        if flag is None:
            return self._record(Source(call, "?", value, idx, keyword=keyword))
        if flag != TRUE:
            self.res.flag_nodes[flag] = value
        return self._record(Source(call, flag, None if flag == TRUE else value, idx, keyword=keyword))

    def helper_source(self, call: cst.Call, helper: Helper) -> Optional[Source]:
        if helper.param is None:
            return self._record(Source(call, TRUE, None, -1, helper))
        if any(a.star for a in call.args):
            return self._record(Source(call, "?", None, -1, helper))
        idx = None
        for i, a in enumerate(call.args):
            if a.keyword and a.keyword.value == helper.param:
                idx = i
        keyword = idx is not None
        if idx is None and not helper.kwonly:
            positional = [i for i, a in enumerate(call.args) if not a.keyword]
            if len(positional) > helper.index >= 0:
                idx = positional[helper.index]
        if idx is None and helper.external is not None:
            flag = helper.default_flag
            if flag is None:
                return self._record(Source(call, "?", None, -1, helper))
            src = Source(call, flag, None, -1, helper)
            if flag == "":
                self._record(src)
                return None
            return self._record(src)
        value = call.args[idx].value if idx is not None else helper.default
        if value is None:
            return self._record(Source(call, "?", None, -1, helper))
        if not helper.polarity:
            value = negate(value)
        flag = self.analysis.flag_of(value)
        where = -1 if idx is None else idx
        if flag == "":
            self._record(Source(call, "", None, where, helper, keyword))
            return None
        if flag is None:
            return self._record(Source(call, "?", value, where, helper, keyword))
        if idx is None and flag != TRUE:
            return self._record(Source(call, "?", value, -1, helper))  # non-literal default
        if flag != TRUE:
            self.res.flag_nodes[flag] = value
        return self._record(Source(call, flag, None if flag == TRUE else value, where, helper, keyword))

    # -- bindings -------------------------------------------------------------------------------
    def bind_target(self, target, flags: Flags, taint: Dict[str, Flags], state: Optional[str] = None, record: bool = True) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self.bind_target(el.value, flags, taint, state, record)
            return
        if isinstance(target, cst.StarredElement):
            self.bind_target(target.value, flags, taint, state, record)
            return
        if isinstance(target, cst.Subscript):
            base = dotted_name(target.value)
            if base and flags:
                taint[base] = taint.get(base, EMPTY) | flags
            return
        key = dotted_name(target)
        if key is None:
            return
        if isinstance(target, cst.Name) and record:
            self.res.assigned.add(key)
        for k in [k for k in taint if k.startswith(key + ".")]:
            del taint[k]
        for k in [k for k in self.plain if k.startswith(key + ".")]:
            del self.plain[k]
        if flags:
            taint[key] = flags
        else:
            taint.pop(key, None)
        self.plain[key] = state or (PLAIN if flags else UNKNOWN)

    def assign(self, target, value, taint, flags_of_value) -> None:
        if isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)) and len(
            target.elements
        ) == len(value.elements) and not any(isinstance(e, cst.StarredElement) for e in value.elements):
            pairs = []
            for t, v in zip(target.elements, value.elements):
                c, _ = self.eval(v.value, taint)
                pairs.append((t.value, v.value, c, PLAIN if c or value_plain(self, v.value) else self._value_state(v.value)))
            for target_value, _v, c, st in pairs:
                self.bind_target(target_value, c, taint, st)
            return
        alias = dotted_name(value) if not flags_of_value and isinstance(value, (cst.Name, cst.Attribute)) else None
        if alias and not isinstance(target, (cst.Tuple, cst.List)):
            st = self.state_of(alias)  # an alias: the same object
        elif not flags_of_value and isinstance(target, (cst.Tuple, cst.List)) and self._tuple_plain(value):
            st = PLAIN
        else:
            st = PLAIN if flags_of_value or value_plain(self, value) else self._value_state(value)
        self.bind_target(target, flags_of_value, taint, st)

    def _tuple_plain(self, value) -> bool:
        """Unpacking ``torch.max(x.data, 1)``: a tuple of grad-free values."""
        if value_plain(self, value):
            return True
        return isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value in ("max", "min", "topk", "sort", "median", "mode", "kthvalue") and value_plain(self, value.func.value)

    def _value_state(self, value) -> str:
        k = self.model_kind(value)
        if isinstance(k, Module):
            return MODULE
        return UNKNOWN

    # -- statements -----------------------------------------------------------------------------
    def simple(self, line: cst.SimpleStatementLine, taint) -> StmtInfo:
        info = StmtInfo()
        need_all, carry_all = EMPTY, EMPTY
        neutral = True
        before = len(self.backward_taint)
        self.saw_yield = False
        if self.analysis.suppressed(line):
            return StmtInfo("X")
        for small in line.body:
            if _trains(small, self):
                info.training = True
                neutral = False
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Attribute) and small.targets[0].target.attr.value == "volatile":
                tgt = small.targets[0].target
                key = dotted_name(tgt.value)
                val = small.value
                lit = val.value if isinstance(val, cst.Name) and val.value in ("True", "False") else None
                if key is None or lit is None:
                    self.bail(small, "assign_expr")
                    neutral = False
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
                if isinstance(small, cst.Assign):
                    for t in small.targets:
                        if isinstance(t.target, cst.Attribute) and c:
                            self._escape(small, "stored in an attribute")
                        elif isinstance(t.target, cst.Subscript) and c and not self._local_root(t.target.value):
                            self._escape(small, "stored in a container")
                        neutral = neutral and self._neutral_target(t.target)
                    alias = isinstance(value, (cst.Name, cst.Attribute)) and dotted_name(value) is not None
                    plain_value = not c and not n and (self.is_plain(value) or alias and all(isinstance(t.target, cst.Name) for t in small.targets))
                    neutral = neutral and plain_value
                    for t in small.targets:
                        self.assign(t.target, value, taint, c)
                elif isinstance(small, cst.AnnAssign):
                    plain_value = not c and not n and self.is_plain(value)
                    neutral = neutral and plain_value and self._neutral_target(small.target)
                    self.assign(small.target, value, taint, c)
                else:
                    key = dotted_name(small.target)
                    prev = self.eval(small.target, taint)[0]
                    if c and prev != c:
                        need_all |= c  # x += volatile: an op on x
                    target_plain = key is not None and self.state_of(key) == PLAIN
                    plain_value = not c and not n and self.is_plain(value)
                    result_plain = target_plain and (plain_value or (not c and value_plain(self, value)))
                    neutral = neutral and plain_value and (target_plain or (isinstance(small.target, cst.Subscript) and self.is_plain(small.target.value)))
                    if key is not None:
                        if prev | c:
                            taint[key] = prev | c
                        if isinstance(small.target, cst.Name):
                            self.res.assigned.add(key)
                        if not (prev | c):
                            self.plain[key] = PLAIN if result_plain else UNKNOWN
                    elif isinstance(small.target, cst.Subscript):
                        self.bind_target(small.target, c, taint)
                continue
            if isinstance(small, cst.Expr):
                v = small.value
                c, n = self.eval(v, taint)
                need_all |= n
                carry_all |= c
                if isinstance(v, cst.Call) and isinstance(v.func, cst.Attribute):
                    args_c = EMPTY
                    for a in v.args:
                        args_c |= self.eval(a.value, taint)[0]
                    recv = dotted_name(v.func.value)
                    if args_c and recv is not None and v.func.attr.value in CONTAINER_METHODS:
                        if self._local_root(v.func.value):
                            taint[recv] = taint.get(recv, EMPTY) | args_c
                        else:
                            self._escape(small, "stored in a container")
                if isinstance(v, cst.Call) and (c or n) and self._hands_over(v, taint):
                    self._escape(small, f"passed to `{_callee_name(v)}`")
                if isinstance(v, (cst.SimpleString, cst.ConcatenatedString)):
                    continue
                if isinstance(v, cst.Yield):
                    if c:
                        self._escape(small, "yielded")
                    inner = v.value.item if isinstance(v.value, cst.From) else v.value
                    neutral = neutral and not n and (inner is None or bool(c) or value_plain(self, inner))
                    continue
                neutral = neutral and not c and not n and self.is_plain(v)
                continue
            if isinstance(small, cst.Return):
                if small.value is not None:
                    c, n = self.eval(small.value, taint)
                    need_all |= n
                    carry_all |= c
                    if c:
                        self.res.tainted_returns = True
                        self._escape(small, "returned")
                    neutral = neutral and not c and not n and (self.is_plain(small.value) or self.is_plain.safe_read(small.value) and _reads_only(small.value))
                continue
            if isinstance(small, cst.Del):
                self.eval(small.target, taint)
                for t in _del_targets(small.target):
                    key = dotted_name(t)
                    if key:
                        taint.pop(key, None)
                        self.plain.pop(key, None)
                continue
            if isinstance(small, (cst.Pass, cst.Break, cst.Continue, cst.Import, cst.ImportFrom, cst.Nonlocal)):
                continue
            if isinstance(small, cst.Global):
                for n_ in small.names:
                    if n_.name.value in taint:
                        self._escape(small, "a global")
                continue
            if isinstance(small, (cst.Raise, cst.Assert)):
                c, n = self.eval(small, taint)
                need_all |= n
                parts = [x for x in (getattr(small, "exc", None), getattr(small, "cause", None), getattr(small, "test", None), getattr(small, "msg", None)) if x is not None]
                neutral = neutral and not c and not n and all(self.is_plain(x) or isinstance(x, cst.Call) and _is_exception_call(x, self) for x in parts)
                continue
            c, n = self.eval(small, taint)
            need_all |= n
            carry_all |= c
            neutral = False
        info.has_yield = self.saw_yield
        if len(self.backward_taint) > before:
            self.bail(line, "backward")
        if info.training:
            info.mark = "X"
            if need_all:
                self.res.uncoverable = True
        elif need_all:
            info.mark, info.flags = "R", need_all
            if self.covered:
                info.covered = True
                self.res.covered_need = True
            else:
                info.has_r = True
        elif carry_all:
            info.mark, info.flags = "P", carry_all
        elif neutral:
            info.mark = "N"
        else:
            info.mark = "X"
        return info

    def _hands_over(self, call: cst.Call, taint) -> bool:
        """A call made for its side effect with a volatile argument (``self.store(out)``,
        ``memory.push(state)``): code the tool cannot see may keep the value for later."""
        func = call.func
        if not any(self.eval(a.value, taint)[0] for a in call.args):
            return False
        if isinstance(func, cst.Name) and self.imports.is_builtin(func, func.value) and func.value in PLAIN_BUILTINS:
            return False
        q = self.resolve(func)
        if q is not None and q.startswith("torch."):
            return False
        if isinstance(func, cst.Attribute):
            m = func.attr.value
            if m in HARMLESS_METHODS or m in NON_TENSOR_METHODS:
                return False
            if m in CONTAINER_METHODS:
                return False  # a local container is tracked; others are escapes already
            if m == "backward":
                return False
        return True

    def _local_root(self, node) -> bool:
        """The container is a name bound in this scope (not a parameter, global or self)."""
        d = dotted_name(node)
        if d is None:
            return False
        head = d.split(".")[0]
        if head != d:
            return False
        scope = self.scope
        if head in scope.params or head in scope.model_globals:
            return False
        return head in scope.local_names

    def _escape(self, node, how: str) -> None:
        if self.recording and not self.covered:
            self.res.escapes.append((node, how))

    def _neutral_target(self, target) -> bool:
        if isinstance(target, cst.Name):
            return True
        if isinstance(target, (cst.Tuple, cst.List)):
            return all(self._neutral_target(e.value) for e in target.elements)
        if isinstance(target, cst.StarredElement):
            return self._neutral_target(target.value)
        if isinstance(target, cst.Attribute):
            return dotted_name(target) is not None
        if isinstance(target, cst.Subscript):
            if len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index) and isinstance(target.slice[0].slice.value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
                return self.is_plain.safe_read(target.value)  # results["acc"] = ...: a mapping, not a tensor
            return self.is_plain(target.value) and all(self.is_plain._slice(el) for el in target.slice)
        return False

    def bail(self, node, key: str, **fields) -> None:
        if self.res.bail is None and self.recording:
            self.res.bail = (node, key, fields)

    def block(self, stmts, taint: Dict[str, Flags], record: bool = True) -> Dict[str, Flags]:
        """Analyse a statement list; records marks when ``record``. Returns the taint at its end."""
        for stmt in stmts:
            info = self.statement(stmt, taint, record)
            if record:
                self.res.stmts[id(stmt)] = info
                if info.mark == "R" and not info.covered:
                    self.res.any_need = True
        return taint

    def statement(self, stmt, taint, record) -> StmtInfo:
        if isinstance(stmt, cst.SimpleStatementLine):
            return self.simple(stmt, taint)
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            for d in stmt.decorators:
                c, n = self.eval(d.decorator, taint)
                if c or n:
                    self.bail(stmt, "decorator")
            self.bind_target(stmt.name, EMPTY, taint, PLAIN, record=False)
            return StmtInfo("N")
        # compound statements
        suppressed = self.analysis.suppressed(stmt)
        header_c, header_n = EMPTY, EMPTY
        self.saw_yield = False
        header_plain = True
        heads = _headers(stmt)
        if not suppressed:
            for h in heads:
                c, n = self.eval(h, taint)
                header_c |= c
                header_n |= n
                if not c and not n and not self._header_ok(stmt, h):
                    header_plain = False
        header_yield = self.saw_yield
        header_trains = any(_trains(h, self) for h in heads)
        no_grad = isinstance(stmt, cst.With) and not suppressed and self.analysis.is_no_grad_with(stmt)
        if no_grad:
            self.covered += 1
        try:
            saved_rec = self.recording
            self._compound_inner(stmt, taint, header_c, record=record)
            self.recording = saved_rec
        finally:
            if no_grad:
                self.covered -= 1
        info = StmtInfo("C", has_yield=_contains_yield(stmt) or header_yield, loop=isinstance(stmt, (cst.For, cst.While)))
        inner = list(_all_nested_statements(stmt))
        marks = [self.res.stmts.get(id(s)) for s in inner] if record else []
        if suppressed or header_trains or not header_plain and not (header_c or header_n) or isinstance(stmt, cst.Match) or (record and any(m is None or m.mark == "X" for m in marks)):
            info.mark = "X"
        info.training = header_trains or any(m is not None and m.training for m in marks)
        fl = EMPTY
        for m in marks:
            if m is not None and m.mark == "R" and not m.covered:
                fl |= m.flags
        if header_n:
            fl |= header_n
            if self.covered:
                self.res.covered_need = True
            elif info.mark == "X":
                self.res.uncoverable = True
            else:
                self.res.any_need = True
        info.flags = fl
        info.has_r = bool(fl) and not self.covered
        if no_grad:
            info.covered = True
            info.has_r = False
            info.flags = EMPTY
        return info

    def _header_ok(self, stmt, h) -> bool:
        """A loop/with/if header that carries no volatile value: harmless to evaluate under
        no-grad (it is evaluated once; loop iteration is assumed harmless)."""
        if isinstance(stmt, cst.With):
            return self.is_plain(h) or self.analysis.is_no_grad_item(h)
        if isinstance(stmt, (cst.For,)):
            return not _trains(h, self)
        return self.is_plain.safe_read(h)

    def _loop_target_state(self, stmt) -> str:
        k = self.model_kind(stmt.iter)
        if _plain_kind(k) or self.is_plain(stmt.iter):
            return PLAIN
        return ""

    def _bind_loop_target(self, stmt, header_c, start) -> None:
        st = self._loop_target_state(stmt)
        if st:
            self.bind_target(stmt.target, header_c, start, st)
            return
        # unknown iterable: a target later passed to Variable(...) was a plain tensor (0.3)
        names = target_names(stmt.target)
        self.bind_target(stmt.target, header_c, start, UNKNOWN)
        it = stmt.iter
        first_plain = isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "enumerate" and isinstance(stmt.target, cst.Tuple) and stmt.target.elements
        if first_plain:
            for n in target_names(stmt.target.elements[0].value):
                self.plain[n] = PLAIN
        for n in names:
            if n in self.wrapped and not header_c:
                self.plain[n] = PLAIN

    def _compound_inner(self, stmt, taint, header_c, record):
        if isinstance(stmt, (cst.For, cst.While)):
            # loop fixpoint: the end of the body flows back to its start
            for _ in range(3):
                start = dict(taint)
                saved_plain = dict(self.plain)
                if isinstance(stmt, cst.For):
                    self._bind_loop_target(stmt, header_c, start)
                saved = self.recording
                self.recording = False
                end = self.block(stmt.body.body, dict(start), record=False)
                self.recording = saved
                merged = _merge(taint, end)
                end_plain = self.plain
                self.plain = _merge_plain(saved_plain, end_plain, self)
                if merged == taint and self.plain == saved_plain:
                    break
                taint.clear()
                taint.update(merged)
            start = dict(taint)
            before_plain = dict(self.plain)
            if isinstance(stmt, cst.For):
                self._bind_loop_target(stmt, header_c, start)
            end = self.block(stmt.body.body, start, record=record)
            merged = _merge(taint, end)
            self.plain = _merge_plain(before_plain, self.plain, self)
            if stmt.orelse is not None:
                merged = _merge(merged, self.block(stmt.orelse.body.body, dict(merged), record=record))
            taint.clear()
            taint.update(merged)
            return
        if isinstance(stmt, cst.If):
            before = dict(self.plain)
            a = self.block(stmt.body.body, dict(taint), record=record)
            pa = self.plain
            self.plain = dict(before)
            if stmt.orelse is None:
                b = dict(taint)
            elif isinstance(stmt.orelse, cst.If):
                b = dict(taint)
                info = self.statement(stmt.orelse, b, record)
                if record:
                    self.res.stmts[id(stmt.orelse)] = info
            else:
                b = self.block(stmt.orelse.body.body, dict(taint), record=record)
            self.plain = _merge_plain(pa, self.plain, self)
            taint.clear()
            taint.update(_merge(a, b))
            return
        if isinstance(stmt, cst.With):
            for item in stmt.items:
                if item.asname is not None:
                    c, _ = self.eval(item.item, taint)
                    self.bind_target(item.asname.name, c, taint, PLAIN if self.is_plain(item.item) else UNKNOWN)
            self.block(stmt.body.body, taint, record=record)
            return
        if isinstance(stmt, (cst.Try, getattr(cst, "TryStar", cst.Try))):
            start = dict(taint)
            before = dict(self.plain)
            after_body = self.block(stmt.body.body, dict(taint), record=record)
            merged = _merge(start, after_body)
            plain_all = _merge_plain(before, self.plain, self)
            for h in stmt.handlers:
                hs = dict(merged)
                self.plain = dict(plain_all)
                if h.name is not None:
                    self.bind_target(h.name.name, EMPTY, hs, UNKNOWN)
                merged = _merge(merged, self.block(h.body.body, hs, record=record))
                plain_all = _merge_plain(plain_all, self.plain, self)
            if stmt.orelse is not None:
                merged = _merge(merged, self.block(stmt.orelse.body.body, dict(after_body), record=record))
                plain_all = _merge_plain(plain_all, self.plain, self)
            self.plain = plain_all
            if stmt.finalbody is not None:
                merged = self.block(stmt.finalbody.body.body, merged, record=record)
            taint.clear()
            taint.update(merged)
            return
        if isinstance(stmt, getattr(cst, "Match", ())):
            before = dict(self.plain)
            merged = dict(taint)
            plain_all = dict(before)
            for case in stmt.cases:
                self.plain = dict(before)
                cs = dict(taint)
                for name in _pattern_names(case.pattern):
                    self.bind_target(cst.Name(name), EMPTY, cs, UNKNOWN, record=False)
                merged = _merge(merged, self.block(_suite_statements(case.body), cs, record=record))
                plain_all = _merge_plain(plain_all, self.plain, self)
            self.plain = plain_all
            taint.clear()
            taint.update(merged)


def _merge(a: Dict[str, Flags], b: Dict[str, Flags]) -> Dict[str, Flags]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, EMPTY) | v
    return out


def _merge_plain(a: Dict[str, str], b: Dict[str, str], flow: ScopeFlow) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for k in set(a) | set(b):
        va = a.get(k) or flow.initial_state(k)
        vb = b.get(k) or flow.initial_state(k)
        out[k] = va if va == vb else UNKNOWN
    return out


def _callee_name(call: cst.Call) -> str:
    d = dotted_name(call.func)
    return d if d is not None else code_of(call.func)[:40]


def _pattern_names(pattern) -> List[str]:
    """Names a match-case pattern binds (``case Point(x=a) as p``)."""
    out = []
    for n in walk(pattern):
        if isinstance(n, (cst.MatchAs, cst.MatchStar)) and n.name is not None:
            out.append(n.name.value)
        elif isinstance(n, cst.MatchMapping) and n.rest is not None:
            out.append(n.rest.value)
    return out


def _reads_only(node) -> bool:
    """Names, attributes and tuples of them: returning them computes nothing."""
    if isinstance(node, (cst.Name, cst.Attribute)):
        return dotted_name(node) is not None
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(_reads_only(e.value) for e in node.elements)
    return False


def _is_exception_call(call: cst.Call, flow: ScopeFlow) -> bool:
    """``raise ValueError(...)``: a builtin exception built from plain values."""
    f = call.func
    return isinstance(f, cst.Name) and f.value[:1].isupper() and flow.imports.is_builtin(f, f.value) and flow.is_plain.all(a.value for a in call.args)


def _trains(node, flow) -> bool:
    """``node`` calls ``backward()``, ``step()``, ``zero_grad()`` or ``torch.autograd.grad``."""
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        return False
    for n in walk(node, (cst.Lambda, cst.FunctionDef, cst.ClassDef)):
        if isinstance(n, cst.Call):
            f = n.func
            if isinstance(f, cst.Attribute) and f.attr.value in TRAINING_METHODS:
                if not flow.analysis.own_method(f, flow.scope):
                    return True
            elif isinstance(f, (cst.Name, cst.Attribute)) and flow.resolve(f) in TRAINING_FUNCTIONS:
                return True
    return False


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
    """Blocks directly owned by a compound statement (``elif`` branches included)."""
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


def _suite_statements(suite):
    if isinstance(suite, cst.IndentedBlock):
        return list(suite.body)
    return []


def _inner_statements(stmt):
    for b in _blocks(stmt):
        yield from _suite_statements(b)
    orelse = getattr(stmt, "orelse", None)
    if isinstance(orelse, cst.If):
        yield orelse


def _all_nested_statements(stmt):
    for s in _inner_statements(stmt):
        yield s
        if not isinstance(s, (cst.SimpleStatementLine, cst.FunctionDef, cst.ClassDef)):
            yield from _all_nested_statements(s)


_YIELD_CACHE: Dict[int, Tuple[cst.CSTNode, bool]] = {}


def _contains_yield(node) -> bool:
    hit = _YIELD_CACHE.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    root = node.body if isinstance(node, cst.FunctionDef) else node
    found = any(isinstance(n, cst.Yield) for n in walk(root, (cst.FunctionDef, cst.Lambda, cst.ClassDef)))
    if len(_YIELD_CACHE) > 50000:
        _YIELD_CACHE.clear()
    _YIELD_CACHE[id(node)] = (node, found)
    return found


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


