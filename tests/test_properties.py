"""Property tests (hypothesis + hypothesmith) of the engine over generated programs and mutated
legacy files. For every input:

* ``migrate`` never raises, and never fails with an internal error;
* a file it does not fail on comes out parseable if it went in parseable;
* one run is idempotent: migrating the output changes nothing (default and ``--unsafe``);
* ``bytes`` and ``str`` input give the same result;
* a file without edits comes back as the very input object (byte-identical), and a program
  without any legacy idiom has no edits.

The default profile is small, derandomized and bounded (a few seconds, deterministic in CI);
``pytest -m fuzz`` runs the same properties on many more examples
(``TORCHUPGRADE_FUZZ_EXAMPLES``, default 1000 per test). Counts are printed at the end.
"""
import ast
import os
import warnings
from collections import Counter
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from torchupgrade.codemods import migrate

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("TORCHUPGRADE_CORPUS", os.path.expanduser("~/.cache/torchupgrade-corpus"))) / "src"

COMMON = dict(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
fast = settings(max_examples=25, derandomize=True, **COMMON)
slow = settings(max_examples=int(os.environ.get("TORCHUPGRADE_FUZZ_EXAMPLES", "1000")), **COMMON)

STATS: Counter = Counter()
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if STATS:
        print("\nproperty tests:", ", ".join(f"{k} {v}" for k, v in sorted(STATS.items())))


def parses(source) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def check(source, kind: str, legacy_free: bool = False) -> None:
    """Every property, for one input (``str`` or ``bytes``)."""
    STATS[f"{kind} tried"] += 1
    parsed = parses(source)
    changed = False
    for unsafe in (False, True):
        result = migrate(source, unsafe=unsafe)
        assert result.failure is None or result.failure.kind != "internal", (unsafe, result.failure)
        if result.failure is not None:
            assert result.new_source is source
            continue
        out = result.new_source
        assert type(out) is type(source)
        if not result.edits:
            assert out is source
        elif parsed:
            assert parses(out), "the migrated code does not parse"
        if legacy_free:
            assert not result.edits and out is source
        again = migrate(out, unsafe=unsafe)
        assert again.failure is None, again.failure
        assert again.new_source == out, f"not idempotent (unsafe={unsafe}): {[e.rule for e in again.edits]}"
        if isinstance(source, str):
            encoded = source.encode("utf-8", "surrogatepass")
            as_bytes = migrate(encoded, unsafe=unsafe)
            if as_bytes.failure is None:
                assert as_bytes.new_source == out.encode("utf-8", "surrogatepass")
                assert [(e.rule, e.line) for e in as_bytes.edits] == [(e.rule, e.line) for e in result.edits]
        changed = changed or bool(result.edits)
    STATS[f"{kind} changed"] += changed


# -- generated programs ---------------------------------------------------------------------------
HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom torch.autograd import Variable\n"
SNIPPETS = [
    "x = Variable(torch.zeros(3), volatile=True)\n",
    "h = Variable(h.data)\n",
    "loss = F.nll_loss(out, target)\nprint(loss.data[0])\n",
    "y = x.data\n",
    "if isinstance(v, Variable):\n    v = v.data\n",
    "x = x.cuda(async=True)\n",
    "w = torch.zeros(2)\nw.data.add_(1)\n",
    "p = F.softmax(logits)\n",
    "nn.init.xavier_uniform(w)\n",
    "z = F.sigmoid(x) + F.tanh(x)\n",
    "def evaluate(m, d):\n    inp = Variable(d, volatile=True)\n    return m(inp).data[0]\n",
    "for p in model.parameters():\n    p.grad.data.zero_()\n",
    "crit = nn.CrossEntropyLoss(size_average=False)\n",
    "t = torch.zeros(3, requires_grad=False)\nv = Variable(t, requires_grad=True)\n",
    "if type(h) == Variable:\n    h = Variable(h.data)\n",
    "out = F.upsample(x, scale_factor=2)\n",
    "loss.backward(retain_variables=True)\n",
]


def _top_level_offsets(program: str):
    """Line numbers (0-based) where a top-level statement starts."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return sorted({node.lineno - 1 for node in tree.body})


GRAMMAR = hypothesmith.from_grammar()  # building the strategy parses the grammar: once


@st.composite
def legacy_programs(draw):
    """A hypothesmith program with a torch header and legacy snippets between its statements."""
    program = draw(GRAMMAR)
    assume(parses(program))
    lines = program.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    points = _top_level_offsets(program) + [len(lines)]
    inserts = draw(st.lists(st.tuples(st.sampled_from(points), st.sampled_from(SNIPPETS)), min_size=1, max_size=4))
    for point, snippet in sorted(inserts, reverse=True):
        lines.insert(point, snippet)
    text = HEADER + "".join(lines) + draw(st.sampled_from(TAILS))
    newline = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    return text.replace("\n", newline) if newline != "\n" else text


# endings libcst does not print back as they were (a whitespace-only last line, a dropped comment)
TAILS = ["", "", "\n    ", "\n\n    ", "\n  # c\n\n    ", "    # trailing\n", "\n\n\n", "\\\n"]


LEGACY_WORDS = ("torch", "Variable", "volatile", ".data", "async", "size_average", "reduce", "sigmoid", "tanh", "upsample", "softmax",
                "init", "clip_grad", "NLLLoss2d", "add_", "addcmul", "addcdiv", "addmm", "potr", "gesv", "trtrs", "btri", "symeig", "gels",
                "retain_variables", "device_id", "saved_variables", "creator")


def test_grammar_programs_without_legacy_idioms_unchanged():
    @fast
    @given(GRAMMAR)
    def prop(program):
        check(program, "grammar", legacy_free=not any(w in program for w in LEGACY_WORDS))

    prop()


@pytest.mark.fuzz
def test_grammar_programs_fuzz():
    @slow
    @given(GRAMMAR)
    def prop(program):
        check(program, "grammar", legacy_free=not any(w in program for w in LEGACY_WORDS))

    prop()


def test_generated_legacy_programs():
    @fast
    @example(HEADER + "x = Variable(torch.zeros(3))\nprint(x)\n\n    ")
    @example(HEADER.replace("\n", "\r") + "y = torch.zeros(1)\nprint(y.data)\r")
    @given(legacy_programs())
    def prop(program):
        check(program, "legacy-generated")

    prop()


@pytest.mark.fuzz
def test_generated_legacy_programs_fuzz():
    @slow
    @given(legacy_programs())
    def prop(program):
        check(program, "legacy-generated")

    prop()


def test_cst_programs():
    @settings(fast, max_examples=10)
    @given(hypothesmith.from_node())
    def prop(program):
        check(HEADER + program, "cst-generated")

    prop()


@pytest.mark.fuzz
def test_cst_programs_fuzz():
    @settings(slow, max_examples=max(1, slow.max_examples // 4))
    @given(hypothesmith.from_node())
    def prop(program):
        check(HEADER + program, "cst-generated")

    prop()


# -- mutated legacy files -------------------------------------------------------------------------
def _legacy_files(limit_bytes: int):
    files = sorted(CORPUS.rglob("*.py")) if CORPUS.is_dir() else []
    files += sorted((ROOT / "examples").glob("*.py"))
    return [f for f in files if f.stat().st_size <= limit_bytes]


SMALL_FILES = _legacy_files(6000)
ALL_FILES = _legacy_files(60000)
FRAGMENTS = ["Variable(", ".data[0]", "volatile=True", ", volatile=True", "Variable(x)", ".data", "x.data[0]", "async=True", "\r", "\r\n", "  "]
LINE_SNIPPETS = ["x = Variable(x)", "y = x.data[0]", "v = Variable(t, volatile=True)", "loss.data[0]", "h = h.data", "x = x.cuda(async=True)",
                 "p.data.add_(-lr, p.grad.data)", "out = F.softmax(out)"]


def as_text(data: bytes):
    """The file as ``str`` when that means the same as its bytes (UTF-8, no cookie, no BOM)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.startswith("\ufeff") or "coding" in "\n".join(text.splitlines()[:2]):
        return None
    return text


@st.composite
def mutated_files(draw, files):
    data = draw(st.sampled_from(files)).read_bytes()
    mode = draw(st.sampled_from(["chars", "lines"]))
    if mode == "chars":  # anywhere: mostly invalid code, which must be reported, never crash
        for _ in range(draw(st.integers(1, 4))):
            pos = draw(st.integers(0, len(data)))
            data = data[:pos] + draw(st.sampled_from(FRAGMENTS)).encode() + data[pos:]
        return data
    lines = data.splitlines(keepends=True) or [b""]
    for _ in range(draw(st.integers(1, 4))):  # whole statements, indented like the line they precede
        i = draw(st.integers(0, len(lines) - 1))
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip(b" \t"))]
        newline = b"\r\n" if lines[i].endswith(b"\r\n") else b"\n"
        lines.insert(i, indent + draw(st.sampled_from(LINE_SNIPPETS)).encode() + newline)
    return b"".join(lines)


@pytest.mark.skipif(not SMALL_FILES, reason="no legacy files")
def test_mutated_legacy_files():
    @settings(fast, max_examples=15)
    @given(mutated_files(SMALL_FILES))
    def prop(data):
        check(data, "mutated")
        text = as_text(data)
        if text is not None:
            check(text, "mutated-str")

    prop()


@pytest.mark.fuzz
@pytest.mark.skipif(not ALL_FILES, reason="no legacy files")
def test_mutated_legacy_files_fuzz():
    @settings(slow, max_examples=max(1, slow.max_examples // 2))
    @given(mutated_files(ALL_FILES))
    def prop(data):
        check(data, "mutated")
        text = as_text(data)
        if text is not None:
            check(text, "mutated-str")

    prop()
