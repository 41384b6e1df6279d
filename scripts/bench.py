"""Benchmark the engine's building blocks over a tree of Python files (single process).

    python scripts/bench.py [DIR]      (default: the corpus cache, fetched by scripts/corpus_report.py)

Prints seconds per stage summed over all files that parse, so the cost of each design choice
can be compared: libcst parse + print is the floor for any libcst codemod; QualifiedNameProvider
is what libcst offers for name resolution; ImportTable is our one-pass alias table on Python's ast.
"""
from __future__ import annotations

import ast
import os
import sys
import time
from importlib.metadata import version
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

from torchupgrade.codemods import migrate
from torchupgrade.codemods.imports import ImportTable


class _Resolve(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (QualifiedNameProvider,)

    def visit_Call(self, node):
        self.get_metadata(QualifiedNameProvider, node.func, None)


def main(root: str) -> None:
    files = sorted(p for p in Path(root).rglob("*.py") if p.is_file())
    stages = {k: 0.0 for k in ("read+decode", "ast.parse", "ImportTable(ast)", "libcst parse", "libcst print",
                                "PositionProvider", "QualifiedNameProvider", "migrate (all rules)")}
    parsed = lines = 0
    for path in files:
        data = path.read_bytes()
        t0 = time.perf_counter()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        t1 = time.perf_counter()
        try:
            tree = ast.parse(text)
        except Exception:
            continue
        t2 = time.perf_counter()
        ImportTable(tree)
        t3 = time.perf_counter()
        try:
            module = cst.parse_module(text)
        except Exception:
            continue
        t4 = time.perf_counter()
        _ = module.code  # printing is the timed step
        t5 = time.perf_counter()
        MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        t6 = time.perf_counter()
        MetadataWrapper(module, unsafe_skip_copy=True).visit(_Resolve())
        t7 = time.perf_counter()
        migrate(data, path=str(path))
        t8 = time.perf_counter()
        parsed += 1
        lines += text.count("\n")
        for key, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6, t8 - t7)):
            stages[key] += dt
    print(f"{parsed} files, {lines} lines (python {sys.version.split()[0]}, libcst {version('libcst')})")
    floor = stages["libcst parse"] + stages["libcst print"]
    for key, value in stages.items():
        print(f"  {key:<24} {value:7.2f} s   {value / floor:5.2f}x parse+print")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/torchupgrade-corpus/src"))
