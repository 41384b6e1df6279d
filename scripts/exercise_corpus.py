#!/usr/bin/env python3
"""Import the (migrated) legacy dev corpus and exercise it under torch 2.13, torch warnings as errors.

    python scripts/exercise_corpus.py [CORPUS_SRC] [--no-migrate] [--unsafe] [--tool-arg ARG]...
                                      [--torchupgrade EXE] [--python PY] [--jobs N] [--keep DIR]
                                      [--json OUT] [--package NAME]... [--item-timeout S] [--items]

1. copies CORPUS_SRC (default ~/.cache/torchupgrade-corpus/src: one directory per package) to a
   scratch directory (never touches the original);
2. unless --no-migrate, runs `torchupgrade apply -q [--unsafe] [--tool-arg ...]` on the copy;
3. for every package, in its own worker subprocess (PY -I, CPU only, no network, HOME and the
   working directory in the scratch directory), imports every library module file as the package
   would import it (`allennlp.modules.xxx`, with the package root on sys.path), then exercises
   what each module defines:
   * `nn.Module` subclasses: constructed from their `__init__` signature (defaults, and small
     values guessed from parameter names and annotations), then a forward pass on random inputs
     whose shape is guessed from the first layer (a few candidate shapes), then
     `.sum().backward()` on the first tensor of the output;
   * `torch.autograd.Function` subclasses: new-style ones (static `forward(ctx, ...)`) through
     `Fn.apply(...)`, old-style ones (instance `forward(self, ...)`) as the legacy code called them,
     `Fn(...)(...)`;
   * helper functions named like `repackage_hidden`, `to_var`, `to_np`, `*_loss` (`to_var`-style
     helpers are also called with `volatile=True` when they take that parameter);
4. prints a per-package table, totals, missing dependencies and the most frequent failure reasons;
   `--json OUT` writes every item.

Each item gets a status:

  passed        imported / constructed, forward and backward ran (or the helper returned)
  failed-torch  the error (or warning, raised as an error) is a known text of legacy API use on
                torch 2.13 (shared/spec/legacy-idioms.md section 7, plus "torch API removed" import
                and attribute errors and the `async=` SyntaxError): what a migration must fix
  failed-guess  the harness could not find a valid call: construction failed with the guessed
                arguments, an argument could not be guessed, or the forward failed on every
                candidate input (shape mismatches, wrong types); a harness limitation
  failed-other  anything else: Python 2 syntax, stdlib APIs removed since 2017, errors at import,
                unknown torch warnings at import, timeouts, crashed workers
  skipped       missing third-party dependency, needs CUDA, needs network, abstract

Warning policy. Every warning goes through a hook; it is raised as an error (its own category,
so the message reads like `python -W error`) when either its text matches a known torch
deprecation text (spec section 7; C++ warnings such as `volatile was removed` only show there) or
the code that called `warnings.warn` is a module inside the installed torch package. Any other
warning (a third-party or stdlib DeprecationWarning at import, numpy noise, SyntaxWarnings in old
regexes) is recorded and ignored. Torch's warn-once warnings (deprecated scalar-first
overloads, `float(t)` on a tensor requiring grad) fire once per worker process, so only the first
item of a package that reaches them fails on them.

The corpus packages are each other's dependencies in the 2017 world (torchvision 0.2.0,
torchtext 0.2.3, tensorboardX 1.1, ...): the roots of the other corpus packages are put at the END
of sys.path, so they are used only when the dependency is not installed (the modern torchvision
from PyPI does not work with this torch, and is not installed). Cheap third-party dependencies
can be installed with `pip install -r scripts/exercise_requirements.txt`.

Deterministic: modules are visited in sorted order, classes and functions in definition order,
every item starts with torch/numpy/random seeded to 0 and default dtype/grad mode restored.
"""
from __future__ import annotations

import argparse
import collections
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_CORPUS = os.path.expanduser("~/.cache/torchupgrade-corpus/src")
DEFAULT_TOOL = str(ROOT / ".venv" / "bin" / "torchupgrade")
DEFAULT_PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable

STATUSES = ("passed", "failed-torch", "failed-guess", "failed-other", "skipped")
KINDS = ("module", "nn.Module", "Function", "helper")

# Directories (anywhere in the path below the package directory) and files that are not library
# code: they are listed as not imported. Importing a script runs it.
NON_LIBRARY_DIRS = {"tests", "test", "testing", "docs", "doc", "examples", "example", "scripts",
                    "benchmarks", "benchmark", "tutorials", "tutorial", "build", "dist", "notebooks"}
NON_LIBRARY_FILES = {"setup.py", "conftest.py", "setup_utils.py"}

# --------------------------------------------------------------------------------------------
# Failure classification (shared by the worker and the tests; no torch import needed)
# --------------------------------------------------------------------------------------------

