"""Name resolution through a file's imports, built in one cheap pass, and import edits.

``ImportTable`` maps every name a module binds by import to the qualified name it stands for
(``V`` -> ``torch.autograd.Variable``, ``F`` -> ``torch.nn.functional``, ``th`` -> ``torch``).
It is built from Python's own ``ast`` (which the engine parses anyway to validate input), which is
an order of magnitude cheaper than libcst's ``QualifiedNameProvider`` (see scripts/bench.py).

Resolution is deliberately conservative: a name that the module *also* binds in any other way
(``class Variable``, ``def F(...)``, ``Variable = None`` in an ``except ImportError``, a parameter
called ``F``) is never resolved, so a user's own ``Variable`` is never touched.
"""
from __future__ import annotations

import ast
import builtins
from collections import deque
from typing import Dict, Iterable, List, Optional, Set

import libcst as cst

from .cstutil import PruningTransformer, cst_visit

# Qualified-name prefixes that are spelled differently but denote the same object.
_CANONICAL_PREFIXES = (
    ("torch.autograd.variable.", "torch.autograd."),
    ("torch.nn.modules.loss.", "torch.nn."),
    ("torch.nn.modules.", "torch.nn."),
    ("torch.nn.utils.clip_grad.", "torch.nn.utils."),
)


def canonical(qualified: str) -> str:
    for prefix, repl in _CANONICAL_PREFIXES:
        if qualified.startswith(prefix):
            rest = qualified[len(prefix):]
            # torch.nn.modules.linear.Linear -> torch.nn.Linear
            if prefix == "torch.nn.modules." and "." in rest:
                rest = rest.rsplit(".", 1)[1]
            return repl + rest
    return qualified


def dotted_name(node: cst.CSTNode) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: List[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def absolute_module(module: Optional[str], level: int, current: Optional[str], is_package: bool) -> Optional[str]:
    """The absolute name of ``from <level dots><module> import ...`` in module ``current``."""
    if not level:
        return module
    if current is None:
        return None
    parts = current.split(".")
    if not is_package:
        parts = parts[:-1]
    if level - 1 > len(parts) or (level - 1 == len(parts) and not module):
        return None
    base = parts[: len(parts) - (level - 1)]
    if module:
        base.append(module)
    return ".".join(base) or None


# the node types that bind names (ImportTable's walk skips every other one at once)
_BINDING_NODES = frozenset((
    ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.arg, ast.Name,
    ast.ExceptHandler,
))


class ImportTable:
    """Local name -> qualified name, for the names a module binds by importing.

    With a project index (``project``) and the module's own name, relative imports and star
    imports of the project's modules are resolved too, and a name that a project module merely
    re-exports (``from .imports import *`` where ``imports.py`` did ``import torch``) resolves
    to what it stands for."""

    def __init__(self, tree: ast.AST, module: Optional[str] = None, project=None, is_package: bool = False):
        self.aliases: Dict[str, Set[str]] = {}
        self.other_bindings: Set[str] = set()
        self.star_modules: List[str] = []
        # names bound by imports that run at module level (not inside a def or class), the only
        # ones a rewrite may use anywhere in the file (``torch.`` in a new expression)
        self.module_level: Set[str] = set()
        self.module = module
        self.project = project
        self._imports_torch: Optional[bool] = None
        # one breadth-first walk (``ast.walk``'s order); ``nested``: inside a def, class or lambda
        scoped = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
        todo = deque([(tree, False)])
        node_type = ast.AST
        while todo:
            node, nested = todo.popleft()
            inner = nested or (node is not tree and isinstance(node, scoped))
            for name in node._fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    todo.extend((item, inner) for item in value if isinstance(item, node_type))
                elif isinstance(value, node_type):
                    todo.append((value, inner))
            if type(node) not in _BINDING_NODES:
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self._bind(local, alias.name if alias.asname else local)
                    if not nested:
                        self.module_level.add(local)
            elif isinstance(node, ast.ImportFrom):
                base = node.module
                if node.level:
                    base = absolute_module(node.module, node.level, module, is_package) if project is not None else None
                    if base is None:
                        for alias in node.names:
                            if alias.name == "*":
                                self.star_modules.append("." * node.level + (node.module or ""))
                            else:
                                self.other_bindings.add(alias.asname or alias.name)
                        continue
                if not base:
                    continue
                for alias in node.names:
                    if alias.name == "*":
                        self.star_modules.append(canonical(base))
                    else:
                        local = alias.asname or alias.name
                        self._bind(local, f"{base}.{alias.name}")
                        if not nested:
                            self.module_level.add(local)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.other_bindings.add(node.name)
            elif isinstance(node, ast.arg):
                self.other_bindings.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                self.other_bindings.add(node.id)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                self.other_bindings.add(node.name)

    @property
    def imports_torch(self) -> bool:
        """The file imports torch (any module of it, any spelling, star imports included)."""
        if self._imports_torch is None:
            self._imports_torch = any(
                t == "torch" or t.startswith("torch.") for ts in self.aliases.values() for t in ts
            ) or any(m == "torch" or m.startswith("torch.") for m in self.star_modules)
        return self._imports_torch

    def _bind(self, local: str, qualified: str) -> None:
        self.aliases.setdefault(local, set()).add(canonical(qualified))

    # -- lookups -------------------------------------------------------------------------------
    def resolve_dotted(self, dotted: str) -> Optional[str]:
        head, _, rest = dotted.partition(".")
        if head in self.other_bindings:
            return None
        targets = self.aliases.get(head)
        if targets:
            if len(targets) != 1:
                return None
            (base,) = targets
            return self._canonical(base + ("." + rest if rest else ""))
        if head in _BUILTINS:
            return None
        star = self._star_source(head)
        if star is not None:
            return self._canonical(f"{star}.{dotted}")
        return None

    def _star_source(self, name: str) -> Optional[str]:
        """The module a bare name comes from through the file's star imports, when that is
        certain: torch's when it is the file's one star import; a project module's when that
        module exports the name and no later star import might (re)bind it."""
        project = self.project
        source = None
        for star in self.star_modules:
            if project is not None and project.has_module(star):
                if project.exports(star, name):
                    source = star
            elif star.startswith("."):
                return None  # an unresolved relative star import: could be anything
            elif len(self.star_modules) == 1 and (star == "torch" or star.startswith("torch.")):
                source = star
            else:
                source = None  # a module outside the project may bind any name
        return source

    def _canonical(self, qualified: str) -> str:
        qualified = canonical(qualified)
        if self.project is not None:
            qualified = canonical(self.project.reexported(qualified))
        return qualified

    def resolve(self, node: cst.CSTNode) -> Optional[str]:
        """Qualified name of a Name/Attribute expression, or None when unknown or shadowed."""
        dotted = dotted_name(node)
        return self.resolve_dotted(dotted) if dotted else None

    def is_builtin(self, node: cst.CSTNode, name: str) -> bool:
        """True if ``node`` is the bare builtin ``name`` (not rebound or imported by the module)."""
        return (
            isinstance(node, cst.Name)
            and node.value == name
            and name not in self.other_bindings
            and name not in self.aliases
        )

    def local_names_for(self, qualified: str) -> List[str]:
        """Names bound by ``from ... import`` to exactly ``qualified``."""
        return [
            local
            for local, targets in self.aliases.items()
            if targets == {qualified} and local not in self.other_bindings
        ]

    def module_alias(self, module: str) -> Optional[str]:
        """A name bound to module ``module`` by a module-level import, so usable anywhere in the
        file (prefer the module's own spelling)."""
        head = module.split(".")[0]
        usable = lambda local: local in self.module_level and local not in self.other_bindings
        if module == head and self.aliases.get(head) == {head} and usable(head):
            return head
        for local, targets in sorted(self.aliases.items()):
            if targets == {module} and usable(local):
                return local
        return None

    def is_free(self, name: str) -> bool:
        """True if the module binds ``name`` in no way at all."""
        return name not in self.aliases and name not in self.other_bindings

    def can_import(self, module: str) -> bool:
        """True if ``import module`` may be added at the top: its first name is unbound, or bound
        only to that same module (e.g. by an import inside a function)."""
        head = module.split(".")[0]
        return head not in self.other_bindings and self.aliases.get(head, {head}) == {head}


_BUILTINS = set(dir(builtins)) | {"self", "cls"}


# -- import insertion and removal ------------------------------------------------------------
def _is_future_or_docstring(stmt: cst.CSTNode, index: int) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    first = stmt.body[0]
    if isinstance(first, cst.ImportFrom) and isinstance(first.module, cst.Name) and first.module.value == "__future__":
        return True
    return index == 0 and isinstance(first, cst.Expr) and isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString))


