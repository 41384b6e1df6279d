"""Facts about the torch API that several rules rely on (qualified names, after canonicalisation)."""
from __future__ import annotations

from typing import Dict, Tuple

VARIABLE = "torch.autograd.Variable"
# the base class of every 0.3 tensor type (removed; ``torch.Tensor`` today)
TENSOR_BASE = frozenset({"torch._TensorBase", "torch.tensor._TensorBase"})

# Factories that create a fresh tensor (no grad, nothing else references it) and accept
# ``requires_grad=`` as a keyword (verified against torch 2.13 signatures).
FACTORIES_WITH_REQUIRES_GRAD = frozenset(
    "torch." + n
    for n in [
        "randn", "rand", "randint", "randperm", "zeros", "ones", "empty", "full", "eye", "arange", "linspace",
        "logspace", "tensor", "zeros_like", "ones_like", "rand_like", "randn_like", "randint_like",
        "empty_like", "full_like",
    ]
)
# Fresh tensors from factories without a ``requires_grad=`` keyword.
# (Not torch.normal/bernoulli/multinomial: given tensor arguments that require grad, their result
# may require grad too.)
OTHER_FACTORIES = frozenset({"torch.from_numpy", "torch.range"})

# Legacy typed constructors: ``torch.FloatTensor(2, 3)`` (sizes) or ``torch.FloatTensor([1, 2])``
# (data). They do not accept ``requires_grad=``.
_TYPES = ["Float", "Double", "Half", "BFloat16", "Byte", "Char", "Short", "Int", "Long", "Bool"]
CONSTRUCTORS = frozenset(
    ["torch.Tensor"]
    + [f"torch.{t}Tensor" for t in _TYPES]
    + [f"torch.cuda.{t}Tensor" for t in _TYPES]
)

# Methods that, applied to a fresh tensor, give a tensor that is still fresh: no grad, and not
# reachable through any other name. Conversions and views take sizes, dtypes or devices.
FRESH_VIEW_METHODS = frozenset(
    [
        "cuda", "cpu", "float", "double", "half", "long", "int", "short", "byte", "char", "bool", "type",
        "type_as", "to", "contiguous", "view", "view_as", "reshape", "unsqueeze", "squeeze", "t", "transpose",
        "permute", "expand", "expand_as", "repeat", "clone", "pin_memory", "narrow", "select", "resize_",
    ]
)
# In-place fills return their (fresh) receiver; fresh only when their arguments are literals
# (a tensor argument that requires grad would make the result require grad).
FRESH_FILL_METHODS = frozenset(
    [
        "fill_", "zero_", "normal_", "uniform_", "random_", "bernoulli_", "exponential_", "geometric_",
        "cauchy_", "log_normal_",
    ]
)
# ``x.new(...)`` and friends create a new tensor (same dtype/device, no grad).
NEW_TENSOR_METHODS = frozenset(["new", "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor"])

# -- legacy API facts (TU031-TU038; verified against torch 2.13, see the spec §5) -----------------

# Deprecated names that are plain renames in the same module (calls and references).
_INIT_RENAMED = [
    "uniform", "normal", "constant", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
    "orthogonal", "sparse", "eye", "dirac",
]
RENAMED_IN_PLACE = {
    **{f"torch.nn.init.{n}": f"torch.nn.init.{n}_" for n in _INIT_RENAMED},
    "torch.nn.utils.clip_grad_norm": "torch.nn.utils.clip_grad_norm_",
    "torch.nn.NLLLoss2d": "torch.nn.NLLLoss",
}
# Functional aliases whose modern spelling lives in another module (rewritten in calls only:
# `F.tanh is torch.tanh` is False, so references are left alone; both are silent in 2.13).
RENAMED_ACROSS = {
    "torch.nn.functional.sigmoid": "torch.sigmoid",
    "torch.nn.functional.tanh": "torch.tanh",
}
UPSAMPLE = "torch.nn.functional.upsample"
INTERPOLATE = "torch.nn.functional.interpolate"
# F.upsample_bilinear/upsample_nearest(input, size=None, scale_factor=None) are, in 2.13,
# `interpolate(input, size, scale_factor, mode=..., align_corners=...)` (torch/nn/functional.py).
UPSAMPLE_FIXED_MODE = {
    "torch.nn.functional.upsample_bilinear": (("mode", "'bilinear'"), ("align_corners", "True")),
    "torch.nn.functional.upsample_nearest": (("mode", "'nearest'"),),
}
# Modes for which 0.3 behaved like align_corners=True while 2.13 defaults to False.
ALIGN_CORNERS_MODES = frozenset({"linear", "bilinear", "trilinear"})

