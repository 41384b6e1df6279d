"""The one table of torch facts (codemods/torchapi.py), checked against the installed torch 2.13:
a typo or a fact that torch no longer supports cannot hide."""
import inspect

import pytest

from torchupgrade.codemods import torchapi as api

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch.nn.utils.rnn import PackedSequence  # noqa: E402


def resolve(qualified):
    obj = __import__(qualified.split(".")[0])
    for part in qualified.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def exists(qualified):
    try:
        resolve(qualified)
        return True
    except AttributeError:
        return False


def test_factories_exist_and_take_requires_grad():
    for q in api.FACTORIES_WITH_REQUIRES_GRAD:
        assert exists(q), q
    t = torch.zeros(2, requires_grad=True)
    assert t.requires_grad and torch.ones_like(t, requires_grad=True).requires_grad
    for q in api.OTHER_FACTORIES:
        assert exists(q), q


def test_legacy_constructors_exist_with_their_dtypes():
    for q in api.CONSTRUCTORS:
        assert exists(q), q
    for q, dtype in api.CONSTRUCTOR_DTYPES.items():
        if q.startswith("torch.cuda."):
            continue  # CPU build: the type object exists, instances cannot be made
        made = resolve(q)(2)
        assert {"float": made.is_floating_point(), "int": not made.is_floating_point() and made.dtype != torch.uint8 and made.dtype != torch.bool,
                "byte": made.dtype == torch.uint8, "bool": made.dtype == torch.bool}[dtype], q


def test_loss_parameter_lists_match_torch():
    for q, params in api.LOSS_PARAMS.items():
        if q.endswith("NLLLoss2d"):
            continue  # deprecated alias, same signature as NLLLoss
        obj = resolve(q)
        sig = inspect.signature(obj.__init__ if inspect.isclass(obj) else obj)
        names = [p for p in sig.parameters if p != "self"]
        assert tuple(names[: len(params)]) == params, (q, names)
    for q in api.LOSS_FUNCTIONS:
        assert exists(q), q
    for q in api.WEIGHTED_LOSSES:
        assert "weight" in inspect.signature(resolve(q).__init__).parameters, q


def test_renames_exist_on_both_sides():
    for old, new in {**api.RENAMED_IN_PLACE, **api.RENAMED_ACROSS}.items():
        assert exists(new), new
        if not old.endswith("NLLLoss2d"):
            assert exists(old), old  # deprecated but still there (warns)


def test_tensor_method_facts():
    t = torch.zeros(2, 3)
    for group in (api.NONTENSOR_METHODS - {"__len__", "__array__"}, api.RANK_KEEPING_METHODS, api.TENSOR_ONLY_METHODS,
                  api.REDUCTIONS, api.TUPLE_REDUCTIONS, api.COMPARISON_METHODS, api.INDEX_METHODS, api.INTEGER_METHODS,
                  api.ALIAS_METHODS - {"__getitem__"}, api.GRADLESS_RESULT_METHODS, api.SAVES_NO_OPERAND_METHODS):
        for m in group:
            assert hasattr(t, m), m
    for a in api.TENSOR_ATTRS | api.VALUE_ATTRS | api.ALIAS_ATTRS | api.DATA_VALUE_ATTRS:
        if a != "volatile":
            assert hasattr(torch.Tensor, a), a
    # evidence of a tensor must not be something a PackedSequence also has
    for m in api.TENSOR_ONLY_METHODS:
        assert not hasattr(PackedSequence, m), m


def test_reductions_are_0_dim_and_comparisons_boolean():
    t = torch.rand(2, 3) + 0.5
    for m in ("sum", "mean", "norm", "prod", "std", "var", "max", "min", "median"):
        assert getattr(t, m)().dim() == 0, m
    for m in api.COMPARISON_METHODS:
        assert getattr(t, m)(t).dtype == torch.bool, m
    for m in api.INDEX_METHODS:
        assert getattr(t, m)().dtype == torch.int64, m


def test_module_rank_tables():
    for name in api.RANK_KEEPING_MODULES | set(api.FIXED_RANK_MODULES) | {n.rsplit(".", 1)[1] for n in api.RNN_MODULES | api.RNN_CELLS | api.CONTAINER_MODULES}:
        assert hasattr(torch.nn, name), name
    assert torch.nn.Linear(3, 2)(torch.zeros(4, 5, 3)).dim() == 3  # keeps the rank
    assert torch.nn.Conv2d(1, 1, 1)(torch.zeros(1, 1, 2, 2)).dim() == 4
    for fn in api.RANK_KEEPING_FUNCTIONAL:
        assert hasattr(F, fn) or hasattr(torch, fn), fn


