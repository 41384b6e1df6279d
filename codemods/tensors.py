"""Tensor inference: is an expression a tensor, a scalar (0-dim) tensor, or unknown?

Shared by the ``.data`` rules (TU020-TU023) and later rules; use it through
``self.ctx.shared(TensorInference)`` (computed once per file, from the *original* libcst module)
and query it with ``kind(expr, scope_key)`` from any later module. Rules get ``scope_key`` from
the ``ScopeTracking`` mixin below.

Design
------
The analysis is **name-based and flow-insensitive per scope**: for every scope (module, class,
function, lambda, comprehension; identified by the chain of enclosing ``def``/``class`` names,
e.g. ``("Net", "forward")``) it joins the kinds of every binding of each name (assignments,
augmented assignments, ``for``/``with``/comprehension targets, parameters). Because facts are
keyed by names, not by node identity or position, they stay valid on the module that later rules
see after earlier rules rewrote it (TU001 turning ``Variable(x.data)`` into ``x.data`` does not
change which names are bound to what). Facts are computed by a small fixpoint iteration
(optimistic start, at most a few rounds).

Kinds: ``SCALAR`` (0-dim tensor), ``NONSCALAR`` (tensor of rank >= 1), ``TENSOR`` (rank
unknown), ``PARAM`` (a tensor that may be an ``nn.Parameter``; rank unknown), ``UNKNOWN`` and
``NOTTENSOR`` (something that may have a ``.data`` of its own, e.g. a numpy array), plus
compound kinds for modules, parameter iterables, tuples of tensors.

What is a tensor (everything else is UNKNOWN, and unknown is never rewritten by a safe rule):

* results of torch functions known to return tensors (factories, legacy constructors, math,
  ``torch.nn.functional.*``, ``torch.nn.init.*``), of ``Variable(...)`` / ``nn.Parameter(...)``,
  and of tensor methods on a known tensor (except the ones returning Python values, numpy
  arrays, sizes or tuples: ``item tolist numpy size dim`` ..., ``max(dim)`` gives a tuple of
  tensors);
* calling an ``nn.Module`` instance. A *module instance* is: a name or ``self.attr`` assigned a
  ``torch.nn.<Class>(...)`` constructor (found through the file's imports), a
  ``torchvision.models.<fn>(...)`` result, an instance of a class in the same file that derives
  (transitively) from ``nn.Module``, a ``.cuda()/.to()/.train()/.eval()`` of one,
  ``nn.DataParallel(m)``, loop variables over ``.modules()``/``.children()``, and the parameter
  of a function passed to ``<x>.apply(fn)``. **Names alone never make a module** (``model``,
  ``net`` or ``criterion`` as a function parameter stay unknown): the name says nothing about
  e.g. the loss reduction. Calling a module gives: a scalar for ``nn.*Loss`` constructed without
  ``reduce=False``/``reduction='none'`` (or a non-literal value, or extra positional arguments),
  nothing known for recurrent modules (``nn.LSTM/GRU/RNN`` return tuples, possibly of
  ``PackedSequence``), what ``forward`` returns for classes in the file, else a non-scalar
  (batch) tensor;
* parameters and gradients: loop targets over ``X.parameters()`` (also through ``list``,
  ``filter``, ``zip``, ``named_parameters()`` pairs and ``group['params']`` of
  ``X.param_groups``), ``E.grad`` for any ``E`` (gradients are tensors), ``m.weight``/``m.bias``
  (and ``weight_*``/``bias_*``) of a module instance, ``self.attr`` assigned a tensor anywhere
  in the class;
* names bound only to tensors (bindings to values without a ``.data`` attribute, such as
  numbers, ``None``, strings, tuple/list displays, are ignored: code reaching ``x.data`` cannot
  be holding them);
* a name whose other bindings are unknown (parameters, loop targets, unknown calls) is a tensor
  when the same scope *uses it as a tensor*: receiver of a tensor-only method (``x.size(0)``,
  ``x.cuda()``, ``x.view_as(y)`` ...), argument of ``Variable(x)``, first argument of an
  ``F.*``/torch math function, argument of a (non-recurrent) ``nn`` module call. A binding to a
  numpy value (``np.*(...)``, ``.numpy()``) blocks this.

Scalars (0-dim): loss-module and ``F.*_loss`` results (default reduction), reductions without a
dim (``.sum() .mean() .norm() .max() .min() .prod() .std() .var()``, ``torch.sum(x)`` ...),
``.dot()``, arithmetic between scalars and numbers, and names bound only to those.

Also computed: per scope, the dotted names that are modified in place (``n.add_(...)``,
``n[i] = ...``, ``n += ...``, ``n.data...`` writes), used by the ``.data`` -> ``.detach()``
exactness test.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from .cstutil import is_number as _is_number
from .cstutil import keyword as _kw
from .cstutil import positional as _positional
from .cstutil import target_names as _target_names

from .imports import dotted_name
from .torchapi import CONSTRUCTORS, FACTORIES_WITH_REQUIRES_GRAD, OTHER_FACTORIES, VARIABLE

# -- kinds -------------------------------------------------------------------------------------
BOTTOM = "bottom"  # no information yet (optimistic start of the fixpoint)
NODATA = "nodata"  # a value without a .data attribute (number, None, str, tuple/list display)
SCALAR = "scalar"
NONSCALAR = "nonscalar"
TENSOR = "tensor"
PARAM = "param"
UNKNOWN = "unknown"
NOTTENSOR = "nottensor"  # may have a .data of its own (numpy arrays): never a tensor
PARAMS = "params"  # an iterable of parameters
NAMED_PARAMS = "named_params"
MODULES = "modules"  # an iterable of modules
PGROUPS = "param_groups"
PGROUP = "param_group"
TUPLE_T = "tuple_of_tensors"
LOSS_FN = "loss_function"  # a reference to an ``F.*_loss`` function (``criterion = F.nll_loss``)

TENSOR_KINDS = frozenset({SCALAR, NONSCALAR, TENSOR, PARAM})
_RANKED = frozenset({SCALAR, NONSCALAR, TENSOR})


def is_tensor(kind) -> bool:
    return kind in TENSOR_KINDS


def module_kind(cls: Optional[str], result) -> tuple:
    return ("module", cls, result)


def is_module(kind) -> bool:
    return isinstance(kind, tuple) and kind[0] == "module"


def join(a, b):
    if a == BOTTOM:
        return b
    if b == BOTTOM:
        return a
    if a == NODATA:
        return b
    if b == NODATA:
        return a
    if a == b:
        return a
    if NOTTENSOR in (a, b):
        return NOTTENSOR
    if a in TENSOR_KINDS and b in TENSOR_KINDS:
        return PARAM if PARAM in (a, b) else TENSOR
    if is_module(a) and is_module(b):
        return module_kind(a[1] if a[1] == b[1] else None, join(a[2], b[2]))
    return UNKNOWN


# -- torch facts used by the inference ------------------------------------------------------------
_LOSS_FUNCTIONS = frozenset(
    "torch.nn.functional." + n
    for n in (
        "nll_loss cross_entropy mse_loss l1_loss smooth_l1_loss huber_loss binary_cross_entropy "
        "binary_cross_entropy_with_logits kl_div soft_margin_loss multi_margin_loss "
        "multilabel_margin_loss multilabel_soft_margin_loss hinge_embedding_loss "
        "margin_ranking_loss cosine_embedding_loss poisson_nll_loss triplet_margin_loss "
        "gaussian_nll_loss ctc_loss"
    ).split()
)
_RNN_MODULES = frozenset("torch.nn." + n for n in "RNN LSTM GRU RNNBase".split())
_CONTAINERS = frozenset("torch.nn." + n for n in "ModuleList ModuleDict ParameterList ParameterDict".split())
_WRAPPERS = frozenset({"torch.nn.DataParallel", "torch.nn.parallel.DataParallel", "torch.nn.parallel.DistributedDataParallel"})
# torch functions that reduce to a 0-dim tensor when called with the tensor only.
_REDUCTIONS = frozenset(
    "sum mean norm prod std var max min median all any logsumexp dist dot trace".split()
)
_TUPLE_REDUCTIONS = frozenset("max min median mode sort topk kthvalue".split())
_TUPLE_FUNCS = frozenset("chunk split unbind meshgrid broadcast_tensors".split())
# torch.* functions returning one tensor (beyond factories/constructors).
_TORCH_TENSOR_FUNCS = frozenset(
    (
        "cat stack mm bmm matmul addmm addbmm baddbmm mv ger outer einsum exp log log1p sigmoid tanh "
        "sqrt rsqrt abs neg clamp clamp_max clamp_min pow mul add sub div fmod remainder sign floor ceil round "
        "softmax log_softmax relu squeeze unsqueeze transpose t reshape flatten narrow select index_select "
        "gather masked_select where cumsum cumprod eq ne lt le gt ge argmax argmin nonzero diag tril triu "
        "cos sin atan2 erf lerp addcmul addcdiv bernoulli multinomial normal from_numpy as_tensor "
        "zeros_like ones_like rand_like randn_like full_like empty_like clone detach flip roll "
        "cross cdist sort_ isnan isinf masked_fill reciprocal sum mean norm prod std var max min median"
    ).split()
)
# Methods on a tensor whose result is not a tensor (Python values, numpy arrays, sizes, None).
_NONTENSOR_METHODS = frozenset(
    (
        "size dim ndimension numel nelement item tolist numpy data_ptr storage untyped_storage "
        "get_device is_contiguous is_floating_point element_size stride backward register_hook "
        "equal is_set_to is_shared is_pinned __len__ __array__ apply storage_offset"
    ).split()
)
# Methods that keep the receiver's rank (elementwise, conversions, in-place ops return self).
_RANK_KEEPING = frozenset(
    (
        "detach clone cpu cuda to float double half long int short byte char bool type_as contiguous "
        "abs exp log log1p sqrt rsqrt sigmoid tanh relu neg pow mul add sub div clamp round floor ceil "
        "sign reciprocal fmod remainder pin_memory requires_grad_ detach_ masked_fill lerp addcmul addcdiv"
    ).split()
)
_ATTR_TENSOR = frozenset({"data", "grad", "T", "mT", "H", "real", "imag"})
# Methods only tensors have (evidence that a parameter / loop variable holds a tensor). Never list
# a method that a PackedSequence also has (to cpu cuda float double half long int short char byte
# pin_memory is_cuda is_pinned): `seq.float()` is no evidence that `seq.data` is a tensor's.
TENSOR_ONLY_METHODS = frozenset(
    (
        "size contiguous unsqueeze masked_fill masked_fill_ type_as expand_as view_as "
        "index_select detach backward new dim numel permute bmm mm "
        "narrow expand unbind requires_grad_ zero_ normal_ uniform_ fill_ index_fill_ masked_scatter_ "
        "nelement"
    ).split()
)
_MODULE_SELF_METHODS = frozenset("cuda cpu to train eval double float half type share_memory".split())
_LOSS_NAME = re.compile(r"(^|_)loss(es)?($|_)|^loss", re.IGNORECASE)


def looks_like_loss(name: str) -> bool:
    return bool(_LOSS_NAME.search(name))


def _reduction_keeps_scalar(call: cst.Call, max_positional: int) -> bool:
    """A loss constructor/function call whose result is 0-dim (default-like reduction)."""
    if any(a.star for a in call.args) or len(_positional(call)) > max_positional:
        return False
    reduce = _kw(call, "reduce")
    if reduce is not None and not (isinstance(reduce.value, cst.Name) and reduce.value.value in ("True", "None")):
        return False
    reduction = _kw(call, "reduction")
    if reduction is not None:
        v = reduction.value
        if not isinstance(v, cst.SimpleString) or v.evaluated_value not in ("mean", "sum", "batchmean", "elementwise_mean"):
            return False
    return True


# -- scopes ------------------------------------------------------------------------------------
ScopeKey = Tuple[str, ...]


class Scope:
    def __init__(self, key: ScopeKey, parent: Optional["Scope"], kind: str):
        self.key = key
        self.parent = parent
        self.kind = kind  # module | class | function | lambda | comp
        self.bindings: Dict[str, List[tuple]] = {}
        self.evidence: Set[str] = set()
        self.inplace: Set[str] = set()
        self.globals: Set[str] = set()
        self.class_name: Optional[str] = None  # for methods: the enclosing class
        self.self_name: Optional[str] = None  # for methods: the first parameter
        self.module_params: Set[str] = set()  # parameters that are nn.Module instances (apply(fn))
        self.returns: List[cst.BaseExpression] = []
        self.evidence_calls: List[Tuple[cst.Call, str]] = []  # (call, arg name): module-call evidence

    def bind(self, name: str, how: tuple) -> None:
        self.bindings.setdefault(name, []).append(how)


def comp_key(parent: ScopeKey, node: cst.CSTNode) -> ScopeKey:
    """Name-based key of a comprehension / lambda scope (same in the original and later modules)."""
    if isinstance(node, cst.Lambda):
        names = [p.name.value for p in node.params.params]
        return parent + ("<lambda:" + ",".join(names) + ">",)
    names: List[str] = []
    f = node.for_in
    while f is not None:
        names.extend(_target_names(f.target))
        f = f.inner_for_in
    return parent + ("<comp:" + ",".join(names) + ">",)




_COMPS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


class ScopeTracking:
    """Mixin for transformers: ``self.scope_key`` is the name-based key of the current scope
    (the same key the analysis uses), ``self.parents`` the stack of enclosing original nodes."""

    def _st_init(self) -> None:
        self.scope_stack: List[ScopeKey] = [()]
        self.parents: List[cst.CSTNode] = []

    @property
    def scope_key(self) -> ScopeKey:
        return self.scope_stack[-1]

    def on_visit(self, node: cst.CSTNode) -> bool:
        if not hasattr(self, "scope_stack"):
            self._st_init()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self.scope_stack.append(self.scope_key + (node.name.value,))
        elif isinstance(node, (cst.Lambda,) + _COMPS):
            self.scope_stack.append(comp_key(self.scope_key, node))
        # libcst calls on_leave even when a visit_* hook returns False (children skipped), so
        # on_leave alone undoes what is pushed here
        go = super().on_visit(node)
        self.parents.append(node)
        return go

    def on_leave(self, original_node, updated_node):
        self.parents.pop()
        result = super().on_leave(original_node, updated_node)
        if isinstance(original_node, (cst.FunctionDef, cst.ClassDef, cst.Lambda) + _COMPS):
            self.scope_stack.pop()
        return result


class _Collector(cst.CSTVisitor):
    """One pass over the original module: scopes, bindings, evidence, in-place writes, classes."""

    def __init__(self, inf: "TensorInference"):
        self.inf = inf
        root = Scope((), None, "module")
        inf.scopes[()] = root
        self.stack: List[Scope] = [root]

    @property
    def scope(self) -> Scope:
        return self.stack[-1]

    def _push(self, key: ScopeKey, kind: str) -> Scope:
        existing = self.inf.scopes.get(key)
        scope = existing or Scope(key, self.scope, kind)
        self.inf.scopes[key] = scope
        self.stack.append(scope)
        return scope

    def _bind_scope(self, name: str) -> Scope:
        if name in self.scope.globals:
            return self.stack[0]
        return self.scope

    # scopes
    def visit_ClassDef(self, node):
        self.inf.class_bases.setdefault(node.name.value, []).extend(a.value for a in node.bases)
        self.scope.bind(node.name.value, ("const", NODATA))
        self._push(self.scope.key + (node.name.value,), "class")

    def leave_ClassDef(self, node):
        self.stack.pop()

    def visit_FunctionDef(self, node):
        outer = self.scope
        outer.bind(node.name.value, ("const", NODATA))
        scope = self._push(outer.key + (node.name.value,), "function")
        params = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
        for p in params:
            scope.bind(p.name.value, ("param", p.name.value))
        for p in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(p, cst.Param):
                scope.bind(p.name.value, ("const", NODATA))
        if outer.kind == "class" and params:
            is_static = any(isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in node.decorators)
            if not is_static:
                scope.class_name = outer.key[-1]
                scope.self_name = params[0].name.value
        self.inf.functions.setdefault(node.name.value, []).append(scope)

    def leave_FunctionDef(self, node):
        self.stack.pop()

    def visit_Lambda(self, node):
        scope = self._push(comp_key(self.scope.key, node), "lambda")
        for p in node.params.params:
            scope.bind(p.name.value, ("param", p.name.value))

    def leave_Lambda(self, node):
        self.stack.pop()

    def _visit_comp(self, node):
        self._push(comp_key(self.scope.key, node), "comp")
        f = node.for_in
        while f is not None:
            self._bind_target(f.target, ("iter", f.iter))
            f = f.inner_for_in

    def _leave_comp(self, node):
        self.stack.pop()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comp
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave_comp

    def visit_Global(self, node):
        for n in node.names:
            self.scope.globals.add(n.name.value)

    # bindings
    def _bind_target(self, target: cst.CSTNode, how: tuple) -> None:
        if isinstance(target, cst.Name):
            self._bind_scope(target.value).bind(target.value, how)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            if any(isinstance(e, cst.StarredElement) for e in elements):
                for n in _target_names(target):
                    self._bind_scope(n).bind(n, ("const", UNKNOWN))
                return
            for i, el in enumerate(elements):
                self._bind_target(el.value, ("item", how, i, len(elements)))
        elif isinstance(target, cst.Attribute):
            scope = self.scope
            if (
                scope.class_name
                and isinstance(target.value, cst.Name)
                and target.value.value == scope.self_name
            ):
                self.inf.attr_bindings.setdefault(scope.class_name, {}).setdefault(target.attr.value, []).append(
                    (how, scope)
                )

    def visit_Assign(self, node):
        for t in node.targets:
            self._bind_target(t.target, ("value", node.value))
            self._note_write(t.target)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self._bind_target(node.target, ("value", node.value))

    def visit_AugAssign(self, node):
        self._note_write(node.target, aug=True)
        if isinstance(node.target, cst.Name):
            self._bind_scope(node.target.value).bind(node.target.value, ("aug", node))

    def visit_For(self, node):
        self._bind_target(node.target, ("iter", node.iter))

    def visit_WithItem(self, node):
        if node.asname is not None:
            self._bind_target(node.asname.name, ("const", UNKNOWN))

    def visit_NamedExpr(self, node):
        self._bind_target(node.target, ("value", node.value))

    def visit_ExceptHandler(self, node):
        if node.name is not None:
            self._bind_target(node.name.name, ("const", NODATA))

    def visit_Import(self, node):
        for a in node.names:
            name = a.asname.name.value if a.asname else (dotted_name(a.name) or "").split(".")[0]
            if name:
                self.scope.bind(name, ("const", UNKNOWN))

    def visit_ImportFrom(self, node):
        if isinstance(node.names, cst.ImportStar):
            return
        for a in node.names:
            local = a.asname.name if a.asname else a.name
            if isinstance(local, cst.Name):
                self.scope.bind(local.value, ("const", UNKNOWN))

    def visit_Return(self, node):
        if node.value is not None:
            self.scope.returns.append(node.value)

    # in-place writes and tensor evidence
    def _note_write(self, target: cst.CSTNode, aug: bool = False) -> None:
        base = target
        if isinstance(base, cst.Subscript):
            base = base.value
        elif isinstance(base, cst.Attribute) and base.attr.value == "data":
            base = base.value
        elif not (aug and isinstance(base, (cst.Name, cst.Attribute))):
            return
        while isinstance(base, cst.Attribute) and base.attr.value == "data":
            base = base.value
        name = dotted_name(base)
        if name:
            self.scope.inplace.add(name)

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            recv = func.value
            while isinstance(recv, cst.Attribute) and recv.attr.value == "data":
                recv = recv.value
            while isinstance(recv, cst.Subscript):
                recv = recv.value
            if method.endswith("_") and not method.endswith("__") and method != "requires_grad_":
                name = dotted_name(recv)
                if name:
                    self.scope.inplace.add(name)
            if isinstance(func.value, cst.Name) and method in TENSOR_ONLY_METHODS:
                self.scope.evidence.add(func.value.value)
            if method == "apply" and len(node.args) == 1 and isinstance(node.args[0].value, cst.Name):
                self.inf.applied_functions.add(node.args[0].value.value)
        for a in node.args:
            if a.keyword and a.keyword.value == "out":
                name = dotted_name(a.value)
                if name:
                    self.scope.inplace.add(name)
        q = self.inf.imports.resolve(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        pos = _positional(node)
        if q and pos:
            first = pos[0].value
            if q == VARIABLE or q.startswith("torch.nn.functional.") or (
                q.startswith("torch.") and q[6:] in _TORCH_TENSOR_FUNCS and "." not in q[6:]
            ):
                if isinstance(first, cst.Name):
                    self.scope.evidence.add(first.value)
                if q in ("torch.cat", "torch.stack") and isinstance(first, (cst.List, cst.Tuple)):
                    for el in first.elements:
                        if isinstance(el.value, cst.Name):
                            self.scope.evidence.add(el.value.value)
        elif not q:
            for a in pos:
                if isinstance(a.value, cst.Name):
                    self.scope.evidence_calls.append((node, a.value.value))


class TensorInference:
    """See the module docstring. ``kind(expr, scope_key)`` classifies an expression."""

    MAX_ROUNDS = 8

    def __init__(self, ctx):
        self.imports = ctx.imports
        self.scopes: Dict[ScopeKey, Scope] = {}
        self.class_bases: Dict[str, List[cst.BaseExpression]] = {}
        self.attr_bindings: Dict[str, Dict[str, List[tuple]]] = {}
        self.functions: Dict[str, List[Scope]] = {}
        self.applied_functions: Set[str] = set()
        self.uses_torch = ctx.imports.imports_torch
        ctx.module.visit(_Collector(self))
        self._module_classes = self._find_module_classes()
        for name in self.applied_functions:
            for scope in self.functions.get(name, []):
                first = self._first_param(scope)
                if first:
                    scope.module_params.add(first)
        # fixpoint
        self.facts: Dict[Tuple[ScopeKey, str], object] = {}
        self.attr_facts: Dict[Tuple[str, str], object] = {}
        self.forward_facts: Dict[str, object] = {}
        for _ in range(self.MAX_ROUNDS):
            changed = self._round()
            if not changed:
                break

    # -- setup -------------------------------------------------------------------------------
    def _first_param(self, scope: Scope) -> Optional[str]:
        for n, hows in scope.bindings.items():
            for h in hows:
                if h[0] == "param":
                    return h[1]
        return None

    def _find_module_classes(self) -> Set[str]:
        found: Set[str] = set()
        changed = True
        while changed:
            changed = False
            for cls, bases in self.class_bases.items():
                if cls in found:
                    continue
                for b in bases:
                    q = self.imports.resolve(b) if isinstance(b, (cst.Name, cst.Attribute)) else None
                    if q == "torch.nn.Module" or (isinstance(b, cst.Name) and b.value in found):
                        found.add(cls)
                        changed = True
                        break
        return found

    # -- fixpoint ----------------------------------------------------------------------------
    def _round(self) -> bool:
        new_facts: Dict[Tuple[ScopeKey, str], object] = {}
        for key, scope in self.scopes.items():
            # evidence from calls of known modules (depends on facts)
            for call, name in scope.evidence_calls:
                k = self.kind(call.func, key)
                if is_module(k) and k[2] in TENSOR_KINDS and k[1] is None:
                    scope.evidence.add(name)
            for name, hows in scope.bindings.items():
                kind = BOTTOM
                for how in hows:
                    k = self._binding_kind(how, scope, name)
                    if k == UNKNOWN and name in scope.evidence:
                        k = TENSOR
                    kind = join(kind, k)
                new_facts[(key, name)] = kind
        new_attrs: Dict[Tuple[str, str], object] = {}
        for cls, attrs in self.attr_bindings.items():
            for attr, entries in attrs.items():
                kind = BOTTOM
                for how, scope in entries:
                    kind = join(kind, self._binding_kind(how, scope, None))
                new_attrs[(cls, attr)] = kind
        new_forward: Dict[str, object] = {}
        for cls in self._module_classes:
            scope = self._method_scope(cls, "forward")
            if scope is None:
                continue
            kind = BOTTOM if scope.returns else UNKNOWN
            for r in scope.returns:
                kind = join(kind, self.kind(r, scope.key))
            new_forward[cls] = kind
        changed = new_facts != self.facts or new_attrs != self.attr_facts or new_forward != self.forward_facts
        self.facts, self.attr_facts, self.forward_facts = new_facts, new_attrs, new_forward
        return changed

    def _method_scope(self, cls: str, method: str) -> Optional[Scope]:
        seen = set()
        while cls and cls not in seen:
            seen.add(cls)
            for key, scope in self.scopes.items():
                if len(key) >= 2 and key[-1] == method and key[-2] == cls and scope.class_name == cls:
                    return scope
            bases = [b.value for b in self.class_bases.get(cls, []) if isinstance(b, cst.Name)]
            cls = next((b for b in bases if b in self._module_classes), None)
        return None

    def _binding_kind(self, how: tuple, scope: Scope, name: Optional[str]):
        tag = how[0]
        if tag == "const":
            return how[1]
        if tag == "param":
            return module_kind(None, UNKNOWN) if how[1] in scope.module_params else UNKNOWN
        if tag == "value":
            return self.kind(how[1], scope.key)
        if tag == "iter":
            return self.element_kind(self.kind(how[1], scope.key))
        if tag == "item":
            _, inner, index, count = how
            if inner[0] == "value" and isinstance(inner[1], (cst.Tuple, cst.List)) and len(inner[1].elements) == count:
                el = inner[1].elements[index]
                return UNKNOWN if isinstance(el, cst.StarredElement) else self.kind(el.value, scope.key)
            return self.item_kind(self._binding_kind(inner, scope, None), index)
        if tag == "aug":
            node: cst.AugAssign = how[1]
            return self._arith(self.lookup(node.target.value, scope.key), self.kind(node.value, scope.key), node.operator)
        return UNKNOWN

    # -- element kinds ---------------------------------------------------------------------
    def element_kind(self, kind):
        """Kind of the items of iterating over a value of ``kind``."""
        if kind in (PARAMS,):
            return PARAM
        if kind == MODULES:
            return module_kind(None, UNKNOWN)
        if kind == NAMED_PARAMS:
            return ("tuple", (NODATA, PARAM))
        if kind == PGROUPS:
            return PGROUP
        if kind in TENSOR_KINDS or kind == TUPLE_T:
            return TENSOR
        if isinstance(kind, tuple) and kind[0] == "zip":
            return ("tuple", tuple(self.element_kind(k) for k in kind[1]))
        if isinstance(kind, tuple) and kind[0] == "enumerate":
            return ("tuple", (NODATA, self.element_kind(kind[1])))
        return UNKNOWN

    def item_kind(self, kind, index: int):
        """Kind of element ``index`` when unpacking a value of ``kind``."""
        if isinstance(kind, tuple) and kind[0] == "tuple":
            return kind[1][index] if index < len(kind[1]) else UNKNOWN
        if kind in TENSOR_KINDS or kind == TUPLE_T:
            return TENSOR
        return UNKNOWN

    # -- queries -------------------------------------------------------------------------------
    def _scope_for(self, key: ScopeKey) -> Optional[Scope]:
        while key not in self.scopes and key:
            key = key[:-1]
        return self.scopes.get(key)

    def lookup(self, name: str, key: ScopeKey):
        scope = self._scope_for(key)
        first = True
        while scope is not None:
            if scope.kind != "class" or first:
                if name in scope.bindings and name not in scope.globals:
                    return self.facts.get((scope.key, name), BOTTOM)
                if name in scope.globals:
                    scope = self.scopes[()]
                    continue
            first = False
            scope = scope.parent
        return UNKNOWN

    def self_class(self, name: str, key: ScopeKey) -> Optional[str]:
        """The class name if ``name`` is the ``self`` parameter of the method at ``key``."""
        scope = self._scope_for(key)
        while scope is not None and scope.kind in ("lambda", "comp"):
            scope = scope.parent
        if scope is not None and scope.self_name == name and scope.class_name:
            # self must not be rebound in the method
            if len(scope.bindings.get(name, ())) == 1:
                return scope.class_name
        return None

    def kind(self, expr: cst.CSTNode, key: ScopeKey):
        """The kind of ``expr`` evaluated in scope ``key``."""
        try:
            return self._kind(expr, key)
        except RecursionError:
            return UNKNOWN

    def tensor_kind(self, expr, key) -> Optional[str]:
        k = self.kind(expr, key)
        return k if k in TENSOR_KINDS else None

    def _kind(self, expr, key):
        if isinstance(expr, (cst.Name, cst.Attribute)) and self.imports.resolve(expr) in _LOSS_FUNCTIONS:
            return LOSS_FN
        if isinstance(expr, cst.Name):
            if expr.value in ("None", "True", "False"):
                return NODATA
            return self.lookup(expr.value, key)
        if isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return NODATA
        if isinstance(expr, (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)):
            return NODATA
        if isinstance(expr, cst.Tuple):
            if any(isinstance(e, cst.StarredElement) for e in expr.elements):
                return NODATA
            return ("tuple", tuple(self._kind(e.value, key) for e in expr.elements))
        if isinstance(expr, cst.Attribute):
            return self._attribute_kind(expr, key)
        if isinstance(expr, cst.Call):
            return self._call_kind(expr, key)
        if isinstance(expr, cst.Subscript):
            base = self._kind(expr.value, key)
            if base == BOTTOM:
                return BOTTOM
            if base in TENSOR_KINDS or base == TUPLE_T:
                return TENSOR
            if base == PGROUP:
                s = expr.slice[0].slice if len(expr.slice) == 1 else None
                if isinstance(s, cst.Index) and isinstance(s.value, cst.SimpleString) and s.value.evaluated_value == "params":
                    return PARAMS
                return UNKNOWN
            if base == PGROUPS:
                return PGROUP
            if is_module(base):
                return module_kind(None, UNKNOWN)  # nn.Sequential / ModuleList indexing
            if base == PARAMS:
                return PARAM
            if isinstance(base, tuple) and base[0] == "tuple" and len(expr.slice) == 1:
                s = expr.slice[0].slice
                if isinstance(s, cst.Index) and isinstance(s.value, cst.Integer):
                    i = int(s.value.value, 0)
                    return base[1][i] if i < len(base[1]) else UNKNOWN
            return UNKNOWN
        if isinstance(expr, cst.BinaryOperation):
            return self._arith(self._kind(expr.left, key), self._kind(expr.right, key), expr.operator)
        if isinstance(expr, cst.UnaryOperation):
            k = self._kind(expr.expression, key)
            if isinstance(expr.operator, cst.Not):
                return NODATA
            return _rank(k) if k in TENSOR_KINDS else (NODATA if _is_number(expr) else UNKNOWN)
        if isinstance(expr, cst.IfExp):
            return join(self._kind(expr.body, key), self._kind(expr.orelse, key))
        if isinstance(expr, cst.Comparison):
            ks = [self._kind(expr.left, key)] + [self._kind(c.comparator, key) for c in expr.comparisons]
            if any(isinstance(c.operator, (cst.In, cst.NotIn, cst.Is, cst.IsNot)) for c in expr.comparisons):
                return NODATA
            if any(k in TENSOR_KINDS for k in ks):
                return TENSOR
            return UNKNOWN
        if isinstance(expr, (cst.BooleanOperation,)):
            return UNKNOWN
        return UNKNOWN

    def _arith(self, a, b, op):
        if BOTTOM in (a, b):
            return BOTTOM  # not known yet (optimistic fixpoint)
        num_a, num_b = a == NODATA, b == NODATA
        if isinstance(op, (cst.MatrixMultiply, cst.MatrixMultiplyAssign)):
            return TENSOR if a in TENSOR_KINDS and b in TENSOR_KINDS else UNKNOWN
        if isinstance(op, (cst.Modulo, cst.ModuloAssign)) and a == NODATA:
            return UNKNOWN  # string formatting or number % x
        ta, tb = a in TENSOR_KINDS, b in TENSOR_KINDS
        if not (ta or tb):
            return NODATA if num_a and num_b else UNKNOWN
        if isinstance(op, (cst.Modulo, cst.ModuloAssign)) and not ta:
            return UNKNOWN
        if (ta and not (tb or num_b)) or (tb and not (ta or num_a)):
            return UNKNOWN
        ra = _rank(a) if ta else SCALAR
        rb = _rank(b) if tb else SCALAR
        if ra == SCALAR and rb == SCALAR:
            return SCALAR
        if NONSCALAR in (ra, rb):
            return NONSCALAR
        return TENSOR

    def _attribute_kind(self, expr: cst.Attribute, key):
        attr = expr.attr.value
        if isinstance(expr.value, cst.Name):
            cls = self.self_class(expr.value.value, key)
            if cls is not None:
                return self._class_attr(cls, attr)
        q = self.imports.resolve(expr)
        if q:
            return UNKNOWN
        base = self._kind(expr.value, key)
        if base == BOTTOM:
            return BOTTOM
        if attr == "grad":
            return _rank(base) if base in TENSOR_KINDS else TENSOR
        if base in TENSOR_KINDS:
            if attr == "data":
                return base
            if attr in _ATTR_TENSOR:
                return _rank(base)
            return UNKNOWN
        if is_module(base):
            if attr in ("weight", "bias") or attr.startswith(("weight_", "bias_")):
                if base[1] is not None:
                    k = self._class_attr(base[1], attr)
                    if k not in (BOTTOM, UNKNOWN):
                        return k
                return PARAM
            if base[1] is not None:
                return self._class_attr(base[1], attr)
            return UNKNOWN
        if attr == "param_groups":
            return PGROUPS
        return UNKNOWN

    def _class_attr(self, cls: str, attr: str):
        seen = set()
        while cls and cls not in seen:
            seen.add(cls)
            k = self.attr_facts.get((cls, attr))
            if k is not None:
                return k if k != BOTTOM else UNKNOWN
            bases = [b.value for b in self.class_bases.get(cls, []) if isinstance(b, cst.Name)]
            cls = bases[0] if len(bases) == 1 else None
        return UNKNOWN

    def _call_kind(self, call: cst.Call, key):
        func = call.func
        q = self.imports.resolve(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        pos = _positional(call)
        if q:
            return self._torch_call(q, call, pos, key)
        if isinstance(func, cst.Name):
            name = func.value
            if name in self._module_classes and self.lookup(name, key) in (NODATA, BOTTOM, UNKNOWN):
                return module_kind(name, self.forward_facts.get(name, BOTTOM))
            if self.imports.is_builtin(func, name):
                return self._builtin_call(name, pos, key)
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            recv = self._kind(func.value, key)
            if recv == BOTTOM:
                return BOTTOM
            if recv in TENSOR_KINDS:
                return self._tensor_method(recv, method, call, pos, key)
            if is_module(recv):
                if method in _MODULE_SELF_METHODS:
                    return recv
                if method == "forward":
                    return recv[2]
            if method == "parameters":
                return PARAMS
            if method == "named_parameters":
                return NAMED_PARAMS
            if method in ("modules", "children"):
                return MODULES
        fk = self._kind(func, key)
        if is_module(fk):
            return fk[2]
        if fk == LOSS_FN:  # criterion = F.nll_loss; criterion(out, y)
            return SCALAR if _reduction_keeps_scalar(call, 3) else TENSOR
        return BOTTOM if fk == BOTTOM else UNKNOWN

    def _builtin_call(self, name, pos, key):
        if name in ("list", "tuple", "iter", "sorted", "reversed") and len(pos) == 1:
            k = self._kind(pos[0].value, key)
            return k if k in (PARAMS, NAMED_PARAMS, MODULES, PGROUPS) else NODATA
        if name == "filter" and len(pos) == 2:
            k = self._kind(pos[1].value, key)
            return k if k in (PARAMS, NAMED_PARAMS, MODULES) else NODATA
        if name == "zip":
            return ("zip", tuple(self._kind(a.value, key) for a in pos))
        if name == "enumerate" and pos:
            return ("enumerate", self._kind(pos[0].value, key))
        if name in ("float", "int", "len", "str", "repr", "bool", "range", "dict", "set", "print", "isinstance", "hasattr", "round", "abs", "sum", "max", "min", "format"):
            if name in ("abs", "sum", "max", "min", "round"):
                return UNKNOWN
            return NODATA
        return UNKNOWN

    def _torch_call(self, q, call, pos, key):
        if q == VARIABLE or q == "torch.nn.Parameter":
            if pos:
                k = self._kind(pos[0].value, key)
                if q == "torch.nn.Parameter":
                    return PARAM
                return _rank(k) if k in TENSOR_KINDS else TENSOR
            return TENSOR
        if q in _LOSS_FUNCTIONS:
            return SCALAR if _reduction_keeps_scalar(call, 3) else TENSOR
        if q.startswith("torch.nn.functional."):
            if any(a.keyword and a.keyword.value.startswith("return_") for a in call.args):
                return UNKNOWN
            return TENSOR
        if q.startswith("torch.nn.init."):
            return PARAM
        if q.startswith("torch.nn.") and q.count(".") == 2 and q[9:10].isupper():
            if q in _RNN_MODULES or q in _CONTAINERS:
                return module_kind(None, UNKNOWN)
            if q in _WRAPPERS:
                return self._kind(pos[0].value, key) if pos and is_module(self._kind(pos[0].value, key)) else module_kind(None, UNKNOWN)
            if q.endswith("Loss"):
                return module_kind(None, SCALAR if _reduction_keeps_scalar(call, 1) else TENSOR)
            if q == "torch.nn.Sequential":
                return module_kind(None, TENSOR)
            if q == "torch.nn.Module":
                return module_kind(None, UNKNOWN)
            return module_kind(None, NONSCALAR)
        if q.startswith("torchvision.models.") and q.count(".") == 2 and q[19:20].islower():
            return module_kind(None, NONSCALAR)
        if q in FACTORIES_WITH_REQUIRES_GRAD or q in OTHER_FACTORIES or q in CONSTRUCTORS:
            if pos and all(isinstance(a.value, cst.Integer) for a in pos) and q not in ("torch.tensor",):
                return NONSCALAR
            return TENSOR
        if q == "torch.autograd.grad":
            return TUPLE_T
        if q.startswith("torch.") and q.count(".") == 1:
            fn = q[6:]
            dims = len(pos) > 1 or any(a.keyword and a.keyword.value in ("dim", "axis") for a in call.args)
            if fn in _TUPLE_FUNCS:
                return TUPLE_T
            if fn in _TUPLE_REDUCTIONS and dims:
                if fn in ("max", "min") and len(pos) == 2 and not _is_number(pos[1].value):
                    k = self._kind(pos[1].value, key)
                    return TENSOR if k in TENSOR_KINDS else UNKNOWN
                return TUPLE_T
            if fn in _REDUCTIONS and len(pos) == 1 and not dims and not any(a.star for a in call.args):
                if self._kind(pos[0].value, key) in TENSOR_KINDS or fn in ("sum", "mean"):
                    return SCALAR
            if fn in _TORCH_TENSOR_FUNCS:
                return TENSOR
        return UNKNOWN

    def _tensor_method(self, recv, method, call, pos, key):
        if method in _NONTENSOR_METHODS:
            return NOTTENSOR if method == "numpy" else NODATA
        if method == "type" and not call.args:
            return NODATA
        if any(a.star for a in call.args) or any(a.keyword and a.keyword.value.startswith("return_") for a in call.args):
            return UNKNOWN
        dims = bool(pos) or any(a.keyword and a.keyword.value in ("dim", "axis") for a in call.args)
        if method in ("chunk", "split", "unbind"):
            return TUPLE_T
        if method in _TUPLE_REDUCTIONS and method not in ("max", "min", "median"):
            return TUPLE_T
        if method in ("max", "min", "median"):
            if not call.args:
                return SCALAR
            if len(pos) == 1 and not _is_number(pos[0].value) and not call.args[0].keyword:
                return TENSOR if self._kind(pos[0].value, key) in TENSOR_KINDS else UNKNOWN
            return TUPLE_T
        if method in _REDUCTIONS:
            if not call.args:
                return SCALAR
            if method in ("norm", "dist") and len(call.args) == 1 and (_is_number(pos[0].value) if pos else call.args[0].keyword.value == "p"):
                return SCALAR
            if method == "dot":
                return SCALAR
            return TENSOR if dims else UNKNOWN
        if method in _RANK_KEEPING or (method.endswith("_") and not method.endswith("__")):
            if all(_is_number(a.value) or isinstance(a.value, cst.SimpleString) or self._kind(a.value, key) in (SCALAR, NODATA) for a in call.args):
                return _rank(recv)
            return NONSCALAR if _rank(recv) == NONSCALAR else TENSOR
        return TENSOR


def _rank(kind):
    return TENSOR if kind == PARAM else kind


def function_scope(inf: TensorInference, key: ScopeKey) -> Optional[Scope]:
    """The nearest enclosing function (or the module) scope of ``key``."""
    scope = inf._scope_for(key)
    while scope is not None and scope.kind in ("lambda", "comp", "class"):
        scope = scope.parent
    return scope