# Loss constructors and functionals that take size_average/reduce: their parameters in
# positional order (torch 2.13 signatures; tests/test_legacy_reduction.py checks them).
_LOSS_MODULES = {
    "L1Loss": "size_average reduce reduction",
    "MSELoss": "size_average reduce reduction",
    "SmoothL1Loss": "size_average reduce reduction beta",
    "CrossEntropyLoss": "weight size_average ignore_index reduce reduction label_smoothing",
    "NLLLoss": "weight size_average ignore_index reduce reduction",
    "NLLLoss2d": "weight size_average ignore_index reduce reduction",
    "BCELoss": "weight size_average reduce reduction",
    "BCEWithLogitsLoss": "weight size_average reduce reduction pos_weight",
    "KLDivLoss": "size_average reduce reduction log_target",
    "SoftMarginLoss": "size_average reduce reduction",
    "MultiLabelSoftMarginLoss": "weight size_average reduce reduction",
    "MultiMarginLoss": "p margin weight size_average reduce reduction",
    "MultiLabelMarginLoss": "size_average reduce reduction",
    "HingeEmbeddingLoss": "margin size_average reduce reduction",
    "CosineEmbeddingLoss": "margin size_average reduce reduction",
    "MarginRankingLoss": "margin size_average reduce reduction",
    "PoissonNLLLoss": "log_input full size_average eps reduce reduction",
    "TripletMarginLoss": "margin p eps swap size_average reduce reduction",
}
_LOSS_FUNCTIONS = {
    "l1_loss": "input target size_average reduce reduction weight",
    "mse_loss": "input target size_average reduce reduction weight",
    "smooth_l1_loss": "input target size_average reduce reduction beta",
    "cross_entropy": "input target weight size_average ignore_index reduce reduction label_smoothing",
    "nll_loss": "input target weight size_average ignore_index reduce reduction",
    "binary_cross_entropy": "input target weight size_average reduce reduction",
    "binary_cross_entropy_with_logits": "input target weight size_average reduce reduction pos_weight",
    "kl_div": "input target size_average reduce reduction log_target",
    "soft_margin_loss": "input target size_average reduce reduction",
    "multilabel_soft_margin_loss": "input target weight size_average reduce reduction",
    "multi_margin_loss": "input target p margin weight size_average reduce reduction",
    "multilabel_margin_loss": "input target size_average reduce reduction",
    "hinge_embedding_loss": "input target margin size_average reduce reduction",
    "cosine_embedding_loss": "input1 input2 target margin size_average reduce reduction",
    "margin_ranking_loss": "input1 input2 target margin size_average reduce reduction",
    "poisson_nll_loss": "input target log_input full size_average eps reduce reduction",
    "triplet_margin_loss": "anchor positive negative margin p eps swap size_average reduce reduction",
}
LOSS_PARAMS = {
    **{f"torch.nn.{k}": tuple(v.split()) for k, v in _LOSS_MODULES.items()},
    **{f"torch.nn.functional.{k}": tuple(v.split()) for k, v in _LOSS_FUNCTIONS.items()},
}
KL_DIV = frozenset({"torch.nn.KLDivLoss", "torch.nn.functional.kl_div"})

