"""The project index: one cheap pass over every file of a run, so that what one module defines is
understood where another module uses it.

``ProjectIndex.build(files)`` parses each file with Python's ``ast`` (no libcst), names it as the
interpreter would (the package root is the nearest folder above without ``__init__.py``), and
summarises what its top-level names are: torch aliases it imports or re-exports (also through
``from .x import *``), functions (what they return, a ``volatile``-style parameter), classes
(``nn.Module`` subclasses and what ``forward`` returns, attributes set in ``__init__``, old-style
autograd Functions), module-level values (a loss module, a tensor-type alias). It also records
every call of a project function with the kinds of its arguments, so that a parameter whose every
call site passes, say, an ``nn.NLLLoss()`` is known to hold one.

Modules are summarised in import order (a module after those it imports); a cycle is cut
arbitrarily, and a name that cannot be resolved is simply unknown. The index holds only compact
summaries (no syntax trees), so it is cheap to send to worker processes. The results do not
depend on the order of the files given.
"""
from __future__ import annotations

import ast
import hashlib
import os
import stat
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

from .semantic.kinds import (
    BOTTOM,
    UNKNOWN,
    ClassRef,
    FunctionRef,
    Instance,
    Kind,
    Module,
    Ref,
    Sequence_,
    Tensor,
    TorchRef,
    Tuple_,
    join,
)
from .source import decode
from .source import walk as ast_walk


@dataclass
class FunctionSummary:
    params: List[str]
    returns: Kind = UNKNOWN
    # a ``to_var(x, volatile=False)``-style helper: (parameter name, positional index) or None
    volatile_param: Optional[Tuple[str, int]] = None
    volatile_always: bool = False
    # every call in the project: (calling module, number of positional arguments, keyword names)
    call_sites: List[Tuple[str, int, Tuple[str, ...]]] = field(default_factory=list)
    # the literal default of ``volatile_param`` (True/False/None), or "?" when it is not a literal
    volatile_default: object = "?"
    # ``volatile_param`` is used for nothing but the volatile flag (dropping it changes nothing else)
    volatile_param_only: bool = False


@dataclass
class ClassSummary:
    bases: List[str]  # qualified names (project ones are ``pkg.mod.Class``)
    is_module: bool = False
    forward: Kind = UNKNOWN
    attrs: Dict[str, Kind] = field(default_factory=dict)
    methods: Dict[str, Kind] = field(default_factory=dict)
    old_style_function: bool = False
    init_params: List[str] = field(default_factory=list)  # ``__init__``'s parameters after self
    # the other modules that refer to the class (import it, name it, subclass it): for an
    # old-style autograd Function, the modules whose uses TU046 migrates with it
    users: Set[str] = field(default_factory=set)


@dataclass
class ModuleSummary:
    name: str
    path: str
    package: bool
    aliases: Dict[str, str] = field(default_factory=dict)  # local -> qualified (unambiguous imports)
    stars: List[str] = field(default_factory=list)
    defined: Set[str] = field(default_factory=set)  # names bound at module level otherwise
    all_names: Optional[Tuple[str, ...]] = None  # ``__all__`` when it is a literal
    functions: Dict[str, FunctionSummary] = field(default_factory=dict)
    classes: Dict[str, ClassSummary] = field(default_factory=dict)
    variables: Dict[str, Kind] = field(default_factory=dict)
    imports_torch: bool = False
    sha1: str = ""  # of the source indexed (a reader can tell that a file changed since)
    # the text indexed, kept only for files that mention ``volatile``: TU010 computes a sibling's
    # call-site outcomes from it (the file on disk may already be migrated by the same run)
    volatile_text: Optional[str] = None
    # the text indexed, kept only for files that define an old-style autograd Function or refer
    # to one of another module: TU046 decides a class's conversion with its users' uses from it
    function_text: Optional[str] = None


def module_name_for(path: str) -> Tuple[str, bool, str]:
    """(dotted module name, is a package ``__init__``, root folder) as the interpreter would name
    the file when its root folder is on ``sys.path``."""
    path = os.path.abspath(path)
    folder, filename = os.path.split(path)
    stem = filename[:-3] if filename.endswith(".py") else filename
    package = stem == "__init__"
    parts = [] if package else [stem]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, pkg = os.path.split(folder)
        parts.insert(0, pkg)
        if not pkg:
            break
    return ".".join(parts) or stem, package, folder


