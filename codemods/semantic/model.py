"""The per-file semantic model every rule queries (``ctx.analysis``).

``FileAnalysis`` is the ``ast``-level part (scopes, bindings, kinds), also used by the project
index to summarise modules. ``SemanticModel`` wraps it for rules, which hold libcst nodes: the
engine's batched traversal tells it which scope the traversal is in (``ctx.scope_path``), and
queries convert the libcst expression to ``ast`` (``cst2ast``) and evaluate it there.
"""
from __future__ import annotations

import ast
import builtins
from typing import List, Optional, Tuple, Union, cast

import libcst as cst

from .. import torchapi as api
from ..cstutil import cst_visit
from .cst2ast import Converter
from .infer import Inference, Resolver
from .kinds import UNKNOWN, Kind, Tensor
from .scopes import ModuleScopes, Scope, collect, dotted

_BUILTINS = set(dir(builtins))
Block = Union[cst.IndentedBlock, cst.Module]  # a block of statements


class ProjectResolver(Resolver):
    def __init__(self, imports, project=None, module: Optional[str] = None):
        self.imports = imports
        self.project = project
        self.module = module

    def qualified(self, dotted_name: str) -> Optional[str]:
        return self.imports.resolve_dotted(dotted_name)

    def is_builtin(self, name: str) -> bool:
        return name in _BUILTINS and name not in self.imports.other_bindings and name not in self.imports.aliases

    def external(self, qualified: str) -> Optional[Kind]:
        return self.project.kind_of(qualified) if self.project is not None else None

    def call_external(self, kind: Kind, call: ast.Call, args) -> Optional[Kind]:
        return self.project.call_kind(kind) if self.project is not None else None

    def attr_external(self, kind: Kind, attr: str) -> Optional[Kind]:
        return self.project.attr_kind(kind, attr) if self.project is not None else None

    def method_external(self, kind: Kind, method: str) -> Optional[Kind]:
        return self.project.method_kind(kind, method) if self.project is not None else None

    def is_module_class(self, qualified: str) -> bool:
        return self.project.is_module_class(qualified) if self.project is not None else False

    def param_kind(self, function: str, index: int) -> Optional[Kind]:
        if self.project is None or self.module is None:
            return None
        return self.project.parameter_kind(self.module, function, index)


class FileAnalysis:
    """Scopes and kinds of one module's ``ast``."""

    def __init__(self, tree: ast.Module, imports, project=None, module: Optional[str] = None):
        self.tree = tree
        self.imports = imports
        self.project = project
        self.module = module
        self.scopes: ModuleScopes = collect(tree)
        self.resolver = ProjectResolver(imports, project, module)
        self.inference = Inference(self.scopes, self.resolver)

    def qualified(self, node: ast.AST) -> Optional[str]:
        d = dotted(node)
        return self.resolver.qualified(d) if d else None

    def volatile_helper(self, scope: Scope) -> Optional[Tuple[Optional[Tuple[str, int]], bool]]:
        """``def to_var(x, volatile=False): ... return Variable(x, volatile=volatile)``: (the
        forwarded parameter and its positional index, False); always-volatile helpers: (None, True)."""
        if scope.kind != "function" or not scope.returns:
            return None
        found: Optional[Tuple[Optional[Tuple[str, int]], bool]] = None
        this: Tuple[Optional[Tuple[str, int]], bool]
        for r in scope.returns:
            if not isinstance(r, ast.Call) or self.qualified(r.func) != api.VARIABLE:
                return None
            flag = next((k.value for k in r.keywords if k.arg == "volatile"), None)
            if flag is None and len(r.args) >= 3:
                flag = r.args[2]
            if flag is None:
                return None
            if isinstance(flag, ast.Name) and flag.id in scope.params:
                params = scope.params
                offset = 1 if scope.self_name else 0
                this = ((flag.id, params.index(flag.id) - offset), False)
            elif isinstance(flag, ast.Constant) and flag.value is True:
                this = (None, True)
            else:
                return None
            if found is not None and found != this:
                return None
            found = this
        return found

    def is_old_style_function(self, node: ast.ClassDef) -> bool:
        """A subclass of ``torch.autograd.Function`` whose ``forward`` is an instance method."""
        if not any(self.qualified(b) == "torch.autograd.Function" for b in node.bases):
            return False
        for stmt in node.body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name == "forward":
                return not any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in stmt.decorator_list)
        return False


_SCOPE_KINDS = {
    cst.FunctionDef: "function", cst.ClassDef: "class", cst.Lambda: "lambda",
    cst.ListComp: "comp", cst.SetComp: "comp", cst.DictComp: "comp", cst.GeneratorExp: "comp",
}
SCOPE_NODES = tuple(_SCOPE_KINDS)
# nodes below a statement that change the environment of the code inside them
_ENV_BOUNDARIES = (*SCOPE_NODES, cst.IfExp, cst.IndentedBlock)