# Deprecated scalar-first overloads (torch 2.13 still accepts them with a warn-once warning).
# method name -> {number of positional args: names of the scalars in order, then tensors}.
# The modern forms take fewer positional arguments, so the arity identifies the overload.
_ADD: Dict[int, Tuple[str, ...]] = {2: ("alpha",)}
_ADDC: Dict[int, Tuple[str, ...]] = {3: ("value",)}
_ADDMM: Dict[int, Tuple[str, ...]] = {3: ("beta",), 4: ("beta", "alpha")}
OVERLOAD_METHODS: Dict[str, Dict[int, Tuple[str, ...]]] = {
    **{m: _ADD for m in ("add_", "sub_")},
    **{m: _ADDC for m in ("addcmul", "addcmul_", "addcdiv", "addcdiv_")},
    **{m: _ADDMM for m in ("addmm", "addmm_", "addmv", "addmv_", "addr", "addr_", "addbmm", "addbmm_", "baddbmm", "baddbmm_")},
}
# `x.add(a, t)` / `x.sub(a, t)`: the names are too common on non-tensors (meters, sets) to
# rewrite without knowing the receiver is a tensor.
AMBIGUOUS_OVERLOAD_METHODS = {"add": _ADD, "sub": _ADD}
# torch.X functions: the first positional argument is the tensor `input`, scalars are listed
# with their positions: n positional -> ((position, keyword), ...).
OVERLOAD_FUNCTIONS: Dict[str, Dict[int, Tuple[Tuple[int, str], ...]]] = {
    **{f"torch.{f}": {3: ((1, "alpha"),)} for f in ("add", "sub")},
    **{f"torch.{f}": {4: ((1, "value"),)} for f in ("addcmul", "addcdiv")},
    **{f"torch.{f}": {4: ((0, "beta"),), 5: ((0, "beta"), (2, "alpha"))} for f in ("addmm", "addmv", "addr", "addbmm", "baddbmm")},
}

SOFTMAX_FUNCTIONS = frozenset({"torch.nn.functional.softmax", "torch.nn.functional.log_softmax", "torch.nn.functional.softmin"})
SOFTMAX_MODULES = frozenset({"torch.nn.Softmax", "torch.nn.LogSoftmax", "torch.nn.Softmin"})
# Tensor factories and views whose result rank is the number of size arguments.
RANKED_FACTORIES = frozenset("torch." + n for n in ["randn", "rand", "zeros", "ones", "empty"])
RANKED_VIEWS = frozenset({"view", "reshape"})

# Removed linear-algebra functions (AttributeError or a raising stub in 2.13).
REMOVED_LINALG = frozenset(
    "torch." + n for n in [
        "gels", "potrf", "potrs", "potri", "pstrf", "gesv", "trtrs", "btrifact", "btrifact_with_info",
        "btrisolve", "btriunpack", "symeig", "eig", "lstsq", "solve",
    ]
)
# Method spellings (`A.potrf()`) rewritten only for names nothing else uses.
REMOVED_LINALG_METHODS = frozenset(
    [
        "gels", "potrf", "potrs", "potri", "gesv", "trtrs", "btrifact", "btrifact_with_info", "btrisolve",
        "btriunpack", "symeig",
    ]
)

