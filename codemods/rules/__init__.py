"""The ordered rule registry. Order matters: a rule sees the code the previous rules produced.

volatile (TU010) runs before the Variable rules, which leave `Variable(..., volatile=...)` to it;
the Variable rules run before the `.data` rules (TU02x), which rewrite what unwrapping leaves.
The legacy-API rules (TU03x) come last; TU030 is a text rule and runs before the parse anyway.
"""
from .variable import VariableWrapper
from .volatile import VolatileNoGrad, VolatileRead
from .variable_typecheck import VariableTypeCheck
from .data_grad import GradData
from .data_inplace import DataInplace
from .data_index import DataIndexItem
from .data_read import DataRead
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
]
