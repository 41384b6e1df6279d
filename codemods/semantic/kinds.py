"""The kind lattice: what the semantic model knows about a value.

A kind is an immutable, hashable value. ``join`` is the least upper bound used when a name has
several bindings. The important kind is ``Tensor``, a product of four small lattices:

* ``rank``: the set of possible ranks *today* (``0`` ... ``RANK_TOP``, the top meaning "that many or
  more"). A reduction is 0-dim today; in 0.3 it had shape ``(1,)`` (``loss.data[0]`` gave a
  Python number).
* ``grad``: may the value require grad in the migrated program? ``NO`` (factories, ``.data``,
  ``.detach()``, DataLoader batches, integer tensors), ``MAY`` (module outputs, arithmetic on
  those), ``PARAM`` (may be an ``nn.Parameter``: a leaf that requires grad).
* ``legacy``: what the value was in PyTorch 0.3: a plain ``TENSOR`` or a ``VARIABLE`` (0.3
  could not mix them: a reduction of a plain tensor returned a Python number, ``.data`` of a
  Variable was a plain tensor, a module call returned a Variable), or a ``NUMBER``: a Python
  number in 0.3 that is a 0-dim tensor today (a full reduction of a plain tensor, an element of
  a plain vector).
* ``dtype``: ``FLOAT``, ``INT`` (integer), ``BOOL`` (a comparison result: uint8 in 0.3, bool
  today), ``BYTE`` (a real uint8 tensor), or unknown.

Other kinds: Python values without a ``.data`` attribute (``PYNUM`` numbers, ``PYVAL`` strings,
``None``, displays), ``NOTTENSOR`` (objects with a ``.data`` of their own: numpy arrays,
``PackedSequence``), modules (``Module``: the kind their call returns), parameter iterables,
tuples, references to functions and classes (of this file or of the project), and ``UNKNOWN``.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import FrozenSet, Optional, Tuple, Union


class Grad(enum.IntEnum):
    NO = 0
    MAY = 1
    PARAM = 2


class Legacy(enum.Enum):
    TENSOR = "tensor"
    VARIABLE = "variable"
    NUMBER = "number"  # a Python number in 0.3 (a reduction or an element of a plain tensor)
    UNKNOWN = "unknown"


class DType(enum.Enum):
    FLOAT = "float"
    INT = "int"
    BOOL = "bool"
    BYTE = "byte"
    UNKNOWN = "unknown"


Rank = FrozenSet[int]  # subsets of {0, ..., RANK_TOP}; RANK_TOP means "that many or more"
RANK_TOP = 5
ANY_RANK: Rank = frozenset(range(RANK_TOP + 1))
SCALAR_RANK: Rank = frozenset({0})
VECTOR_RANK: Rank = frozenset({1})
POS_RANK: Rank = frozenset(range(1, RANK_TOP + 1))
MULTI_RANK: Rank = frozenset(range(2, RANK_TOP + 1))  # a matrix or more (indexing gives a tensor)


def exact_rank(n: int) -> Rank:
    return frozenset({min(max(n, 0), RANK_TOP)})


def shift_rank(rank: Rank, by: int) -> Rank:
    """Ranks after adding ``by`` dimensions (negative: removing; removing from 0-dim is an error)."""
    out = set()
    for r in rank:
        if r == RANK_TOP and by < 0:
            out.update({RANK_TOP + by, RANK_TOP})
        elif r + by >= 0:
            out.add(min(r + by, RANK_TOP))
    return frozenset(out) or ANY_RANK


def broadcast_rank(a: Rank, b: Rank) -> Rank:
    return frozenset(max(x, y) for x in a for y in b)


@dataclass(frozen=True)
class Tensor:
    rank: Rank = ANY_RANK
    grad: Grad = Grad.MAY
    legacy: Legacy = Legacy.UNKNOWN
    dtype: DType = DType.UNKNOWN

    def with_(self, **changes) -> "Tensor":
        return replace(self, **changes)

    @property
    def is_scalar(self) -> bool:
        return self.rank == SCALAR_RANK


class Simple(enum.Enum):
    BOTTOM = "bottom"  # nothing known yet (optimistic start of a fixpoint)
    UNKNOWN = "unknown"
    PYNUM = "number"  # a Python number
    PYVAL = "value"  # str, None, bool, a list/dict/tuple display: no .data attribute
    NOTTENSOR = "nottensor"  # has a .data of its own (numpy array, PackedSequence): never a tensor
    PARAMS = "params"  # an iterable of parameters
    NAMED_PARAMS = "named_params"
    MODULES = "modules"  # an iterable of modules
    PGROUPS = "param_groups"
    PGROUP = "param_group"
    LOSS_FN = "loss_function"  # a reference to an ``F.*_loss`` function
    LOADER = "loader"  # an iterable of DataLoader batches (tensors that do not require grad)
    OPTIMIZER = "optimizer"


BOTTOM = Simple.BOTTOM
UNKNOWN = Simple.UNKNOWN
PYNUM = Simple.PYNUM
PYVAL = Simple.PYVAL
NOTTENSOR = Simple.NOTTENSOR


@dataclass(frozen=True)
class Ref:
    """A function or class defined in this file or a project module: ``module`` is the dotted
    module name ("" for the current file), ``qualname`` its name there (``Net.forward``)."""

    module: str
    qualname: str


@dataclass(frozen=True)
class Module:
    """An ``nn.Module`` instance. ``cls``: its class when known; ``returns``: the kind of calling
    it; ``loss``: an ``nn.*Loss`` (or a project loss module)."""

    cls: Optional[Union[Ref, str]] = None
    returns: "Kind" = Simple.UNKNOWN
    loss: bool = False
    # a tensor module whose output rank follows its input's: the input rank plus this (``nn.Linear``
    # 0, ``nn.Embedding`` 1); None: ``returns`` says it all
    rank_shift: Optional[int] = None


@dataclass(frozen=True)
class Instance:
    """An instance of a non-module class of the project (attributes through its class)."""

    cls: Ref


@dataclass(frozen=True)
class FunctionRef:
    ref: Ref


@dataclass(frozen=True)
class ClassRef:
    ref: Ref


@dataclass(frozen=True)
class TorchRef:
    """A reference to a torch object (``T = torch.cuda.FloatTensor``, ``crit = F.nll_loss``)."""

    qualified: str


@dataclass(frozen=True)
class Tuple_:
    items: Tuple["Kind", ...]


@dataclass(frozen=True)
class Zip:
    items: Tuple["Kind", ...]


@dataclass(frozen=True)
class Enumerate:
    inner: "Kind"


@dataclass(frozen=True)
class Sequence_:
    """A list/tuple of values of one kind (``[v1, v2]`` after joining, ``list(params)``)."""

    item: "Kind"


Kind = Union[Tensor, Simple, Module, Instance, FunctionRef, ClassRef, TorchRef, Tuple_, Zip, Enumerate, Sequence_]

_NO_DATA = (Simple.PYNUM, Simple.PYVAL)


def is_tensor(kind: Kind) -> bool:
    return isinstance(kind, Tensor)


def _join_legacy(a: Legacy, b: Legacy) -> Legacy:
    return a if a is b else Legacy.UNKNOWN


def _join_dtype(a: DType, b: DType) -> DType:
    return a if a is b else DType.UNKNOWN


def join(a: Kind, b: Kind) -> Kind:
    """Least upper bound. Python values without ``.data`` (numbers, None, displays) give way to
    any other kind: code that uses a name as a tensor cannot be holding them at that point."""
    if a is BOTTOM:
        return b
    if b is BOTTOM or a == b:
        return a
    if a in _NO_DATA and b in _NO_DATA:
        return PYVAL
    if a in _NO_DATA:
        return b
    if b in _NO_DATA:
        return a
    if NOTTENSOR in (a, b):
        return NOTTENSOR
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return Tensor(
            a.rank | b.rank, max(a.grad, b.grad), _join_legacy(a.legacy, b.legacy), _join_dtype(a.dtype, b.dtype)
        )
    if isinstance(a, Module) and isinstance(b, Module):
        return Module(a.cls if a.cls == b.cls else None, join(a.returns, b.returns), a.loss and b.loss,
                      a.rank_shift if a.rank_shift == b.rank_shift else None)
    if isinstance(a, Tuple_) and isinstance(b, Tuple_) and len(a.items) == len(b.items):
        return Tuple_(tuple(join(x, y) for x, y in zip(a.items, b.items)))
    if isinstance(a, Sequence_) and isinstance(b, Sequence_):
        return Sequence_(join(a.item, b.item))
    if isinstance(a, TorchRef) and isinstance(b, TorchRef):
        # `Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor`: one constructor
        ca, cb = (q.qualified.replace("torch.cuda.", "torch.") for q in (a, b))
        if ca == cb and ca.endswith("Tensor"):
            return TorchRef(ca)
    return UNKNOWN


# convenient constants
TENSOR = Tensor()
PLAIN = Tensor(grad=Grad.NO, legacy=Legacy.TENSOR)  # a 0.3 plain tensor (factory, .data, batch)
VARIABLE = Tensor(legacy=Legacy.VARIABLE)


def scalar(kind: Tensor) -> Tensor:
    return kind.with_(rank=SCALAR_RANK)


def ranked(kind: Tensor, rank: Rank) -> Tensor:
    return kind.with_(rank=rank)


def no_grad(kind: Tensor) -> Tensor:
    return kind.with_(grad=Grad.NO)


def describe(kind: Kind) -> str:
    """A short human description (for notes and tests)."""
    if isinstance(kind, Tensor):
        ranks = "/".join(f">={r}" if r == RANK_TOP else str(r) for r in sorted(kind.rank))
        return f"tensor(rank {ranks}, grad {kind.grad.name.lower()}, 0.3 {kind.legacy.value}, {kind.dtype.value})"
    if isinstance(kind, Simple):
        return kind.value
    return type(kind).__name__.rstrip("_").lower()
