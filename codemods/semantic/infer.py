"""Kind inference over one module's scopes (see ``kinds``), on Python's ``ast``.

The analysis is name-based and flow-insensitive per scope: the kind of a name in a scope is the
join of the kinds of all its bindings there. Facts are found by a small fixpoint iteration
(optimistic start, a few rounds). What is a tensor (everything else is unknown, and unknown is
never rewritten by an exact or restoring fix):

* results of torch functions known to return tensors (factories, legacy constructors, math,
  ``torch.nn.functional.*``, ``torch.nn.init.*``), of ``Variable(...)`` / ``nn.Parameter(...)``,
  and of tensor methods on a known tensor (except those returning Python values, numpy arrays,
  sizes or tuples);
* calling a module instance: a name or ``self.attr`` assigned a ``torch.nn.<Class>(...)``, a
  ``torchvision.models`` model, an instance of a class of this file or of the project that
  derives from ``nn.Module``, ``.cuda()``/``.to()``/``.train()``/``.eval()`` of one,
  ``nn.DataParallel(m)``, loop variables over ``.modules()``, the parameter of a function given
  to ``m.apply(fn)``. Names alone never make a module. Calling a module gives: a 0-dim tensor for
  ``nn.*Loss`` built with a reducing reduction, nothing known for recurrent modules (tuples,
  maybe of ``PackedSequence``), what ``forward`` returns for classes of the project, else a
  batch tensor;
* parameters and gradients: loop targets over ``X.parameters()`` (also through ``list``,
  ``filter``, ``zip``, ``named_parameters()`` pairs and ``group['params']``), ``E.grad``,
  ``m.weight``/``m.bias`` of a module, ``self.attr`` assigned a tensor in the class;
* names whose other bindings are unknown (parameters, loop targets, unknown calls) when the same
  scope *uses them as tensors*: receiver of a tensor-only method (``x.size(0)``), argument of
  ``Variable(x)``, first argument of a torch function, argument of a (non-recurrent) module call.

Ranks: reductions without a dim, ``.dot()``, loss results are 0-dim; factories with literal
sizes have that many dimensions; indexing with an integer drops one. The 0.3 type (plain tensor
or Variable) follows the 0.3 rules: ``.data``, factories, DataLoader batches are plain tensors;
``Variable(...)``, module outputs, parameters are Variables; operations keep their operands' type.
"""
from __future__ import annotations

import ast
import re
from typing import Any, Callable, Dict, List, Optional, Set, Tuple, Union, cast

from .. import torchapi as api
from .kinds import (
    ANY_RANK,
    BOTTOM,
    NOTTENSOR,
    POS_RANK,
    PYNUM,
    PYVAL,
    SCALAR_RANK,
    UNKNOWN,
    VECTOR_RANK,
    ClassRef,
    DType,
    Enumerate,
    FunctionRef,
    Grad,
    Instance,
    Kind,
    Legacy,
    Module,
    Ref,
    Sequence_,
    Simple,
    Tensor,
    TorchRef,
    Tuple_,
    Zip,
    broadcast_rank,
    exact_rank,
    is_tensor,
    join,
    shift_rank,
)
from .scopes import Binding, ModuleScopes, Scope, dotted

_LOSS_NAME = re.compile(r"(^|_)loss(es)?($|_)|^loss", re.IGNORECASE)



# torch.* functions whose result has one rank whatever their (valid) inputs are
_FIXED_RANK_FUNCTIONS = {"mv": VECTOR_RANK, "mm": exact_rank(2), "bmm": exact_rank(3), "ger": exact_rank(2), "outer": exact_rank(2)}

def looks_like_loss(name: str) -> bool:
    return bool(_LOSS_NAME.search(name))


def _pos(call: ast.Call) -> List[ast.expr]:
    return [a for a in call.args if not isinstance(a, ast.Starred)]


def _kw(call: ast.Call, name: str) -> Optional[ast.keyword]:
    for k in call.keywords:
        if k.arg == name:
            return k
    return None


