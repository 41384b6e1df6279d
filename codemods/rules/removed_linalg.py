"""TU036 removed-linalg: ``torch.potrf``/``gesv``/``trtrs``/``btrifact``/``symeig``... -> ``torch.linalg``."""
from __future__ import annotations

from typing import Dict, Optional, Set, cast

import libcst as cst

from ..cstutil import as_receiver, is_index0
from ..imports import dotted_name
from ..model import Example, FixClass
from ..rule import TreeRule
from ..torchapi import REMOVED_LINALG, REMOVED_LINALG_METHODS
from ._legacy_util import literal_const

# Legacy (0.3) parameter names in positional order.
_PARAMS = {
    "gels": ("B", "A"), "lstsq": ("B", "A"), "gesv": ("B", "A"), "solve": ("B", "A"),
    "potrf": ("A", "upper"), "potrs": ("b", "u", "upper"), "potri": ("u", "upper"),
    "trtrs": ("b", "A", "upper", "transpose", "unitriangular"),
    "btrifact": ("A", "info", "pivot"), "btrifact_with_info": ("A", "pivot"),
    "btrisolve": ("b", "LU", "pivots"), "btriunpack": ("LU", "pivots", "unpack_data", "unpack_pivots"),
    "symeig": ("A", "eigenvectors", "upper"),
}
# Functions that returned a tuple whose first element the modern function returns alone.
_FIRST_ONLY = {"gels", "lstsq", "gesv", "solve", "trtrs", "symeig"}
_EMPTY = cst.Module([])


