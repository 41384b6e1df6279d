"""Small libcst helpers shared by the engine and the rules."""
from __future__ import annotations

import io
import tokenize
from typing import Dict, Iterable, List, Optional, Sequence

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


class PruningTransformer(cst.CSTTransformer):
    """A transformer that can delete whole statements without losing their comments.

    Call ``mark_removed(stmt)`` from a ``leave_*Statement*`` hook and return its result; the
    enclosing block drops the statement, moves its comment lines to the next statement, and puts
    ``pass`` in a block that would otherwise be empty. Subclasses overriding ``leave_Module`` or
    ``leave_IndentedBlock`` must call ``super()``.
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

    def _prune(self, body: Sequence[cst.BaseStatement]):
        out: List[cst.BaseStatement] = []
        carry: List[cst.EmptyLine] = []
        pending = False
        for stmt in body:
            if id(stmt) in self._removed_ids:
                carry.extend(stmt.leading_lines)
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

    def leave_IndentedBlock(self, original_node, updated_node):
        if not self._removed_ids:
            return updated_node
        body, carry = self._prune(updated_node.body)
        if len(body) == len(updated_node.body):
            return updated_node
        if not body:
            body = [cst.SimpleStatementLine(body=[cst.Pass()], leading_lines=carry)]
            carry = []
        return updated_node.with_changes(body=body, footer=[*carry, *updated_node.footer] if any(l.comment for l in carry) else updated_node.footer)

    def leave_Module(self, original_node, updated_node):
        if not self._removed_ids:
            return updated_node
        body, carry = self._prune(updated_node.body)
        if len(body) == len(updated_node.body):
            return updated_node
        footer = [*carry, *updated_node.footer] if any(l.comment for l in carry) else updated_node.footer
        return updated_node.with_changes(body=body, footer=footer)


class _LineState(CodegenState):
    """Codegen that notes the line on which chosen nodes start (cheap: no per-node bookkeeping
    except a dict lookup, unlike libcst's PositionProvider)."""

    def __init__(self, module: cst.Module, targets: Dict[int, None]):
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.targets = targets
        self.found: Dict[int, int] = {}
        self._scanned = 0
        self._line = 1

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.targets and key not in self.found:
            tokens = self.tokens
            for i in range(self._scanned, len(tokens)):
                self._line += tokens[i].count("\n")
            self._scanned = len(tokens)
            self.found[key] = self._line + len(getattr(node, "leading_lines", ()))


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


def start_lines(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> List[int]:
    """1-based start line in ``module``'s code of each node (0 when it cannot be located)."""
    nodes = list(nodes)
    candidates = [_candidates(n) for n in nodes]
    targets = {id(c): None for cands in candidates for c in cands}
    state = _LineState(module, targets)
    module._codegen(state)
    lines = []
    for cands in candidates:
        lines.append(next((state.found[id(c)] for c in cands if id(c) in state.found), 0))
    return lines