def _is_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _int_const(node: ast.AST) -> Optional[int]:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _int_const(node.operand)
        return -v if v is not None else None
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def reduction_keeps_scalar(call: ast.Call, max_positional: int) -> bool:
    """A loss constructor/function call whose result is 0-dim (a reducing reduction)."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return False
    if len(call.args) > max_positional:
        return False
    reduce = _kw(call, "reduce")
    if reduce is not None and not (isinstance(reduce.value, ast.Constant) and reduce.value.value in (True, None)):
        return False
    reduction = _kw(call, "reduction")
    if reduction is not None:
        v = reduction.value
        if not (isinstance(v, ast.Constant) and v.value in ("mean", "sum", "batchmean", "elementwise_mean")):
            return False
    return True


def _rank_drop(rank) -> frozenset:
    """Rank after indexing with one integer."""
    return shift_rank(frozenset(r for r in rank if r > 0), -1) if any(r > 0 for r in rank) else ANY_RANK


def _reduced(legacy: Legacy) -> Legacy:
    """0.3 type of a full reduction: a plain tensor reduced to a Python number."""
    return Legacy.NUMBER if legacy in (Legacy.TENSOR, Legacy.NUMBER) else legacy


def _dtype_of(q: str) -> DType:
    d = api.CONSTRUCTOR_DTYPES.get(q)
    return DType(d) if d else DType.UNKNOWN


class Resolver:
    """Name resolution the inference needs from outside the module (imports, project)."""

    def qualified(self, dotted_name: str) -> Optional[str]:  # pragma: no cover - interface
        return None

    def is_builtin(self, name: str) -> bool:  # pragma: no cover - interface
        return False

    def external(self, qualified: str) -> Optional[Kind]:
        """The kind of a project-level name (``pkg.utils.to_var``), or None."""
        return None

    def call_external(self, kind: Kind, call: ast.Call, args: List[Kind]) -> Optional[Kind]:
        """The kind of calling a project function/class reference, or None."""
        return None

    def attr_external(self, kind: Kind, attr: str) -> Optional[Kind]:
        return None

    def method_external(self, kind: Kind, method: str) -> Optional[Kind]:
        """The kind a method of a project class instance returns, or None."""
        return None

    def is_module_class(self, qualified: str) -> bool:
        return False

    def param_kind(self, function: str, index: int) -> Optional[Kind]:
        """The kind every call site in the project passes for a parameter of a local function."""
        return None


class Inference:
    """``kind(expr, scope)`` classifies an ``ast`` expression evaluated in ``scope``."""

    MAX_ROUNDS = 8

    def __init__(self, scopes: ModuleScopes, resolver: Resolver):
        self.s = scopes
        self.r = resolver
        self.facts: Dict[Tuple[int, str], Kind] = {}
        self.attr_facts: Dict[Tuple[str, str], Kind] = {}
        self.return_facts: Dict[int, Kind] = {}  # id(function scope) -> kind of its returns
        # the facts of the round being computed, keyed ("n", scope id, name), ("a", class, attr) or
        # ("r", scope id); None between rounds
        self._cur: Optional[Dict[Any, Kind]] = None
        self._busy: Set[object] = set()
        # flow-sensitive overrides for one query (see SemanticModel.kind_here)
        self.env: Dict[str, Kind] = {}
        self.env_scope: Optional[Scope] = None
        self.module_classes = self._module_classes()
        self.module_params: Set[int] = set()  # ids of Binding objects of apply(fn) parameters
        for name in scopes.applied:
            for scope in scopes.functions.get(name, []):
                if scope.params:
                    for b in scope.bindings.get(scope.params[0], []):
                        if b.how == "param":
                            self.module_params.add(id(b))
        self._static_evidence()
        for _ in range(self.MAX_ROUNDS):
            if not self._round():
                break

    # -- setup ---------------------------------------------------------------------------------------
    def _module_classes(self) -> Set[str]:
        found: Set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, info in self.s.classes.items():
                if name in found:
                    continue
                for b in info.bases:
                    d = dotted(b)
                    q = self.r.qualified(d) if d else None
                    if q == "torch.nn.Module" or (q is not None and self.r.is_module_class(q)) or (
                        isinstance(b, ast.Name) and b.id in found
                    ):
                        found.add(name)
                        changed = True
                        break
        return found

    def _static_evidence(self) -> None:
        """Names passed to ``Variable(...)`` or as first argument of torch functions are tensors."""
        for scope in [self.s.root, *self.s.ordered]:
            for call in scope.calls:
                d = dotted(call.func)
                q = self.r.qualified(d) if d else None
                pos = _pos(call)
                if q == api.VARIABLE and pos and isinstance(pos[0], ast.Name) and not any(k.arg == "requires_grad" for k in call.keywords) and len(pos) < 2:
                    scope.plain.add(pos[0].id)
                if q and pos:
                    first = pos[0]
                    if q == api.VARIABLE or q.startswith("torch.nn.functional.") or (
                        q.startswith("torch.") and q[6:] in api.TORCH_TENSOR_FUNCTIONS
                    ):
                        if isinstance(first, ast.Name):
                            scope.evidence.add(first.id)
                        if q in ("torch.cat", "torch.stack") and isinstance(first, (ast.List, ast.Tuple)):
                            scope.evidence.update(e.id for e in first.elts if isinstance(e, ast.Name))
                elif not q:
                    scope.evidence_calls.extend((call, a.id) for a in pos if isinstance(a, ast.Name))

    # -- fixpoint ----------------------------------------------------------------------------------
    def _round(self) -> bool:
        """One round of demand-driven evaluation: a fact needed before it is computed in this
        round is computed on the spot (a cycle falls back to the previous round's value), so
        chains of definitions settle in a round or two."""
        cur: Dict[Any, Kind] = {}
        self._cur = cur
        self._busy = set()
        try:
            for scope in [self.s.root, *self.s.ordered]:
                for call, name in scope.evidence_calls:
                    k = self.kind(call.func, scope)
                    if isinstance(k, Module) and is_tensor(k.returns) and k.cls is None:
                        scope.evidence.add(name)
                for name in scope.bindings:
                    self._name_fact(scope, name)
                if scope.kind == "function":
                    self._return_fact(scope)
            for cname, info in self.s.classes.items():
                for attr in info.attrs:
                    self._attr_fact(cname, attr)
            new_facts = {k[1:]: v for k, v in cur.items() if k[0] == "n"}
            new_attrs = {k[1:]: v for k, v in cur.items() if k[0] == "a"}
            new_returns = {k[1]: v for k, v in cur.items() if k[0] == "r"}
        finally:
            self._cur = None
        changed = new_facts != self.facts or new_attrs != self.attr_facts or new_returns != self.return_facts
        self.facts, self.attr_facts, self.return_facts = new_facts, new_attrs, new_returns
        return changed

    def _demand(self, key, previous: Kind, compute) -> Kind:
        cur = getattr(self, "_cur", None)
        if cur is None:
            return previous
        if key in cur:
            return cur[key]
        if key in self._busy:
            return previous
        self._busy.add(key)
        try:
            value = compute()
        finally:
            self._busy.discard(key)
        cur[key] = value
        return value

    def _name_fact(self, scope: Scope, name: str) -> Kind:
        def compute() -> Kind:
            kind: Kind = BOTTOM
            for b in scope.bindings.get(name, ()):
                k = self.binding_kind(b, scope, name)
                if k is UNKNOWN and name in scope.plain:
                    k = Tensor(grad=Grad.NO, legacy=Legacy.TENSOR)
                elif k is UNKNOWN and name in scope.evidence:
                    k = Tensor()
                kind = join(kind, k)
            if name in scope.grad_names:
                kind = kind.with_(grad=Grad.PARAM) if isinstance(kind, Tensor) else Tensor(grad=Grad.PARAM)
            return kind

        return self._demand(("n", id(scope), name), self.facts.get((id(scope), name), BOTTOM), compute)

    def _attr_fact(self, cls: str, attr: str) -> Optional[Kind]:
        info = self.s.classes.get(cls)
        if info is None or attr not in info.attrs:
            return self.attr_facts.get((cls, attr))

        def compute() -> Kind:
            kind: Kind = BOTTOM
            for b, scope in info.attrs[attr]:
                kind = join(kind, self.binding_kind(b, scope, None))
            return kind

        return self._demand(("a", cls, attr), self.attr_facts.get((cls, attr), BOTTOM), compute)

    def _return_fact(self, scope: Scope) -> Kind:
        def compute() -> Kind:
            if scope.has_yield:
                return UNKNOWN
            kind: Kind = BOTTOM if scope.returns else Simple.PYVAL
            for r in scope.returns:
                kind = join(kind, self.kind(r, scope))
            return kind

        return self._demand(("r", id(scope)), self.return_facts.get(id(scope), BOTTOM), compute)

    def binding_kind(self, b: Binding, scope: Scope, name: Optional[str]) -> Kind:
        how = b.how
        if how == "const":
            return {"pyval": PYVAL, "unknown": UNKNOWN}.get(b.kind, UNKNOWN) if isinstance(b.kind, str) else UNKNOWN
        if how == "param":
            if id(b) in self.module_params:
                return Module()
            if name is not None and scope.kind == "function" and name in scope.params:
                index = scope.params.index(name)
                k = None
                if scope.parent is self.s.root:
                    k = self.r.param_kind(scope.name, index)
                elif scope.parent is not None and scope.parent.kind == "class" and scope.parent.parent is self.s.root and scope.self_name and index > 0:
                    k = self.r.param_kind(f"{scope.parent.name}.{scope.name}", index - 1)
                if k is not None:
                    return k
            default = b.kind
            if isinstance(default, ast.Constant) and isinstance(default.value, (int, float)) and not isinstance(default.value, bool):
                return PYNUM  # no call site says otherwise: a number, as its default
            return UNKNOWN
        if how == "value":
            return self.kind(b.node, scope)
        if how == "iter":
            return self.element_kind(self.kind(b.node, scope))
        if how == "item":
            inner = b.inner
            if inner is not None and inner.how == "value" and isinstance(inner.node, (ast.Tuple, ast.List)) and len(inner.node.elts) == b.count:
                el = inner.node.elts[b.index]
                return UNKNOWN if isinstance(el, ast.Starred) else self.kind(el, scope)
            return self.item_kind(self.binding_kind(inner, scope, None) if inner else UNKNOWN, b.index)
        if how == "aug":
            node = b.node
            assert isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name)
            return self.arith(self.lookup(node.target.id, scope), self.kind(node.value, scope), node.op)
        if how == "def":
            fn = cast(Union[ast.FunctionDef, ast.AsyncFunctionDef], b.node)  # a "def" binding's node
            return FunctionRef(Ref("", ".".join(scope.key + (fn.name,))))
        if how == "class":
            return ClassRef(Ref("", cast(ast.ClassDef, b.node).name))  # a "class" binding's node
        if how in ("import", "with", "except"):
            return UNKNOWN
        return UNKNOWN

    # -- element kinds --------------------------------------------------------------------------------
    def element_kind(self, kind: Kind) -> Kind:
        if kind is Simple.PARAMS:
            return Tensor(grad=Grad.PARAM, legacy=Legacy.VARIABLE)
        if kind is Simple.MODULES:
            return Module()
        if kind is Simple.NAMED_PARAMS:
            return Tuple_((PYVAL, Tensor(grad=Grad.PARAM, legacy=Legacy.VARIABLE)))
        if kind is Simple.PGROUPS:
            return Simple.PGROUP
        if kind is Simple.LOADER:
            return Sequence_(Tensor(grad=Grad.NO, legacy=Legacy.TENSOR))
        if isinstance(kind, Tensor):
            return kind.with_(rank=_rank_drop(kind.rank))
        if isinstance(kind, Sequence_):
            return kind.item
        if isinstance(kind, Zip):
            return Tuple_(tuple(self.element_kind(k) for k in kind.items))
        if isinstance(kind, Enumerate):
            return Tuple_((PYNUM, self.element_kind(kind.inner)))
        if isinstance(kind, Tuple_) and kind.items:
            k: Kind = BOTTOM
            for item in kind.items:
                k = join(k, item)
            return k
        return UNKNOWN

    def item_kind(self, kind: Kind, index: int) -> Kind:
        if isinstance(kind, Tuple_):
            return kind.items[index] if index < len(kind.items) else UNKNOWN
        if isinstance(kind, Sequence_):
            return kind.item
        if isinstance(kind, Tensor):
            return kind.with_(rank=_rank_drop(kind.rank))
        return UNKNOWN

    # -- lookups -------------------------------------------------------------------------------------
    def lookup(self, name: str, scope: Scope) -> Kind:
        env = self.env
        if env and name in env and scope is self.env_scope:
            return env[name]
        first = True
        current: Optional[Scope] = scope
        while current is not None:
            if current.kind != "class" or first:
                if name in current.globals:
                    current = self.s.root
                    first = False
                    continue
                if name in current.bindings:
                    return self._name_fact(current, name)
            first = False
            current = current.parent
        return UNKNOWN

    def self_class(self, name: str, scope: Scope) -> Optional[str]:
        """The class name if ``name`` is the (never rebound) ``self`` parameter of a method."""
        current: Optional[Scope] = scope
        while current is not None and current.kind in ("lambda", "comp"):
            current = current.parent
        if current is not None and current.self_name == name and current.class_name and len(current.bindings.get(name, ())) == 1:
            return current.class_name
        return None

    def class_attr(self, cls: str, attr: str) -> Kind:
        seen: Set[str] = set()
        while cls and cls not in seen:
            seen.add(cls)
            k = self._attr_fact(cls, attr)
            if k is not None:
                return k if k is not BOTTOM else UNKNOWN
            info = self.s.classes.get(cls)
            if info is None:
                return UNKNOWN
            if attr in info.methods:
                return FunctionRef(Ref("", f"{cls}.{attr}"))
            bases = [b.id for b in info.bases if isinstance(b, ast.Name)]
            cls = bases[0] if len(bases) == 1 else ""
        return UNKNOWN

    def method_scope(self, cls: str, method: str) -> Optional[Scope]:
        seen: Set[str] = set()
        while cls and cls not in seen:
            seen.add(cls)
            info = self.s.classes.get(cls)
            if info is None:
                return None
            if method in info.methods:
                return info.methods[method]
            bases = [b.id for b in info.bases if isinstance(b, ast.Name) and b.id in self.s.classes]
            cls = bases[0] if len(bases) == 1 else ""
        return None

    def forward_kind(self, cls: str) -> Kind:
        scope = self.method_scope(cls, "forward")
        if scope is None:
            return UNKNOWN
        return self._return_fact(scope)

    # -- expressions ---------------------------------------------------------------------------------
    def kind(self, expr: ast.AST, scope: Scope) -> Kind:
        try:
            return self._kind(expr, scope)
        except RecursionError:
            return UNKNOWN

    def tensor(self, expr: ast.AST, scope: Scope) -> Optional[Tensor]:
        k = self.kind(expr, scope)
        return k if isinstance(k, Tensor) else None

    def _qualified(self, expr: ast.AST) -> Optional[str]:
        d = dotted(expr)
        return self.r.qualified(d) if d else None

    def _kind(self, expr: ast.AST, scope: Scope) -> Kind:
        if isinstance(expr, (ast.Name, ast.Attribute)):
            q = self._qualified(expr)
            if q is not None:
                if q in api.LOSS_FUNCTIONS:
                    return Simple.LOSS_FN
                if q.startswith(("torch.", "torchvision.")) or q in ("torch", "torchvision"):
                    return TorchRef(q)
                ext = self.r.external(q)
                if ext is not None:
                    return ext
                return UNKNOWN
        if isinstance(expr, ast.Name):
            k = self.lookup(expr.id, scope)
            if k is UNKNOWN and self.r.is_builtin(expr.id):
                return TorchRef("builtins." + expr.id)
            return k
        if isinstance(expr, ast.Constant):
            return PYNUM if isinstance(expr.value, (int, float, complex)) and not isinstance(expr.value, bool) else PYVAL
        if isinstance(expr, (ast.JoinedStr, ast.Dict, ast.Set, ast.DictComp, ast.SetComp, ast.Lambda)):
            return PYVAL
        if isinstance(expr, ast.List):
            if not expr.elts:
                return PYVAL
            return self._seq(expr, scope)
        if isinstance(expr, ast.ListComp):
            return Sequence_(self.kind(expr.elt, self.s.by_node.get(id(expr), scope)))
        if isinstance(expr, ast.Tuple):
            if any(isinstance(e, ast.Starred) for e in expr.elts):
                return PYVAL
            return Tuple_(tuple(self._kind(e, scope) for e in expr.elts))
        if isinstance(expr, ast.Attribute):
            return self._attribute(expr, scope)
        if isinstance(expr, ast.Call):
            return self._call(expr, scope)
        if isinstance(expr, ast.Subscript):
            return self._subscript(expr, scope)
        if isinstance(expr, ast.BinOp):
            return self.arith(self._kind(expr.left, scope), self._kind(expr.right, scope), expr.op)
        if isinstance(expr, ast.UnaryOp):
            if isinstance(expr.op, ast.Not):
                return PYVAL
            k = self._kind(expr.operand, scope)
            if isinstance(k, Tensor):
                return k.with_(dtype=DType.BOOL if isinstance(expr.op, ast.Invert) and k.dtype is DType.BOOL else k.dtype)
            return PYNUM if k is PYNUM else (BOTTOM if k is BOTTOM else UNKNOWN)
        if isinstance(expr, ast.IfExp):
            return join(self._kind(expr.body, scope), self._kind(expr.orelse, scope))
        if isinstance(expr, ast.Compare):
            if any(isinstance(op, (ast.In, ast.NotIn, ast.Is, ast.IsNot)) for op in expr.ops):
                return PYVAL
            ks = [self._kind(expr.left, scope)] + [self._kind(c, scope) for c in expr.comparators]
            if BOTTOM in ks:
                return BOTTOM
            ts = [k for k in ks if isinstance(k, Tensor)]
            if ts:
                rank = ts[0].rank
                for t in ts[1:]:
                    rank = broadcast_rank(rank, t.rank)
                legacy = ts[0].legacy if all(t.legacy is ts[0].legacy for t in ts) else Legacy.UNKNOWN
                return Tensor(rank, Grad.NO, legacy, DType.BOOL)
            return PYVAL if all(k in (PYNUM, PYVAL) for k in ks) else UNKNOWN
        if isinstance(expr, ast.NamedExpr):
            return self._kind(expr.value, scope)
        return UNKNOWN

    def _seq(self, expr: ast.List, scope: Scope) -> Kind:
        k: Kind = BOTTOM
        for e in expr.elts:
            if isinstance(e, ast.Starred):
                return PYVAL
            k = join(k, self._kind(e, scope))
        return Sequence_(k)

    def arith(self, a: Kind, b: Kind, op: ast.AST) -> Kind:
        if a is BOTTOM or b is BOTTOM:
            return BOTTOM
        ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
        if isinstance(op, ast.MatMult):
            return Tensor(grad=max(a.grad, b.grad), legacy=a.legacy if a.legacy is b.legacy else Legacy.UNKNOWN) if ta and tb else UNKNOWN  # type: ignore[union-attr]
        if not (ta or tb):
            return PYNUM if a is PYNUM and b is PYNUM else UNKNOWN
        if isinstance(op, ast.Mod) and not ta:
            return UNKNOWN  # string formatting
        if (ta and not (tb or b is PYNUM)) or (tb and not (ta or a is PYNUM)):
            return UNKNOWN
        ka = a if isinstance(a, Tensor) else None
        kb = b if isinstance(b, Tensor) else None
        if ka is not None and kb is not None:
            rank = broadcast_rank(ka.rank, kb.rank)
        else:
            rank = (ka or kb).rank  # type: ignore[union-attr]
        tensors = [t for t in (ka, kb) if t is not None]
        grad = max(t.grad for t in tensors)
        if grad is Grad.PARAM:
            grad = Grad.MAY
        legacies = {t.legacy for t in tensors}
        if len(legacies) == 2 and Legacy.NUMBER in legacies:
            legacies.discard(Legacy.NUMBER)  # a 0.3 number combined with a tensor gives a tensor
        legacy = legacies.pop() if len(legacies) == 1 else Legacy.UNKNOWN
        dtypes = {t.dtype for t in tensors}
        if DType.FLOAT in dtypes:
            dtype = DType.FLOAT
        elif len(dtypes) == 1:
            dtype = dtypes.pop()
        else:
            dtype = DType.UNKNOWN
        if isinstance(op, ast.Div) and dtype is not DType.FLOAT:
            dtype = DType.UNKNOWN  # true division today
        if dtype is DType.BOOL and (ka is None or kb is None or not isinstance(op, (ast.BitAnd, ast.BitOr, ast.BitXor, ast.Mult, ast.Add))):
            dtype = DType.UNKNOWN  # a mask with a number (`m * 2` is int64, `1 - m` raises), or `m - m` (raises)
        return Tensor(rank, grad, legacy, dtype)

    def _attribute(self, expr: ast.Attribute, scope: Scope) -> Kind:
        attr = expr.attr
        if isinstance(expr.value, ast.Name):
            cls = self.self_class(expr.value.id, scope)
            if cls is not None:
                return self.class_attr(cls, attr)
        base = self._kind(expr.value, scope)
        if base is BOTTOM:
            return BOTTOM
        if isinstance(base, TorchRef):
            return TorchRef(base.qualified + "." + attr)
        if attr == "grad":
            rank = base.rank if isinstance(base, Tensor) else ANY_RANK
            return Tensor(rank, Grad.NO, Legacy.VARIABLE, DType.FLOAT)
        if isinstance(base, Tensor):
            if attr == "data":
                return base.with_(grad=Grad.NO, legacy=Legacy.TENSOR if base.legacy is not Legacy.UNKNOWN else Legacy.TENSOR)
            if attr in api.TENSOR_ATTRS:
                return base.with_(grad=Grad.MAY if base.grad is Grad.PARAM else base.grad)
            if attr in api.VALUE_ATTRS:
                return PYVAL
            return UNKNOWN
        if isinstance(base, Module):
            if attr in ("weight", "bias") or attr.startswith(("weight_", "bias_")):
                if isinstance(base.cls, str):
                    k = self.class_attr(base.cls, attr)
                    if k not in (BOTTOM, UNKNOWN):
                        return k
                return Tensor(grad=Grad.PARAM, legacy=Legacy.VARIABLE, dtype=DType.FLOAT)
            if isinstance(base.cls, str):
                return self.class_attr(base.cls, attr)
            if base.cls is not None:
                ext = self.r.attr_external(base, attr)
                if ext is not None:
                    return ext
            return UNKNOWN
        if isinstance(base, Instance):
            ext = self.r.attr_external(base, attr)
            return ext if ext is not None else UNKNOWN
        if attr == "param_groups":
            return Simple.PGROUPS
        return UNKNOWN

    def _subscript(self, expr: ast.Subscript, scope: Scope) -> Kind:
        base = self._kind(expr.value, scope)
        if base is BOTTOM:
            return BOTTOM
        index = expr.slice
        if isinstance(base, Tensor):
            if _int_const(index) is not None:
                rank = _rank_drop(base.rank)
                if base.legacy is Legacy.TENSOR and base.rank == VECTOR_RANK:
                    return base.with_(rank=rank, legacy=Legacy.NUMBER)
                return base.with_(rank=rank)
            if isinstance(index, ast.Slice):
                return base
            k = self._kind(index, scope)
            if isinstance(k, Tensor):  # a mask or an index tensor
                return base.with_(rank=POS_RANK if k.dtype in (DType.BOOL, DType.BYTE) else ANY_RANK)
            return base.with_(rank=ANY_RANK)
        if base is Simple.PGROUP:
            if isinstance(index, ast.Constant) and index.value == "params":
                return Simple.PARAMS
            return UNKNOWN
        if base is Simple.PGROUPS:
            return Simple.PGROUP
        if isinstance(base, Module):
            return Module()
        if base is Simple.PARAMS:
            return Tensor(grad=Grad.PARAM, legacy=Legacy.VARIABLE)
        if isinstance(base, Tuple_):
            i = _int_const(index)
            if i is not None:
                return base.items[i] if -len(base.items) <= i < len(base.items) else UNKNOWN
            return UNKNOWN
        if isinstance(base, Sequence_):
            return base.item if _int_const(index) is not None else (base if isinstance(index, ast.Slice) else UNKNOWN)
        return UNKNOWN

    # -- calls -----------------------------------------------------------------------------------------
    def _call(self, call: ast.Call, scope: Scope) -> Kind:
        func = call.func
        fk = self._kind(func, scope) if not isinstance(func, ast.Attribute) else None
        if isinstance(func, ast.Attribute):
            q = self._qualified(func)
            if q is not None and q.startswith(("torch.", "torchvision.")):
                return self._torch_call(q, call, scope)
            method = func.attr
            recv = self._kind(func.value, scope)
            if recv is BOTTOM:
                return BOTTOM
            if isinstance(recv, TorchRef):
                return self._torch_call(recv.qualified + "." + method, call, scope)
            if isinstance(recv, Tensor):
                return self._tensor_method(recv, method, call, scope)
            if isinstance(recv, Module):
                if method in api.MODULE_SELF_METHODS:
                    return recv
                if method == "forward":
                    return recv.returns
                if method == "parameters":
                    return Simple.PARAMS
                if method == "named_parameters":
                    return Simple.NAMED_PARAMS
                if method in ("modules", "children"):
                    return Simple.MODULES
                if isinstance(recv.cls, str):
                    m = self.method_scope(recv.cls, method)
                    return self._return_fact(m) if m is not None else UNKNOWN
                ext = self.r.method_external(recv, method)
                return ext if ext is not None else UNKNOWN
            if isinstance(recv, Instance):
                ext = self.r.method_external(recv, method)
                return ext if ext is not None else UNKNOWN
            if method == "parameters":
                return Simple.PARAMS
            if method == "named_parameters":
                return Simple.NAMED_PARAMS
            if method in ("modules", "children"):
                return Simple.MODULES
            if isinstance(func.value, ast.Name):
                cls = self.self_class(func.value.id, scope)
                if cls is not None:
                    m = self.method_scope(cls, method)
                    if m is not None:
                        return self._return_fact(m)
            fk = self._kind(func, scope)
        if fk is BOTTOM:
            return BOTTOM
        if isinstance(fk, TorchRef):
            if fk.qualified.startswith("builtins."):
                return self._builtin(fk.qualified[9:], call, scope)
            return self._torch_call(fk.qualified, call, scope)
        if isinstance(fk, Module):
            return self._module_result(fk, call, scope)
        if fk is Simple.LOSS_FN:
            return self._loss_result(call, 3)
        if isinstance(fk, ClassRef) and fk.ref.module == "":
            name = fk.ref.qualname
            if name in self.module_classes:
                returns = self.forward_kind(name)
                return Module(name, returns, loss=name.endswith("Loss"))
            return UNKNOWN
        if isinstance(fk, FunctionRef) and fk.ref.module == "":
            target = self._local_function(fk.ref.qualname)
            if target is not None:
                return self._return_fact(target)
            return UNKNOWN
        if isinstance(fk, (ClassRef, FunctionRef, Module, Instance)):
            ext = self.r.call_external(fk, call, [])
            return ext if ext is not None else UNKNOWN
        return UNKNOWN

    def _module_result(self, module: Module, call: ast.Call, scope: Scope) -> Kind:
        returns = module.returns
        if module.rank_shift is not None and isinstance(returns, Tensor):
            pos = _pos(call)
            first = self._kind(pos[0], scope) if pos else UNKNOWN
            if first is BOTTOM:
                return BOTTOM
            if isinstance(first, Tensor):
                # within what the module can return (a Linear never returns a 0-dim tensor)
                return returns.with_(rank=(shift_rank(first.rank, module.rank_shift) & returns.rank) or returns.rank)
        return returns

    def _local_function(self, qualname: str) -> Optional[Scope]:
        key = tuple(qualname.split("."))
        for scope in self.s.functions.get(key[-1], []):
            if scope.key == key:
                return scope
        return None

    def _loss_result(self, call: ast.Call, max_positional: int) -> Tensor:
        rank = SCALAR_RANK if reduction_keeps_scalar(call, max_positional) else ANY_RANK
        return Tensor(rank, Grad.MAY, Legacy.VARIABLE, DType.FLOAT)

    def _builtin(self, name: str, call: ast.Call, scope: Scope) -> Kind:
        pos = _pos(call)
        if name in ("list", "tuple", "iter", "sorted", "reversed") and len(pos) == 1:
            k = self._kind(pos[0], scope)
            if k in (Simple.PARAMS, Simple.NAMED_PARAMS, Simple.MODULES, Simple.PGROUPS, Simple.LOADER) or isinstance(k, Sequence_):
                return k
            if isinstance(k, (Tuple_, Zip, Enumerate)):
                return Sequence_(self.element_kind(k))
            return PYVAL
        if name == "filter" and len(pos) == 2:
            k = self._kind(pos[1], scope)
            return k if k in (Simple.PARAMS, Simple.NAMED_PARAMS, Simple.MODULES) else PYVAL
        if name == "zip":
            return Zip(tuple(self._kind(a, scope) for a in pos))
        if name == "enumerate" and pos:
            return Enumerate(self._kind(pos[0], scope))
        if name in ("float", "int", "len", "round", "abs") and name != "abs":
            return PYNUM
        if name in ("str", "repr", "bool", "range", "dict", "set", "print", "isinstance", "hasattr", "format", "type", "id"):
            return PYVAL
        if name == "abs" and pos:
            k = self._kind(pos[0], scope)
            return k if isinstance(k, Tensor) or k is PYNUM else UNKNOWN
        return UNKNOWN

    def _torch_call(self, q: str, call: ast.Call, scope: Scope) -> Kind:
        pos = _pos(call)
        if q == api.VARIABLE:
            k = self._kind(pos[0], scope) if pos else None
            if k is BOTTOM:
                return BOTTOM
            rank = k.rank if isinstance(k, Tensor) else ANY_RANK
            dtype = k.dtype if isinstance(k, Tensor) else DType.UNKNOWN
            rg = _kw(call, "requires_grad")
            requires = (len(pos) > 1 and not (isinstance(pos[1], ast.Constant) and pos[1].value is False)) or (
                rg is not None and not (isinstance(rg.value, ast.Constant) and rg.value.value is False)
            )
            return Tensor(rank, Grad.PARAM if requires else Grad.NO, Legacy.VARIABLE, dtype)
        if q in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            return Tensor(grad=Grad.PARAM, legacy=Legacy.VARIABLE, dtype=DType.FLOAT)
        if q in api.LOSS_FUNCTIONS:
            return self._loss_result(call, 3)
        if q.startswith("torch.nn.functional."):
            if any(k.arg and k.arg.startswith("return_") for k in call.keywords):
                return UNKNOWN
            first = self._kind(pos[0], scope) if pos else UNKNOWN
            if first is BOTTOM:
                return BOTTOM
            legacy = first.legacy if isinstance(first, Tensor) else Legacy.UNKNOWN
            rank = first.rank if isinstance(first, Tensor) and q.rsplit(".", 1)[1] in api.RANK_KEEPING_FUNCTIONAL else ANY_RANK
            others = [self._kind(a, scope) for a in pos[1:]] + [self._kind(k.value, scope) for k in call.keywords if k.arg]
            grad = Grad.NO if isinstance(first, Tensor) and first.grad is Grad.NO and all(
                o in (PYNUM, PYVAL) or (isinstance(o, Tensor) and o.grad is Grad.NO) for o in others
            ) else Grad.MAY
            return Tensor(rank, grad, legacy, DType.FLOAT)
        if q.startswith("torch.nn.init."):
            return Tensor(grad=Grad.PARAM, legacy=Legacy.VARIABLE, dtype=DType.FLOAT)
        if q in api.DATALOADERS:
            return Simple.LOADER
        if q.startswith(api.OPTIMIZER_PREFIX) and q.count(".") == 2 and q[12:13].isupper():
            return Simple.OPTIMIZER
        if q.startswith("torch.nn.") and q.count(".") == 2 and q[9:10].isupper():
            return self._nn_module(q, call, scope)
        if q.startswith("torchvision.models.") and q.count(".") == 2 and q[19:20].islower():
            return Module(None, Tensor(POS_RANK, Grad.MAY, Legacy.VARIABLE, DType.FLOAT))
        if q in api.FACTORIES_WITH_REQUIRES_GRAD or q in api.OTHER_FACTORIES or q in api.CONSTRUCTORS:
            return self._factory(q, call, scope)
        if q == "torch.autograd.grad":
            return Sequence_(Tensor(legacy=Legacy.VARIABLE))
        if q.startswith("torch.") and q.count(".") == 1:
            return self._torch_function(q[6:], call, scope)
        return UNKNOWN

    def _nn_module(self, q: str, call: ast.Call, scope: Scope) -> Kind:
        pos = _pos(call)
        var = Tensor(POS_RANK, Grad.MAY, Legacy.VARIABLE, DType.FLOAT)
        if q in api.RNN_MODULES or q in api.CONTAINER_MODULES:
            return Module(None, UNKNOWN)
        if q in api.RNN_CELLS:
            return Module(None, UNKNOWN if q.endswith("LSTMCell") else var, rank_shift=None if q.endswith("LSTMCell") else 0)
        if q in api.WRAPPER_MODULES:
            inner = self._kind(pos[0], scope) if pos else UNKNOWN
            return inner if isinstance(inner, Module) else Module(None, UNKNOWN)
        if q.endswith("Loss") or q.endswith("Loss2d"):
            if reduction_keeps_scalar(call, 1 if q not in api.WEIGHTED_LOSSES else 2):
                return Module(None, Tensor(SCALAR_RANK, Grad.MAY, Legacy.VARIABLE, DType.FLOAT), loss=True)
            return Module(None, Tensor(ANY_RANK, Grad.MAY, Legacy.VARIABLE, DType.FLOAT), loss=True)
        if q == "torch.nn.Sequential":
            return self._sequential(call, scope)
        if q == "torch.nn.Module":
            return Module(None, UNKNOWN)
        name = q.rsplit(".", 1)[1]
        if name == "Embedding":
            return Module(None, var, rank_shift=1)
        fixed = api.FIXED_RANK_MODULES.get(name)
        if fixed is not None:
            return Module(None, var.with_(rank=exact_rank(fixed)))
        if name in api.RANK_KEEPING_MODULES:
            return Module(None, var, rank_shift=0)
        return Module(None, var)

    def _sequential(self, call: ast.Call, scope: Scope) -> Module:
        """``nn.Sequential(a, b, ...)``: the rank through its layers when every layer says."""
        shift: Optional[int] = 0
        fixed: Optional[int] = None
        for a in _pos(call):
            k = self._kind(a, scope)
            if not isinstance(k, Module) or not isinstance(k.returns, Tensor):
                return Module(None, Tensor(legacy=Legacy.VARIABLE))
            if k.rank_shift is not None:
                if fixed is not None:
                    fixed = min(fixed + k.rank_shift, 5)
                elif shift is not None:
                    shift += k.rank_shift
            elif len(k.returns.rank) == 1:
                fixed, shift = next(iter(k.returns.rank)), None
            else:
                return Module(None, Tensor(legacy=Legacy.VARIABLE))
        var = Tensor(POS_RANK, Grad.MAY, Legacy.VARIABLE, DType.FLOAT)
        if fixed is not None:
            return Module(None, var.with_(rank=exact_rank(fixed)))
        return Module(None, var, rank_shift=shift)

    def _factory(self, q: str, call: ast.Call, scope: Scope) -> Tensor:
        pos = _pos(call)
        rg = _kw(call, "requires_grad")
        grad = Grad.PARAM if rg is not None and not (isinstance(rg.value, ast.Constant) and rg.value.value is False) else Grad.NO
        dtype = _dtype_of(q)
        if q in api.CONSTRUCTORS:
            dtype = _dtype_of(q)
        elif q in ("torch.randint", "torch.randperm") or q == "torch.arange" and all(_int_const(a) is not None for a in pos):
            dtype = DType.INT
        elif q in ("torch.randn", "torch.rand", "torch.zeros", "torch.ones", "torch.empty", "torch.eye", "torch.linspace"):
            dtype = DType.FLOAT
        d = _kw(call, "dtype")
        if d is not None:
            dq = self._qualified(d.value) or ""
            dtype = DType.INT if dq in api.QUALIFIED_INT_DTYPES else DType.FLOAT if dq in api.QUALIFIED_FLOAT_DTYPES else DType.BOOL if dq == "torch.bool" else DType.BYTE if dq == "torch.uint8" else DType.UNKNOWN
        if q in ("torch.arange", "torch.range", "torch.linspace", "torch.logspace", "torch.randperm"):
            rank = VECTOR_RANK
        elif q == "torch.eye":
            rank = exact_rank(2)
        elif q.endswith("_like"):
            first = self._kind(pos[0], scope) if pos else UNKNOWN
            rank = first.rank if isinstance(first, Tensor) else ANY_RANK
        elif q == "torch.randint":
            size = pos[-1] if pos else None
            rank = exact_rank(len(size.elts)) if isinstance(size, (ast.Tuple, ast.List)) else ANY_RANK
        elif q not in ("torch.tensor", "torch.from_numpy", "torch.full") and self._sizes(pos, scope) is not None:
            n = self._sizes(pos, scope)
            rank = exact_rank(n) if n else ANY_RANK
        elif q in ("torch.full",) and pos and isinstance(pos[0], (ast.Tuple, ast.List)):
            rank = exact_rank(len(pos[0].elts))
        else:
            rank = ANY_RANK
        # a factory made to require grad is a leaf Variable in 0.3 terms
        return Tensor(rank, grad, Legacy.VARIABLE if grad is Grad.PARAM else Legacy.TENSOR, dtype)

    def _sizes(self, pos: List[ast.expr], scope: Scope) -> Optional[int]:
        """How many dimensions a size argument list gives (``2, 3``, ``(2, 3)``, ``n, -1``), or None."""
        if len(pos) == 1 and isinstance(pos[0], (ast.Tuple, ast.List)):
            elts = pos[0].elts
            return len(elts) if not any(isinstance(e, ast.Starred) for e in elts) else None
        if not pos:
            return None
        if all(_int_const(a) is not None or self._kind(a, scope) is PYNUM for a in pos):
            return len(pos)
        return None

    def _torch_function(self, fn: str, call: ast.Call, scope: Scope) -> Kind:
        pos = _pos(call)
        dims = len(pos) > 1 or any(k.arg in ("dim", "axis") for k in call.keywords)
        first = self._kind(pos[0], scope) if pos else UNKNOWN
        if first is BOTTOM:
            return BOTTOM
        legacy = first.legacy if isinstance(first, Tensor) else Legacy.UNKNOWN
        grad = first.grad if isinstance(first, Tensor) else Grad.MAY
        if grad is Grad.PARAM:
            grad = Grad.MAY
        if fn in api.TUPLE_FUNCTIONS:
            return Sequence_(Tensor(ANY_RANK, grad, legacy))
        if fn in api.TUPLE_REDUCTIONS and dims:
            if fn in ("max", "min") and len(pos) == 2 and not _is_number(pos[1]):
                second = self._kind(pos[1], scope)
                return Tensor(legacy=legacy) if isinstance(second, Tensor) else UNKNOWN
            rank = _rank_drop(first.rank) if isinstance(first, Tensor) else ANY_RANK
            if _kw(call, "keepdim") is not None:
                rank = first.rank if isinstance(first, Tensor) else ANY_RANK
            return Tuple_((Tensor(rank, grad, legacy, first.dtype if isinstance(first, Tensor) else DType.UNKNOWN), Tensor(rank, Grad.NO, legacy, DType.INT)))
        if (
            fn in api.REDUCTIONS and len(pos) == 1 and not dims and not any(isinstance(a, ast.Starred) for a in call.args)
            and (isinstance(first, Tensor) or fn in ("sum", "mean"))
        ):
            dtype = first.dtype if isinstance(first, Tensor) and fn not in ("mean", "norm", "std", "var") else DType.FLOAT if fn in ("mean", "norm", "std", "var") else DType.UNKNOWN
            return Tensor(SCALAR_RANK, grad, _reduced(legacy), dtype)
        if fn in ("eq", "ne", "lt", "le", "gt", "ge", "isnan", "isinf"):
            return Tensor(first.rank if isinstance(first, Tensor) else ANY_RANK, Grad.NO, legacy, DType.BOOL)
        if fn in ("argmax", "argmin", "nonzero"):
            return Tensor(ANY_RANK, Grad.NO, legacy, DType.INT)
        if fn in _FIXED_RANK_FUNCTIONS and len(pos) >= 2:
            # the result's rank does not depend on the inputs' (an input of another rank raises)
            return Tensor(_FIXED_RANK_FUNCTIONS[fn], grad, legacy, first.dtype if isinstance(first, Tensor) else DType.UNKNOWN)
        if fn in ("cat", "stack") and pos:
            k = self._kind(pos[0], scope)
            if k is BOTTOM or (isinstance(k, Sequence_) and k.item is BOTTOM):
                return BOTTOM
            item: Optional[Kind] = k.item if isinstance(k, Sequence_) else None
            if isinstance(k, Tuple_) and k.items:
                item = k.items[0]
                for i in k.items[1:]:
                    item = join(item, i)
            if isinstance(item, Tensor):
                rank = item.rank if fn == "cat" else shift_rank(item.rank, 1)
                return Tensor(rank, item.grad if item.grad is not Grad.PARAM else Grad.MAY, item.legacy, item.dtype)
            return Tensor()
        if fn in api.TORCH_TENSOR_FUNCTIONS:
            rank = first.rank if isinstance(first, Tensor) and fn in api.RANK_KEEPING_FUNCTIONAL else ANY_RANK
            return Tensor(rank, grad, legacy, first.dtype if isinstance(first, Tensor) and fn in api.RANK_KEEPING_FUNCTIONAL else DType.UNKNOWN)
        return UNKNOWN

    def _method_dtype(self, recv: Tensor, method: str, call: ast.Call, scope: Scope) -> DType:
        """Today's dtype of a rank-keeping method's result: the receiver's for copies and moves,
        an integer tensor's for integer arithmetic with integers, a float's for any arithmetic on
        floats; unknown for conversions to another tensor's type (``type_as``, ``to``) and for
        masks combined with numbers."""
        if method in api.DTYPE_KEEPING_METHODS:
            return recv.dtype
        if method in ("type_as", "to"):
            return DType.UNKNOWN
        if recv.dtype is DType.FLOAT:
            return DType.FLOAT
        if recv.dtype is DType.INT and method in api.INTEGER_ARITHMETIC_METHODS:
            for a in call.args:
                k = self._kind(a, scope)
                if not (_int_const(a) is not None or isinstance(k, Tensor) and k.dtype is DType.INT):
                    return DType.UNKNOWN
            return DType.INT
        return DType.UNKNOWN

    def _tensor_method(self, recv: Tensor, method: str, call: ast.Call, scope: Scope) -> Kind:
        pos = _pos(call)
        if method in api.NONTENSOR_METHODS:
            if method == "numpy":
                return NOTTENSOR
            if method in ("item", "dim", "ndimension", "numel", "nelement", "get_device", "element_size", "data_ptr", "storage_offset") or (
                method in ("size", "stride") and call.args
            ):
                return PYNUM
            return PYVAL
        if method == "type" and not call.args:
            return PYVAL
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg and k.arg.startswith("return_") for k in call.keywords):
            return UNKNOWN
        grad = Grad.MAY if recv.grad is Grad.PARAM else recv.grad
        dims = bool(pos) or any(k.arg in ("dim", "axis") for k in call.keywords)
        legacy = recv.legacy
        if method in ("chunk", "split", "unbind"):
            return Sequence_(recv.with_(grad=grad))
        if any(self._kind(a, scope) is BOTTOM for a in pos):
            return BOTTOM
        if method in api.COMPARISON_METHODS:
            return Tensor(recv.rank, Grad.NO, legacy, DType.BOOL)
        if method in api.INDEX_METHODS:
            if method == "nonzero":
                return Tensor(exact_rank(2), Grad.NO, legacy, DType.INT)
            has_dim = bool(pos) or any(k.arg == "dim" for k in call.keywords)
            return Tensor(_rank_drop(recv.rank) if has_dim and _kw(call, "keepdim") is None else (SCALAR_RANK if not has_dim else recv.rank), Grad.NO, legacy, DType.INT)
        if method in api.TUPLE_REDUCTIONS and method not in ("max", "min", "median"):
            return Tuple_((recv.with_(grad=grad, rank=ANY_RANK), Tensor(ANY_RANK, Grad.NO, legacy, DType.INT)))
        if method in ("max", "min", "median"):
            if not call.args and not call.keywords:
                return Tensor(SCALAR_RANK, grad, _reduced(legacy), recv.dtype)
            if len(pos) == 1 and not _is_number(pos[0]) and not call.keywords:
                other = self._kind(pos[0], scope)
                return recv.with_(grad=grad) if isinstance(other, Tensor) else UNKNOWN
            keep = _kw(call, "keepdim")
            rank = recv.rank if keep is not None and not (isinstance(keep.value, ast.Constant) and keep.value.value is False) else _rank_drop(recv.rank)
            return Tuple_((Tensor(rank, grad, legacy, recv.dtype), Tensor(rank, Grad.NO, legacy, DType.INT)))
        if method in api.REDUCTIONS:
            dtype = DType.FLOAT if method in ("mean", "norm", "std", "var") else DType.INT if recv.dtype is DType.BOOL and method == "sum" else recv.dtype
            if not call.args and not call.keywords:
                return Tensor(SCALAR_RANK, grad, _reduced(legacy), dtype)
            if method in ("norm", "dist") and len(call.args) + len(call.keywords) == 1 and (
                _is_number(pos[0]) if pos else call.keywords[0].arg == "p"
            ):
                return Tensor(SCALAR_RANK, grad, _reduced(legacy), dtype)
            if method == "dot":
                return Tensor(SCALAR_RANK, grad, _reduced(legacy), dtype)
            if dims:
                keep = _kw(call, "keepdim")
                rank = recv.rank if keep is not None else _rank_drop(recv.rank)
                return Tensor(rank, grad, legacy, dtype)
            return UNKNOWN
        if method in ("detach", "detach_"):
            return recv.with_(grad=Grad.NO)
        if method in api.INTEGER_METHODS:
            return recv.with_(grad=Grad.NO, dtype=DType.BYTE if method == "byte" else DType.INT)
        if method in ("float", "double", "half"):
            return recv.with_(grad=grad, dtype=DType.FLOAT)
        if method == "bool":
            return recv.with_(grad=Grad.NO, dtype=DType.BOOL)
        if method in ("view", "reshape", "expand", "repeat") and self._sizes(pos, scope):
            return recv.with_(grad=grad, rank=exact_rank(self._sizes(pos, scope)))  # type: ignore[arg-type]
        if method in ("t", "transpose", "permute", "contiguous"):
            return recv.with_(grad=grad)
        if method == "unsqueeze":
            return recv.with_(grad=grad, rank=shift_rank(recv.rank, 1))
        if method == "flatten" and not call.args:
            return recv.with_(grad=grad, rank=VECTOR_RANK)
        if method in ("view", "reshape", "expand", "repeat", "permute", "squeeze", "flatten", "view_as", "expand_as", "reshape_as"):
            if method in ("view_as", "expand_as", "reshape_as") and pos:
                other = self._kind(pos[0], scope)
                if isinstance(other, Tensor):
                    return recv.with_(grad=grad, rank=other.rank)
            return recv.with_(grad=grad, rank=ANY_RANK)
        if method in ("new", "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor"):
            return recv.with_(grad=Grad.NO, rank=ANY_RANK, legacy=recv.legacy)
        if method.endswith("_") and not method.endswith("__"):
            return recv if method != "requires_grad_" else recv.with_(grad=Grad.PARAM)
        if method in api.RANK_KEEPING_METHODS:
            dtype = self._method_dtype(recv, method, call, scope)
            if all(_is_number(a) or (isinstance(a, ast.Constant) and isinstance(a.value, str)) or self._kind(a, scope) in (PYNUM, PYVAL)
                   or (isinstance(self._kind(a, scope), Tensor) and self._kind(a, scope).is_scalar)  # type: ignore[union-attr]
                   for a in call.args):
                return recv.with_(grad=grad, dtype=dtype)
            # a tensor argument may broadcast the result to a higher rank (and carry grad)
            rank = recv.rank
            for a in call.args:
                k = self._kind(a, scope)
                rank = broadcast_rank(rank, k.rank) if isinstance(k, Tensor) else rank
            return recv.with_(grad=Grad.MAY, rank=rank, dtype=dtype)
        if method in ("mm", "bmm", "mv"):
            return Tensor({"mm": exact_rank(2), "bmm": exact_rank(3), "mv": VECTOR_RANK}[method], Grad.MAY, legacy, recv.dtype)
        if method == "matmul":
            return Tensor(POS_RANK, Grad.MAY, legacy, recv.dtype)
        if method in ("gather", "index_select", "masked_select", "masked_fill", "index", "narrow", "select", "clamp"):
            return recv.with_(grad=grad, rank=ANY_RANK)
        return Tensor(ANY_RANK, Grad.MAY if grad is not Grad.NO else Grad.NO, legacy, DType.UNKNOWN)


KindQuery = Callable[[ast.AST, Scope], Kind]