class ProjectIndex:
    """Summaries of the project's modules, and the kinds passed at call sites of its functions."""

    def __init__(self) -> None:
        self.modules: Dict[str, ModuleSummary] = {}
        self.by_path: Dict[str, str] = {}
        # (module, function) -> [kind per parameter position], joined over every call site;
        # ``None`` entries: some call site passes something unknown there
        self.param_kinds: Dict[Tuple[str, str], List[Kind]] = {}
        self.escaping: Set[Tuple[str, str]] = set()  # functions referenced other than by a call
        self.stats: Dict[str, float] = {}
        self.recording = False  # while call sites are recorded, parameters are not yet known
        self.summarised: Set[str] = set()
        # files given to ``build`` and left out (unreadable, unparsable, a second module of one name)
        self.left_out: List[str] = []
        # the files the run migrates (absolute paths), when it indexes more than it writes (a file
        # named alone is indexed with its package): a rewrite that needs every call site of a
        # function migrated (a helper losing its parameter) needs their files among these.
        # None: every indexed file is migrated.
        self.targets: Optional[Set[str]] = None
        self.class_refs: Set[Tuple[str, str]] = set()  # while building: (module, qualified name)

    def is_target(self, module: str) -> bool:
        """The run migrates (writes) this module's file too."""
        if self.targets is None:
            return True
        summary = self.modules.get(module)
        return summary is not None and summary.path in self.targets

    # -- queries --------------------------------------------------------------------------------------
    def left_out_mentions(self, name: str) -> str:
        """Why a project-wide decision about ``name`` cannot be made ("" when it can): a file
        of the project that could not be indexed mentions it, or cannot be read."""
        for path in self.left_out:
            try:
                with open(path, "rb") as fh:
                    if name.encode() in fh.read():
                        return "a file of the project that could not be indexed mentions it"
            except OSError:
                return "a file of the project could not be read"
        return ""

    def module_for_path(self, path: str) -> Optional[ModuleSummary]:
        name = self.by_path.get(os.path.abspath(path))
        return self.modules.get(name) if name else None

    def has_module(self, name: str) -> bool:
        return name in self.modules

    def exports(self, module: str, name: str, _seen: Optional[Set[str]] = None) -> bool:
        """``from module import *`` binds ``name``."""
        summary = self.modules.get(module)
        if summary is None:
            return False
        if summary.all_names is not None:
            return name in summary.all_names
        if name.startswith("_"):
            return False
        if name in summary.defined or name in summary.aliases:
            return True
        seen = (_seen or set()) | {module}
        return any(star not in seen and self.exports(star, name, seen) for star in summary.stars)

    def reexported(self, qualified: str, depth: int = 0) -> str:
        """``pkg.imports.Variable`` -> ``torch.autograd.Variable`` when ``pkg.imports`` only
        imported it; otherwise ``qualified`` itself."""
        if depth > 20:
            return qualified
        module, _, name = qualified.rpartition(".")
        while module and module not in self.modules:
            # ``pkg.mod.Class.attr``: find the longest module prefix
            module, _, head = module.rpartition(".")
            name = head + "." + name
        summary = self.modules.get(module)
        if summary is None:
            return qualified
        head, _, rest = name.partition(".")
        if head in summary.defined:
            return qualified
        target = summary.aliases.get(head)
        if target is None:
            for star in reversed(summary.stars):
                if self.exports(star, head):
                    target = f"{star}.{head}"
                    break
        if target is None:
            return qualified
        from .imports import canonical

        return self.reexported(canonical(target + ("." + rest if rest else "")), depth + 1)

    def split(self, qualified: str) -> Optional[Tuple[ModuleSummary, str]]:
        """(summary of the defining module, name inside it) for a project-qualified name."""
        module, _, name = qualified.rpartition(".")
        summary = self.modules.get(module)
        if summary is None:
            return None
        return summary, name

    def kind_of(self, qualified: str) -> Optional[Kind]:
        found = self.split(qualified)
        if found is None:
            return None
        summary, name = found
        if name in summary.functions:
            return FunctionRef(Ref(summary.name, name))
        if name in summary.classes:
            return ClassRef(Ref(summary.name, name))
        if name in summary.variables:
            return summary.variables[name]
        return None

    def is_module_class(self, qualified: str, _depth: int = 0) -> bool:
        found = self.split(qualified)
        if found is None or _depth > 20:
            return False
        summary, name = found
        cls = summary.classes.get(name)
        if cls is None:
            return False
        if cls.is_module:
            return True
        return any(b == "torch.nn.Module" or self.is_module_class(b, _depth + 1) for b in cls.bases)

    def class_summary(self, ref: Ref) -> Optional[ClassSummary]:
        summary = self.modules.get(ref.module)
        return summary.classes.get(ref.qualname) if summary else None

    def function_summary(self, ref: Ref) -> Optional[FunctionSummary]:
        summary = self.modules.get(ref.module)
        if summary is None:
            return None
        if "." in ref.qualname:  # a method: Class.method
            return None
        return summary.functions.get(ref.qualname)

    def call_kind(self, kind: Kind) -> Optional[Kind]:
        """The kind of calling a project function or class (or a module instance of one)."""
        if isinstance(kind, FunctionRef):
            f = self.function_summary(kind.ref)
            return f.returns if f is not None else None
        if isinstance(kind, ClassRef):
            cls = self.class_summary(kind.ref)
            if cls is None:
                return None
            if self.is_module_class(f"{kind.ref.module}.{kind.ref.qualname}"):
                return Module(kind.ref, cls.forward, loss=kind.ref.qualname.endswith("Loss"))
            return Instance(kind.ref)
        if isinstance(kind, Module) and isinstance(kind.cls, Ref):
            cls = self.class_summary(kind.cls)
            return cls.forward if cls is not None else None
        return None

    def attr_kind(self, kind: Kind, attr: str) -> Optional[Kind]:
        ref = kind.cls if isinstance(kind, (Module, Instance)) else None
        if not isinstance(ref, Ref):
            return None
        cls = self.class_summary(ref)
        if cls is None:
            return None
        return cls.attrs.get(attr)

    def method_kind(self, kind: Kind, method: str) -> Optional[Kind]:
        ref = kind.cls if isinstance(kind, (Module, Instance)) else None
        if not isinstance(ref, Ref):
            return None
        cls = self.class_summary(ref)
        return cls.methods.get(method) if cls is not None else None

    def sees_every_call(self, module: str, function: str) -> bool:
        """Every use of the function in the project is a plain call (none passes it on, none
        uses ``*args``/``**kwargs``), so its call sites are all known to the index."""
        return (module, function) not in self.escaping

    def parameter_kind(self, module: str, function: str, index: int) -> Optional[Kind]:
        if self.recording or (module, function) in self.escaping:
            return None
        kinds = self.param_kinds.get((module, function))
        if kinds is None or index >= len(kinds):
            return None
        k = kinds[index]
        return k if k is not None and k is not BOTTOM and k is not UNKNOWN else None

    # -- building ------------------------------------------------------------------------------------
    @classmethod
    def build(cls, files: Iterable[Union[str, Tuple[str, Union[str, bytes]]]], targets: Optional[Iterable[str]] = None) -> "ProjectIndex":
        """Index ``files``: paths (read from disk) or (path, source) pairs. Files that cannot be
        read or parsed are left out (the migration reports them). ``targets``: the files the run
        migrates, when that is fewer than it indexes (see ``targets``)."""
        import time

        t0 = time.perf_counter()
        index = cls()
        if targets is not None:
            index.targets = {os.path.abspath(t) for t in targets}
        parsed: Dict[str, Tuple[ast.Module, ModuleSummary]] = {}
        texts: Dict[str, str] = {}  # while building (see function_text)
        for item in files:
            path, source = (item, None) if isinstance(item, str) else item
            try:
                if source is None:
                    if not stat.S_ISREG(os.stat(path).st_mode):
                        continue  # a FIFO or device named *.py would block
                    with open(path, "rb") as fh:
                        source = fh.read()
                if isinstance(source, bytes):
                    decoded, _, failure = decode(source)
                    if failure or decoded is None:
                        index.left_out.append(os.path.abspath(path))
                        continue
                    text = decoded
                else:
                    text = source
                tree = _parse(text, path)
            except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
                index.left_out.append(os.path.abspath(path))
                continue
            name, package, _ = module_name_for(path)
            if name in index.modules:  # two roots with the same module name: keep the first
                index.left_out.append(os.path.abspath(path))
                continue
            summary = ModuleSummary(name, os.path.abspath(path), package)
            summary.sha1 = hashlib.sha1(source if isinstance(source, bytes) else source.encode("utf-8")).hexdigest()
            if "volatile" in text:
                summary.volatile_text = text
            texts[name] = text
            index.modules[name] = summary
            index.by_path[summary.path] = name
            parsed[name] = (tree, summary)
        t1 = time.perf_counter()
        tables = {name: _summarise_imports(index, *parsed[name]) for name in sorted(parsed)}
        # parameters are not known from call sites while modules are summarised (their call
        # sites are recorded in the same pass): the results do not depend on the order
        index.recording = True
        for name in _import_order(index, parsed):
            _summarise(index, *parsed[name], tables.pop(name, None))
        index.recording = False
        functions = [(m, c) for m in index.modules.values() for c, cs in m.classes.items() if cs.old_style_function]
        for user, qualified in sorted(index.class_refs):
            module, _, name = qualified.rpartition(".")
            if name == "*":  # ``from pkg import *``: the old-style Functions it brings in
                for home, cls_name in functions:
                    if home.name != user and index.exports(module, cls_name) and index.reexported(f"{module}.{cls_name}") == f"{home.name}.{cls_name}":
                        home.classes[cls_name].users.add(user)
                continue
            found = index.split(qualified)
            cls_summary = found[0].classes.get(found[1]) if found is not None else None
            if cls_summary is not None:
                cls_summary.users.add(user)
        index.class_refs = set()
        # keep the text of the modules that define an old-style Function and of their users
        for summary in index.modules.values():
            for cls_summary in summary.classes.values():
                if cls_summary.old_style_function:
                    for module in (summary.name, *cls_summary.users):
                        index.modules[module].function_text = texts[module]
        index.stats = {"files": len(parsed), "parse_s": t1 - t0, "total_s": time.perf_counter() - t0}
        return index