def test_dtype_names():
    for q in api.QUALIFIED_INT_DTYPES:
        assert not resolve(q).is_floating_point, q
    for q in api.QUALIFIED_FLOAT_DTYPES:
        assert resolve(q).is_floating_point, q


def test_each_fact_is_defined_once():
    import ast

    tree = ast.parse(inspect.getsource(api))
    names = [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


def test_removed_linear_algebra_is_gone():
    for q in api.REMOVED_LINALG:
        name = q.split(".", 1)[1]
        if hasattr(torch, name):  # a stub that raises (symeig, eig, lstsq, solve)
            with pytest.raises(RuntimeError):
                getattr(torch, name)(torch.eye(2), torch.eye(2)) if name in ("lstsq", "solve") else getattr(torch, name)(torch.eye(2))


def test_functions_and_modules_referenced_exist():
    for q in api.NONDIFF_FUNCTIONS | api.ALIAS_FUNCTIONS | api.GRAD_WRAPPERS | api.DATALOADERS | api.WRAPPER_MODULES | api.SOFTMAX_FUNCTIONS | api.SOFTMAX_MODULES:
        assert exists(q), q
    for q in api.KL_DIV | {api.UPSAMPLE, api.INTERPOLATE, *api.UPSAMPLE_FIXED_MODE}:
        assert exists(q), q
    for fn in api.TORCH_TENSOR_FUNCTIONS | api.TUPLE_FUNCTIONS:
        assert hasattr(torch, fn.rstrip("_")) or hasattr(torch, fn), fn


# -- the 0.3 side, against ../shared/spec/legacy-idioms.md (the verified semantics) ----------------
SPEC = __import__("pathlib").Path(__file__).resolve().parents[1].parent / "shared" / "spec" / "legacy-idioms.md"


@pytest.fixture(scope="module")
def spec():
    if not SPEC.exists():
        pytest.skip(f"no spec at {SPEC}")
    return SPEC.read_text()


def _row(spec, start):
    line = next((line for line in spec.splitlines() if line.startswith("| " + start)), None)
    assert line is not None, f"no spec row starting with {start!r}"
    return line


def test_renamed_init_functions_are_the_specs(spec):
    row = _row(spec, "`nn.init.xavier_uniform")
    listed = row.split("|")[1].strip().strip("`").replace("nn.init.", "").split("/")
    assert sorted(api._INIT_RENAMED) == sorted(listed)
    assert "append `_`" in row


def test_removed_linear_algebra_is_the_specs(spec):
    section = spec[spec.index("## 5."):spec.index("## 6.")]
    for qualified in api.REMOVED_LINALG:
        assert f"`{qualified[len('torch.'):]}" in section or qualified in section, qualified


def test_legacy_constructor_dtypes_follow_the_spec(spec):
    # the spec's examples: LongTensor([1.7, -1.7]) -> int64 [1, -1], ByteTensor([-1]) -> [255]
    assert "`LongTensor([1.7,-1.7])` → `[1,-1]`" in spec and "`ByteTensor([-1])` → `[255]`" in spec
    assert api.LEGACY_TYPES["torch.LongTensor"] == ("int64", None)
    assert api.LEGACY_TYPES["torch.ByteTensor"] == ("uint8", None)
    assert api.LEGACY_TYPES["torch.cuda.FloatTensor"] == ("float32", "cuda")
    assert api.CONSTRUCTOR_DTYPES["torch.ByteTensor"] == "byte" and api.CONSTRUCTOR_DTYPES["torch.LongTensor"] == "int"


def test_implicit_softmax_dim_is_the_specs(spec):
    row = _row(spec, "`F.softmax(x)`")
    assert "**0 if `x.dim()` is 0, 1 or 3, else 1**" in row
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the implicit-dim warning is the point
        for ndim, dim in ((0, 0), (1, 0), (2, 1), (3, 0), (4, 1)):
            assert F._get_softmax_dim("softmax", ndim, 3) == dim  # today's torch agrees with the spec


def test_loss_reduction_mapping_is_the_specs(spec):
    row = _row(spec, "`size_average=` / `reduce=`")
    assert "`reduce=False` → `reduction='none'`" in row and "`size_average=False` → `'sum'`" in row
    from torch.nn import _reduction

    assert _reduction.legacy_get_string(True, False, emit_warning=False) == "none"
    assert _reduction.legacy_get_string(False, True, emit_warning=False) == "sum"
    assert _reduction.legacy_get_string(None, None, emit_warning=False) == "mean"
