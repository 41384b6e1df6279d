"""Facts about the torch API that several rules rely on (qualified names, after canonicalisation)."""
from __future__ import annotations

VARIABLE = "torch.autograd.Variable"

# Factories that create a fresh tensor (no grad, nothing else references it) and accept
# ``requires_grad=`` as a keyword (verified against torch 2.13 signatures).
FACTORIES_WITH_REQUIRES_GRAD = frozenset(
    "torch." + n
    for n in (
        "randn rand randint randperm zeros ones empty full eye arange linspace logspace tensor "
        "zeros_like ones_like rand_like randn_like randint_like empty_like full_like"
    ).split()
)
# Fresh tensors from factories without a ``requires_grad=`` keyword.
OTHER_FACTORIES = frozenset({"torch.from_numpy", "torch.range", "torch.normal", "torch.bernoulli", "torch.multinomial"})

# Legacy typed constructors: ``torch.FloatTensor(2, 3)`` (sizes) or ``torch.FloatTensor([1, 2])``
# (data). They do not accept ``requires_grad=``.
_TYPES = "Float Double Half BFloat16 Byte Char Short Int Long Bool".split()
CONSTRUCTORS = frozenset(
    ["torch.Tensor"]
    + [f"torch.{t}Tensor" for t in _TYPES]
    + [f"torch.cuda.{t}Tensor" for t in _TYPES]
)

# Methods that, applied to a fresh tensor, give a tensor that is still fresh: no grad, and not
# reachable through any other name. Conversions and views take sizes, dtypes or devices.
FRESH_VIEW_METHODS = frozenset(
    (
        "cuda cpu float double half long int short byte char bool type type_as to contiguous "
        "view view_as reshape unsqueeze squeeze t transpose permute expand expand_as repeat clone "
        "pin_memory narrow select resize_"
    ).split()
)
# In-place fills return their (fresh) receiver; fresh only when their arguments are literals
# (a tensor argument that requires grad would make the result require grad).
FRESH_FILL_METHODS = frozenset(
    "fill_ zero_ normal_ uniform_ random_ bernoulli_ exponential_ geometric_ cauchy_ log_normal_".split()
)
# ``x.new(...)`` and friends create a new tensor (same dtype/device, no grad).
NEW_TENSOR_METHODS = frozenset("new new_zeros new_ones new_empty new_full new_tensor".split())