def _parse(text: str, path: str) -> ast.Module:
    """``ast.parse``, after the text repairs the engine makes first (``async=`` -> ``non_blocking=``)."""
    try:
        return ast.parse(text)
    except SyntaxError:
        if "async" not in text:
            raise
        from .rule import FileContext
        from .rules.async_kwarg import AsyncNonBlocking

        repair = AsyncNonBlocking(FileContext(path, text, None, None, False))
        repaired = repair.transform(text)
        if repair.failure or repaired == text:
            raise
        return ast.parse(repaired)


# -- summarising one module ---------------------------------------------------------------------------
def _summarise_imports(index: ProjectIndex, tree: ast.Module, summary: ModuleSummary):
    """The module's imports into its summary; returns its ImportTable (for ``_summarise``: the
    table depends only on the tree, the name and that there is an index, not on its contents)."""
    from .imports import ImportTable

    table = ImportTable(tree, summary.name, index, summary.package)
    for local in table.module_level:
        targets = table.aliases.get(local, set())
        if len(targets) == 1 and local not in table.other_bindings:
            summary.aliases[local] = next(iter(targets))
    summary.stars = [s for s in table.star_modules if not s.startswith(".")]
    for stmt in tree.body:
        for node in _module_level_bindings(stmt):
            summary.defined.add(node)
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets)
            and isinstance(stmt.value, (ast.List, ast.Tuple))
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in stmt.value.elts)
        ):
            summary.all_names = tuple(e.value for e in stmt.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    summary.defined -= set(summary.aliases)
    summary.imports_torch = any(t == "torch" or t.startswith("torch.") for ts in table.aliases.values() for t in ts)
    return table


def _module_level_bindings(stmt: ast.stmt) -> List[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    out: List[str] = []
    for node in ast_walk(stmt):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.append(node.id)
    return out


def _import_order(index: ProjectIndex, parsed: Dict[str, Tuple[ast.Module, ModuleSummary]]) -> List[str]:
    deps: Dict[str, Set[str]] = {}
    for name, (_, summary) in parsed.items():
        targets = set(summary.stars) | {t.rsplit(".", 1)[0] for t in summary.aliases.values()} | set(summary.aliases.values())
        deps[name] = {t for t in targets if t in parsed and t != name}
    order: List[str] = []
    state: Dict[str, int] = {}

    def visit(n: str) -> None:
        if state.get(n):
            return
        state[n] = 1
        for d in sorted(deps[n]):
            if not state.get(d):
                visit(d)
        state[n] = 2
        order.append(n)

    for n in sorted(parsed):
        visit(n)
    return order


def _globalise(kind: Kind, module: str) -> Kind:
    """Turn this-file references (module "") into project references."""
    if isinstance(kind, FunctionRef) and kind.ref.module == "":
        return FunctionRef(Ref(module, kind.ref.qualname))
    if isinstance(kind, ClassRef) and kind.ref.module == "":
        return ClassRef(Ref(module, kind.ref.qualname))
    if isinstance(kind, Module):
        cls = kind.cls
        if isinstance(cls, str):
            cls = Ref(module, cls)
        elif isinstance(cls, Ref) and cls.module == "":
            cls = Ref(module, cls.qualname)
        return Module(cls, _globalise(kind.returns, module), kind.loss)
    if isinstance(kind, Instance) and kind.cls.module == "":
        return Instance(Ref(module, kind.cls.qualname))
    if isinstance(kind, Tuple_):
        return Tuple_(tuple(_globalise(k, module) for k in kind.items))
    if isinstance(kind, Sequence_):
        return Sequence_(_globalise(kind.item, module))
    return kind


def _summarise(index: ProjectIndex, tree: ast.Module, summary: ModuleSummary, table=None) -> None:
    from .imports import ImportTable
    from .semantic.model import FileAnalysis

    if table is None:
        table = ImportTable(tree, summary.name, index, summary.package)
    analysis = FileAnalysis(tree, table, index, summary.name)
    inf, scopes = analysis.inference, analysis.scopes
    root = scopes.root
    for name, bindings in root.bindings.items():
        if any(b.how in ("def", "class", "import") for b in bindings):
            continue
        summary.variables[name] = _globalise(inf.facts.get((id(root), name), UNKNOWN), summary.name)
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scope = scopes.by_node.get(id(stmt))
            if scope is None:
                continue
            f = FunctionSummary(list(scope.params), _globalise(inf.return_facts.get(id(scope), UNKNOWN), summary.name))
            helper = analysis.volatile_helper(scope)
            if helper is not None:
                f.volatile_param, f.volatile_always = helper
                f.volatile_default = _param_default(stmt, f.volatile_param[0]) if f.volatile_param else "?"
                f.volatile_param_only = f.volatile_param is not None and _only_volatile_use(stmt, f.volatile_param[0])
            summary.functions[stmt.name] = f
        elif isinstance(stmt, ast.ClassDef):
            info = scopes.classes.get(stmt.name)
            if info is None:
                continue
            bases = []
            for b in stmt.bases:
                from .semantic.scopes import dotted

                d = dotted(b)
                q = analysis.resolver.qualified(d) if d else None
                if q is None and isinstance(b, ast.Name) and b.id in scopes.classes:
                    q = f"{summary.name}.{b.id}"
                if q:
                    bases.append(q)
            cls = ClassSummary(bases, is_module=stmt.name in inf.module_classes)
            cls.forward = _globalise(inf.forward_kind(stmt.name), summary.name) if cls.is_module else UNKNOWN
            for attr in info.attrs:
                cls.attrs[attr] = _globalise(inf.attr_facts.get((stmt.name, attr), UNKNOWN), summary.name)
            for mname, mscope in info.methods.items():
                cls.methods[mname] = _globalise(inf.return_facts.get(id(mscope), UNKNOWN), summary.name)
            cls.old_style_function = analysis.is_old_style_function(stmt)
            init = info.methods.get("__init__")
            if init is not None and init.self_name:
                cls.init_params = list(init.params[1:])
            summary.classes[stmt.name] = cls
    index.summarised.add(summary.name)
    _record_calls(index, summary, analysis)


def _record_calls(index: ProjectIndex, summary: ModuleSummary, analysis) -> None:
    """Join the argument kinds of every call of a project function (positional arguments)."""
    from .semantic.scopes import dotted

    tree = analysis.tree
    inf, scopes = analysis.inference, analysis.scopes
    called: Set[int] = set()
    for scope in [scopes.root, *scopes.ordered]:
        for call in scope.calls:
            target = _callee(analysis, inf, call, scope, summary)
            if target is None:
                continue
            called.add(id(call.func))
            key, fsum = target
            fsum.call_sites.append((summary.name, len(call.args), tuple(k.arg or "**" for k in call.keywords)))
            kinds = index.param_kinds.setdefault(key, [BOTTOM] * len(fsum.params))
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                index.escaping.add(key)
                continue
            passed: Dict[int, Kind] = {}
            for i, a in enumerate(call.args):
                passed[i] = _globalise(inf.kind(a, scope), summary.name)
            for k in call.keywords:
                if k.arg in fsum.params:
                    passed[fsum.params.index(k.arg)] = _globalise(inf.kind(k.value, scope), summary.name)
            for i in range(len(kinds)):
                kinds[i] = join(kinds[i], passed.get(i, UNKNOWN))
    # a function used as a value (a callback, stored, exported through __all__) has callers the
    # index cannot see
    for node in ast_walk(tree):
        if isinstance(node, ast.ImportFrom):
            _record_imported_classes(index, summary, analysis, node)
            continue
        if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(getattr(node, "ctx", None), ast.Load):
            d = dotted(node)
            if d is None:
                continue
            q = analysis.resolver.qualified(d)
            if q is not None:
                _record_class_user(index, summary, q)
            if q is None and isinstance(node, ast.Name) and (node.id in summary.functions or node.id in summary.classes):
                q = f"{summary.name}.{node.id}"
            if q:
                found = index.split(q)
                if found is None:
                    continue
                target = f"{found[1]}.__init__" if found[1] in found[0].classes else found[1]
                if found[0].name not in index.summarised:
                    # a module not summarised yet (an import cycle): its functions' call sites
                    # cannot all be seen in order, so nothing is inferred from them
                    index.escaping.add((found[0].name, target))
                elif (found[1] in found[0].functions or found[1] in found[0].classes) and id(node) not in called:
                    index.escaping.add((found[0].name, target))


def _record_class_user(index: ProjectIndex, summary: ModuleSummary, qualified: str) -> None:
    """Remember a reference to a possible project class (resolved once every module is
    summarised: in an import cycle, the class's module may come later)."""
    module = qualified.rpartition(".")[0]
    if module != summary.name and module in index.modules:
        index.class_refs.add((summary.name, qualified))


def _record_imported_classes(index: ProjectIndex, summary: ModuleSummary, analysis, node: ast.ImportFrom) -> None:
    """``from pkg.fn import RoIPool`` makes this module a user of the class even where the name is
    rebound later (and so resolves to nothing): its uses must be looked at."""
    from .imports import absolute_module, canonical

    base = absolute_module(node.module, node.level, summary.name, summary.package) if node.level else node.module
    if not base:
        return
    for alias in node.names:
        if alias.name == "*":
            _record_class_user(index, summary, f"{canonical(base)}.*")  # every class it exports
        else:
            _record_class_user(index, summary, canonical(index.reexported(canonical(f"{base}.{alias.name}"))))


def _callee(analysis, inf, call: ast.Call, scope, summary: ModuleSummary):
    k = inf.kind(call.func, scope)
    if isinstance(k, ClassRef):
        module = k.ref.module or summary.name
        owner = analysis.project.modules.get(module)
        cls = owner.classes.get(k.ref.qualname) if owner else None
        if cls is not None and "." not in k.ref.qualname:
            return (module, f"{k.ref.qualname}.__init__"), FunctionSummary(cls.init_params)
    if isinstance(k, FunctionRef):
        module = k.ref.module or summary.name
        if "." in k.ref.qualname:
            return None
        target = index_function(analysis.project, module, k.ref.qualname)
        if target is not None:
            return (module, k.ref.qualname), target
    return None


def _param_default(node: Union[ast.FunctionDef, ast.AsyncFunctionDef], param: str) -> object:
    """The literal default (True/False/None) of a parameter, "?" otherwise (or without one)."""
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    defaults = dict(zip([a.arg for a in positional][len(positional) - len(args.defaults):], args.defaults))
    defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
    d = defaults.get(param)
    if isinstance(d, ast.Constant) and (d.value is None or isinstance(d.value, bool)):
        return d.value
    return "?"


def _only_volatile_use(node: Union[ast.FunctionDef, ast.AsyncFunctionDef], param: str) -> bool:
    """Every read of ``param`` in the function is the ``volatile`` flag of a call (``volatile=p``,
    ``volatile=not p``)."""
    flags = set()
    for sub in ast_walk(node):
        if isinstance(sub, ast.Call):
            for k in sub.keywords:
                if k.arg == "volatile":
                    v = k.value.operand if isinstance(k.value, ast.UnaryOp) and isinstance(k.value.op, ast.Not) else k.value
                    flags.add(id(v))
    return not any(isinstance(sub, ast.Name) and sub.id == param and id(sub) not in flags for sub in ast_walk(node))


def index_function(index: ProjectIndex, module: str, name: str) -> Optional[FunctionSummary]:
    summary = index.modules.get(module)
    return summary.functions.get(name) if summary else None


def project_files(paths: Sequence[str]) -> List[str]:
    """Every ``.py`` file under ``paths`` (for building an index outside the CLI)."""
    out: List[str] = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("__pycache__", "site-packages"))
                out.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(".py"))
        elif p.endswith(".py"):
            out.append(p)
    return out


