"""Benchmark torchupgrade against the targets of issue 10 and print each with PASS/FAIL.

    python scripts/bench.py [CORPUS] [--runs 3] [--scale-runs 1] [--torchfix PATH] [--only NAME,...]
    python scripts/bench.py --stages [CORPUS]       (seconds per engine stage, single process)
    python scripts/bench.py --generate N > big.py   (a generated legacy file of about N lines)

CORPUS defaults to the corpus cache of scripts/corpus_report.py (~/.cache/torchupgrade-corpus/src).
Every figure is a ratio measured in this one run: the commands compared are run alternately and
each side's median over ``--runs`` runs is used, so a busy machine slows both sides alike. The
commands are run as a user runs them (the installed ``torchupgrade`` next to this interpreter).

Lines printed (name: measured, target, PASS/FAIL):

* ``vs-libcst``: ``torchupgrade diff CORPUS`` (default jobs, project index included, no cache)
  over a single-process bare ``libcst.parse_module(src).code`` of the same files (<= 0.8x);
* ``vs-torchfix``: torchfix 0.7.0 over the same tree, over ours (>= 10x); skipped with a message
  when torchfix is absent (install it in a separate venv: ``python -m venv /tmp/torchfix-venv &&
  /tmp/torchfix-venv/bin/pip install torchfix==0.7.0``; found there or via ``--torchfix``);
* ``cache``: a second ``check`` over the unchanged corpus over the first, each with a fresh
  cache folder (<= 0.1x);
* ``one-file``: ``check FILE`` wall time, cold (``--no-cache``) and warm (a cache hit) (<= 0.3 s);
* ``version``: ``torchupgrade --version`` (<= 0.15 s);
* ``rss``: peak RSS of the largest process of the corpus run (<= 250 MB per worker), and the
  memory of the project index (built alone, tracemalloc peak, and pickled size);
* ``scale-8x``: the corpus copied 8 times over one copy (<= 8.5x; ``--scale-runs`` runs);
* ``file-50k``: a generated 50k-line legacy file over a 2k-line file of the same mix (<= 25x),
  and the 50k run's peak RSS (< 250 MB).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).with_name("torchupgrade")
DEFAULT_CORPUS = os.path.expanduser("~/.cache/torchupgrade-corpus/src")
ONE_FILE = Path(__file__).resolve().parent.parent / "examples" / "train_legacy.py"

# -- the generated legacy file ----------------------------------------------------------------------
HEADER = '''"""Generated legacy (PyTorch 0.3) module for torchupgrade's benchmark (scripts/bench.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable
from torch.nn.utils import clip_grad_norm

'''
BLOCK = '''

class Net{i}(nn.Module):
    def __init__(self):
        super(Net{i}, self).__init__()
        self.fc1 = nn.Linear(20, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return F.log_softmax(self.fc2(F.relu(self.fc1(x))))


def to_var{i}(x, volatile=False):
    return Variable(x, volatile=volatile)


def weights_init{i}(m):
    classname = m.__class__.__name__
    if classname.find('Linear') != -1:
        m.weight.data.normal_(0.0, 0.02)
        m.bias.data.fill_(0)


def train{i}(model, loader, optimizer, lr=0.1):
    model.train()
    running_loss = 0.0
    for batch_idx, (data, target) in enumerate(loader):
        data, target = Variable(data.cuda(async=True)), Variable(target)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target, size_average=False)
        loss.backward()
        clip_grad_norm(model.parameters(), 0.5)
        for p in model.parameters():
            p.data.add_(-lr * p.grad.data)
        running_loss += loss.data[0]
    _, pred = torch.max(output.data, 1)
    return running_loss, pred.eq(target.data).sum()


def evaluate{i}(net, batches):
    net.eval()
    correct = 0
    for data, target in batches:
        data = to_var{i}(data, volatile=True)
        output = net(data)
        pred = output.data.max(1)[1]
        correct += (pred == target).sum()
    return correct


def repackage_hidden{i}(h):
    if type(h) == Variable:
        return Variable(h.data)
    return tuple(repackage_hidden{i}(v) for v in h)
