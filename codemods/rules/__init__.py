"""The ordered rule registry. Order matters where rules touch the same code.

volatile (TU010) runs before the Variable rules, which leave `Variable(..., volatile=...)` to it;
the Variable rules run before the `.data` rules (TU02x), which rewrite what unwrapping leaves.
The legacy-API rules (TU03x) come last; TU030 is a text rule and runs before the parse anyway.
Each rule declares the patterns it ``owns`` and the rules it runs ``after``; ``check_registry``
(run at import) refuses two rules owning one pattern without an order between them, and an
order that contradicts the list.
"""
from typing import Dict, List, Set, Type

from ..rule import Rule
from .advisory_backward_no_grad import BackwardInNoGrad
from .advisory_eval import EvalWithoutNoGrad
from .advisory_freeze_eval import FreezeForInference
from .advisory_frozen_optimizer import FrozenParamsInOptimizer
from .advisory_stale_grad import StaleGrad
from .async_kwarg import AsyncNonBlocking
from .autograd_attributes import AutogradAttributes
from .autograd_function import OldStyleFunction
from .byte_masks import ByteMasks
from .data_grad import GradData
from .data_index import DataIndexItem
from .data_inplace import DataInplace
from .data_read import DataRead
from .grid_sample import GridSampleAlignCorners
from .integer_division import IntegerDivision
from .legacy_constructors import LegacyConstructors
from .loss_reduction import LossReduction
from .removed_internals import RemovedInternals
from .removed_linalg import RemovedLinalg
from .renamed_functions import RenamedFunctions
from .renamed_keywords import RenamedKeywords
from .scalar_overloads import ScalarOverloads
from .softmax_dim import SoftmaxImplicitDim
from .tensor_types import TensorTypeObjects
from .torch_load import TorchLoadWeightsOnly
from .torch_range import TorchRange
from .upsample import UpsampleInterpolate
from .variable import VariableWrapper
from .variable_typecheck import VariableTypeCheck
from .volatile import VolatileNoGrad, VolatileRead

RULES: List[Type[Rule]] = [
    VolatileNoGrad,
    VolatileRead,
    VariableWrapper,
    VariableTypeCheck,
    # .data family (TU020-TU023): grad.data first, then writes, then .data[0], then plain reads
    GradData,
    DataInplace,
    DataIndexItem,
    DataRead,
    AsyncNonBlocking,
    RenamedFunctions,
    UpsampleInterpolate,
    LossReduction,
    ScalarOverloads,
    SoftmaxImplicitDim,
    RemovedLinalg,
    RenamedKeywords,
    AutogradAttributes,
    LegacyConstructors,
    TensorTypeObjects,
    TorchRange,
    GridSampleAlignCorners,
    RemovedInternals,
    TorchLoadWeightsOnly,
    OldStyleFunction,
    ByteMasks,
    IntegerDivision,
    # advisories (notes only): TU050-TU054
    EvalWithoutNoGrad,
    FrozenParamsInOptimizer,
    StaleGrad,
    FreezeForInference,
    BackwardInNoGrad,
]


def check_registry(rules: List[Type[Rule]]) -> None:
    """Raise if two rules own a pattern without an order, or ``after`` contradicts the order."""
    by_code = {r.code: r for r in rules}
    position = {r.code: i for i, r in enumerate(rules)}
    after: Dict[str, Set[str]] = {}

    def closure(code: str, seen: Set[str]) -> Set[str]:
        if code in after:
            return after[code]
        out: Set[str] = set()
        for dep in by_code[code].after:
            if dep not in by_code:
                raise ValueError(f"{code} runs after unknown rule {dep}")
            if dep in seen:
                raise ValueError(f"rule order cycle through {code} and {dep}")
            out |= {dep} | closure(dep, seen | {code})
        after[code] = out
        return out

    for r in rules:
        for dep in closure(r.code, set()):
            if position[dep] > position[r.code]:
                raise ValueError(f"{r.code} must run after {dep} but is registered before it")
    owners: Dict[str, List[str]] = {}
    for r in rules:
        for pattern in r.owns:
            owners.setdefault(pattern, []).append(r.code)
    for pattern, codes in owners.items():
        for i, a in enumerate(codes):
            for b in codes[i + 1:]:
                if a not in after[b] and b not in after[a]:
                    raise ValueError(f"{a} and {b} both own {pattern!r} but neither runs after the other")


check_registry(RULES)
