"""TU044 removed-internals: ``torch._six``, ``module._backend.X.apply``, ``load_lua``, ``torch.utils.ffi``, ``torch.legacy``."""
from __future__ import annotations

from typing import Optional, Set, cast

import libcst as cst

from ..imports import dotted_name
from ..model import Example
from ..rule import TreeRule
from ..torchapi import REMOVED_MODULES, SIX_NAMES
from ._legacy_util import module_ref
from ._static import literal_number

_SIX = "torch._six"
_EMBEDDING_PARAMS = 7  # (input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)


def _removed_prefix(q: Optional[str]) -> Optional[str]:
    if not q:
        return None
    for prefix in REMOVED_MODULES:
        if q == prefix or q.startswith(prefix + "."):
            return prefix
    return None


class RemovedInternals(TreeRule):
    code = "TU044"
    owns = ("import:torch._six", "call:_backend.X.apply", "import:torch.legacy/ffi/serialization")
    name = "removed-internals"
    summary = "Removed modules that stop a file at import: `torch._six` names -> builtins/`math`/`collections.abc`; `m._backend.Embedding.apply(...)` -> `F.embedding(...)`; notes for `load_lua`, `torch.utils.ffi`, `torch.legacy`"
    needles = ("_six", "_backend", "serialization", "ffi", "legacy")
    description = """
Internal or legacy modules that no longer exist in torch 2.13, so the file fails at import
(`ModuleNotFoundError`) or at the first call (`AttributeError`):

* `torch._six` (removed in 2.0) held Python 2/3 shims. The rule replaces each imported name at
  every use with what it was in the last torch that had it: `string_classes` -> `(str, bytes)`,
  `int_classes` -> `int`, `inf`/`nan` -> `math.inf`/`math.nan` (adding `import math`),
  `container_abcs` -> `collections.abc`, `PY3` -> `True`, `PY2` -> `False`; the import goes
  once nothing uses it. (`string_classes` was the tuple `(str, bytes)`, not `str`: `bytes`
  values keep matching.) Other `torch._six` names, and `import torch._six`, get a note.
* `module._backend.Embedding.apply(input, weight, padding_idx, max_norm, norm_type,
  scale_grad_by_freq, sparse)`, the 0.3 internal that `nn.Embedding.forward` called (copied
  into many embedding-dropout implementations): `_backend` is gone. It becomes
  `F.embedding(...)` with the same arguments, which is the same computation, except that the 0.3
  backend took `-1` (any negative index) for "no padding row", while `F.embedding` reads a
  negative `padding_idx` as counted from the end: a negative literal becomes `None`, an
  expression `p` becomes `None if p < 0 else p`. Other `_backend` functions get a note.
* `torch.utils.serialization.load_lua`, `torch.utils.ffi`, `torch.legacy.nn` were removed in 1.0
  without a replacement: a note at each import or use says what to do by hand.

Fix safety: exact. The `torch._six` replacements are the values those names had; the embedding
call computes the same outputs and gradients (verified under torch 2.13 against a direct
lookup with the 0.3 padding convention).
"""
    messages = {
        "six-unknown": "torch._six.{name} has no replacement known to this tool: replace it by hand (torch._six was removed in torch 2.0)",
        "six-module": "`import torch._six` fails since torch 2.0: replace its uses by hand (string_classes -> (str, bytes), int_classes -> int, inf -> math.inf, container_abcs -> collections.abc)",
        "six-bound": "{name} from torch._six is also bound otherwise in this file: replace it by hand",
        "backend": "_backend.{name}.apply(...): the torch 0.3 backend was removed; call the matching torch.nn.functional function by hand",
        "removed": "{what}",
        "no-name": "no usable name for {module} in this file",
    }
    examples = (
        Example(
            title="torch._six names",
            before="""
            import torch
            from torch._six import string_classes, int_classes, inf

            def norm(x, p=inf):
                if isinstance(x, string_classes):
                    return float(x)
                return x.norm(p) if not isinstance(x, int_classes) else x
            """,
            after="""
            import torch
            import math

            def norm(x, p=math.inf):
                if isinstance(x, (str, bytes)):
                    return float(x)
                return x.norm(p) if not isinstance(x, int) else x
            """,
        ),
        Example(
            title="the 0.3 embedding backend (embedding dropout)",
            before="""
            import torch.nn.functional as F

            def embedded_dropout(embed, words, weight):
                padding_idx = embed.padding_idx
                if padding_idx is None:
                    padding_idx = -1
                return embed._backend.Embedding.apply(words, weight, padding_idx, embed.max_norm,
                                                      embed.norm_type, embed.scale_grad_by_freq, embed.sparse)

            y = emb._backend.Embedding.apply(x, w, -1, None, 2, False, False)
            """,
            after="""
            import torch.nn.functional as F

            def embedded_dropout(embed, words, weight):
                padding_idx = embed.padding_idx
                if padding_idx is None:
                    padding_idx = -1
                return F.embedding(words, weight, None if padding_idx < 0 else padding_idx, embed.max_norm,
                                                      embed.norm_type, embed.scale_grad_by_freq, embed.sparse)

            y = F.embedding(x, w, None, None, 2, False, False)
            """,
        ),
        Example(
            title="removed modules: notes",
            before="""
            import torch
            from torch.utils.serialization import load_lua
            from torch.utils.ffi import create_extension
            import torch._six

            lrn = torch.legacy.nn.SpatialCrossMapLRN(5, 1e-4, 0.75, 1)
            y = m._backend.Threshold.apply(x, 0, 0, False)
            from torch._six import with_metaclass
            """,
            notes=(
                (2, "TU044", "load_lua"),
                (3, "TU044", "torch.utils.cpp_extension"),
                (4, "TU044", "import torch._six"),
                (6, "TU044", "LocalResponseNorm"),
                (7, "TU044", "_backend.Threshold"),
                (8, "TU044", "with_metaclass"),
            ),
        ),
        Example(
            title="a torch._six name bound otherwise; a backend call with no name for F",
            before="""
            from torch._six import inf
            inf = 1e9
            torch = None
            y = m._backend.Embedding.apply(x, w)
            """,
            notes=((1, "TU044", "also bound otherwise"), (4, "TU044", "no usable name")),
        ),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self._skip: Set[int] = set()
        self._bad_six: Set[str] = set()  # local names from torch._six the rule does not rewrite

    # -- imports ----------------------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            q = dotted_name(alias.name) or ""
            if q == _SIX:
                self.note(node, "six-module")
            prefix = _removed_prefix(q)
            if prefix:
                self.note(node, "removed", what=REMOVED_MODULES[prefix])
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if node.relative or node.module is None:
            return False
        module = dotted_name(node.module) or ""
        prefix = _removed_prefix(module)
        if prefix:
            self.note(node, "removed", what=REMOVED_MODULES[prefix])
            return False
        if module == "torch" and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                if dotted_name(alias.name) in ("_six", "legacy"):
                    q = f"torch.{dotted_name(alias.name)}"
                    if q == _SIX:
                        self.note(node, "six-module")
                    else:
                        self.note(node, "removed", what=REMOVED_MODULES[q])
        if module != _SIX or isinstance(node.names, cst.ImportStar):
            return False
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            local = cast(cst.Name, alias.asname.name).value if alias.asname else name  # `import x as <name>`
            if name not in SIX_NAMES:
                self.note(node, "six-unknown", name=name)
                self._bad_six.add(local)
            elif local in self.imports.other_bindings or self.imports.aliases.get(local) != {f"{_SIX}.{name}"}:
                self.note(node, "six-bound", name=local)
                self._bad_six.add(local)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._skip.add(id(node.attr))
        q = self.imports.resolve(node)
        prefix = _removed_prefix(q)
        if prefix and q == prefix:
            self.note(node, "removed", what=REMOVED_MODULES[prefix])

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._skip.add(id(node.keyword))

    # -- torch._six names ---------------------------------------------------------------------------
    def _six_replacement(self, original: cst.BaseExpression) -> Optional[cst.BaseExpression]:
        q = self.imports.resolve(original)
        if not q or not q.startswith(_SIX + "."):
            return None
        name = q[len(_SIX) + 1:]
        if name not in SIX_NAMES:
            if isinstance(original, cst.Attribute):
                self.note(original, "six-unknown", name=name)
            return None
        text, module = SIX_NAMES[name]
        if module:
            ref = module_ref(self, module)
            if ref is None:
                self.note(original, "no-name", module=module)
                return None
            text = ref + text[len(module):]
        self.edit(original, f"torch._six.{name} -> {text}")
        self.ctx.drop_import_when_unused(q)
        return cst.parse_expression(text)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if id(original_node) in self._skip or original_node.value in self._bad_six:
            return updated_node
        return self._six_replacement(original_node) or updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return self._six_replacement(original_node) or updated_node

    # -- module._backend.X.apply(...) -----------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        if not (
            isinstance(func, cst.Attribute) and func.attr.value == "apply"
            and isinstance(func.value, cst.Attribute)
            and isinstance(func.value.value, cst.Attribute) and func.value.value.attr.value == "_backend"
        ):
            return updated_node
        name = func.value.attr.value
        args = updated_node.args
        if name != "Embedding" or any(a.star or a.keyword for a in args) or not 2 <= len(args) <= _EMBEDDING_PARAMS:
            self.note(original_node, "backend", name=name)
            return updated_node
        ref = module_ref(self, "torch.nn.functional")
        if ref is None:
            self.note(original_node, "no-name", module="torch.nn.functional")
            return updated_node
        new_args = list(args)
        if len(args) >= 3:
            pad = args[2].value
            value = literal_number(pad)
            if isinstance(value, int) and value < 0:
                new_pad: cst.BaseExpression = cst.Name("None")
            elif value is not None or (isinstance(pad, cst.Name) and pad.value == "None"):
                new_pad = pad
            elif dotted_name(pad) is not None:
                new_pad = cst.parse_expression(f"None if {dotted_name(pad)} < 0 else {dotted_name(pad)}")
            else:
                self.note(original_node, "backend", name=name)
                return updated_node
            new_args[2] = args[2].with_changes(value=new_pad)
        self.edit(original_node, "_backend.Embedding.apply(...) (removed 0.3 backend) -> F.embedding(...) (a negative padding_idx meant none)")
        return updated_node.with_changes(func=cst.parse_expression(f"{ref}.embedding"), args=new_args)
