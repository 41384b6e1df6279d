"""The ordered rule registry. Order matters: a rule sees the code the previous rules produced.

volatile (TU010) runs before the Variable rules, which leave `Variable(..., volatile=...)` to it;
the Variable rules run before the `.data` rules (TU02x), which rewrite what unwrapping leaves.
The legacy-API rules (TU03x) come last; TU030 is a text rule and runs before the parse anyway.
"""
from .variable import VariableWrapper
from .variable_typecheck import VariableTypeCheck
from .async_kwarg import AsyncNonBlocking
from .renamed_functions import RenamedFunctions
from .upsample import UpsampleInterpolate
from .loss_reduction import LossReduction
from .scalar_overloads import ScalarOverloads
from .softmax_dim import SoftmaxImplicitDim
from .removed_linalg import RemovedLinalg
from .renamed_keywords import RenamedKeywords
from .autograd_attributes import AutogradAttributes

RULES = [
    VariableWrapper,
    VariableTypeCheck,
    AsyncNonBlocking,
    RenamedFunctions,
    UpsampleInterpolate,
    LossReduction,
    ScalarOverloads,
    SoftmaxImplicitDim,
    RemovedLinalg,
    RenamedKeywords,
    AutogradAttributes,
]