class SemanticModel:
    """What rules ask: the scope the traversal is in, and the kind of a libcst expression."""

    def __init__(self, ctx):
        module = None
        if ctx.project is not None:
            summary = ctx.project.module_for_path(ctx.path)
            module = summary.name if summary else None
        self.ctx = ctx
        self.file = FileAnalysis(ctx.tree, ctx.imports, ctx.project, module)
        self.scopes = self.file.scopes
        self.inference = self.file.inference
        self.convert = Converter()
        self.broken = False
        self._scope_map: Optional[dict] = None
        self._positions: dict = {}  # id(block) -> (block, {id(statement): index})
        self._prefix: dict = {}  # id(block) -> (block, [environment before statement 0, 1, ...])
        self._assigned: dict = {}  # id(statement) -> (statement, the names it may bind)
        self._env_memo: dict = {}  # id(innermost statement) -> (statement, scope, environment)

    # -- scopes ---------------------------------------------------------------------------------------
    @property
    def scope(self) -> Scope:
        """The innermost scope at the traversal's position (at a def's own hooks: its body's)."""
        path = self.ctx.scope_path
        if not path or self.broken:
            return self.scopes.root
        index = path[-1]
        ordered = self.scopes.ordered
        return ordered[index] if index < len(ordered) else self.scopes.root

    def check_scope(self, node: cst.CSTNode, index: int) -> None:
        """Called by the engine for the index-th scope node met: it must be the same scope."""
        ordered = self.scopes.ordered
        if index >= len(ordered):
            self.broken = True
            return
        scope = ordered[index]
        if scope.kind != _SCOPE_KINDS.get(type(node)) or (isinstance(node, (cst.FunctionDef, cst.ClassDef)) and scope.name != node.name.value):
            self.broken = True

    def scope_of(self, node: cst.CSTNode) -> Optional[Scope]:
        """The scope a ``def``/``class``/``lambda``/comprehension node of the *original* module
        opens (for rules that analyse the whole module before the traversal reaches it)."""
        if self._scope_map is None:
            found: List[cst.CSTNode] = []

            class Collect(cst.CSTVisitor):
                def on_visit(self, n):
                    if isinstance(n, SCOPE_NODES):
                        found.append(n)
                    return True

            cst_visit(self.ctx.module, Collect())
            ordered = self.scopes.ordered
            ok = len(found) == len(ordered) and all(
                _SCOPE_KINDS[type(n)] == s.kind and (not isinstance(n, (cst.FunctionDef, cst.ClassDef)) or n.name.value == s.name)
                for n, s in zip(found, ordered)
            )
            self._scope_map = {id(n): s for n, s in zip(found, ordered)} if ok else {}
            self._scope_nodes = found  # keep them alive: ids stay unique
        if isinstance(node, cst.Module):
            return self.scopes.root
        return self._scope_map.get(id(node))

    # -- kinds ----------------------------------------------------------------------------------------
    def kind(self, expr: cst.CSTNode, scope: Optional[Scope] = None) -> Kind:
        if self.broken:
            return UNKNOWN
        return self.inference.kind(self.convert(expr), scope or self.scope)

    def kind_here(self, expr: cst.CSTNode) -> Kind:
        """The kind of ``expr`` at the traversal's position, following the straight-line
        assignments before it in its function (``x = conv(x); x = fc(x.view(n, -1))`` makes ``x``
        2-D here, where the name's kind over the whole function is only "some tensor")."""
        if self.broken:
            return UNKNOWN
        scope = self.scope
        env = self._straight_line_env(scope)
        inf = self.inference
        saved = inf.env, inf.env_scope
        inf.env, inf.env_scope = env, scope
        try:
            return inf.kind(self.convert(expr), scope)
        finally:
            inf.env, inf.env_scope = saved

    def tensor_here(self, expr: cst.CSTNode) -> Optional[Tensor]:
        k = self.kind_here(expr)
        return k if isinstance(k, Tensor) else None

    def _straight_line_env(self, scope: Scope) -> dict:
        """Kinds of the names assigned by the simple statements that certainly ran before the
        current statement, in its function: the statements before it in its block and in every
        enclosing block (a name assigned anywhere in an enclosing loop, or in a compound statement
        on the way, is left out: its value there is not certain). Prefixes are computed once per
        block position, so a file costs linear time."""
        parents = self.ctx.parents
        # every query inside one statement (not inside a lambda, conditional expression or
        # comprehension of it) has the same environment: computed once per statement
        key = None
        for j in range(len(parents) - 1, -1, -1):
            node = parents[j]
            if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                key = id(node)
                break
            if isinstance(node, _ENV_BOUNDARIES):
                break
        if key is not None:
            hit = self._env_memo.get(key)
            if hit is not None and hit[0] is parents[j] and hit[1] is scope:
                return hit[2]
        env = self._compute_env(scope)
        if key is not None:
            self._env_memo[key] = (parents[j], scope, env)
        return env

    def _compute_env(self, scope: Scope) -> dict:
        parents = self.ctx.parents
        path: List[Tuple[Block, int]] = []  # (block, index of the statement on the path), outermost first
        for i, node in enumerate(parents):
            if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                path = []
            if isinstance(node, (cst.IndentedBlock, cst.Module)) and i + 1 < len(parents):
                index = self._index_in(node, parents[i + 1])
                if index is not None:
                    path.append((node, index))
        uncertain: set = set()
        for node in parents:
            if isinstance(node, (cst.For, cst.While)):
                uncertain |= self._assigned_names(node)
        inf = self.inference
        env: dict = {}
        for block, index in path:
            env = self._prefix_env(block, index, env, scope)
        env = {k: v for k, v in env.items() if k not in uncertain}
        # narrowing: inside `if isinstance(x, torch.Tensor):` (or Variable) x is a tensor
        for i, node in enumerate(parents[:-1]):
            child = parents[i + 1]
            if isinstance(node, cst.If) and child is node.body or isinstance(node, cst.IfExp) and child is node.body:
                name = self._isinstance_tensor(node.test)
                if name is not None:
                    known = env.get(name) if name in env else inf.lookup(name, scope)
                    env = {**env, name: known if isinstance(known, Tensor) else Tensor()}
        return env

    def _index_in(self, block: Block, child: cst.CSTNode) -> Optional[int]:
        table = self._positions.get(id(block))
        if table is None:
            table = self._positions[id(block)] = (block, {id(c): i for i, c in enumerate(block.body)})
        return table[1].get(id(child))

    def _prefix_env(self, block: Block, index: int, entry: dict, scope: Scope) -> dict:
        """The environment before statement ``index`` of ``block`` (entered with ``entry``)."""
        memo = self._prefix.setdefault(id(block), (block, [entry]))[1]
        if index < len(memo):
            return memo[index]
        env = memo[-1]
        inf = self.inference
        for k in range(len(memo) - 1, index):
            stmt = block.body[k]
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                        saved = inf.env, inf.env_scope
                        inf.env, inf.env_scope = env, scope
                        try:
                            value = inf.kind(self.convert(small.value), scope)
                        finally:
                            inf.env, inf.env_scope = saved
                        env = {**env, small.targets[0].target.value: value}
                    else:
                        names = self._assigned_names(small)
                        if names & env.keys():
                            env = {n: v for n, v in env.items() if n not in names}
            else:
                names = self._assigned_names(stmt)
                if names & env.keys():
                    env = {n: v for n, v in env.items() if n not in names}
            memo.append(env)
        return env

    def _assigned_names(self, node: cst.CSTNode) -> set:
        """``_assigned_names`` once per statement (a loop's is asked at every query inside it)."""
        hit = self._assigned.get(id(node))
        if hit is None:
            hit = self._assigned[id(node)] = (node, _assigned_names(node))
        return hit[1]

    def _isinstance_tensor(self, test: cst.CSTNode) -> Optional[str]:
        """``x`` for ``isinstance(x, torch.Tensor)`` / ``isinstance(x, Variable)``."""
        if not (isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "isinstance" and len(test.args) == 2):
            return None
        subject, cls = test.args[0].value, test.args[1].value
        if not isinstance(subject, cst.Name):
            return None
        q = self.ctx.imports.resolve(cls)
        return subject.value if q in ("torch.Tensor", "torch.autograd.Variable") else None

    def tensor(self, expr: cst.CSTNode, scope: Optional[Scope] = None) -> Optional[Tensor]:
        k = self.kind(expr, scope)
        return k if isinstance(k, Tensor) else None

    def lookup(self, name: str, scope: Optional[Scope] = None) -> Kind:
        return UNKNOWN if self.broken else self.inference.lookup(name, scope or self.scope)

    def bindings(self, name: str, scope: Optional[Scope] = None) -> List:
        """The bindings of ``name`` in the scope that defines it (innermost first)."""
        current: Optional[Scope] = scope or self.scope
        first = True
        while current is not None:
            if (current.kind != "class" or first) and name in current.bindings:
                return current.bindings[name]
            first = False
            current = current.parent
        return []


def _assigned_names(node: cst.CSTNode) -> set:
    """Names a statement (or any statement inside it) may bind: assignment, augmented and
    annotated assignment, ``for`` and ``with ... as`` targets, ``:=``, ``global``, and nested
    ``def``/``class`` names (not what is inside them)."""
    from ..cstutil import children

    names: set = set()
    stack = [node]
    while stack:
        n = stack.pop()
        t = type(n)
        if t is cst.FunctionDef or t is cst.ClassDef:
            names.add(cast(Union[cst.FunctionDef, cst.ClassDef], n).name.value)
            continue
        if t is cst.AssignTarget or t is cst.AugAssign or t is cst.AnnAssign or t is cst.For or t is cst.NamedExpr:
            names.update(_target_names(n.target))  # type: ignore[attr-defined]
        elif t is cst.WithItem:
            asname = cast(cst.WithItem, n).asname
            if asname is not None:
                names.update(_target_names(asname.name))
        elif t is cst.Global:
            names.update(a.name.value for a in cast(cst.Global, n).names)
        stack.extend(children(n))
    return names


def _target_names(t: cst.CSTNode) -> List[str]:
    from ..cstutil import target_names

    return target_names(t)