# -- tensor semantics used by the semantic model (codemods/semantic) -------------------------------
LOSS_FUNCTIONS = frozenset(
    "torch.nn.functional." + n
    for n in [
        "nll_loss", "cross_entropy", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
        "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "soft_margin_loss",
        "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss", "hinge_embedding_loss",
        "margin_ranking_loss", "cosine_embedding_loss", "poisson_nll_loss", "triplet_margin_loss",
        "gaussian_nll_loss", "ctc_loss",
    ]
)
RNN_MODULES = frozenset("torch.nn." + n for n in ["RNN", "LSTM", "GRU", "RNNBase"])
RNN_CELLS = frozenset("torch.nn." + n for n in ["RNNCell", "LSTMCell", "GRUCell"])
CONTAINER_MODULES = frozenset("torch.nn." + n for n in ["ModuleList", "ModuleDict", "ParameterList", "ParameterDict"])
WRAPPER_MODULES = frozenset({"torch.nn.DataParallel", "torch.nn.parallel.DataParallel", "torch.nn.parallel.DistributedDataParallel"})
DATALOADERS = frozenset({"torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"})
OPTIMIZER_PREFIX = "torch.optim."
# Reductions that give a 0-dim tensor when called with the tensor only (a Python number in 0.3
# for plain tensors, a (1,) Variable for Variables).
REDUCTIONS = frozenset([
    "sum", "mean", "norm", "prod", "std", "var", "max", "min", "median", "all", "any", "logsumexp", "dist",
    "dot", "trace",
])
TUPLE_REDUCTIONS = frozenset(["max", "min", "median", "mode", "sort", "topk", "kthvalue"])
TUPLE_FUNCTIONS = frozenset(["chunk", "split", "unbind", "meshgrid", "broadcast_tensors"])
# torch.* functions returning one tensor (beyond factories and constructors).
TORCH_TENSOR_FUNCTIONS = frozenset(
    [
        "cat", "stack", "mm", "bmm", "matmul", "addmm", "addbmm", "baddbmm", "mv", "ger", "outer", "einsum",
        "exp", "log", "log1p", "sigmoid", "tanh", "sqrt", "rsqrt", "abs", "neg", "clamp", "clamp_max",
        "clamp_min", "pow", "mul", "add", "sub", "div", "fmod", "remainder", "sign", "floor", "ceil", "round",
        "softmax", "log_softmax", "relu", "squeeze", "unsqueeze", "transpose", "t", "reshape", "flatten",
        "narrow", "select", "index_select", "gather", "masked_select", "where", "cumsum", "cumprod", "eq",
        "ne", "lt", "le", "gt", "ge", "argmax", "argmin", "nonzero", "diag", "tril", "triu", "cos", "sin",
        "atan2", "erf", "lerp", "addcmul", "addcdiv", "bernoulli", "multinomial", "normal", "from_numpy",
        "as_tensor", "zeros_like", "ones_like", "rand_like", "randn_like", "full_like", "empty_like", "clone",
        "detach", "flip", "roll", "cross", "cdist", "sort_", "isnan", "isinf", "masked_fill", "reciprocal",
        "sum", "mean", "norm", "prod", "std", "var", "max", "min", "median",
    ]
)
# Tensor methods whose result is not a tensor (Python values, numpy arrays, sizes, None).
NONTENSOR_METHODS = frozenset(
    [
        "size", "dim", "ndimension", "numel", "nelement", "item", "tolist", "numpy", "data_ptr", "storage",
        "untyped_storage", "get_device", "is_contiguous", "is_floating_point", "element_size", "stride",
        "backward", "register_hook", "equal", "is_set_to", "is_shared", "is_pinned", "__len__", "__array__",
        "storage_offset",
    ]
)
# Methods that keep the receiver's rank (elementwise ops, conversions; in-place ops return self).
RANK_KEEPING_METHODS = frozenset(
    [
        "detach", "clone", "cpu", "cuda", "to", "float", "double", "half", "long", "int", "short", "byte",
        "char", "bool", "type_as", "contiguous", "abs", "exp", "log", "log1p", "sqrt", "rsqrt", "sigmoid",
        "tanh", "relu", "neg", "pow", "mul", "add", "sub", "div", "clamp", "round", "floor", "ceil", "sign",
        "reciprocal", "fmod", "remainder", "pin_memory", "requires_grad_", "detach_", "masked_fill", "lerp",
        "addcmul", "addcdiv",
    ]
)
# rank-keeping methods whose result has the receiver's dtype (copies, moves, fills)
DTYPE_KEEPING_METHODS = frozenset(["detach", "clone", "cpu", "cuda", "contiguous", "pin_memory", "requires_grad_", "detach_", "masked_fill"])
# rank-keeping methods that keep an integer tensor integer when their arguments are integers
INTEGER_ARITHMETIC_METHODS = frozenset(["mul", "add", "sub", "fmod", "remainder", "abs", "neg", "sign", "clamp"])
TENSOR_ATTRS = frozenset({"data", "grad", "T", "mT", "H", "real", "imag"})
# Python values read off a tensor (no tensor, no graph).
VALUE_ATTRS = frozenset([
    "shape", "dtype", "device", "is_cuda", "requires_grad", "is_leaf", "ndim", "layout", "is_sparse",
    "volatile", "grad_fn",
])
# Methods only tensors have: evidence that a parameter / loop variable holds a tensor. Never list
# a method that a PackedSequence also has (to cpu cuda float double half long int short char byte
# pin_memory is_cuda is_pinned): `seq.float()` is no evidence that `seq.data` is a tensor's.
TENSOR_ONLY_METHODS = frozenset(
    [
        "size", "contiguous", "unsqueeze", "masked_fill", "masked_fill_", "type_as", "expand_as", "view_as",
        "index_select", "detach", "backward", "new", "dim", "numel", "permute", "bmm", "mm", "mv", "narrow",
        "expand", "unbind", "requires_grad_", "zero_", "normal_", "uniform_", "fill_", "index_fill_",
        "masked_scatter_", "nelement",
    ]
)
MODULE_SELF_METHODS = frozenset([
    "cuda", "cpu", "to", "train", "eval", "double", "float", "half", "type", "share_memory",
])
# Methods and functions with non-differentiable (boolean or index) results.
COMPARISON_METHODS = frozenset(["eq", "ne", "lt", "le", "gt", "ge"])
INDEX_METHODS = frozenset(["argmax", "argmin", "nonzero"])
INTEGER_METHODS = frozenset(["long", "int", "short", "byte", "char"])
# dtype of the legacy typed constructors
CONSTRUCTOR_DTYPES = {
    **{f"{p}{t}Tensor": d for p in ("torch.", "torch.cuda.") for t, d in (
        ("Float", "float"), ("Double", "float"), ("Half", "float"), ("BFloat16", "float"),
        ("Long", "int"), ("Int", "int"), ("Short", "int"), ("Char", "int"), ("Byte", "byte"), ("Bool", "bool"),
    )},
    "torch.Tensor": "float",
}

