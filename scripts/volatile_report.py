#!/usr/bin/env python3
"""What TU010/TU011 do on the legacy corpus: volatile code tokens before -> after, no-grad regions
created, notes by key, a second run (fixed point), and a check that no region the tool made holds
a training call (``backward``, ``step``, ``zero_grad``, ``autograd.grad``).

    python scripts/volatile_report.py [CORPUS_SRC] [--unsafe] [--project] [--diff DIR]

CORPUS_SRC defaults to ~/.cache/torchupgrade-corpus/src (only files mentioning ``volatile`` are
migrated, with every rule, from a copy in memory). ``--project`` builds a project index per
package (the top folder of CORPUS_SRC), as a run over a whole repository would. ``--diff DIR``
writes the unified diff of each changed file there. Exit status 1 if a second run changes a file,
an output does not parse, or a region holds a training call.
"""
from __future__ import annotations

import argparse
import ast
import collections
import difflib
import io
import os
import sys
import tokenize
from pathlib import Path

TRAINING = {"backward", "step", "zero_grad"}


def volatile_tokens(text: str) -> int:
    try:
        return sum(1 for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.NAME and t.string == "volatile")
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text.count("volatile")


def _no_grad_item(node) -> bool:
    f = node.func if isinstance(node, ast.Call) else node
    name = ast.unparse(f) if hasattr(ast, "unparse") else ""
    if name.endswith("no_grad") or name.endswith("inference_mode"):
        return True
    return name.endswith("set_grad_enabled")


def regions(tree) -> list:
    """(kind, first line, node) of every no-grad region in a module."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(_no_grad_item(i.context_expr) for i in node.items):
            out.append(("with", node.lineno, node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(_no_grad_item(d) for d in node.decorator_list):
            out.append(("decorator", node.lineno, node))
    return out


def _signature(node) -> str:
    return ast.dump(node)[:2000]


def training_calls(node) -> list:
    bad = []
    body = node.body
    for stmt in body:
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Call):
                f = sub.func
                if isinstance(f, ast.Attribute) and f.attr in TRAINING:
                    if f.attr == "step" and isinstance(f.value, ast.Name) and f.value.id == "self":
                        continue
                    bad.append(sub.lineno)
                elif isinstance(f, ast.Attribute) and f.attr == "grad" and isinstance(f.value, ast.Attribute) and f.value.attr == "autograd":
                    bad.append(sub.lineno)
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", nargs="?", default=os.path.expanduser("~/.cache/torchupgrade-corpus/src"))
    ap.add_argument("--unsafe", action="store_true")
    ap.add_argument("--project", action="store_true")
    ap.add_argument("--diff")
    opts = ap.parse_args(argv)
    from torchupgrade.codemods import migrate
    from torchupgrade.codemods.project import ProjectIndex

    src = Path(opts.src)
    packages = sorted(p for p in src.iterdir() if p.is_dir())
    before_tokens = after_tokens = 0
    new_regions = collections.Counter()
    notes = collections.Counter()
    edits = collections.Counter()
    problems = []
    files = 0
    for pkg in packages:
        paths = sorted(str(p) for p in pkg.rglob("*.py"))
        chosen = [p for p in paths if b"volatile" in Path(p).read_bytes()]
        if not chosen:
            continue
        index = ProjectIndex.build(paths) if opts.project else None
        for path in chosen:
            files += 1
            data = Path(path).read_bytes()
            rel = os.path.relpath(path, src)
            r = migrate(data, path=path, unsafe=opts.unsafe, project=index)
            new = r.new_source if r.changed else data
            text_b, text_a = data.decode("utf-8", "replace"), new.decode("utf-8", "replace")
            before_tokens += volatile_tokens(text_b)
            after_tokens += volatile_tokens(text_a)
            for n in r.notes:
                if n.rule in ("TU010", "TU011"):
                    notes[f"{n.rule} {n.key or '?'}"] += 1
            for e in r.edits:
                if e.rule in ("TU010", "TU011"):
                    edits[f"{e.rule} {e.fix_class}"] += 1
            if r.failure:
                problems.append(f"{rel}: failure {r.failure}")
                continue
            try:
                tree_a = ast.parse(text_a)
            except SyntaxError as exc:
                problems.append(f"{rel}: output does not parse: {exc}")
                continue
            try:
                tree_b = ast.parse(text_b)
                old = collections.Counter(k for k, _, _ in regions(tree_b))
            except SyntaxError:
                old = collections.Counter()
            now = regions(tree_a)
            got = collections.Counter(k for k, _, _ in now) - old
            new_regions.update(got)
            if got:
                for _kind, line, node in now:
                    bad = training_calls(node)
                    if bad:
                        problems.append(f"{rel}:{line}: region holds a training call on line(s) {bad}")
            again = migrate(new, path=path, unsafe=opts.unsafe, project=index)
            if again.changed:
                problems.append(f"{rel}: a second run changes the file")
            if opts.diff and r.changed:
                out = Path(opts.diff) / (rel.replace(os.sep, "__") + ".diff")
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text("".join(difflib.unified_diff(text_b.splitlines(True), text_a.splitlines(True), rel, rel)))
    mode = ("unsafe" if opts.unsafe else "default") + (", project index per package" if opts.project else "")
    print(f"TU010/TU011 on the corpus ({mode}; {files} files mentioning volatile)")
    print(f"  volatile code tokens   {before_tokens} -> {after_tokens}")
    print(f"  no-grad regions made   {sum(new_regions.values())} ({', '.join(f'{k} {v}' for k, v in sorted(new_regions.items())) or 'none'})")
    print("  edits by fix class     " + (", ".join(f"{k} {v}" for k, v in sorted(edits.items())) or "none"))
    print("  notes by key           " + (", ".join(f"{k} {v}" for k, v in sorted(notes.items())) or "none"))
    print(f"  problems               {len(problems)}")
    for p in problems:
        print("    " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