def _src(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


class RemovedLinalg(TreeRule):
    code = "TU036"
    owns = ("call:removed linalg",)
    name = "removed-linalg"
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    summary = "Removed linear algebra (`potrf`, `potrs`, `potri`, `gesv`, `trtrs`, `btrifact`, `btrisolve`, `btriunpack`, `symeig`, `gels`) -> `torch.linalg` equivalents"
    needles = tuple(sorted(_PARAMS)) + ("eig(", "pstrf")
    description = """
The LAPACK-style functions of PyTorch 0.3 no longer exist in torch 2.13: calling them raises
`AttributeError: module 'torch' has no attribute 'potrf'` (or, for `symeig`, `eig`, `lstsq`,
`solve`, a `RuntimeError` saying they were removed). The rule rewrites the calls (functions, and
the method spellings such as `A.potrf()`) whose modern form is exact:

| legacy | modern |
|---|---|
| `torch.potrf(A)` (default **upper=True**) / `potrf(A, upper=False)` | `torch.linalg.cholesky(A, upper=True)` / `torch.linalg.cholesky(A)` |
| `torch.potrs(b, u, upper=True)` | `torch.cholesky_solve(b, u, upper=True)` (upper always spelled: the defaults differ) |
| `torch.potri(u, upper=True)` | `torch.cholesky_inverse(u, upper=True)` |
| `torch.gesv(B, A)[0]`, `torch.solve(B, A)[0]` | `torch.linalg.solve(A, B)` |
| `torch.trtrs(b, A, upper, transpose, unitriangular)[0]` | `torch.linalg.solve_triangular(A or A.mT, b, upper=upper ^ transpose, unitriangular=...)` |
| `torch.btrifact(A)` / `btrifact_with_info(A)` | `torch.linalg.lu_factor(A)` / `torch.linalg.lu_factor_ex(A)` |
| `torch.btrisolve(b, LU, piv)` | `torch.linalg.lu_solve(LU, piv, b.unsqueeze(-1)).squeeze(-1)` |
| `torch.btriunpack(LU, piv)` | `torch.lu_unpack(LU, piv)` |
| `torch.symeig(A, eigenvectors=True, upper=True)` | `torch.linalg.eigh(A, UPLO='U')` |
| `torch.symeig(A)[0]` | `torch.linalg.eigvalsh(A, UPLO='U')` |

Where the legacy function returned a tuple whose other element has no single-call equivalent
(`gesv`'s LU, `trtrs`'s clone, `symeig` without eigenvectors), only the `[0]` form is rewritten;
other uses get a note. `torch.gels(B, A)[0]`/`lstsq` -> `torch.linalg.lstsq(A, B).solution` is
offered under `--unsafe`: the legacy result had `max(m, n)` rows (residual information below row
`n`). `torch.eig` (the modern `linalg.eig` returns complex tensors), `pstrf`, and calls with
non-literal flags are left with a note.

Fix safety: exact. The legacy calls raise today, so no working program depends on them; each
replacement computes what the 0.3 function did (bitwise equal to the 1.x successors, verified
under torch 2.13), with the legacy defaults spelled out (`upper=True`, `UPLO='U'`). The `gels`/`lstsq`
rewrite is unproven: it is right only where the code reads the first `n` rows.
"""
    messages = {
        "no-equivalent": "torch.{name} was removed ({what}): migrate by hand",
        "bad-args": "torch.{name}(...) was removed: arguments not understood, migrate by hand",
        "first-only": "torch.{name}(...) was removed: only its [0] element has a one-call equivalent; migrate by hand",
        "flags": "torch.{name}(...) was removed: flags not literal or not supported; migrate by hand",
        "no-name": "torch.{name}: no usable name for torch in this file",
    }
    examples = (
        Example(
            title="Cholesky with the legacy upper=True default, solves, LU",
            before="""
            import torch
            U = torch.potrf(A)
            L = torch.potrf(A, upper=False)
            x = torch.potrs(b, U)
            X = torch.gesv(B, A)[0]
            LU, piv = torch.btrifact(As)
            y = torch.btrisolve(bs, LU, piv)
            """,
            after="""
            import torch
            U = torch.linalg.cholesky(A, upper=True)
            L = torch.linalg.cholesky(A)
            x = torch.cholesky_solve(b, U, upper=True)
            X = torch.linalg.solve(A, B)
            LU, piv = torch.linalg.lu_factor(As)
            y = torch.linalg.lu_solve(LU, piv, bs.unsqueeze(-1)).squeeze(-1)
            """,
        ),
        Example(
            title="methods, triangular solves and symmetric eigenproblems",
            before="""
            import torch
            U = S.potrf()
            z = torch.trtrs(b, U, transpose=True)[0]
            e, V = torch.symeig(S, eigenvectors=True)
            w = torch.symeig(S, upper=False)[0]
            """,
            after="""
            import torch
            U = torch.linalg.cholesky(S, upper=True)
            z = torch.linalg.solve_triangular(U.mT, b, upper=False)
            e, V = torch.linalg.eigh(S, UPLO='U')
            w = torch.linalg.eigvalsh(S, UPLO='L')
            """,
        ),
        Example(
            title="--unsafe: gels -> lstsq (the solution only has n rows)",
            unsafe=True,
            before="""
            import torch
            X = torch.gels(B, A)[0]
            """,
            after="""
            import torch
            X = torch.linalg.lstsq(A, B).solution
            """,
        ),
        Example(
            title="tuple results used whole, eig, and modern calls are left alone",
            before="""
            import torch
            X, LU = torch.gesv(B, A)
            w, v = torch.eig(A)
            U = torch.linalg.cholesky(A)
            r = solver.solve(B, A)
            """,
            notes=((2, "TU036", "only its [0] element"), (3, "TU036", "torch.eig was removed")),
        ),
        Example(
            title="arguments or flags the rule does not understand, and no name for torch",
            before="""
            import torch
            LU, piv = torch.btrifact(A, pivot=False)
            X = torch.gesv(B)[0]
            """,
            notes=((2, "TU036", "flags not literal"), (3, "TU036", "arguments not understood")),
        ),
        Example(
            title="a method spelling in a file where `torch` names something else",
            before="""
            torch = None
            def f(A, B):
                return A.gesv(B)[0]
            """,
            notes=((3, "TU036", "no usable name for torch"),),
        ),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self._first: Set[int] = set()

    # -- which calls are subscripted with [0] -------------------------------------------------
    def visit_Subscript(self, node: cst.Subscript):
        if isinstance(node.value, cst.Call) and is_index0(node):
            self._first.add(id(node.value))

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript):
        call = original_node.value
        if not isinstance(call, cst.Call) or id(call) not in self._first or not isinstance(updated_node.value, cst.Call):
            return updated_node
        name = self._legacy_name(call)
        if name not in _FIRST_ONLY:
            return updated_node
        new = self._rewrite(name, call, updated_node.value, first=True)
        return new if new is not None else updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call):
        name = self._legacy_name(original_node)
        if name is None:
            return updated_node
        if name in ("eig", "pstrf"):
            what = "returns complex eigenvalues/vectors in torch.linalg.eig" if name == "eig" else "has no modern equivalent"
            self.note(original_node, "no-equivalent", name=name, what=what)
            return updated_node
        if name in _FIRST_ONLY and id(original_node) in self._first:
            return updated_node  # handled with its [0] subscript
        new = self._rewrite(name, original_node, updated_node, first=False)
        return new if new is not None else updated_node

    # -- the rewrites --------------------------------------------------------------------------
    def _legacy_name(self, call: cst.Call) -> Optional[str]:
        func = call.func
        q = self.imports.resolve(func)
        if q in REMOVED_LINALG:
            return q.split(".", 1)[1]
        if isinstance(func, cst.Attribute) and func.attr.value in REMOVED_LINALG_METHODS and q is None:
            name = func.attr.value
            head = (dotted_name(func.value) or "").split(".")[0]
            if name in self.imports.other_bindings or head == "torch" or (head and head in self.imports.aliases):
                return None
            return name
        return None

    def _bind(self, name: str, call: cst.Call) -> Optional[Dict[str, cst.BaseExpression]]:
        params = _PARAMS[name]
        values: Dict[str, cst.BaseExpression] = {}
        args = list(call.args)
        if self.imports.resolve(call.func) is None:  # method spelling: the receiver is the first argument
            values[params[0]] = cast(cst.Attribute, call.func).value  # a method spelling (see _legacy_name)
            params = params[1:]
        i = 0
        for a in args:
            if a.star:
                return None
            if a.keyword is None:
                if i >= len(params):
                    return None
                key = params[i]
                i += 1
            else:
                key = a.keyword.value
                if key not in _PARAMS[name] or key in values:
                    return None
            values[key] = a.value
        return values

    def _rewrite(self, name: str, original: cst.Call, updated: cst.Call, first: bool):
        values = self._bind(name, updated)
        if values is None or any(p not in values for p in _PARAMS[name][:_required(name)]):
            self.note(original, "bad-args", name=name)
            return None
        flags = {k: literal_const(v) if k not in _PARAMS[name][:_required(name)] else None for k, v in values.items()}
        s = {k: _src(v) for k, v in values.items()}
        torch = None

        def t():
            nonlocal torch
            torch = torch or self.module_name("torch")
            return torch

        def flag(key: str, default: str) -> Optional[str]:
            if key not in values:
                return default
            return flags.get(key) if flags.get(key) in ("True", "False") else None

        text: Optional[str] = None
        unsafe = False
        if name == "potrf":
            upper = flag("upper", "True")
            if upper == "True":
                text = f"{{t}}.linalg.cholesky({s['A']}, upper=True)"
            elif upper == "False":
                text = f"{{t}}.linalg.cholesky({s['A']})"
            else:
                text = f"{{t}}.linalg.cholesky({s['A']}, upper={s['upper']})"
        elif name == "potrs":
            text = f"{{t}}.cholesky_solve({s['b']}, {s['u']}, upper={s.get('upper', 'True')})"
        elif name == "potri":
            text = f"{{t}}.cholesky_inverse({s['u']}, upper={s.get('upper', 'True')})"
        elif name in ("gesv", "solve") and first:
            text = f"{{t}}.linalg.solve({s['A']}, {s['B']})"
        elif name in ("gels", "lstsq") and first:
            text = f"{{t}}.linalg.lstsq({s['A']}, {s['B']}).solution"
            unsafe = True
        elif name == "trtrs" and first:
            upper, transpose, unit = flag("upper", "True"), flag("transpose", "False"), flag("unitriangular", "False")
            if None not in (upper, transpose, unit):
                a = f"{_src(as_receiver(values['A']))}.mT" if transpose == "True" else s["A"]
                new_upper = (upper == "True") ^ (transpose == "True")
                extra = ", unitriangular=True" if unit == "True" else ""
                text = f"{{t}}.linalg.solve_triangular({a}, {s['b']}, upper={new_upper}{extra})"
        elif name == "btrifact":
            if "info" not in values and flag("pivot", "True") == "True":
                text = f"{{t}}.linalg.lu_factor({s['A']})"
        elif name == "btrifact_with_info":
            if flag("pivot", "True") == "True":
                text = f"{{t}}.linalg.lu_factor_ex({s['A']})"
        elif name == "btrisolve":
            text = f"{{t}}.linalg.lu_solve({s['LU']}, {s['pivots']}, {_src(as_receiver(values['b']))}.unsqueeze(-1)).squeeze(-1)"
        elif name == "btriunpack":
            if "unpack_data" not in values and "unpack_pivots" not in values:
                text = f"{{t}}.lu_unpack({s['LU']}, {s['pivots']})"
        elif name == "symeig":
            vectors, upper = flag("eigenvectors", "False"), flag("upper", "True")
            uplo = {"True": "'U'", "False": "'L'"}.get(upper or "")
            if uplo is not None and vectors == "True":
                text = f"{{t}}.linalg.eigh({s['A']}, UPLO={uplo})"
            elif uplo is not None and vectors == "False" and first:
                text = f"{{t}}.linalg.eigvalsh({s['A']}, UPLO={uplo})"
        if text is None:
            self.note(original, "first-only" if name in _FIRST_ONLY and not first else "flags", name=name)
            return None
        legacy = f"{name}(...)" + ("[0]" if first else "")
        message = f"{legacy} -> torch{text[3:].split('(')[0]}(...)"
        if unsafe and not self.ctx.unsafe:
            self.fix(original, message, FixClass.UNPROVEN)  # records the note
            return None
        prefix = t()
        if prefix is None:
            self.note(original, "no-name", name=name)
            return None
        self.fix(original, message, FixClass.UNPROVEN if unsafe else None)
        return cst.parse_expression(prefix + text[3:])


def _required(name: str) -> int:
    return {"potrf": 1, "potri": 1, "btrifact": 1, "btrifact_with_info": 1, "symeig": 1, "potrs": 2,
            "trtrs": 2, "btriunpack": 2, "btrisolve": 3}.get(name, 2)