__all__ = ["ProjectIndex", "ModuleSummary", "FunctionSummary", "ClassSummary", "module_name_for", "project_files", "absolute_module", "TorchRef", "Tensor"]


def absolute_module(*args, **kw):  # re-exported from imports.py, which (libcst) loads on first use
    from .imports import absolute_module

    return absolute_module(*args, **kw)


def files_to_index(files: Sequence[str]) -> List[str]:
    """The files a run should index so that each migrated file is understood with the modules it
    works with: the files themselves; for a file inside a package, every module of its top-level
    package and the scripts beside that package; for a script, the sibling modules and packages
    it imports (``import utils`` next to it) and the other scripts of its folder (which may call
    it)."""
    seen: Dict[str, None] = {}
    for f in files:
        seen[os.path.abspath(f)] = None
    for f in list(seen):
        folder = os.path.dirname(f)
        name, package, root = module_name_for(f)
        if "." in name or package:
            top = os.path.join(root, name.split(".")[0])
            for p in project_files([top]):
                seen.setdefault(os.path.abspath(p), None)
            # and the scripts beside the package (``train.py`` next to ``models/``), which call it
            _add_scripts(seen, root)
            continue
        try:
            if not stat.S_ISREG(os.stat(f).st_mode):
                continue
            with open(f, "rb") as fh:
                text, _, failure = decode(fh.read())
            tree = ast.parse(text or "")
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast_walk(tree):
            names: List[str] = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module.split(".")[0]]
            for n in names:
                module_file = os.path.join(folder, n + ".py")
                package_dir = os.path.join(folder, n)
                if os.path.isfile(module_file):
                    seen.setdefault(os.path.abspath(module_file), None)
                elif os.path.isfile(os.path.join(package_dir, "__init__.py")):
                    for p in project_files([package_dir]):
                        seen.setdefault(os.path.abspath(p), None)
        # the scripts beside it, which may import it and call its functions (their call sites
        # tell what the parameters hold)
        _add_scripts(seen, folder)
    return list(seen)


_MAX_SIBLINGS = 200


def _add_scripts(seen: Dict[str, None], folder: str) -> None:
    """The ``*.py`` files of ``folder`` (not its subfolders); a folder of very many files is left
    to an explicit run."""
    try:
        siblings = sorted(e.path for e in os.scandir(folder) if e.name.endswith(".py") and e.is_file(follow_symlinks=False))
    except OSError:
        return
    if len(siblings) <= _MAX_SIBLINGS:
        for p in siblings:
            seen.setdefault(os.path.abspath(p), None)