def _imports_torch(stmt: cst.CSTNode) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    for small in stmt.body:
        if isinstance(small, cst.Import):
            if any((dotted_name(a.name) or "").split(".")[0] == "torch" for a in small.names):
                return True
        elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative and (dotted_name(small.module) or "").split(".")[0] == "torch":
            return True
    return False


def add_module_imports(module: cst.Module, modules: Iterable[str]) -> cst.Module:
    """Insert ``import m`` statements at top level: after the first torch import if there is
    one (so comments above that import stay where they are), else after the docstring and
    ``from __future__`` imports."""
    new = [cst.parse_statement(f"import {m}") for m in modules]
    if not new:
        return module
    body = list(module.body)
    index = None
    for i, stmt in enumerate(body):
        if _imports_torch(stmt):
            index = i + 1
            break
    if index is None:
        index = 0
        while index < len(body) and _is_future_or_docstring(body[index], index):
            index += 1
    return module.with_changes(body=body[:index] + new + body[index:])


class _RemoveImportedNames(PruningTransformer):
    def __init__(self, qualified_by_local: Dict[str, Set[str]]):
        super().__init__()
        self.qualified_by_local = qualified_by_local

    def leave_ImportFrom(self, original, updated):
        if updated.relative or updated.module is None or isinstance(updated.names, cst.ImportStar):
            return updated
        module = dotted_name(updated.module) or ""
        keep = []
        for alias in updated.names:
            local = (alias.asname.name.value if alias.asname else None) or dotted_name(alias.name)
            qualified = canonical(f"{module}.{dotted_name(alias.name)}")
            if local in self.qualified_by_local and qualified in self.qualified_by_local[local]:
                continue
            keep.append(alias)
        if len(keep) == len(updated.names):
            return updated
        if not keep:
            return cst.RemoveFromParent()
        keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(names=keep)

    def leave_SimpleStatementLine(self, original, updated):
        if not updated.body:
            return self.mark_removed(updated.with_changes(body=[cst.Pass()]))
        return updated


def remove_imported_names(module: cst.Module, qualified_by_local: Dict[str, Set[str]]) -> cst.Module:
    """Remove ``from X import name [as local]`` aliases for the given local names; a statement
    left empty is dropped and its comment lines move to the next statement."""
    return cst_visit(module, _RemoveImportedNames(qualified_by_local))
