"""TU040 legacy-constructors: ``torch.FloatTensor(2, 3)`` & co. -> ``torch.empty``/``torch.tensor``/fused factories."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple, cast

import libcst as cst

from ..model import Example, FixClass
from ..rule import TreeRule
from ..semantic.kinds import PYNUM
from ..torchapi import DEFAULT_DEVICE_SETTERS, DEFAULT_TENSOR_TYPE, FLOAT_DTYPES, FUSED_FILLS, LEGACY_TYPES
from ._legacy_util import kwarg, module_ref
from ._static import append_args, float_leaves_only, is_data_display, is_known_int, is_known_size, literal_number

# (dtype spelling or None for the default dtype, device or None)
TypeInfo = Tuple[Optional[str], Optional[str]]
_FUSABLE = set(FUSED_FILLS) | {"fill_"}


def _literal_fill(expr: cst.BaseExpression) -> Optional[object]:
    """The value of a literal fill (number or True/False), else None."""
    value = literal_number(expr)
    if value is not None:
        return value
    if isinstance(expr, cst.Name) and expr.value in ("True", "False"):
        return expr.value == "True"
    return None


class LegacyConstructors(TreeRule):
    code = "TU040"
    owns = ("call:torch.XTensor(...)",)
    name = "legacy-constructors"
    fix_classes = (FixClass.EXACT, FixClass.UNPROVEN)
    summary = "`torch.FloatTensor(2, 3)`, `torch.cuda.LongTensor(n)`, `torch.Tensor(*sizes)` -> `torch.empty(..., dtype=, device=)`; list data -> `torch.tensor(data, dtype=)`; `.zero_()`/`.fill_(v)`/`.normal_()`/`.uniform_()` fused into `zeros`/`full`/`randn`/`rand`"
    needles = ("Tensor(",)
    uses_analysis = True  # a one-argument call is a size when the model knows a Python number
    description = """
The typed constructors of PyTorch 0.1-0.3 (`torch.FloatTensor(...)`, `torch.cuda.LongTensor(...)`,
`torch.Tensor(...)`) still work in torch 2.13, silently, but they are the legacy spelling: they
take either sizes or data through the same argument, cannot take `requires_grad=`/`device=`,
and the `torch.cuda.*` ones fail outright on a CPU-only build (`type torch.cuda.FloatTensor not
available`). The rule rewrites them, through the file's imports, where the meaning of the
arguments is certain:

* **sizes**: two or more arguments, or one argument that is certainly an int (`3`, `len(x)`,
  `x.size(0)`, `n * 2` of those) or a `torch.Size` (`x.size()`, `x.shape`):
  `torch.FloatTensor(2, 3)` -> `torch.empty(2, 3, dtype=torch.float32)`,
  `torch.cuda.LongTensor(n, 4)` -> `torch.empty(n, 4, dtype=torch.int64, device='cuda')`,
  `torch.Tensor(a, b)` -> `torch.empty(a, b)` (the default dtype, like `torch.Tensor`);
  no argument -> `torch.empty(0, ...)`;
* **data**: a list or tuple display, a list comprehension or `range(...)` (a tuple is data:
  `torch.FloatTensor((2, 3))` is `tensor([2., 3.])`): `torch.LongTensor([1, 2])` ->
  `torch.tensor([1, 2], dtype=torch.int64)`; `torch.Tensor(list)` gets
  `dtype=torch.get_default_dtype()` unless every element is a float literal (an int list would
  give int64);
* **fused fills** of a sizes constructor: `.zero_()` -> `torch.zeros`, `.normal_()` ->
  `torch.randn`, `.uniform_()` -> `torch.rand` (floating types), `.fill_(v)` with a literal `v`
  -> `torch.full(size, v, dtype=...)`, `.normal_(mean, std)` with literal arguments ->
  `torch.normal(mean, std, size=..., dtype=...)`; any other method (`.uniform_(a, b)`,
  `.random_(...)`) stays on the `torch.empty(...)` result.