# Known texts of legacy API use on torch 2.13 (shared/spec/legacy-idioms.md section 7), each with
# the label the report groups by. Matched against "ExceptionType: message".
LEGACY_TEXTS = [
    (r"invalid index of a 0-dim tensor", "IndexError: invalid index of a 0-dim tensor (`.data[0]` / `x[0]` on a 0-dim tensor)"),
    (r"volatile was removed", "volatile was removed (`volatile=` / `.volatile`)"),
    (r"Legacy autograd function with non-static forward method", "Legacy autograd function with non-static forward method"),
    (r"should not be instantiated\. Methods on autograd functions are all static", "autograd Function instantiated (`Fn()(x)`)"),
    (r"Implicit dimension choice for \w+ has been deprecated", "implicit dim for softmax/log_softmax/softmin"),
    (r"size_average and reduce args will be deprecated", "size_average/reduce loss arguments"),
    (r"reduction='elementwise_mean' is deprecated", "reduction='elementwise_mean'"),
    (r"`nn\.init\.\w+` is now deprecated in favor of", "deprecated nn.init name without trailing _"),
    (r"`torch\.nn\.utils\.clip_grad_norm` is now deprecated", "clip_grad_norm (without _)"),
    (r"`NLLLoss2d` has been deprecated", "NLLLoss2d"),
    (r"This overload of \w+ is deprecated", "deprecated scalar-first overload (`add_(a, t)`, ...)"),
    (r"nn\.functional\.upsample\w* is deprecated|`nn\.functional\.upsample", "F.upsample* is deprecated"),
    (r"Default grid_sample and affine_grid behavior has changed", "grid_sample/affine_grid align_corners default"),
    (r"set_default_tensor_type\(\) is deprecated", "torch.set_default_tensor_type"),
    (r"non-inplace resize(_as)? is deprecated", "non-inplace resize/resize_as"),
    (r"indexing with dtype torch\.uint8 is now deprecated", "uint8 mask indexing"),
    (r"where received a uint8 condition tensor", "uint8 condition in torch.where"),
    (r"Converting a tensor with requires_grad=True to a scalar", "float(t) on a tensor requiring grad"),
    (r"torch\.range is deprecated", "torch.range"),
    (r"`grad_variables` is deprecated", "backward(grad_variables=)"),
    (r"'saved_variables' is deprecated", "saved_variables"),
    (r"torch\.\w+ is deprecated in favor of torch\.linalg", "torch.X deprecated in favour of torch.linalg"),
    (r"chain_matmul is deprecated", "torch.chain_matmul"),
    (r"TypedStorage is deprecated", "TypedStorage (x.storage())"),
    (r"`torch\.nn\.utils\.weight_norm` is deprecated", "torch.nn.utils.weight_norm deprecated"),
    (r"non-full backward hook", "register_backward_hook (non-full)"),
    (r"please use `get_last_lr\(\)`", "scheduler get_lr()"),
    (r"\.grad attribute of a Tensor that is not a leaf Tensor", ".grad of a non-leaf tensor"),
    (r"Weights only load failed", "torch.load weights_only default"),
    (r"Variable data has to be a tensor", "Variable(non-tensor)"),
    (r"Variable can't be volatile and require_grad", "Variable(volatile=True, requires_grad=True)"),
    (r"_grad_fn has to be a Function|_grad_fn argument to legacy Variable", "Variable(_grad_fn=)"),
    (r"torch\.autograd\.variable\(\.\.\.\) is deprecated", "torch.autograd.variable(...)"),
    (r"element 0 of tensors does not require grad and does not have a grad_fn", "backward through a detached tensor (element 0 of tensors does not require grad)"),
    (r"one of the variables needed for gradient computation has been modified by an inplace operation", "in-place modification of a tensor saved for backward"),
    (r"a (view of a )?leaf Variable that requires grad is being used in an in-place operation", "in-place operation on a leaf requiring grad"),
    (r"Only Tensors of floating point (and complex )?dtype can require gradients", "requires_grad on an integer tensor"),
    (r"data set to a tensor that requires gradients must be floating point", "p.data = integer tensor"),
    (r"Can't call numpy\(\) on Tensor that requires grad", "numpy() on a tensor requiring grad"),
    (r"a Tensor with \d+ elements cannot be converted to Scalar", "item() on a tensor with more than one element"),
    (r"masked_fill_? only supports boolean masks|masked_select: expected BoolTensor", "uint8 mask in masked_fill/masked_select"),
    (r"Subtraction, the `-` operator, with a bool tensor is not supported", "`1 - mask` on a bool tensor"),
    (r"result type Float can't be cast to the desired output type (Long|Int|Byte)", "integer tensor in-place true division"),
    (r"could not infer output dtype\. Input dtype must be either a floating point", "mean() of an integer tensor"),
    (r"unexpected keyword argument '(async|device_id|retain_variables|variables)'", "removed keyword argument (async/device_id/retain_variables/variables)"),
    (r"to\(\) received an invalid combination of arguments - got .*async", "to(..., async=)"),
    (r"object has no attribute 'creator'", "x.creator"),
    (r"This function was deprecated since version 1\.9 and is now removed", "removed linalg function (symeig/eig/lstsq/solve/matrix_rank)"),
    (r"module 'torch' has no attribute '(gels|potrf|potrs|potri|pstrf|gesv|trtrs|btrifact|btrifact_with_info|btrisolve|btriunpack)'", "removed linalg function (gels/potrf/gesv/btrifact/...)"),
    (r"new\(\): data must be a sequence|expected TensorOptions\(dtype=|new\(\) received an invalid combination of arguments", "legacy tensor constructor misuse (torch.FloatTensor(...))"),
    (r"Object of type Tensor is not JSON serializable", "0-dim tensor where 0.3 gave a number (JSON)"),
    (r"index_select\(\): Expected dtype int(32 or int)?64 for index", "index_select with a non-integer index"),
]
_LEGACY = [(re.compile(rx), label) for rx, label in LEGACY_TEXTS]

CUDA_TEXTS = re.compile(
    r"Torch not compiled with CUDA enabled|Cannot initialize CUDA|torch\.cuda\.\w+ not available|"
    r"No CUDA GPUs are available|Found no NVIDIA driver|CUDA driver|cuda runtime error|"
    r"Attempting to deserialize object on a CUDA device|no CUDA-capable device")
CUDA_MODULES = {"cupy", "pynvrtc", "pycuda", "apex", "cudnn"}
NETWORK_TEXT = "network access disabled by the exercise harness"

# Failed guessed calls whose message suggests a legacy idiom that torch 2.13 does not flag (kept
# as failed-guess: the harness cannot prove it; the hint goes into the reason).
GUESS_HINTS = [
    (r"iteration over a 0-d tensor", " (iteration over a 0-d tensor: e.g. `type(h) == Variable` is always False now)"),
    (r"maximum recursion depth exceeded", " (e.g. `isinstance(x, Variable)` is True for every tensor now)"),
]
# Errors in a guessed call that bad arguments do not typically cause: failed-other, not failed-guess.
NOT_GUESS_ERRORS = {"RecursionError", "NameError", "UnboundLocalError", "ZeroDivisionError", "ImportError",
                    "ModuleNotFoundError", "FileNotFoundError", "OSError", "PermissionError", "SystemExit"}
STDLIB = set(getattr(sys, "stdlib_module_names", ())) | {"distutils", "imp"}


def legacy_label(text: str):
    """The label of the known legacy text in `text`, or None."""
    for rx, label in _LEGACY:
        if rx.search(text):
            return label
    return None


def classify(exc_type: str, message: str, phase: str, *, exc_name=None, syntax_text=None,
             import_from=None) -> tuple[str, str]:
    """(status, reason label) of a failure.

    phase: "import" (importing the module), "call" (constructing/calling with guessed arguments),
    "guess" (no argument could be guessed), "timeout", "crash".
    exc_name: ModuleNotFoundError.name; syntax_text: SyntaxError.text; import_from: the module
    named in "cannot import name 'x' from 'm'".
    """
    head = f"{exc_type}: {message}"
    if phase == "timeout":
        return "failed-other", "timeout"
    if phase == "crash":
        return "failed-other", "worker crashed"
    if phase == "guess":
        return "failed-guess", "cannot guess an argument"
    if exc_type in ("SyntaxError", "IndentationError", "TabError"):
        if syntax_text is not None and re.search(r"\basync\s*=", syntax_text) and not re.match(r"\s*(async\s+)?def\b|\s*lambda\b", syntax_text):
            return "failed-torch", "SyntaxError: async= keyword argument (Python >= 3.7)"
        if re.search(r"\basync\b", syntax_text or ""):
            return "failed-other", "SyntaxError: async used as a name (Python >= 3.7)"
        return "failed-other", "SyntaxError: not Python 3 (Python 2 syntax, out of scope)"
    label = legacy_label(head)
    if label:
        return "failed-torch", "legacy API still present: " + label
    if NETWORK_TEXT in message:
        return "skipped", "needs network"
    if CUDA_TEXTS.search(message):
        return "skipped", "needs CUDA"
    if exc_type == "ModuleNotFoundError" and exc_name:
        top = exc_name.split(".")[0]
        if top == "torch":
            return "failed-torch", f"torch API removed: no module {exc_name}"
        if top in CUDA_MODULES:
            return "skipped", "needs CUDA"
        return "skipped", f"missing dependency: {top}"
    if exc_type == "ImportError" and import_from:
        top = import_from.split(".")[0]
        if top == "torch":
            return "failed-torch", f"torch API removed: cannot import from {import_from}"
        if top in STDLIB:
            return "failed-other", f"stdlib API removed since 2017: cannot import from {import_from}"
        return "skipped", f"dependency API changed: {top}"
    m = re.search(r"module '(torch(?:\.\w+)*)' has no attribute '(\w+)'", message)
    if exc_type == "AttributeError" and m:
        return "failed-torch", f"torch API removed: {m.group(1)}.{m.group(2)}"
    if exc_type == "NotImplementedError":
        return "skipped", "abstract (NotImplementedError)"
    if phase == "call":
        hint = next((h for rx, h in GUESS_HINTS if re.search(rx, message)), "")
        if exc_type in NOT_GUESS_ERRORS:
            return "failed-other", f"call error: {exc_type}{hint}"
        return "failed-guess", f"guessed call failed: {exc_type}{hint}"
    return "failed-other", f"{phase} error: {exc_type}"


