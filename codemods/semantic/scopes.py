"""Scopes and bindings of one module, collected in one pass over Python's ``ast``.

Every scope (module, class, function, lambda, comprehension) records how each name is bound
(``Binding``: an assignment's value, a loop's iterable, a parameter, an import ...), the names
used as tensors in it (evidence: receiver of a tensor-only method, argument of a torch
function), the dotted names modified in place, its ``return`` values, and the calls it makes.
Classes record their bases and the attributes their methods assign on ``self``.

Scopes are listed in source order (``ModuleScopes.ordered``), which is also the order in which a
libcst traversal meets the corresponding ``def``/``class``/``lambda``/comprehension nodes: the
engine uses that to tell the rules which scope they are in.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from ..torchapi import TENSOR_ONLY_METHODS

ScopeKey = Tuple[str, ...]


@dataclass
class Binding:
    """How a name gets a value. ``how``: value | iter | item | aug | param | const | import |
    def | class | with | except. ``node``: the expression (or statement) it comes from."""

    how: str
    node: ast.AST
    index: int = 0  # for "item": the position in the unpacked tuple
    count: int = 0  # for "item": how many targets
    inner: Optional["Binding"] = None  # for "item": the binding being unpacked
    kind: object = None  # for "const": a kinds.Kind


@dataclass(eq=False)
class Scope:
    key: ScopeKey
    parent: Optional["Scope"]
    kind: str  # module | class | function | lambda | comp
    node: ast.AST
    bindings: Dict[str, List[Binding]] = field(default_factory=dict)
    evidence: Set[str] = field(default_factory=set)
    # names passed as the data of ``Variable(...)``: a working 0.3 program passed plain tensors
    plain: Set[str] = field(default_factory=set)
    inplace: Set[str] = field(default_factory=set)
    # names given ``.requires_grad = ...`` or ``.requires_grad_()``: they may require grad
    grad_names: Set[str] = field(default_factory=set)
    globals: Set[str] = field(default_factory=set)
    class_name: Optional[str] = None  # for methods: the enclosing class
    self_name: Optional[str] = None  # for methods: the first parameter
    params: List[str] = field(default_factory=list)
    returns: List[ast.AST] = field(default_factory=list)
    has_yield: bool = False
    calls: List[ast.Call] = field(default_factory=list)
    # (call, argument name): a name passed to a callable whose kind decides the evidence later
    evidence_calls: List[Tuple[ast.Call, str]] = field(default_factory=list)

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    @property
    def name(self) -> str:
        return self.key[-1] if self.key else "<module>"

    def function(self) -> "Scope":
        """The nearest enclosing function or module scope (lambdas, comprehensions, classes skipped)."""
        scope = self
        while scope.kind in ("lambda", "comp", "class") and scope.parent is not None:
            scope = scope.parent
        return scope


@dataclass(eq=False)
class ClassInfo:
    name: str
    node: ast.ClassDef
    scope: Scope
    bases: List[ast.expr]
    # attribute -> [(binding, method scope)] for ``self.attr = ...`` in its methods
    attrs: Dict[str, List[Tuple[Binding, Scope]]] = field(default_factory=dict)
    methods: Dict[str, Scope] = field(default_factory=dict)


@dataclass(eq=False)
class ModuleScopes:
    tree: ast.Module
    root: Scope
    ordered: List[Scope]  # every scope but the module, in source order
    by_node: Dict[int, Scope]
    classes: Dict[str, ClassInfo]  # top-level and nested classes by name (first wins)
    functions: Dict[str, List[Scope]]  # function scopes by name
    applied: Set[str]  # names passed to ``x.apply(fn)`` (their first parameter is a module)


def comp_names(node: ast.AST) -> List[str]:
    names: List[str] = []
    for gen in getattr(node, "generators", ()):
        names.extend(target_names(gen.target))
    return names


def target_names(target: ast.AST) -> List[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        out: List[str] = []
        for el in target.elts:
            out.extend(target_names(el))
        return out
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def dotted(node: ast.AST) -> Optional[str]:
    parts: List[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


_SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def source_position(node: ast.AST) -> Tuple[int, int]:
    """Where a scope node starts in the source (a decorated def starts at its first decorator)."""
    assert isinstance(node, (ast.stmt, ast.expr)), "the module scope is not ordered"
    decorators = getattr(node, "decorator_list", None)
    if decorators:
        first = decorators[0]
        return (first.lineno, -1)
    return (node.lineno, node.col_offset)


class _Collector(ast.NodeVisitor):
    def __init__(self, tree: ast.Module):
        self.root = Scope((), None, "module", tree)
        self.stack: List[Scope] = [self.root]
        self.ordered: List[Scope] = []
        self.by_node: Dict[int, Scope] = {id(tree): self.root}
        self.classes: Dict[str, ClassInfo] = {}
        self.functions: Dict[str, List[Scope]] = {}
        self.applied: Set[str] = set()
        self._class_stack: List[Optional[ClassInfo]] = [None]

    @property
    def scope(self) -> Scope:
        return self.stack[-1]

    def _push(self, key_part: str, kind: str, node: ast.AST) -> Scope:
        scope = Scope(self.scope.key + (key_part,), self.scope, kind, node)
        self.stack.append(scope)
        self.ordered.append(scope)
        self.by_node[id(node)] = scope
        return scope

    def _bind_scope(self, name: str) -> Scope:
        if name in self.scope.globals:
            return self.root
        return self.scope

    # -- scopes ----------------------------------------------------------------------------------
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for d in node.decorator_list:
            self.visit(d)
        for b in node.bases:
            self.visit(b)
        for k in node.keywords:
            self.visit(k)
        self.scope.bind(node.name, Binding("class", node))
        scope = self._push(node.name, "class", node)
        info = ClassInfo(node.name, node, scope, list(node.bases))
        self.classes.setdefault(node.name, info)
        self._class_stack.append(info)
        for stmt in node.body:
            self.visit(stmt)
        self._class_stack.pop()
        self.stack.pop()

    def visit_FunctionDef(self, node) -> None:
        for d in node.decorator_list:
            self.visit(d)
        args = node.args
        for default in [*args.defaults, *[d for d in args.kw_defaults if d is not None]]:
            self.visit(default)
        if node.returns is not None:
            self.visit(node.returns)
        outer = self.scope
        outer.bind(node.name, Binding("def", node))
        scope = self._push(node.name, "function", node)
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        scope.params = [p.arg for p in params]
        positional = [*args.posonlyargs, *args.args]
        defaults = dict(zip([p.arg for p in positional[len(positional) - len(args.defaults):]], args.defaults))
        defaults.update({p.arg: d for p, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
        for p in params:
            scope.bind(p.arg, Binding("param", p, inner=None, kind=defaults.get(p.arg)))
        for p in (args.vararg, args.kwarg):
            if p is not None:
                scope.bind(p.arg, Binding("const", p, kind="pyval"))
        cls = self._class_stack[-1]
        if outer.kind == "class" and params and cls is not None:
            static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)
            if not static:
                scope.class_name = cls.name
                scope.self_name = params[0].arg
            cls.methods.setdefault(node.name, scope)
        self.functions.setdefault(node.name, []).append(scope)
        self._class_stack.append(None)
        for stmt in node.body:
            self.visit(stmt)
        self._class_stack.pop()
        self.stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in [*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]]:
            self.visit(default)
        scope = self._push("<lambda:" + ",".join(a.arg for a in node.args.args) + ">", "lambda", node)
        for p in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            scope.bind(p.arg, Binding("param", p))
            scope.params.append(p.arg)
        self.visit(node.body)
        self.stack.pop()

    def _visit_comp(self, node) -> None:
        # the first iterable is evaluated in the enclosing scope
        gens = node.generators
        self.visit(gens[0].iter)
        self._push("<comp:" + ",".join(comp_names(node)) + ">", "comp", node)
        for i, gen in enumerate(gens):
            if i:
                self.visit(gen.iter)
            self._bind_target(gen.target, Binding("iter", gen.iter))
            for cond in gen.ifs:
                self.visit(cond)
        if isinstance(node, ast.DictComp):
            self.visit(node.key)
            self.visit(node.value)
        else:
            self.visit(node.elt)
        self.stack.pop()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comp

    def visit_Global(self, node: ast.Global) -> None:
        self.scope.globals.update(node.names)

    # -- bindings --------------------------------------------------------------------------------
    def _bind_target(self, target: ast.AST, binding: Binding) -> None:
        if isinstance(target, ast.Name):
            self._bind_scope(target.id).bind(target.id, binding)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if any(isinstance(e, ast.Starred) for e in target.elts):
                for n in target_names(target):
                    self._bind_scope(n).bind(n, Binding("const", target, kind="unknown"))
                return
            for i, el in enumerate(target.elts):
                self._bind_target(el, Binding("item", binding.node, i, len(target.elts), binding))
        elif isinstance(target, ast.Attribute):
            scope = self.scope
            if target.attr == "requires_grad" and isinstance(target.value, ast.Name):
                scope.grad_names.add(target.value.id)
            if scope.class_name and isinstance(target.value, ast.Name) and target.value.id == scope.self_name:
                info = self.classes.get(scope.class_name)
                if info is not None:
                    info.attrs.setdefault(target.attr, []).append((binding, scope))
            self.visit(target.value)
        elif isinstance(target, ast.Subscript):
            self.visit(target.value)
            self.visit(target.slice)
        elif isinstance(target, ast.Starred):
            self._bind_target(target.value, Binding("const", target, kind="unknown"))

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for t in node.targets:
            self._bind_target(t, Binding("value", node.value))
            self._note_write(t)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._bind_target(node.target, Binding("value", node.value))
        self.visit(node.annotation)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        self._note_write(node.target, aug=True)
        if isinstance(node.target, ast.Name):
            self._bind_scope(node.target.id).bind(node.target.id, Binding("aug", node))
        else:
            self.visit(node.target)

    def visit_NamedExpr(self, node) -> None:
        self.visit(node.value)
        self._bind_target(node.target, Binding("value", node.value))

    def visit_For(self, node) -> None:
        self.visit(node.iter)
        self._bind_target(node.target, Binding("iter", node.iter))
        for stmt in [*node.body, *node.orelse]:
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_withitem(self, node: ast.withitem) -> None:
        self.visit(node.context_expr)
        if node.optional_vars is not None:
            self._bind_target(node.optional_vars, Binding("with", node.context_expr))

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.scope.bind(node.name, Binding("except", node))
        for stmt in node.body:
            self.visit(stmt)

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            local = a.asname or a.name.split(".")[0]
            self.scope.bind(local, Binding("import", node))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for a in node.names:
            if a.name != "*":
                self.scope.bind(a.asname or a.name, Binding("import", node))

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            self.visit(node.value)
            self.scope.function().returns.append(node.value)

    def visit_Yield(self, node) -> None:
        self.scope.function().has_yield = True
        self.generic_visit(node)

    visit_YieldFrom = visit_Yield

    # -- evidence and in-place writes --------------------------------------------------------------
    def _note_write(self, target: ast.AST, aug: bool = False) -> None:
        base = target
        if isinstance(base, ast.Subscript) or (isinstance(base, ast.Attribute) and base.attr == "data"):
            base = base.value
        elif not (aug and isinstance(base, (ast.Name, ast.Attribute))):
            return
        while isinstance(base, ast.Attribute) and base.attr == "data":
            base = base.value
        name = dotted(base)
        if name:
            self.scope.inplace.add(name)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        scope = self.scope
        if isinstance(func, ast.Attribute):
            method = func.attr
            recv = func.value
            while isinstance(recv, ast.Attribute) and recv.attr == "data":
                recv = recv.value
            while isinstance(recv, ast.Subscript):
                recv = recv.value
            if method == "requires_grad_" and isinstance(func.value, ast.Name):
                scope.grad_names.add(func.value.id)
            if method.endswith("_") and not method.endswith("__") and method != "requires_grad_":
                name = dotted(recv)
                if name:
                    scope.inplace.add(name)
            if isinstance(func.value, ast.Name) and method in TENSOR_ONLY_METHODS:
                scope.evidence.add(func.value.id)
            if method == "apply" and len(node.args) == 1 and isinstance(node.args[0], ast.Name):
                self.applied.add(node.args[0].id)
        for kw in node.keywords:
            if kw.arg == "out":
                name = dotted(kw.value)
                if name:
                    scope.inplace.add(name)
        scope.calls.append(node)
        self.generic_visit(node)


def collect(tree: ast.Module) -> ModuleScopes:
    c = _Collector(tree)
    for stmt in tree.body:
        c.visit(stmt)
    ordered = sorted(c.ordered, key=lambda s: source_position(s.node))
    return ModuleScopes(tree, c.root, ordered, c.by_node, c.classes, c.functions, c.applied)