# -- legacy tensor types, checkpoints, removed modules (TU040-TU046; verified against 2.13) ------

# Legacy typed constructors and type objects -> (dtype spelling, device or None). ``torch.Tensor``
# has the default dtype (None here): its modern forms leave the dtype to the default.
_TYPE_DTYPES = {
    "Float": "float32", "Double": "float64", "Half": "float16", "BFloat16": "bfloat16",
    "Byte": "uint8", "Char": "int8", "Short": "int16", "Int": "int32", "Long": "int64", "Bool": "bool",
}
LEGACY_TYPES = {
    **{f"torch.{t}Tensor": (d, None) for t, d in _TYPE_DTYPES.items()},
    **{f"torch.cuda.{t}Tensor": (d, "cuda") for t, d in _TYPE_DTYPES.items()},
}
DEFAULT_TENSOR_TYPE = "torch.Tensor"
FLOAT_DTYPES = frozenset({"float32", "float64", "float16", "bfloat16"})
# the conversion method spelling each dtype has on tensors (``x.float()``)
DTYPE_METHODS = {
    "float32": "float", "float64": "double", "float16": "half", "bfloat16": "bfloat16",
    "uint8": "byte", "int8": "char", "int16": "short", "int32": "int", "int64": "long", "bool": "bool",
}
# Calls that change the default device or tensor type for the whole program (then torch.empty &c.
# no longer create what a CPU type like torch.FloatTensor creates).
DEFAULT_DEVICE_SETTERS = ("set_default_tensor_type", "set_default_device")
# Fused "allocate then fill" forms of a legacy constructor: method -> modern factory, for calls
# without arguments (exactly what the factories do in ATen: randn is empty().normal_(), rand is
# empty().uniform_(), zeros is empty().zero_(); verified bitwise on the CPU, every float dtype).
FUSED_FILLS = {"zero_": "zeros", "normal_": "randn", "uniform_": "rand"}

TORCH_RANGE = "torch.range"
TORCH_LOAD = "torch.load"
GRID_SAMPLE_ALIGN = {  # function -> position of align_corners among its positional parameters
    "torch.nn.functional.grid_sample": 4,  # (input, grid, mode, padding_mode, align_corners)
    "torch.nn.functional.affine_grid": 2,  # (theta, size, align_corners)
}

# torch._six (removed in torch 2.0): name -> (replacement source, module the replacement needs)
SIX_NAMES = {
    "string_classes": ("(str, bytes)", None),
    "int_classes": ("int", None),
    "inf": ("math.inf", "math"),
    "nan": ("math.nan", "math"),
    "container_abcs": ("collections.abc", "collections.abc"),
    "PY3": ("True", None),
    "PY2": ("False", None),
}
# modules removed without a replacement: qualified prefix -> what to do by hand
REMOVED_MODULES = {
    "torch.utils.serialization": "torch.utils.serialization (load_lua) was removed in torch 1.0: convert the Lua Torch .t7 file once with an old PyTorch (<= 0.4.1) or the `torchfile` package, and save it with torch.save",
    "torch.utils.ffi": "torch.utils.ffi was removed in torch 1.0: rebuild the C extension with torch.utils.cpp_extension (CppExtension / load()) and call it through its pybind11 module",
    "torch.legacy": "torch.legacy (the Lua-Torch style nn) was removed in torch 1.0: use the torch.nn equivalent (e.g. legacy.nn.SpatialCrossMapLRN -> nn.LocalResponseNorm, Sequential().add(m) -> nn.Sequential(m)) by hand",
}