# --------------------------------------------------------------------------------------------
# Orchestrator
# --------------------------------------------------------------------------------------------

def discover_package(pkgdir: Path):
    """(roots, modules, not_imported): roots to put on sys.path, [(dotted name, relpath)], count."""
    roots, modules, not_imported = [], [], []
    for f in sorted(pkgdir.rglob("*.py")):
        rel = f.relative_to(pkgdir)
        if any(p.startswith(".") or p in ("__pycache__", "site-packages") for p in rel.parts):
            continue
        if f.name in NON_LIBRARY_FILES or f.name.startswith(("test_", "main", "__main__")) or f.name.endswith("_test.py") \
                or any(p.lower() in NON_LIBRARY_DIRS for p in rel.parts[:-1]):
            not_imported.append(str(rel))
            continue
        # the root is the parent of the topmost enclosing directory with an __init__.py; the
        # directories in between are packages (or namespace portions inside one)
        ancestors = list(f.relative_to(pkgdir).parents)[:-1]  # below pkgdir, innermost first
        packages = [a for a in ancestors if (pkgdir / a / "__init__.py").exists()]
        top = packages[-1] if packages else None
        d = pkgdir / top.parent if top is not None else f.parent
        parts = list(f.relative_to(d).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if not parts or not all(p.isidentifier() for p in parts):
            not_imported.append(str(rel))
            continue
        if d not in roots:
            roots.append(d)
        modules.append((".".join(parts), str(rel)))
    modules.sort()
    return [str(r) for r in roots], modules, not_imported


def provided_packages(pkgdir: Path, roots):
    """Top-level package names (directories with __init__.py) that pkgdir's roots provide."""
    names = set()
    for r in roots:
        for d in Path(r).iterdir():
            if d.is_dir() and (d / "__init__.py").exists() and d.name.lower() not in NON_LIBRARY_DIRS:
                names.add(d.name)
    return names


def migrate(work: Path, tool: str, flags) -> dict:
    cmd = [tool, "apply", "-q", *flags, str(work)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    summary = [ln for ln in p.stderr.splitlines() if re.search(r"\bfiles scanned\b|^edits per rule:", ln)]
    return {"command": " ".join(["torchupgrade", "apply", "-q", *flags, "DIR"]), "returncode": p.returncode,
            "seconds": round(time.perf_counter() - t0, 1), "stderr_tail": p.stderr.splitlines()[-25:], "summary": summary}


def run_package(name, pkgdir: Path, scratch: Path, dep_roots, opts) -> dict:
    roots, modules, not_imported = discover_package(pkgdir)
    out = {"package": name, "not_imported": not_imported, "items": [], "ignored_warnings": 0, "log": None}
    if not modules:
        return out
    wdir = scratch / "run" / name
    (wdir / "home").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CUDA"))}
    env.update({"HOME": str(wdir / "home"), "CUDA_VISIBLE_DEVICES": "", "MPLBACKEND": "Agg",
                "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TORCH_HOME": str(wdir / "home" / "torch"),
                "TMPDIR": str(wdir), "NO_PROXY": "*", "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"})
    log_path = wdir / "worker.log"
    out["log"] = str(log_path)
    remaining = list(modules)
    attempt = 0
    while remaining:
        attempt += 1
        res_path = wdir / f"results{attempt}.jsonl"
        spec_path = wdir / f"spec{attempt}.json"
        spec = {"package": name, "roots": roots, "dep_roots": dep_roots, "modules": remaining,
                "out": str(res_path), "item_timeout": opts.item_timeout, "pkgdir": str(pkgdir),
                "py_compat": not opts.no_py_compat}
        spec_path.write_text(json.dumps(spec))
        with open(log_path, "ab") as log:
            proc = subprocess.Popen([opts.python, "-I", str(Path(__file__).resolve()), "--worker", str(spec_path)],
                                    cwd=wdir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            last_size, last_change, killed = -1, time.monotonic(), False
            stall = 3 * opts.item_timeout + 60
            while proc.poll() is None:
                time.sleep(0.3)
                size = res_path.stat().st_size if res_path.exists() else 0
                if size != last_size:
                    last_size, last_change = size, time.monotonic()
                elif time.monotonic() - last_change > stall:
                    proc.kill()
                    killed = True
                    proc.wait()
        events = []
        if res_path.exists():
            for line in res_path.read_text().splitlines():
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        started, done = None, set()
        for ev in events:
            if ev["event"] == "start":
                started = ev["module"]
            elif ev["event"] == "item":
                out["items"].append(ev["item"])
            elif ev["event"] == "done":
                done.add(ev["module"])
                out["ignored_warnings"] += ev.get("ignored_warnings", 0)
        names = [m for m, _ in remaining]
        if started is not None and started not in done:
            phase = "timeout" if killed else "crash"
            status, reason = classify("", "", phase)
            out["items"].append({"kind": "module", "module": started, "name": started, "status": status,
                                 "reason": reason, "detail": f"worker exit code {proc.returncode}" + (" (killed: no progress)" if killed else ""),
                                 "where": None})
            done.add(started)
        elif started is None and proc.returncode != 0 and not done:
            # the worker died before starting anything: report every module once and stop
            for m in names:
                out["items"].append({"kind": "module", "module": m, "name": m, "status": "failed-other",
                                     "reason": "worker crashed", "detail": f"worker exit code {proc.returncode}; see {log_path}", "where": None})
            break
        remaining = [(m, p) for m, p in remaining if m not in done]
        if attempt > len(modules) + 1:
            break
    return out


def summarise(packages):
    """Per package and total counts: counts[kind][status], plus constructed nn.Modules."""
    def empty():
        return {k: collections.Counter() for k in KINDS}
    per, total = {}, empty()
    for p in packages:
        c = empty()
        for it in p["items"]:
            c[it["kind"]][it["status"]] += 1
            c[it["kind"]]["found"] += 1
            if it["kind"] == "nn.Module" and it.get("constructed"):
                c[it["kind"]]["constructed"] += 1
        per[p["package"]] = c
        for k in KINDS:
            total[k].update(c[k])
    return per, total


def reasons(packages, statuses=("failed-torch", "failed-guess", "failed-other", "skipped")):
    cnt = collections.Counter()
    for p in packages:
        for it in p["items"]:
            if it["status"] in statuses:
                cnt[(it["status"], it["reason"])] += 1
    return cnt


def missing_deps(p):
    cnt = collections.Counter()
    for it in p["items"]:
        r = it.get("reason") or ""
        if it["status"] == "skipped" and r.startswith(("missing dependency: ", "dependency API changed: ")):
            cnt[r.split(": ", 1)[1]] += 1
        elif r == "needs CUDA" and it["kind"] == "module":
            cnt["(CUDA)"] += 1
    return cnt


def totals_table(total, markdown=False) -> str:
    cols = ["found", "passed", "failed-torch", "failed-guess", "failed-other", "skipped"]
    rows = []
    label = {"module": "module files imported", "nn.Module": "nn.Module subclasses", "Function": "autograd.Function subclasses",
             "helper": "helper functions"}
    for k in KINDS:
        rows.append([label[k]] + [str(total[k][c]) for c in cols])
    if markdown:
        lines = ["| item | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        lines.append(f"\nnn.Module subclasses constructed: {total['nn.Module']['constructed']} of {total['nn.Module']['found']}")
        return "\n".join(lines)
    w = max(len(r[0]) for r in rows)
    lines = [" " * (w + 2) + "".join(f"{c:>14s}" for c in cols)]
    lines += ["  " + r[0].ljust(w) + "".join(f"{v:>14s}" for v in r[1:]) for r in rows]
    lines.append(f"  nn.Module subclasses constructed: {total['nn.Module']['constructed']} of {total['nn.Module']['found']}")
    return "\n".join(lines)


def package_table(packages, per) -> str:
    hdr = (f"  {'package':28s} {'files':>5s} {'imp':>4s} {'fail':>4s} {'skip':>4s} {'n/i':>4s} |"
           f" {'nn.Mod':>6s} {'built':>5s} {'pass':>4s} {'torch':>5s} {'guess':>5s} {'other':>5s} {'skip':>4s} |"
           f" {'Fn':>3s} {'pass':>4s} {'fail':>4s} | {'help':>4s} {'pass':>4s} {'fail':>4s}")
    lines = [hdr]
    for p in packages:
        c = per[p["package"]]
        mo, nm, fn, he = c["module"], c["nn.Module"], c["Function"], c["helper"]
        fails = lambda x: x["failed-torch"] + x["failed-guess"] + x["failed-other"]
        lines.append(f"  {p['package'][:28]:28s} {mo['found']:5d} {mo['passed']:4d} {fails(mo):4d} {mo['skipped']:4d} {len(p['not_imported']):4d} |"
                     f" {nm['found']:6d} {nm['constructed']:5d} {nm['passed']:4d} {nm['failed-torch']:5d} {nm['failed-guess']:5d} {nm['failed-other']:5d} {nm['skipped']:4d} |"
                     f" {fn['found']:3d} {fn['passed']:4d} {fails(fn):4d} | {he['found']:4d} {he['passed']:4d} {fails(he):4d}")
    lines.append("  (files: module files found; imp/fail/skip: imported, failed, skipped; n/i: tests, docs, scripts"
                 " and setup files not imported;\n   built: constructed; torch/guess/other: failed-torch, failed-guess, failed-other)")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS, help="directory with one subdirectory per package")
    ap.add_argument("--torchupgrade", default=DEFAULT_TOOL, help="torchupgrade executable (default: the repo's .venv)")
    ap.add_argument("--unsafe", action="store_true", help="pass --unsafe to torchupgrade apply")
    ap.add_argument("--tool-arg", action="append", default=[], help="extra argument for torchupgrade apply (repeatable)")
    ap.add_argument("--no-migrate", action="store_true", help="exercise the unmigrated corpus (baseline)")
    ap.add_argument("--python", default=DEFAULT_PYTHON, help="interpreter for the workers (must have torch)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", help="work in this directory (kept) instead of a temporary one")
    ap.add_argument("--json", help="write all items and totals to this file")
    ap.add_argument("--package", action="append", help="only packages whose directory name starts with this (repeatable)")
    ap.add_argument("--item-timeout", type=float, default=20.0, help="seconds per import/construction/call (default 20)")
    ap.add_argument("--no-py-compat", action="store_true",
                    help="do not restore stdlib names removed since Python 3.8 (collections.Iterable, inspect.getargspec, ...)")
    ap.add_argument("--items", action="store_true", help="also list every item that did not pass")
    ap.add_argument("--markdown", action="store_true", help="print the totals table in Markdown too")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    if opts.worker:
        return worker_main(opts.worker)

    corpus = Path(opts.corpus).expanduser()
    if not corpus.is_dir():
        ap.error(f"no corpus directory {corpus} (fetch it with bash ../shared/corpus/fetch.sh ~/.cache/torchupgrade-corpus)")
    scratch = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="torchupgrade-exercise-"))
    work = scratch / "src"
    for sub in ("src", "run"):
        if (scratch / sub).exists():
            shutil.rmtree(scratch / sub)
    shutil.copytree(corpus, work, symlinks=True)
    t0 = time.perf_counter()
    flags = (["--unsafe"] if opts.unsafe else []) + list(opts.tool_arg)
    migration = None
    if not opts.no_migrate:
        migration = migrate(work, opts.torchupgrade, flags)
        if migration["returncode"] not in (0, 1):
            print(f"torchupgrade apply failed with exit code {migration['returncode']}:", file=sys.stderr)
            print("\n".join(migration["stderr_tail"]), file=sys.stderr)
            return 2
    names = sorted(d.name for d in work.iterdir() if d.is_dir())
    if opts.package:
        names = [n for n in names if any(n.startswith(p) for p in opts.package)]
    # roots of every corpus package that provide packages, for the other packages' dependencies
    provider_roots = {}
    for n in sorted(d.name for d in work.iterdir() if d.is_dir()):
        roots, _, _ = discover_package(work / n)
        if provided_packages(work / n, roots):
            provider_roots[n] = roots
    sizes = {n: sum(1 for _ in (work / n).rglob("*.py")) for n in names}
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max(1, opts.jobs)) as ex:
        futs = {}
        for n in sorted(names, key=lambda n: -sizes[n]):
            deps = [r for other, rs in provider_roots.items() if other != n for r in rs]
            futs[ex.submit(run_package, n, work / n, scratch, deps, opts)] = n
        for f in concurrent.futures.as_completed(futs):
            results[futs[f]] = f.result()
    packages = [results[n] for n in names]
    wall = time.perf_counter() - t0

    import platform
    mode = "no migration (baseline)" if opts.no_migrate else f"migrated with torchupgrade apply -q {' '.join(flags)}".rstrip()
    meta = {"date": datetime.date.today().isoformat(), "mode": mode, "corpus": str(corpus), "python": platform.python_version(),
            "torch": _worker_torch_version(opts.python), "tool": None if opts.no_migrate else opts.torchupgrade,
            "tool_version": None if opts.no_migrate else _tool_version(opts.torchupgrade), "flags": flags,
            "item_timeout": opts.item_timeout, "py_compat": not opts.no_py_compat, "seconds": round(wall, 1),
            "packages": len(packages)}
    per, total = summarise(packages)
    print(f"torchupgrade corpus exercise: {mode}; torch {meta['torch']}, Python {meta['python']}; {len(packages)} packages")
    if migration:
        print(f"  migration: exit {migration['returncode']} in {migration['seconds']}s; " + "; ".join(s.strip() for s in migration["summary"]))
    print(f"  time {wall:.0f}s\n")
    print(package_table(packages, per))
    print("\ntotals:")
    print(totals_table(total))
    if opts.markdown:
        print("\n" + totals_table(total, markdown=True))
    rs = reasons(packages)
    print("\ntop failure reasons (items; failed-torch is what the migration must fix):")
    for (status, reason), n in sorted(rs.items(), key=lambda kv: (STATUSES.index(kv[0][0]), -kv[1], kv[0][1]))[:40]:
        print(f"  {n:5d}  {status:13s} {reason}")
    print("\nmissing dependencies (modules that could not be imported because of them):")
    for p in packages:
        md = missing_deps(p)
        if md:
            print(f"  {p['package']:28s} " + ", ".join(f"{k} ({v})" for k, v in md.most_common()))
    if opts.items:
        print("\nitems that did not pass:")
        for p in packages:
            for it in p["items"]:
                if it["status"] != "passed":
                    print(f"  {p['package']}: {it['kind']} {it['name']}: {it['status']}: {it['reason']}"
                          f"{' | ' + it['detail'] if it.get('detail') else ''}{' @ ' + it['where'] if it.get('where') else ''}")
    if opts.json:
        data = {"meta": meta, "migration": migration,
                "totals": {k: dict(total[k]) for k in KINDS},
                "reasons": [{"status": s, "reason": r, "count": n} for (s, r), n in rs.most_common()],
                "packages": [{**p, "counts": {k: dict(per[p["package"]][k]) for k in KINDS},
                              "missing_deps": dict(missing_deps(p))} for p in packages]}
        Path(opts.json).parent.mkdir(parents=True, exist_ok=True)
        Path(opts.json).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(f"\njson: {opts.json}")
    if opts.keep:
        print(f"work directory: {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def _worker_torch_version(python):
    p = subprocess.run([python, "-I", "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True)
    return p.stdout.strip() or "?"


def _tool_version(tool):
    p = subprocess.run([tool, "--version"], capture_output=True, text=True)
    return (p.stdout.strip() or p.stderr.strip())[-80:]


# --------------------------------------------------------------------------------------------
# Worker (runs inside the package's subprocess; imports torch)
# --------------------------------------------------------------------------------------------

def restore_removed_stdlib_names():
    """Put back stdlib names that 2017 code used and later Pythons removed (not torch's business):
    collections.Iterable & co. (removed in 3.10), inspect.getargspec (3.11), fractions.gcd (3.9),
    time.clock (3.8). Disabled with --no-py-compat."""
    import collections
    import collections.abc
    import fractions
    import inspect
    import math
    for n in collections.abc.__all__:
        if not hasattr(collections, n):
            setattr(collections, n, getattr(collections.abc, n))
    if not hasattr(inspect, "getargspec"):
        inspect.getargspec = lambda f: inspect.getfullargspec(f)[:4]
    if not hasattr(fractions, "gcd"):
        fractions.gcd = math.gcd
    if not hasattr(time, "clock"):
        time.clock = time.perf_counter


class ItemTimeout(BaseException):
    """Raised by the alarm; a BaseException so that `except Exception` in corpus code lets it pass."""


HELPER_RX = re.compile(
    r"^(repackage_hidden|repackage_var|repackage\w*|to_var\w*|to_variable|np_to_var\w*|numpy_to_var\w*|"
    r"to_tensor|to_np|to_numpy|var_to_np|tensor_to_np|make_var\w*|variable|V|T|to_gpu|to_cuda|"
    r"detach_hidden|\w+_loss|loss_\w+|\w+_loss_\w+)$")

BOOL_NAMES = {"bias", "affine", "bidirectional", "batch_first", "inplace", "training", "residual", "normalize",
              "tie_weights", "share_weights", "train", "return_indices", "ceil_mode", "batchnorm", "batch_norm", "bn",
              "pretrained", "use_cuda", "cuda", "gpu", "use_gpu", "on_gpu", "verbose", "debug", "half"}
FALSE_ALWAYS = {"pretrained", "use_cuda", "cuda", "gpu", "use_gpu", "on_gpu", "half", "fp16"}
FLOAT_NAMES = {"p", "dropout", "drop", "drop_rate", "dropout_rate", "dropout_prob", "rate", "keep_prob", "alpha",
               "beta", "gamma", "eps", "epsilon", "momentum", "lr", "learning_rate", "temperature", "temp", "margin",
               "scale", "weight_decay", "ratio", "threshold", "lambda_", "lam", "lamb", "tau", "sigma", "std", "mean",
               "smooth", "smoothing", "negative_slope", "slope", "init", "init_std", "noise", "weight", "prob"}
INT_EXACT = {"kernel_size": 3, "kernel": 3, "ksize": 3, "k": 3, "stride": 1, "padding": 1, "pad": 1, "dilation": 1,
             "groups": 1, "num_layers": 1, "n_layers": 1, "nlayers": 1, "layers": 1, "depth": 1, "n_blocks": 1,
             "num_blocks": 1, "blocks": 1, "nlayer": 1, "num_classes": 3, "n_classes": 3, "nclasses": 3, "classes": 3,
             "num_labels": 3, "n_labels": 3, "num_tags": 3, "n_class": 3, "nclass": 3, "num_class": 3,
             "vocab_size": 20, "ntoken": 20, "ntokens": 20, "n_tokens": 20, "num_embeddings": 20, "n_vocab": 20,
             "num_heads": 2, "n_heads": 2, "heads": 2, "nhead": 2, "batch_size": 2, "bsz": 2, "seq_len": 5,
             "seq_length": 5, "max_len": 5, "max_length": 5, "n": 4, "num": 4, "upscale_factor": 2, "scale_factor": 2,
             "factor": 2, "reduction": 2, "growth_rate": 4, "bn_size": 2, "expansion": 1, "order": 1, "axis": 1, "dim": 8}
INT_HINTS = ("channels", "features", "size", "dim", "hidden", "units", "planes", "width", "filters", "inp", "outp",
             "nhid", "ninp", "n_", "num_", "len", "embed", "emb", "input", "output", "ch", "nf", "ngf", "ndf", "nz",
             "nc", "in_", "out_", "neurons", "nodes", "latent", "code", "feat", "maps")
MODULE_NAMES = {"module", "model", "net", "network", "layer", "submodule", "base", "base_model", "inner", "block",
                "cell", "core", "wrapped", "fn", "func"}
UNGUESSABLE = object()


def guess_value(name: str, annotation=None, variant: int = 0):
    """A small value for a required parameter, from its name and annotation (or UNGUESSABLE)."""
    import torch.nn as nn
    n = name.lower().lstrip("_")
    if annotation is bool or n in BOOL_NAMES or n.startswith(("use_", "is_", "has_", "with_", "enable", "no_", "do_")):
        return n in ("bias", "affine") and n not in FALSE_ALWAYS
    if annotation is float or n in FLOAT_NAMES or "dropout" in n or n.endswith(("_rate", "_prob", "_p", "_eps")):
        if "drop" in n:
            return 0.0  # a non-zero dropout with num_layers=1 makes nn.LSTM warn
        if n in ("p", "prob", "keep_prob") or n.endswith(("_p", "_prob")):
            return 0.1
        if "eps" in n:
            return 1e-5
        if n in ("momentum", "lr", "learning_rate", "weight_decay", "negative_slope", "slope", "init_std", "noise"):
            return 0.01
        if n in ("mean", "threshold"):
            return 0.0
        return 0.5 if n in ("smooth", "smoothing", "ratio") else 1.0
    big = 16 if variant else 8
    if n in INT_EXACT:
        v = INT_EXACT[n]
        return big if n == "dim" else v
    if annotation is int or any(h in n for h in INT_HINTS):
        return big
    if annotation is str or n in ("name", "prefix"):
        return "x" if n in ("name", "prefix") else UNGUESSABLE
    if n in MODULE_NAMES or (isinstance(annotation, type) and issubclass(annotation, nn.Module)):
        return nn.Linear(big, big)
    if n in ("shape", "input_shape", "in_shape", "size_in"):
        return (big,)
    return UNGUESSABLE


def guess_kwargs(fn, variant=0, skip_first=True):
    """(kwargs, missing_name): keyword arguments for the required parameters of fn."""
    import inspect
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}, None
    kwargs = {}
    params = list(sig.parameters.values())
    if skip_first and params and params[0].name in ("self", "cls", "ctx"):
        params = params[1:]
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        ann = p.annotation if p.annotation is not p.empty else None
        if p.default is not p.empty:
            if p.name.lower() in FALSE_ALWAYS and p.default:
                kwargs[p.name] = False if not isinstance(p.default, str) else None
            continue
        v = guess_value(p.name, ann, variant)
        if v is UNGUESSABLE:
            return kwargs, p.name
        if p.kind == p.POSITIONAL_ONLY:
            return kwargs, p.name
        kwargs[p.name] = v
    return kwargs, None


class Worker:
    def __init__(self, spec):
        self.spec = spec
        self.out = open(spec["out"], "a", buffering=1)  # noqa: SIM115 - the worker's log, open for its lifetime
        self.pkgdir = spec["pkgdir"]
        self.timeout = spec["item_timeout"]
        self.ignored_warnings = 0
        self.suppress_instantiation_warning = False

    def emit(self, **kw):
        self.out.write(json.dumps(kw, default=str) + "\n")
        self.out.flush()

    # -- environment ----------------------------------------------------------------------
    def setup(self):
        import signal
        import socket
        import warnings

        if self.spec.get("py_compat", True):
            restore_removed_stdlib_names()
        sys.path[:0] = self.spec["roots"]
        sys.path.extend(self.spec["dep_roots"])
        sys.argv = ["exercised-module"]
        import numpy
        import torch
        self.torch, self.np = torch, numpy
        torch.set_num_threads(1)
        self.torch_dir = os.path.dirname(torch.__file__) + os.sep

        real_connect = socket.socket.connect

        def no_network(sock, address, *a, **k):
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                raise OSError(NETWORK_TEXT)
            return real_connect(sock, address, *a, **k)
        socket.socket.connect = no_network

        def no_connection(*a, **k):
            raise OSError(NETWORK_TEXT)
        socket.create_connection = no_connection
        self.warnings = warnings

        def alarm(signum, frame):
            raise ItemTimeout(f"item took more than {self.timeout:g}s")
        signal.signal(signal.SIGALRM, alarm)
        self.signal = signal

    def on_warning(self, message, category, filename, lineno, file=None, line=None):
        text = str(message)
        if self.suppress_instantiation_warning and "should not be instantiated" in text:
            return
        from_torch = False
        f = sys._getframe(1)
        while f is not None and (f.f_code.co_filename.endswith(("warnings.py", "exercise_corpus.py"))):
            f = f.f_back
        if f is not None and f.f_code.co_filename.startswith(self.torch_dir):
            from_torch = True
        if from_torch or legacy_label(f"{category.__name__}: {text}"):
            raise category(text)
        self.ignored_warnings += 1

    def reset(self):
        """Before every item: seeds, default dtype, grad mode, and the warning policy (corpus code
        may have installed its own filters or showwarning at import)."""
        import random
        self.warnings.resetwarnings()
        self.warnings.simplefilter("always")
        self.warnings.showwarning = self.on_warning
        torch = self.torch
        torch.manual_seed(0)
        self.np.random.seed(0)
        random.seed(0)
        torch.set_default_dtype(torch.float32)
        torch.set_grad_enabled(True)

    def timed(self, fn, *a, **k):
        self.signal.setitimer(self.signal.ITIMER_REAL, self.timeout)
        try:
            return fn(*a, **k)
        finally:
            self.signal.setitimer(self.signal.ITIMER_REAL, 0)

    # -- results --------------------------------------------------------------------------
    def failure(self, exc, phase):
        import traceback
        orig = exc
        if isinstance(exc, ItemTimeout):
            status, reason = classify("", "", "timeout")
        else:
            m = re.search(r"cannot import name '[\w.]+' from '([\w.]+)'", str(exc))
            exc_name = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
            if exc_name and "." in exc_name and exc_name.split(".")[0] != "torch" and _importable(exc_name.split(".")[0]) \
                    and not self.own(exc_name.split(".")[0]):
                exc, exc_name = ImportError(f"cannot import name {exc_name.rsplit('.', 1)[1]!r} from {exc_name.rsplit('.', 1)[0]!r}"
                                            f" (no module {exc_name})"), None
                m = re.search(r"from '([\w.]+)'", str(exc))
            import_from = m.group(1) if m and isinstance(exc, ImportError) else None
            if (import_from and self.own(import_from.split(".")[0])) or (exc_name and self.own(exc_name.split(".")[0])):
                status, reason = "failed-other", f"import error within the package: {type(exc).__name__}"
            else:
                status, reason = classify(type(exc).__name__, str(exc), phase, exc_name=exc_name,
                                          syntax_text=getattr(exc, "text", None) if isinstance(exc, SyntaxError) else None,
                                          import_from=import_from)
        where = None
        if isinstance(orig, SyntaxError) and orig.filename:
            where = f"{self.rel(orig.filename)}:{orig.lineno}"
        else:
            for fs in reversed(traceback.extract_tb(orig.__traceback__)):
                if fs.filename.startswith(self.pkgdir):
                    where = f"{self.rel(fs.filename)}:{fs.lineno}"
                    break
        head = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        return {"status": status, "reason": reason, "detail": f"{type(exc).__name__}: {head}", "where": where}

    def own(self, top):
        """Is the top-level module `top` part of the package being exercised?"""
        return any(os.path.exists(os.path.join(r, top)) or os.path.exists(os.path.join(r, top + ".py"))
                   for r in self.spec["roots"])

    def rel(self, path):
        return os.path.relpath(path, self.pkgdir) if path.startswith(self.pkgdir) else path

    def item(self, kind, module, name, res, **extra):
        self.emit(event="item", item={"kind": kind, "module": module, "name": name, **res, **extra})

    # -- exercising -----------------------------------------------------------------------
    def run(self):
        import importlib
        import inspect
        for modname, relpath in self.spec["modules"]:
            self.emit(event="start", module=modname)
            before = self.ignored_warnings
            self.reset()
            try:
                mod = self.timed(importlib.import_module, modname)
            except BaseException as exc:  # noqa: B902 - SystemExit from argparse at import, etc.
                if isinstance(exc, KeyboardInterrupt):
                    raise
                self.item("module", modname, modname, self.failure(exc, "import"), path=relpath)
                self.emit(event="done", module=modname, ignored_warnings=self.ignored_warnings - before)
                continue
            self.item("module", modname, modname, {"status": "passed", "reason": None, "detail": None, "where": None}, path=relpath)
            for attr, obj in list(vars(mod).items()):
                if getattr(obj, "__module__", None) != modname:
                    continue
                try:
                    if inspect.isclass(obj) and issubclass(obj, self.torch.autograd.Function):
                        self.exercise_function(modname, attr, obj)
                    elif inspect.isclass(obj) and issubclass(obj, self.torch.nn.Module):
                        self.exercise_module(modname, attr, obj)
                    elif inspect.isfunction(obj) and HELPER_RX.match(attr):
                        self.exercise_helper(modname, attr, obj)
                except ItemTimeout as exc:  # raised outside a guarded region
                    self.item("helper", modname, attr, self.failure(exc, "call"))
            self.emit(event="done", module=modname, ignored_warnings=self.ignored_warnings - before)

    def first_tensor(self, out, depth=0):
        torch = self.torch
        if isinstance(out, torch.Tensor):
            return out
        if depth > 3:
            return None
        if isinstance(out, dict):
            out = list(out.values())
        if isinstance(out, (list, tuple)):
            for o in out:
                t = self.first_tensor(o, depth + 1)
                if t is not None:
                    return t
        return None

    def backward(self, out):
        """Run .sum().backward() on the first tensor of out; True if a backward ran."""
        t = self.first_tensor(out)
        if t is not None and t.requires_grad and t.is_floating_point():
            t.sum().backward()
            return True
        return False

    def guarded(self, fn, phase):
        """(result, failure dict or None) of fn() under the alarm; legacy warnings raise."""
        self.reset()
        try:
            return self.timed(fn), None
        except BaseException as exc:  # noqa: B902
            if isinstance(exc, KeyboardInterrupt):
                raise
            return None, self.failure(exc, phase)

    @staticmethod
    def best(failures):
        """The failure to report: a legacy one wins (the code reached legacy API), then skips, then the first."""
        for pref in ("failed-torch", "skipped", "failed-other"):
            for f in failures:
                if f["status"] == pref:
                    return f
        return failures[0]

    def construct(self, cls):
        """(instance, failure): try a few argument guesses."""
        failures = []
        for variant in (0, 1):
            kwargs, missing = guess_kwargs(cls.__init__, variant)
            if missing:
                return None, {"status": "failed-guess", "reason": "cannot guess a constructor argument",
                              "detail": f"argument {missing!r}", "where": None}
            inst, fail = self.guarded(lambda: cls(**kwargs), "call")
            if fail is None:
                return inst, None
            fail["detail"] = "constructor: " + fail["detail"]
            failures.append(fail)
            if fail["status"] != "failed-guess":
                break
        return None, self.best(failures)

    def input_candidates(self, m):
        torch, nn = self.torch, self.torch.nn
        first = None
        for sub in m.modules():
            if sub is m or len(list(sub.children())):
                continue
            first = sub
            break
        B = 2
        c = []
        f = first
        if isinstance(f, nn.Embedding):
            c += [torch.randint(0, f.num_embeddings, (B, 5)), torch.randint(0, f.num_embeddings, (5, B))]
        elif isinstance(f, nn.EmbeddingBag):
            c += [torch.randint(0, f.num_embeddings, (B, 5))]
        elif isinstance(f, (nn.LSTM, nn.GRU, nn.RNN)):
            shapes = [(B, 5, f.input_size), (5, B, f.input_size)]
            c += [torch.randn(*s) for s in (shapes if f.batch_first else shapes[::-1])]
        elif isinstance(f, (nn.LSTMCell, nn.GRUCell, nn.RNNCell)):
            c += [torch.randn(B, f.input_size)]
        elif isinstance(f, (nn.Conv1d, nn.ConvTranspose1d)):
            c += [torch.randn(B, f.in_channels, 32)]
        elif isinstance(f, (nn.Conv2d, nn.ConvTranspose2d)):
            c += [torch.randn(B, f.in_channels, s, s) for s in (32, 64, 224, 299)]
        elif isinstance(f, (nn.Conv3d, nn.ConvTranspose3d)):
            c += [torch.randn(B, f.in_channels, 8, 16, 16)]
        elif isinstance(f, nn.Linear):
            c += [torch.randn(B, f.in_features), torch.randn(B, 5, f.in_features), torch.randn(5, B, f.in_features)]
        elif isinstance(f, nn.Bilinear):
            c += [(torch.randn(B, f.in1_features), torch.randn(B, f.in2_features))]
        elif isinstance(f, (nn.BatchNorm1d, nn.InstanceNorm1d)):
            c += [torch.randn(B, f.num_features), torch.randn(B, f.num_features, 8)]
        elif isinstance(f, (nn.BatchNorm2d, nn.InstanceNorm2d)):
            c += [torch.randn(B, f.num_features, 16, 16)]
        elif isinstance(f, (nn.BatchNorm3d, nn.InstanceNorm3d)):
            c += [torch.randn(B, f.num_features, 4, 8, 8)]
        elif isinstance(f, nn.LayerNorm):
            c += [torch.randn(B, *f.normalized_shape)]
        c += [torch.randn(B, 8), torch.randn(B, 3, 32, 32), torch.randn(B, 5, 8), torch.randn(5, B, 8),
              torch.randn(B, 8, 16, 16), torch.randn(B, 16), torch.randn(B, 3, 224, 224), torch.randint(0, 8, (B, 5))]
        return c

    def forward_args(self, m, x):
        """Positional arguments for m.forward given the primary input x (or None)."""
        import inspect
        torch = self.torch
        try:
            params = list(inspect.signature(m.forward).parameters.values())
        except (TypeError, ValueError):
            return [x] if not isinstance(x, tuple) else list(x)
        req = [p for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        first = list(x) if isinstance(x, tuple) else [x]
        args = first[: max(1, len(req))]
        xt = first[0]
        B = 2
        S = xt.shape[1] if xt.dim() > 1 and xt.shape[0] == B else (xt.shape[0] if xt.dim() > 0 else 1)
        for p in req[len(args):]:
            n = p.name.lower()
            if n in ("hidden", "hx", "h", "h0", "state", "states", "hidden_state", "hiddens", "prev_state"):
                init = getattr(m, "init_hidden", None)
                v = None
                if callable(init):
                    try:
                        v = init(B)
                    except Exception:  # noqa: BLE001 - a guess
                        v = None
                args.append(v)
            elif "len" in n:
                args.append(torch.full((B,), S, dtype=torch.long))
            elif "mask" in n:
                args.append(torch.ones(B, S))
            elif n in ("target", "targets", "y", "label", "labels", "gt", "truth", "y_true"):
                args.append(self.target_for(xt))
            else:
                args.append(xt)
        return args

    def target_for(self, x):
        torch = self.torch
        if x.is_floating_point() and x.dim() >= 2:
            return torch.randint(0, x.shape[1], (x.shape[0],) + tuple(x.shape[2:]))
        return torch.rand_like(x.float())

    def loss_candidates(self):
        torch = self.torch
        B, K = 2, 5
        return [
            (torch.randn(B, K, requires_grad=True), torch.randint(0, K, (B,))),
            (torch.randn(B, K, requires_grad=True), torch.rand(B, K)),
            (torch.rand(B, 1, 8, 8, requires_grad=True), torch.randint(0, 2, (B, 1, 8, 8)).float()),
            (torch.randn(B, K, 8, requires_grad=True), torch.randint(0, K, (B, 8))),
            (torch.rand(B, K, requires_grad=True), torch.randint(0, 2, (B, K)).float()),
        ]

    def is_loss(self, cls, obj):
        import inspect
        if isinstance(obj, self.torch.nn.modules.loss._Loss):
            return True
        try:
            names = [p.name.lower() for p in inspect.signature(obj.forward).parameters.values()]
        except (TypeError, ValueError):
            return False
        return len(names) >= 2 and any(n in ("target", "targets", "y", "label", "labels", "gt", "y_true", "truth") for n in names[1:3])

    def exercise_module(self, modname, attr, cls):
        import inspect
        nn = self.torch.nn
        if inspect.isabstract(cls):
            self.item("nn.Module", modname, attr, {"status": "skipped", "reason": "abstract", "detail": None, "where": None})
            return
        if getattr(cls, "forward", None) is nn.Module.forward:
            self.item("nn.Module", modname, attr, {"status": "skipped", "reason": "abstract (no forward)", "detail": None, "where": None})
            return
        inst, fail = self.construct(cls)
        if fail:
            self.item("nn.Module", modname, attr, fail, constructed=False)
            return
        if self.is_loss(cls, inst):
            candidates = [list(c) for c in self.loss_candidates()]
        else:
            candidates = [self.forward_args(inst, x) for x in self.input_candidates(inst)]
        failures = []
        for args in candidates:
            def call():
                out = inst(*args)
                return self.backward(out)
            ran_backward, fail = self.guarded(call, "call")
            if fail is None:
                self.item("nn.Module", modname, attr, {"status": "passed", "reason": None, "detail": None, "where": None},
                          constructed=True, backward=bool(ran_backward), input=_shape(args))
                return
            failures.append(fail)
            if fail["status"] in ("failed-torch", "skipped") or fail["reason"] == "timeout":
                break
        f = self.best(failures)
        f["detail"] = "forward/backward: " + f["detail"]
        self.item("nn.Module", modname, attr, f, constructed=True)

    def exercise_function(self, modname, attr, cls):
        import inspect
        torch = self.torch
        static = isinstance(inspect.getattr_static(cls, "forward", None), staticmethod)
        try:
            params = list(inspect.signature(cls.forward).parameters.values())
        except (TypeError, ValueError):
            params = []
        params = [p for p in params[1:] if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
        if cls.forward is torch.autograd.Function.forward or (not params and not static):
            self.item("Function", modname, attr, {"status": "skipped", "reason": "abstract (no forward)", "detail": None, "where": None},
                      style="new" if static else "old")
            return
        failures = []
        for shape in ((2, 5), (5,), (2, 3, 8, 8), (4, 4)):
            args, missing = [], None
            for p in params:
                n = p.name.lower()
                if n in ("input", "x", "inputs", "a", "b", "t", "tensor", "y", "grad", "weight", "bias", "i", "h",
                         "hidden", "x1", "x2", "input1", "input2", "u", "v", "c", "target", "mask") \
                        or "input" in n or "tensor" in n or n.startswith(("x_", "in_")):
                    args.append(torch.randn(*shape, requires_grad=n not in ("target", "mask")))
                else:
                    v = guess_value(p.name)
                    if v is UNGUESSABLE:
                        missing = p.name
                        break
                    args.append(v)
            if missing:
                failures.append({"status": "failed-guess", "reason": "cannot guess an argument",
                                 "detail": f"forward argument {missing!r}", "where": None})
                break
            if static:
                def call():
                    return self.backward(cls.apply(*args))
            else:
                kwargs, missing = guess_kwargs(cls.__init__)
                if missing:
                    failures.append({"status": "failed-guess", "reason": "cannot guess a constructor argument",
                                     "detail": f"argument {missing!r}", "where": None})
                    break

                def call():
                    self.suppress_instantiation_warning = True
                    try:
                        fn = cls(**kwargs)
                    finally:
                        self.suppress_instantiation_warning = False
                    return self.backward(fn(*args))
            ran_backward, fail = self.guarded(call, "call")
            if fail is None:
                self.item("Function", modname, attr, {"status": "passed", "reason": None, "detail": None, "where": None},
                          style="new" if static else "old", backward=bool(ran_backward), input=_shape(args))
                return
            failures.append(fail)
            if fail["status"] in ("failed-torch", "skipped") or fail["reason"] == "timeout":
                break
        self.item("Function", modname, attr, self.best(failures), style="new" if static else "old")

    def exercise_helper(self, modname, attr, fn):
        import inspect
        torch = self.torch
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            return
        req = [p for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        has_volatile = any(p.name == "volatile" for p in params)
        B, K = 2, 5
        hiddenish = ("h", "hidden", "hx", "state", "states", "hiddens", "hidden_state")

        def tensor_for(n, i, kind):
            if n in hiddenish:
                return (torch.randn(1, B, 4, requires_grad=True), torch.randn(1, B, 4, requires_grad=True)) if kind == 1 \
                    else torch.randn(1, B, 4, requires_grad=True)
            if n in ("target", "targets", "y", "label", "labels", "gt", "y_true", "truth"):
                return torch.randint(0, K, (B,)) if kind != 1 else torch.rand(B, K)
            if kind == 2:
                return self.np.random.rand(B, K).astype("float32")
            return torch.randn(B, K, requires_grad=(i == 0))

        failures = []
        for kind in (0, 1, 2):
            args = []
            for i, p in enumerate(req):
                n = p.name.lower()
                v = guess_value(p.name) if n in BOOL_NAMES or n in FLOAT_NAMES or n in INT_EXACT else UNGUESSABLE
                if n in FALSE_ALWAYS:
                    v = False
                args.append(v if v is not UNGUESSABLE else tensor_for(n, i, kind))
            calls = [{}] + ([{"volatile": True}] if has_volatile else [])
            extra = {p.name: False for p in params if p.name.lower() in FALSE_ALWAYS and p.default is not p.empty and p.default}

            def call():
                ran = False
                for kw in calls:
                    ran = self.backward(fn(*args, **extra, **kw)) or ran
                return ran
            ran_backward, fail = self.guarded(call, "call")
            if fail is None:
                self.item("helper", modname, attr, {"status": "passed", "reason": None, "detail": None, "where": None},
                          backward=bool(ran_backward), volatile_call=has_volatile)
                return
            failures.append(fail)
            if fail["status"] in ("failed-torch", "skipped") or fail["reason"] == "timeout":
                break
        self.item("helper", modname, attr, self.best(failures), volatile_call=has_volatile)


def _importable(name):
    import importlib.util
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _shape(args):
    out = []
    for a in args:
        s = getattr(a, "shape", None)
        out.append(list(s) if s is not None else type(a).__name__)
    return out


def worker_main(spec_path) -> int:
    spec = json.loads(Path(spec_path).read_text())
    w = Worker(spec)
    w.setup()
    w.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