A single argument of unknown type (`torch.FloatTensor(n)`, `torch.LongTensor(labels)`) may be a
size or data (a list, an ndarray, a tensor): it is left with a note. `torch.LongTensor(*size)` is
rewritten as sizes under `--unsafe` only (a starred list of lists would be data). Calls with
keyword arguments are left alone.

Fix safety: exact. `torch.empty`/`torch.tensor` with the constructor's dtype and device give
the same dtype, device, shape, values (copying and casting lists like the constructor:
`LongTensor([1.7, -1.7])` and `tensor([1.7, -1.7], dtype=torch.int64)` are both `[1, -1]`) and
strides; the fused factories are what ATen itself runs (`randn` is `empty().normal_()`, `rand`
is `empty().uniform_()`, `zeros` is `empty().zero_()`, `full` is `empty().fill_()`), so values
and random-number consumption are bitwise identical (verified under torch 2.13 for every float
dtype). One assumption: `torch.empty(..., dtype=torch.float32)` follows the program's default
*device*, `torch.FloatTensor` is always on the CPU; a file that calls `set_default_tensor_type`
or `set_default_device` keeps its CPU constructors (with a note). The CUDA forms follow the
documentation (not run: no GPU). Sizes given as `*args` are assumed to be integers: that
rewrite is unproven (`--unsafe`; a note otherwise).
"""
    messages = {
        "ambiguous": "{name}(x) with one argument of unknown type: a size (int) or data (list, ndarray, tensor)? Left unchanged: torch.empty(n, dtype={dtype}) for a size, torch.tensor(data, dtype={dtype}) for a list, torch.as_tensor(a, dtype={dtype}) for an array or tensor",
        "keywords": "{name}(...) with keyword arguments left unchanged",
        "default-device": "{name}(...) left unchanged: this file changes the default tensor type or device, so torch.empty(..., dtype={dtype}) would not create a CPU tensor as {name} does",
        "no-torch": "{name}(...): no usable name for torch in this file",
    }
    examples = (
        Example(
            title="a name the semantic model knows holds a number is a size (here a parameter with a number as its default; with a project index, also one that every call site passes a number to)",
            before="""
            import torch

            def make_labels(n=512):
                return torch.LongTensor(n).random_(0, 3)
            """,
            after="""
            import torch

            def make_labels(n=512):
                return torch.empty(n, dtype=torch.int64).random_(0, 3)
            """,
        ),
        Example(
            title="sizes, CUDA types, torch.Tensor and no arguments",
            before="""
            import torch
            a = torch.FloatTensor(2, 3)
            b = torch.cuda.LongTensor(n, 4)
            w = nn.Parameter(torch.Tensor(num_tags, num_tags))
            c = torch.ByteTensor(x.size())
            e = torch.DoubleTensor()
            """,
            after="""
            import torch
            a = torch.empty(2, 3, dtype=torch.float32)
            b = torch.empty(n, 4, dtype=torch.int64, device='cuda')
            w = nn.Parameter(torch.empty(num_tags, num_tags))
            c = torch.empty(x.size(), dtype=torch.uint8)
            e = torch.empty(0, dtype=torch.float64)
            """,
        ),
        Example(
            title="multi-line calls keep their layout",
            before="""
            import torch
            w = nn.Parameter(torch.Tensor(
                n_in,
                size * 2 if bidirectional else size
            ))
            b = torch.FloatTensor(
                n_out,
                4,
            )
            """,
            after="""
            import torch
            w = nn.Parameter(torch.empty(
                n_in,
                size * 2 if bidirectional else size
            ))
            b = torch.empty(
                n_out,
                4, dtype=torch.float32,
            )
            """,
        ),
        Example(
            title="list data",
            before="""
            import torch
            idx = torch.LongTensor([0, 2, 1])
            mask = torch.cuda.ByteTensor([[1, 0], [0, 1]])
            t = torch.Tensor([1, 2])
            f = torch.Tensor([0.5, 1.5])
            ids = torch.LongTensor([vocab[w] for w in words])
            """,
            after="""
            import torch
            idx = torch.tensor([0, 2, 1], dtype=torch.int64)
            mask = torch.tensor([[1, 0], [0, 1]], dtype=torch.uint8, device='cuda')
            t = torch.tensor([1, 2], dtype=torch.get_default_dtype())
            f = torch.tensor([0.5, 1.5])
            ids = torch.tensor([vocab[w] for w in words], dtype=torch.int64)
            """,
        ),
        Example(
            title="fused fills",
            before="""
            import torch
            z = torch.FloatTensor(2, 3).zero_()
            r = torch.Tensor(n, d).normal_()
            u = torch.cuda.FloatTensor(n, d).uniform_()
            o = torch.LongTensor(len(xs)).fill_(1)
            k = torch.Tensor(x.size(0), 2).fill_(0)
            g = torch.FloatTensor(4, 4).normal_(0, 0.02)
            v = torch.FloatTensor(4).uniform_(-0.1, 0.1)
            """,
            after="""
            import torch
            z = torch.zeros(2, 3, dtype=torch.float32)
            r = torch.randn(n, d)
            u = torch.rand(n, d, dtype=torch.float32, device='cuda')
            o = torch.full((len(xs),), 1, dtype=torch.int64)
            k = torch.full((x.size(0), 2), 0, dtype=torch.get_default_dtype())
            g = torch.normal(0, 0.02, size=(4, 4), dtype=torch.float32)
            v = torch.empty(4, dtype=torch.float32).uniform_(-0.1, 0.1)
            """,
        ),
        Example(
            title="--unsafe: a starred argument is taken as sizes",
            unsafe=True,
            before="""
            from torch import LongTensor
            mask = LongTensor(*size).fill_(0)
            """,
            after="""
            import torch
            mask = torch.full(size, 0, dtype=torch.int64)
            """,
        ),
        Example(
            title="one argument of unknown type, keywords, references: left alone",
            before="""
            import torch
            w = torch.FloatTensor(weights)
            n = torch.LongTensor(*size)
            p = torch.FloatTensor(2, requires_grad=True)
            ok = isinstance(x, torch.FloatTensor)
            """,
            notes=((2, "TU040", "size (int) or data"), (3, "TU040", "unproven fix not applied"), (4, "TU040", "keyword arguments")),
        ),
        Example(
            title="a file that changes the default device keeps its CPU constructors",
            before="""
            import torch
            torch.set_default_tensor_type('torch.cuda.FloatTensor')
            a = torch.FloatTensor(2, 3)
            """,
            notes=((3, "TU040", "changes the default tensor type"),),
        ),
        Example(
            title="no name for torch",
            before="""
            from torch import FloatTensor
            def f(torch):
                return FloatTensor(2)
            """,
            notes=((3, "TU040", "no usable name"),),
        ),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self._fuse_parent: Dict[int, cst.Call] = {}  # id(constructor call) -> the fill call on it
        # id(constructor call) -> (the updated constructor call, its type, short name, unproven)
        self._fused: Dict[int, Tuple[cst.Call, TypeInfo, str, bool]] = {}
        self._default_device_changed = any(s in ctx.text for s in DEFAULT_DEVICE_SETTERS)
        self._quote = '"' if ctx.text.count('"') > 2 * ctx.text.count("'") else "'"

    # -- which constructor, which dtype -------------------------------------------------------
    def _type_of(self, call: cst.Call) -> Optional[Tuple[str, TypeInfo]]:
        q = self.imports.resolve(call.func)
        if q == DEFAULT_TENSOR_TYPE:
            return q, (None, None)
        if not q:
            return None
        info = LEGACY_TYPES.get(q)
        return (q, info) if info else None

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _FUSABLE and isinstance(func.value, cst.Call):
            self._fuse_parent[id(func.value)] = node

    def _classify(self, call: cst.Call) -> Tuple[str, FixClass]:
        """("sizes" | "data" | "ambiguous" | "keywords", fix class) for the original call."""
        args = call.args
        if any(a.keyword for a in args):
            return "keywords", FixClass.EXACT
        if any(a.star == "**" for a in args):
            return "keywords", FixClass.EXACT
        if any(a.star == "*" for a in args):
            return "sizes", FixClass.UNPROVEN
        if len(args) != 1:
            return "sizes", FixClass.EXACT
        v = args[0].value
        if is_known_int(v, self.imports) or is_known_size(v, self.imports):
            return "sizes", FixClass.EXACT
        if is_data_display(v, self.imports):
            return "data", FixClass.EXACT
        if self.ctx.analysis.kind_here(v) is PYNUM:
            # a Python number (a parameter every call site in the project passes a number to,
            # say): a size; a float raises TypeError in both spellings
            return "sizes", FixClass.EXACT
        return "ambiguous", FixClass.EXACT

    # -- the rewrite ----------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        fused = self._fused.pop(id(original_node.func.value), None) if isinstance(original_node.func, cst.Attribute) else None
        if fused is not None:
            return self._fuse(original_node, updated_node, *fused)
        found = self._type_of(original_node)
        if found is None:
            return updated_node
        q, (dtype, device) = found
        short = q.replace("torch.", "", 1)
        dtype_text = f"torch.{dtype}" if dtype else "torch.get_default_dtype()"
        kind, fix_class = self._classify(original_node)
        if kind == "keywords":
            self.note(original_node, "keywords", name=short)
            return updated_node
        if kind == "ambiguous":
            self.note(original_node, "ambiguous", name=short, dtype=dtype_text)
            return updated_node
        if dtype is not None and device is None and self._default_device_changed:
            self.note(original_node, "default-device", name=short, dtype=dtype_text)
            return updated_node
        torch_ref = module_ref(self, "torch")
        if torch_ref is None:
            self.note(original_node, "no-torch", name=short)
            return updated_node
        args = list(updated_node.args)
        if kind == "data":
            data_dtype = dtype or (None if float_leaves_only(original_node.args[0].value) else "get_default_dtype()")
            new = self._factory(torch_ref, "tensor", args, data_dtype, device, updated_node)
            msg = f"{short}(data) -> torch.tensor(data{self._opts_text(data_dtype, device)})"
        else:
            fill = self._fuse_parent.get(id(original_node))
            if fill is not None and self._fusable(fill, dtype) and self.allowed(fix_class):
                # the fill call builds the factory (one edit for both calls)
                self._fused[id(original_node)] = (updated_node, (dtype, device), short, fix_class is FixClass.UNPROVEN)
                return updated_node
            if not args:
                args = [cst.Arg(cst.Integer("0"))]
            new = self._factory(torch_ref, "empty", args, dtype, device, updated_node)
            msg = f"{short}(sizes) -> torch.empty(sizes{self._opts_text(dtype, device)})"
        if not self.fix(original_node, msg, fix_class):
            return updated_node
        if isinstance(original_node.func, cst.Name):
            self.ctx.drop_import_when_unused(q)
        return new

    def _opts_text(self, dtype: Optional[str], device: Optional[str]) -> str:
        out = f", dtype=torch.{dtype}" if dtype else ""
        return out + (f", device='{device}'" if device else "")

    def _options(self, torch_ref: str, dtype: Optional[str], device: Optional[str]) -> List[cst.Arg]:
        out = []
        if dtype:
            out.append(kwarg("dtype", cst.parse_expression(f"{torch_ref}.{dtype}")))
        if device:
            out.append(kwarg("device", cst.SimpleString(f"{self._quote}{device}{self._quote}")))
        return out

    def _factory(self, torch_ref, name, args, dtype, device, like: Optional[cst.Call] = None) -> cst.Call:
        """``torch.<name>(*args, dtype=..., device=...)``, keeping the layout of ``like`` (the
        call it replaces: the space after its parenthesis, its parentheses)."""
        func = cst.parse_expression(f"{torch_ref}.{name}")
        new_args = append_args(list(args), self._options(torch_ref, dtype, device))
        if like is None:
            return cst.Call(func=func, args=new_args)
        return like.with_changes(func=func, args=new_args)

    def _fusable(self, fill: cst.Call, dtype: Optional[str]) -> bool:
        method = cast(cst.Attribute, fill.func).attr.value  # see visit_Call
        args = fill.args
        if any(a.star for a in args):
            return False
        floating = dtype is None or dtype in FLOAT_DTYPES
        if method == "zero_":
            return not args
        if method == "uniform_":
            return not args and floating
        if method == "normal_":
            if not args:
                return floating
            names = [a.keyword.value if a.keyword else ("mean", "std")[i] if i < 2 else "?" for i, a in enumerate(args)]
            return floating and len(args) == 2 and set(names) == {"mean", "std"} and all(literal_number(a.value) is not None for a in args)
        if method == "fill_":
            return len(args) == 1 and args[0].keyword is None and _literal_fill(args[0].value) is not None
        return False

    def _fuse(self, original_node: cst.Call, updated_node: cst.Call, ctor: cst.Call, info: TypeInfo, short: str, unproven: bool) -> cst.BaseExpression:
        dtype, device = info
        ctor_args = list(ctor.args)
        func = cast(cst.Attribute, original_node.func)  # `<constructor call>.<fill method>` (see leave_Call)
        method = func.attr.value
        torch_ref = module_ref(self, "torch")
        assert torch_ref is not None  # checked when the constructor was seen
        fix_class = FixClass.UNPROVEN if unproven else FixClass.EXACT
        sizes = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in ctor_args]
        if method in FUSED_FILLS and not original_node.args:
            name = FUSED_FILLS[method]
            new = self._factory(torch_ref, name, ctor_args, dtype, device, ctor)
        else:
            size = self._size_tuple(sizes)
            if method == "fill_":
                value_arg = updated_node.args[0]
                fill = _literal_fill(original_node.args[0].value)
                fill_dtype = dtype or (None if isinstance(fill, float) else "get_default_dtype()")
                name = "full"
                new = self._factory(torch_ref, "full", [cst.Arg(size), value_arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)], fill_dtype, device)
            else:  # normal_(mean, std)
                name = "normal"
                by_name = {}
                for i, a in enumerate(updated_node.args):
                    by_name[a.keyword.value if a.keyword else ("mean", "std")[i]] = a.with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT, comma=cst.MaybeSentinel.DEFAULT)
                new = self._factory(torch_ref, "normal", [by_name["mean"], by_name["std"], kwarg("size", size)], dtype, device)
        new = new.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        msg = f"{short}(sizes).{method}(...) -> torch.{name}(...{self._opts_text(dtype, device)})"
        if not self.fix(original_node, msg, fix_class):  # pragma: no cover - allowed() was checked
            return updated_node
        original_ctor = cast(cst.Call, func.value)
        if isinstance(original_ctor.func, cst.Name):
            q = self.imports.resolve(original_ctor.func)
            if q:
                self.ctx.drop_import_when_unused(q)
        return new

    def _size_tuple(self, sizes: List[cst.Arg]) -> cst.BaseExpression:
        """The ``size`` argument of ``torch.full``/``torch.normal``: a ``torch.Size`` or a single
        starred list as it is, else a tuple of the size arguments."""
        if len(sizes) == 1 and (sizes[0].star == "*" or is_known_size(sizes[0].value, self.imports)):
            return sizes[0].value
        elements: List[cst.BaseElement] = [
            cst.StarredElement(a.value) if a.star == "*" else cst.Element(a.value) for a in sizes
        ]
        if len(elements) == 1:
            return cst.Tuple(elements=[elements[0].with_changes(comma=cst.Comma())])
        space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        return cst.Tuple(elements=[e.with_changes(comma=space) if i < len(elements) - 1 else e for i, e in enumerate(elements)])