AUTOGRAD_FUNCTION = frozenset({"torch.autograd.Function", "torch.autograd.function.Function"})
# attributes an old-style Function instance got from autograd; the same names exist on ``ctx``
FUNCTION_CTX_ATTRS = frozenset(
    [
        "save_for_backward", "saved_tensors", "saved_variables", "needs_input_grad", "mark_dirty",
        "mark_non_differentiable", "mark_shared_storage", "set_materialize_grads",
    ]
)

OPTIMIZERS = frozenset(
    "torch.optim." + n
    for n in [
        "SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "ASGD", "LBFGS", "RMSprop", "Rprop",
        "SparseAdam", "NAdam", "RAdam",
    ]
)
NO_GRAD_CONTEXTS = frozenset({"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad"})
SET_GRAD_ENABLED = frozenset({"torch.set_grad_enabled", "torch.autograd.set_grad_enabled"})

# Ranks: functional ops whose result has their input's rank; modules likewise; modules with a
# fixed (batched) output rank; losses that take a `weight` before `size_average`.
RANK_KEEPING_FUNCTIONAL = frozenset(
    [
        "relu", "relu_", "sigmoid", "tanh", "dropout", "leaky_relu", "elu", "selu", "softplus", "softmax",
        "log_softmax", "softmin", "hardtanh", "relu6", "gelu", "silu", "threshold", "normalize", "abs", "exp",
        "log", "sqrt", "neg", "clamp", "pow", "mul", "add", "sub", "sign", "floor", "ceil", "round",
        "reciprocal", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
        "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "conv1d",
        "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "linear", "pad", "interpolate",
        "upsample", "batch_norm", "layer_norm", "instance_norm", "local_response_norm", "dropout2d",
        "dropout3d", "alpha_dropout", "hardtanh", "logsigmoid", "softsign", "tanhshrink",
    ]
)
RANK_KEEPING_MODULES = frozenset(
    [
        "Linear", "Bilinear", "Dropout", "Dropout2d", "Dropout3d", "AlphaDropout", "ReLU", "ReLU6",
        "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Hardtanh",
        "Softplus", "Softsign", "Threshold", "LogSigmoid", "Tanhshrink", "Softshrink", "Hardshrink",
        "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
        "LayerNorm", "GroupNorm", "LocalResponseNorm", "Identity", "ZeroPad2d", "ConstantPad2d",
        "ReflectionPad2d", "ReplicationPad2d",
    ]
)
FIXED_RANK_MODULES = {
    **{n: 3 for n in ["Conv1d", "ConvTranspose1d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d"]},
    **{n: 4 for n in [
        "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
        "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle",
    ]},
    **{n: 5 for n in ["Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d"]},
}
WEIGHTED_LOSSES = frozenset({"torch.nn.CrossEntropyLoss", "torch.nn.NLLLoss", "torch.nn.NLLLoss2d", "torch.nn.BCELoss", "torch.nn.BCEWithLogitsLoss", "torch.nn.MultiLabelSoftMarginLoss"})
QUALIFIED_INT_DTYPES = frozenset([
    "torch.long", "torch.int64", "torch.int", "torch.int32", "torch.int16", "torch.short", "torch.int8",
])
QUALIFIED_FLOAT_DTYPES = frozenset([
    "torch.float", "torch.float32", "torch.double", "torch.float64", "torch.half", "torch.float16",
    "torch.bfloat16",
])


