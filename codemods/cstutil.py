"""Small libcst helpers shared by the engine and the rules."""
from __future__ import annotations

import dataclasses
import io
import tokenize
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union, cast

import libcst as cst
from libcst._nodes.internal import CodegenState

# Expressions that never need parentheses when used as the receiver of ``.attr`` or a call.
_ATOMS = (
    cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.List, cst.Tuple, cst.Dict, cst.Set,
    cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.SimpleString,
    cst.ConcatenatedString, cst.FormattedString,
)


def as_receiver(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``expr`` ready to be followed by ``.method()``: parenthesised unless it is an atom."""
    if isinstance(expr, _ATOMS) or expr.lpar:
        return expr
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


_EMPTY_MODULE = cst.Module(body=[])


def code_of(node: cst.CSTNode) -> str:
    """Source code of a node (default indentation and newline)."""
    return _EMPTY_MODULE.code_for_node(node)


def breaks_outside_brackets(node: cst.CSTNode) -> bool:
    """True if the expression's code has a line break that is not inside its own brackets
    (such an expression was only valid inside the brackets of the call it is moved out of)."""
    code = code_of(node)
    if "\n" not in code:
        return False
    depth = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO("(" + code + ")").readline):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
            elif tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT) and depth == 1:
                return True
    except (tokenize.TokenError, SyntaxError):
        return True
    return False


def grouped(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``expr`` safe to move out of the brackets that held it: a multi-line expression whose line
    breaks relied on those brackets gets parentheses of its own."""
    if expr.lpar or isinstance(expr, (cst.List, cst.Tuple, cst.Dict, cst.Set, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
        return expr
    if breaks_outside_brackets(expr):
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expr


def method_call(receiver: cst.BaseExpression, method: str, args: Sequence[cst.Arg] = ()) -> cst.Call:
    """``receiver.method(*args)``."""
    return cst.Call(func=cst.Attribute(value=as_receiver(receiver), attr=cst.Name(method)), args=list(args))


def strip_arg_comma(args: Sequence[cst.Arg]) -> List[cst.Arg]:
    """Drop the comma after the last argument (kept when it is a trailing comma on its own line)."""
    args = list(args)
    if args and not isinstance(args[-1].comma, cst.MaybeSentinel):
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return args


def target_names(target: cst.CSTNode) -> List[str]:
    """The names an assignment or loop target binds (``a``, ``a, (b, *c)``)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        names: List[str] = []
        for el in target.elements:
            names.extend(target_names(el.value))
        return names
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return []


def positional(call: cst.Call) -> List[cst.Arg]:
    """The plain positional arguments of a call (no keywords, no ``*args``/``**kwargs``)."""
    return [a for a in call.args if not a.keyword and not a.star]


def keywords(call: cst.Call) -> Dict[str, cst.Arg]:
    return {a.keyword.value: a for a in call.args if a.keyword}


def keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for a in call.args:
        if a.keyword and a.keyword.value == name:
            return a
    return None


def is_number(expr: cst.CSTNode) -> bool:
    """A numeric literal, possibly signed."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        expr = expr.expression
    return isinstance(expr, (cst.Integer, cst.Float))


def is_index0(node: cst.CSTNode) -> bool:
    """``x[0]``."""
    if not isinstance(node, cst.Subscript) or len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return False
    v = node.slice[0].slice.value
    return isinstance(v, cst.Integer) and v.value == "0"


def has_comments(stmt: cst.CSTNode) -> bool:
    """True if a statement line carries a comment (leading or trailing)."""
    if any(line.comment for line in getattr(stmt, "leading_lines", ())):
        return True
    trailing = getattr(stmt, "trailing_whitespace", None)
    return bool(trailing is not None and trailing.comment)


def dedent_continuations(expr: cst.BaseExpression, shift: int) -> cst.BaseExpression:
    """``expr`` with its continuation lines moved ``shift`` columns left: after an unwrap
    (``Variable(torch.ones(2,\n  3))`` -> ``torch.ones(2,\n 3)``) the arguments stay aligned with
    their bracket. Unchanged when some continuation line is indented less than ``shift`` (then
    it was not aligned to the removed prefix)."""
    found: List[cst.ParenthesizedWhitespace] = []

    class _Collect(cst.CSTVisitor):
        def visit_ParenthesizedWhitespace(self, node: cst.ParenthesizedWhitespace) -> None:
            found.append(node)

    cst_visit(expr, _Collect())
    if shift <= 0 or not found or any(len(w.last_line.value) < shift or not w.indent for w in found):
        return expr

    class _Shift(cst.CSTTransformer):
        def leave_ParenthesizedWhitespace(self, original_node, updated_node):
            return updated_node.with_changes(last_line=cst.SimpleWhitespace(updated_node.last_line.value[shift:]))

    return cast(cst.BaseExpression, cst_visit(expr, _Shift()))


def comments_in(node: cst.CSTNode) -> List[str]:
    """The text of every comment inside ``node``, in source order."""
    found: List[str] = []

    class _Collect(cst.CSTVisitor):
        def visit_Comment(self, c: cst.Comment) -> None:
            found.append(c.value)

    cst_visit(node, _Collect())
    return found


def lost_comments(original: cst.CSTNode, replacement: cst.CSTNode) -> List[str]:
    """Comments of ``original`` that ``replacement`` no longer has (a multiset difference)."""
    kept = comments_in(replacement)
    lost = []
    for c in comments_in(original):
        if c in kept:
            kept.remove(c)
        else:
            lost.append(c)
    return lost


def with_trailing_comments(stmt: cst.SimpleStatementLine, comments: Sequence[str]) -> cst.SimpleStatementLine:
    """``stmt`` with ``comments`` appended to its trailing comment (``x = y  # a  # b``)."""
    trailing = stmt.trailing_whitespace
    texts = ([trailing.comment.value] if trailing.comment else []) + list(comments)
    return stmt.with_changes(trailing_whitespace=trailing.with_changes(
        whitespace=trailing.whitespace if trailing.comment else cst.SimpleWhitespace("  "),
        comment=cst.Comment("  ".join(texts)),
    ))


def prune_statements(body: Sequence[cst.BaseStatement], removed) -> Tuple[List[cst.BaseStatement], List[cst.EmptyLine]]:
    """``body`` without the statements whose id is in ``removed``; their comment lines (and their
    trailing comments, as lines of their own) move to the next statement. Returns (statements, comment lines left over at the end of the block)."""
    out: List[cst.BaseStatement] = []
    carry: List[cst.EmptyLine] = []
    pending = False
    # every statement is a SimpleStatementLine or a compound statement: both have leading_lines
    for stmt in cast(Sequence[Union[cst.SimpleStatementLine, cst.BaseCompoundStatement]], body):
        if id(stmt) in removed:
            carry.extend(stmt.leading_lines)
            trailing = getattr(stmt, "trailing_whitespace", None)
            if trailing is not None and trailing.comment is not None:
                # the statement goes, its comment stays on a line of its own
                carry.append(cst.EmptyLine(indent=True, whitespace=cst.SimpleWhitespace(""), comment=trailing.comment))
            pending = True
            continue
        if pending:
            if any(line.comment for line in carry):
                lines = [*carry, *stmt.leading_lines]
            elif not out and not any(line.comment for line in stmt.leading_lines):
                lines = carry  # at the top of a block: take the removed statement's spacing
            else:
                lines = list(stmt.leading_lines) or carry
            stmt = stmt.with_changes(leading_lines=lines)
            carry = []
            pending = False
        out.append(stmt)
    return out, carry


def prune_block(node, removed):
    """An ``IndentedBlock`` or ``Module`` without the removed statements (``pass`` in a block that
    would be empty; comments of removed statements kept)."""
    body, carry = prune_statements(node.body, removed)
    if len(body) == len(node.body):
        return node
    footer = [*carry, *node.footer] if any(line.comment for line in carry) else node.footer
    if isinstance(node, cst.IndentedBlock) and not body:
        body = [cst.SimpleStatementLine(body=[cst.Pass()], leading_lines=carry)]
        footer = node.footer
    return node.with_changes(body=body, footer=footer)


class PruningTransformer(cst.CSTTransformer):
    """A transformer that can delete whole statements without losing their comments.

    Call ``mark_removed(stmt)`` from a ``leave_*Statement*`` hook and return its result; the
    enclosing block drops the statement (see ``prune_block``). Subclasses overriding
    ``leave_Module`` or ``leave_IndentedBlock`` must call ``super()``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._removed_ids: set = set()
        # Keep removed statements alive: once pruned they would be garbage-collected and a node
        # created later could reuse their id() and be pruned by mistake.
        self._removed_nodes: list = []

    def mark_removed(self, stmt: cst.CSTNode) -> cst.CSTNode:
        self._removed_ids.add(id(stmt))
        self._removed_nodes.append(stmt)
        return stmt

    def leave_IndentedBlock(self, original_node, updated_node):
        return prune_block(updated_node, self._removed_ids) if self._removed_ids else updated_node

    def leave_Module(self, original_node, updated_node):
        return prune_block(updated_node, self._removed_ids) if self._removed_ids else updated_node


class _PositionState(CodegenState):
    """Codegen that notes where chosen nodes start and end (cheap: a dict lookup per node, unlike
    libcst's PositionProvider, which computes positions for every node)."""

    def __init__(self, module: cst.Module, targets: Dict[int, None]):
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.targets = targets
        self.starts: Dict[int, Tuple[int, int]] = {}
        self.ends: Dict[int, Tuple[int, int]] = {}
        self._scanned = 0
        self._line = 1
        self._col = 0

    def _advance(self) -> None:
        tokens = self.tokens
        line, col = self._line, self._col
        for i in range(self._scanned, len(tokens)):
            tok = tokens[i]
            n = tok.count("\n")
            if n:
                line += n
                col = len(tok) - tok.rfind("\n") - 1
            else:
                col += len(tok)
        self._scanned = len(tokens)
        self._line, self._col = line, col

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.targets and key not in self.starts:
            self._advance()
            leading = getattr(node, "leading_lines", ())
            if leading:  # a statement: it starts after its leading (comment/blank) lines
                self.starts[key] = (self._line + len(leading), len("".join(self.indent_tokens)))
            else:
                self.starts[key] = (self._line, self._col)

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.targets and key not in self.ends:
            self._advance()
            if self._col == 0 and self._line > 1 and self.tokens:
                # a statement ends with its newline: the end is the end of the previous line
                self.ends[key] = (self._line - 1, -1)
            else:
                self.ends[key] = (self._line, self._col)


def _candidates(node: cst.CSTNode, limit: int = 64) -> List[cst.CSTNode]:
    """The node and its first descendants in source order (for nodes rebuilt by a rule, one of
    their descendants is usually still an original node)."""
    out: List[cst.CSTNode] = []
    stack = [node]
    while stack and len(out) < limit:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(current.children))
    return out


_PRINTED: Tuple[Optional[cst.Module], str] = (None, "")  # the last module node_positions printed, and its code


def printed(module: cst.Module) -> str:
    """``module.code``, taken from ``node_positions``'s printing when that was the last module it
    printed (a migrated file prints its parsed module once for the edits' positions and once to
    check that libcst reproduces the input). One tuple, read once: safe beside other threads."""
    last, code = _PRINTED
    if last is module:
        return code
    return module.code


Position = Tuple[int, int, int, int]  # line (1-based), column (0-based), end line, end column


def node_positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> List[Position]:
    """(line, column, end line, end column) in ``module``'s code of each node; zeros when it
    cannot be located. One codegen pass for all of them. An end column of -1 means "end of line"."""
    nodes = list(nodes)
    candidates = [_candidates(n) for n in nodes]
    targets = {id(c): None for cands in candidates for c in cands}
    state = _PositionState(module, targets)
    module._codegen(state)
    global _PRINTED
    _PRINTED = (module, "".join(state.tokens))
    out: List[Position] = []
    for node, cands in zip(nodes, candidates):
        start = next((state.starts[id(c)] for c in cands if id(c) in state.starts), None)
        if start is None:
            out.append((0, 0, 0, 0))
            continue
        end = state.ends.get(id(node)) or next((state.ends[id(c)] for c in cands if id(c) in state.ends), start)
        out.append((start[0], start[1], end[0], end[1]))
    return out


def start_lines(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> List[int]:
    """1-based start line in ``module``'s code of each node (0 when it cannot be located)."""
    return [p[0] for p in node_positions(module, nodes)]


def line_offsets(text: str) -> List[int]:
    """Offset of the start of each line, lines split at ``\\n`` only (as ``io.StringIO`` reads
    them, so that tokenize's (row, col) pairs map back to offsets in ``text``)."""
    offsets = [0]
    pos = text.find("\n")
    while pos != -1:
        offsets.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return offsets


# -- fast traversal ---------------------------------------------------------------------------------
_NODE_TYPES: Dict[type, bool] = {}


def _is_node(t: type) -> bool:
    """``issubclass(t, cst.CSTNode)``, memoised (an ABC check costs far more than a dict hit)."""
    hit = _NODE_TYPES.get(t)
    if hit is None:
        hit = _NODE_TYPES[t] = issubclass(t, cst.CSTNode)
    return hit


# -- a transforming traversal that rebuilds only what changed -----------------------------------------
# libcst's ``node.visit(transformer)`` rebuilds every node of the tree (a new dataclass, validated)
# and calls ``on_visit_attribute``/``on_leave_attribute`` for every field, even where nothing
# changes. ``transform`` visits the same nodes in the same order with the same hooks, and rebuilds
# a node only when one of its children was replaced, through the node's own
# ``_visit_and_replace_children`` (so removals and flattening behave exactly as in libcst).
_VISIT_ORDER: Dict[type, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {}  # type -> (order, fields not seen set)


class _FieldOrder(cst.CSTVisitor):
    """Records the fields of one node in the order libcst visits them."""

    def __init__(self, parent: cst.CSTNode):
        super().__init__()
        self.parent = parent
        self.fields: List[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if node is self.parent:
            self.fields.append(attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass


def visit_order(node: cst.CSTNode) -> Tuple[str, ...]:
    """The fields of ``node`` in libcst's visiting order (source order), learnt once per type.

    A few nodes visit a field only when it is set (``FormattedStringExpression.format_spec``):
    an order learnt from a node where such a field was None is not used for a node where it is
    set; that node's own order is learnt instead."""
    entry = _VISIT_ORDER.get(type(node))
    if entry is not None:
        order, unseen = entry
        if not unseen or all(getattr(node, name) is None for name in unseen):
            return order
    recorder = _FieldOrder(node)
    node._visit_and_replace_children(recorder)
    order = tuple(recorder.fields)
    unseen = tuple(f.name for f in dataclasses.fields(node) if f.name not in order and getattr(node, f.name) is None)
    if entry is None or not unseen:
        _VISIT_ORDER[type(node)] = (order, unseen)
    return order


def children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """The child nodes of ``node`` in libcst's visiting order: ``node.children`` without
    rebuilding the node."""
    out: List[cst.CSTNode] = []
    for name in visit_order(node):
        value = getattr(node, name)
        t = type(value)
        if t is tuple or t is list:
            out.extend(value)
        elif _is_node(t):
            out.append(value)
    return out


class _Replay(cst.CSTTransformer):
    """Rebuilds one node from its children's results, computed beforehand in the same order."""

    def __init__(self, results: List[Tuple[cst.CSTNode, object]]):
        super().__init__()
        self.results = results
        self.next = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_leave(self, original_node, updated_node):
        old, new = self.results[self.next]
        if old is not original_node:
            raise AssertionError(f"traversal order of {type(original_node).__name__} differs from libcst's")
        self.next += 1
        return new

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass


def transform(node: cst.CSTNode, on_visit, on_leave):
    """``node.visit(t)`` for a transformer ``t`` with these ``on_visit``/``on_leave``: the same
    calls in the same order, the same result; an untouched subtree is returned as it is."""

    def walk(node):
        updated = node
        if on_visit(node):
            results = [(child, walk(child)) for child in children(node)]
            if any(new is not child for child, new in results):
                replay = _Replay(results)
                updated = node._visit_and_replace_children(replay)
                if replay.next != len(results):
                    raise AssertionError(f"traversal of {type(node).__name__} differs from libcst's")
        return on_leave(node, updated)

    return walk(node)


_PLAIN_HOOKS: Dict[Tuple[str, str], bool] = {}  # by module and qualified name: rules define visitor classes locally


def _plain_hooks(cls: type) -> bool:
    """Whether a visitor class has only node hooks (no ``visit_Call_func``-style attribute hooks,
    no own ``on_visit_attribute``), which ``visit`` may call without libcst's traversal."""
    key = (cls.__module__, cls.__qualname__)
    hit = _PLAIN_HOOKS.get(key)
    if hit is None:
        import re

        attribute_hook = re.compile(r"(visit|leave)_[A-Z][A-Za-z]*_[a-z_]+$")
        hit = (
            cls.on_visit_attribute in (cst.CSTVisitor.on_visit_attribute, cst.CSTTransformer.on_visit_attribute)  # type: ignore[attr-defined]
            and cls.on_leave_attribute in (cst.CSTVisitor.on_leave_attribute, cst.CSTTransformer.on_leave_attribute)  # type: ignore[attr-defined]
            and not any(attribute_hook.match(name) for name in dir(cls))
        )
        _PLAIN_HOOKS[key] = hit
    return hit


def visit(node: cst.CSTNode, visitor: Union[cst.CSTVisitor, cst.CSTTransformer]):
    """``node.visit(visitor)``, without rebuilding the tree where nothing changes: a visitor's
    hooks are called on the same nodes in the same order (a transformer's through ``transform``)."""
    if not _plain_hooks(type(visitor)):
        return node.visit(visitor)
    if isinstance(visitor, cst.CSTTransformer):
        return transform(node, visitor.on_visit, visitor.on_leave)
    on_visit, on_leave = visitor.on_visit, visitor.on_leave

    def walk(node: cst.CSTNode) -> None:
        if on_visit(node):
            for child in children(node):
                walk(child)
        on_leave(node)

    walk(node)
    return node


cst_visit = visit
