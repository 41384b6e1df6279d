"""The ordered rule registry. Order matters: a rule sees the code the previous rules produced.

volatile (TU010) runs before the Variable rules, which leave `Variable(..., volatile=...)` to it;
the Variable rules run before the `.data` rules (TU02x), which rewrite what unwrapping leaves.
"""
from .variable import VariableWrapper
from .volatile import VolatileNoGrad, VolatileRead
from .variable_typecheck import VariableTypeCheck

RULES = [
    VolatileNoGrad,
    VolatileRead,
    VariableWrapper,
    VariableTypeCheck,
]
