"""Small libcst helpers shared by the engine and the rules."""
from __future__ import annotations

from typing import List, Sequence

import libcst as cst

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


def method_call(receiver: cst.BaseExpression, method: str, args: Sequence[cst.Arg] = ()) -> cst.Call:
    """``receiver.method(*args)``."""
    return cst.Call(func=cst.Attribute(value=as_receiver(receiver), attr=cst.Name(method)), args=list(args))


def strip_arg_comma(args: Sequence[cst.Arg]) -> List[cst.Arg]:
    """Drop the comma after the last argument (kept when it is a trailing comma on its own line)."""
    args = list(args)
    if args and not isinstance(args[-1].comma, cst.MaybeSentinel):
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return args


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