# -- where a `.data` value flows (the .data rules, TU020-TU023) ------------------------------------
# Methods whose result may alias the receiver's storage (views, tuples of views, conversions that
# may return self): follow the value further.
ALIAS_METHODS = frozenset(
    [
        "view", "view_as", "reshape", "reshape_as", "squeeze", "unsqueeze", "t", "transpose", "swapaxes",
        "swapdims", "moveaxis", "movedim", "permute", "expand", "expand_as", "broadcast_to", "narrow",
        "select", "flatten", "unflatten", "ravel", "as_strided", "diagonal", "unfold", "chunk", "split",
        "split_with_sizes", "unsafe_chunk", "unsafe_split", "tensor_split", "hsplit", "vsplit", "dsplit",
        "unbind", "adjoint", "conj", "resolve_conj", "resolve_neg", "indices", "values", "crow_indices",
        "col_indices", "ccol_indices", "row_indices", "as_subclass", "__getitem__", "contiguous", "cpu",
        "cuda", "to", "type", "float", "double", "half", "bfloat16", "type_as", "pin_memory",
        "requires_grad_", "detach",
    ]
)
ALIAS_ATTRS = frozenset(["T", "mT", "H", "mH", "real", "imag", "data"])
# Results without gradient: the value can simply lose its `.data`.
GRADLESS_RESULT_METHODS = frozenset(
    [
        "eq", "ne", "lt", "le", "gt", "ge", "equal", "argmax", "argmin", "item", "tolist", "long", "int",
        "short", "byte", "char", "bool", "sign", "isnan", "isinf", "nonzero", "numel", "size", "dim", "new",
        "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor", "type", "is_cuda", "get_device",
    ]
)
# Methods whose backward saves no operand, or whose result is not differentiable.
SAVES_NO_OPERAND_METHODS = frozenset([
    "add", "sub", "copy_", "new", "new_tensor", "new_zeros", "new_ones", "tolist", "numpy",
])
DATA_VALUE_ATTRS = frozenset([
    "shape", "dtype", "device", "is_cuda", "requires_grad", "is_leaf", "ndim", "layout", "is_sparse",
])
NUMBER_BUILTINS = frozenset(["float", "int", "bool", "len"])
DISPLAY_BUILTINS = frozenset(["str", "repr", "print", "format", "round", "abs"])
NONDIFF_FUNCTIONS = frozenset(
    "torch." + n for n in [
        "eq", "ne", "lt", "le", "gt", "ge", "equal", "argmax", "argmin", "isnan", "isinf", "numel",
        "is_tensor", "sign", "nonzero",
    ]
)
ALIAS_FUNCTIONS = frozenset(
    "torch." + n
    for n in [
        "squeeze", "unsqueeze", "t", "transpose", "swapaxes", "swapdims", "moveaxis", "movedim", "permute",
        "narrow", "select", "reshape", "flatten", "unflatten", "ravel", "chunk", "split", "split_with_sizes",
        "unsafe_chunk", "unsafe_split", "tensor_split", "hsplit", "vsplit", "dsplit", "unbind", "diagonal",
        "as_strided", "view_as_real", "view_as_complex", "real", "imag", "conj", "resolve_conj",
        "resolve_neg", "adjoint", "broadcast_to", "broadcast_tensors", "atleast_1d", "atleast_2d",
        "atleast_3d", "meshgrid", "detach", "as_tensor", "asarray",
    ]
)
GRAD_WRAPPERS = frozenset(("torch.nn.Parameter", "torch.nn.parameter.Parameter"))
VARIABLE_CLASSES = frozenset(("torch.autograd.Variable",))



# -- uint8 masks and integer division (TU047, TU048) -----------------------------------------------
# where the mask (condition) is among the positional arguments: functions by qualified name,
# tensor methods as ``Tensor.<name>`` (the position after the receiver)
MASK_ARGUMENTS = {
    "torch.masked_select": 1, "torch.masked_fill": 1, "torch.masked_scatter": 1, "torch.where": 0,
    **{f"Tensor.{m}": 0 for m in ("masked_fill", "masked_fill_", "masked_select", "masked_scatter", "masked_scatter_")},
}
# 0.3 float results of these factories, whatever their arguments (integer dtype inference for
# ``arange`` came later)
FLOAT_IN_03_FACTORIES = frozenset(("torch.arange", "torch.range", "torch.linspace", "torch.logspace"))
DIV_FUNCTIONS = frozenset(("torch.div", "torch.true_divide"))