'''


def generate(lines: int) -> str:
    """A legacy module of about ``lines`` lines: a block of every family of rules (Variable,
    volatile and its helper, .data reads and in-place updates, loss.data[0], async=, renamed
    functions, size_average, implicit softmax dim) repeated with fresh names."""
    out, n, i = [HEADER], HEADER.count("\n"), 0
    while n < lines:
        out.append(BLOCK.format(i=i))
        n += BLOCK.count("\n")
        i += 1
    return "".join(out)


# -- measuring -----------------------------------------------------------------------------------------
_RSS = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=None)\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(time.perf_counter() - t, u.ru_maxrss, u.ru_utime + u.ru_stime)\n"
)

CPU: dict = {}  # name -> median CPU seconds (all processes of the command) of the last ``alternate``


def timed(cmd, env=None, cpu=False):
    """(wall seconds, peak RSS in MB of the largest process of the command's tree[, CPU seconds])."""
    out = subprocess.run([sys.executable, "-c", _RSS, *map(str, cmd)], capture_output=True, text=True, env=env, check=True).stdout.split()
    return (float(out[0]), int(out[1]) / 1024) + ((float(out[2]),) if cpu else ())


def alternate(commands: dict, runs: int, setup=None) -> dict:
    """Run each command ``runs`` times, alternating; name -> (median seconds, max peak RSS MB)."""
    times = {k: [] for k in commands}
    cpus = {k: [] for k in commands}
    rss = {k: 0.0 for k in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            env = setup(name) if setup else None
            t, m, c = timed(cmd, env, cpu=True)
            times[name].append(t)
            cpus[name].append(c)
            rss[name] = max(rss[name], m)
    CPU.clear()
    CPU.update({k: statistics.median(v) for k, v in cpus.items()})
    return {k: (statistics.median(v), rss[k]) for k, v in times.items()}


def line(name: str, text: str, ok) -> None:
    verdict = ok if isinstance(ok, str) else "skip" if ok is None else ("PASS" if ok else "FAIL")
    print(f"{name:<12} {text:<78} {verdict}", flush=True)


_BARE = (
    "import sys, libcst\n"
    "from pathlib import Path\n"
    "for p in sorted(Path(sys.argv[1]).rglob('*.py')):\n"
    "    try:\n"
    "        libcst.parse_module(p.read_bytes().decode('utf-8')).code\n"
    "    except Exception:\n"
    "        pass\n"
)

_INDEX = (
    "import pickle, sys, time, tracemalloc\n"
    "from torchupgrade.cli.discovery import discover\n"
    "from torchupgrade.codemods.project import ProjectIndex, files_to_index\n"
    "files = files_to_index([str(p) for p in discover([sys.argv[1]], (), [])])\n"
    "tracemalloc.start(); t = time.perf_counter()\n"
    "index = ProjectIndex.build(files)\n"
    "t = time.perf_counter() - t; peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()\n"
    "print(len(files), t, peak / 2**20, len(pickle.dumps(index)) / 2**20)\n"
)


def find_torchfix(explicit):
    for c in [explicit, os.environ.get("TORCHFIX"), "/tmp/torchfix-venv/bin/torchfix", shutil.which("torchfix")]:
        if c and os.path.exists(c):
            return c
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scale-runs", type=int, default=1, help="runs of the 8x corpus comparison (minutes each)")
    ap.add_argument("--torchfix", help="the torchfix executable (default: /tmp/torchfix-venv/bin/torchfix)")
    ap.add_argument("--only", help="comma-separated line names (vs-libcst,vs-torchfix,cache,one-file,version,rss,scale-8x,file-50k)")
    ap.add_argument("--stages", action="store_true", help="seconds per engine stage instead (single process)")
    ap.add_argument("--generate", type=int, metavar="N", help="print a generated legacy file of about N lines")
    args = ap.parse_args()
    if args.generate:
        sys.stdout.write(generate(args.generate))
        return 0
    if args.stages:
        stages(args.corpus)
        return 0
    only = set(args.only.split(",")) if args.only else None
    want = lambda name: only is None or name in only  # noqa: E731
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        sys.exit(f"no corpus at {corpus}: run scripts/corpus_report.py once to fetch it")
    files = [p for p in corpus.rglob("*.py")]
    nlines = sum(p.read_bytes().count(b"\n") for p in files)
    print(f"corpus {corpus}: {len(files)} files, {nlines} lines; {os.cpu_count()} CPUs; python {sys.version.split()[0]}; "
          f"medians of {args.runs} alternating runs", flush=True)
    ours = [BIN, "diff", "--no-cache", "--no-color", "-q", corpus]
    failed = False

    def verdict(ok):
        nonlocal failed
        failed |= ok is False
        return ok

    with tempfile.TemporaryDirectory(prefix="tu-bench-") as tmp:
        tmpd = Path(tmp)
        main_rss = None
        if want("vs-libcst") or want("rss"):
            r = alternate({"ours": ours, "bare": [sys.executable, "-c", _BARE, corpus]}, args.runs)
            (t_ours, main_rss), (t_bare, _) = r["ours"], r["bare"]
            ratio = t_ours / t_bare
            if want("vs-libcst"):
                line("vs-libcst", f"diff {t_ours:.1f} s / bare libcst parse+print {t_bare:.1f} s = {ratio:.2f}x (target <= 0.8x)", verdict(ratio <= 0.8))
                line("vs-libcst", f"  CPU seconds (all processes): diff {CPU['ours']:.1f} / bare {CPU['bare']:.1f} = {CPU['ours'] / CPU['bare']:.2f}x", "info")
        if want("vs-torchfix"):
            tf = find_torchfix(args.torchfix)
            if tf is None:
                line("vs-torchfix", "torchfix not found (see --help: install it in a separate venv)", None)
            else:
                r = alternate({"ours": ours, "torchfix": [tf, corpus]}, args.runs)
                ratio = r["torchfix"][0] / r["ours"][0]
                line("vs-torchfix", f"torchfix 0.7.0 {r['torchfix'][0]:.1f} s / diff {r['ours'][0]:.1f} s = {ratio:.1f}x faster (target >= 10x)", verdict(ratio >= 10))
                line("vs-torchfix", f"  CPU seconds (all processes): torchfix {CPU['torchfix']:.1f} / diff {CPU['ours']:.1f} = {CPU['torchfix'] / CPU['ours']:.1f}x", "info")
        if want("cache"):
            firsts, seconds = [], []
            for i in range(args.runs):
                env = {**os.environ, "TORCHUPGRADE_CACHE_DIR": str(tmpd / f"cache{i}")}
                cmd = [BIN, "check", "--no-color", "-q", corpus]
                firsts.append(timed(cmd, env)[0])
                seconds.append(timed(cmd, env)[0])
            a, b = statistics.median(firsts), statistics.median(seconds)
            line("cache", f"second check {b:.2f} s / first {a:.1f} s = {b / a:.3f}x (target <= 0.1x)", verdict(b / a <= 0.1))
        if want("one-file"):
            env = {**os.environ, "TORCHUPGRADE_CACHE_DIR": str(tmpd / "cache-one")}
            timed([BIN, "check", "-q", ONE_FILE], env)  # fills the cache
            cold = statistics.median(timed([BIN, "check", "-q", "--no-cache", ONE_FILE], env)[0] for _ in range(args.runs))
            warm = statistics.median(timed([BIN, "check", "-q", ONE_FILE], env)[0] for _ in range(args.runs))
            line("one-file", f"check {ONE_FILE.name}: cold (--no-cache) {cold:.2f} s (target <= 0.3 s)", verdict(cold <= 0.3))
            line("one-file", f"check {ONE_FILE.name}: warm (cache hit) {warm:.2f} s (target <= 0.3 s)", verdict(warm <= 0.3))
        if want("version"):
            v = statistics.median(timed([BIN, "--version"])[0] for _ in range(max(args.runs, 5)))
            line("version", f"torchupgrade --version {v:.3f} s (target <= 0.15 s)", verdict(v <= 0.15))
        if want("rss"):
            if main_rss is None:
                main_rss = timed(ours)[1]
            line("rss", f"peak RSS of the largest process of the corpus diff {main_rss:.0f} MB (target <= 250 MB)", verdict(main_rss <= 250))
            out = subprocess.run([sys.executable, "-c", _INDEX, corpus], capture_output=True, text=True, check=True).stdout.split()
            line("rss", f"project index: {out[0]} files in {float(out[1]):.1f} s, {float(out[2]):.0f} MB peak while built, {float(out[3]):.1f} MB pickled", "info")
        if want("scale-8x"):
            big = tmpd / "x8"
            for i in range(8):
                shutil.copytree(corpus, big / f"copy{i}", symlinks=True)
            r = alternate({"one": [BIN, "diff", "--no-cache", "--no-color", "-q", big / "copy0"],
                           "eight": [BIN, "diff", "--no-cache", "--no-color", "-q", big]}, args.scale_runs)
            ratio = r["eight"][0] / r["one"][0]
            line("scale-8x", f"8 copies {r['eight'][0]:.0f} s / one copy {r['one'][0]:.1f} s = {ratio:.2f}x; peak RSS {r['eight'][1]:.0f} MB vs {r['one'][1]:.0f} MB (target <= 8.5x)",
                 verdict(ratio <= 8.5))
            shutil.rmtree(big)
        if want("file-50k"):
            small, large = tmpd / "gen2k.py", tmpd / "gen50k.py"
            small.write_text(generate(2000))
            large.write_text(generate(50000))
            r = alternate({"2k": [BIN, "check", "--no-cache", "-q", small], "50k": [BIN, "check", "--no-cache", "-q", large]}, args.scale_runs)
            ratio = r["50k"][0] / r["2k"][0]
            line("file-50k", f"50k lines {r['50k'][0]:.0f} s / 2k lines {r['2k'][0]:.1f} s = {ratio:.1f}x (target <= 25x)", verdict(ratio <= 25))
            line("file-50k", f"peak RSS of the 50k-line file {r['50k'][1]:.0f} MB, 2k {r['2k'][1]:.0f} MB (target < 250 MB)", verdict(r["50k"][1] < 250))
    return 1 if failed else 0


def stages(root: str) -> None:
    """Seconds per stage summed over all files that parse (single process): libcst parse + print
    is the floor of any libcst codemod; QualifiedNameProvider is what libcst offers for name
    resolution; ImportTable is our one-pass alias table on Python's ast."""
    import ast
    from importlib.metadata import version

    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

    from torchupgrade.codemods import migrate
    from torchupgrade.codemods.imports import ImportTable

    class _Resolve(cst.CSTVisitor):
        METADATA_DEPENDENCIES = (QualifiedNameProvider,)

        def visit_Call(self, node):
            self.get_metadata(QualifiedNameProvider, node.func, None)

    files = sorted(p for p in Path(root).rglob("*.py") if p.is_file())
    names = ("read+decode", "ast.parse", "ImportTable(ast)", "libcst parse", "libcst print", "PositionProvider", "QualifiedNameProvider", "migrate (all rules)")
    totals = dict.fromkeys(names, 0.0)
    parsed = lines = 0
    for path in files:
        data = path.read_bytes()
        marks = [time.perf_counter()]
        try:
            text = data.decode("utf-8")
            marks.append(time.perf_counter())
            tree = ast.parse(text)
            marks.append(time.perf_counter())
            ImportTable(tree)
            marks.append(time.perf_counter())
            module = cst.parse_module(text)
            marks.append(time.perf_counter())
        except Exception:
            continue
        _ = module.code
        marks.append(time.perf_counter())
        MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        marks.append(time.perf_counter())
        MetadataWrapper(module, unsafe_skip_copy=True).visit(_Resolve())
        marks.append(time.perf_counter())
        migrate(data, path=str(path))
        marks.append(time.perf_counter())
        parsed += 1
        lines += text.count("\n")
        for name, a, b in zip(names, marks, marks[1:]):
            totals[name] += b - a
    print(f"{parsed} files, {lines} lines (python {sys.version.split()[0]}, libcst {version('libcst')})")
    floor = totals["libcst parse"] + totals["libcst print"]
    for name, value in totals.items():
        print(f"  {name:<24} {value:7.2f} s   {value / floor:5.2f}x parse+print")


if __name__ == "__main__":
    sys.exit(main())
