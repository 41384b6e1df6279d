#!/usr/bin/env python3
"""Run torchupgrade over the legacy-PyTorch corpus and print what it did.

    python scripts/corpus_report.py [CACHE_DIR] [--unsafe] [--jobs N] [--select TU0..] [--keep DIR]

1. fetches the corpus with ../shared/corpus/fetch.sh into CACHE_DIR (default
   ~/.cache/torchupgrade-corpus; an already complete cache is reused, nothing is downloaded twice);
2. copies CACHE_DIR/src to a scratch directory (never touches the cache);
3. migrates every .py file there with the Python API (a process pool) and writes the results;
4. checks that every output that parsed before still parses, that files repaired by TU030 now
   parse, and that a second run over the outputs changes nothing;
5. prints: files, changed, unchanged, failed (grouped by reason, then one line per file), edits
   and notes per rule, edits per fix class (exact / restoring / unproven; only when the engine's
   edits carry a `fix_class`), notes grouped by reason (the message with backticked code and line
   numbers blanked, top 30), time, and how many legacy idioms remain per kind, before -> after:
   once as regex counts over the whole text (approximate: comments and docstrings count too) and
   once over code tokens only (COMMENT and STRING tokens blanked out before the same regexes).

Exit status 1 if any file made the engine crash, lost parseability, or was not idempotent.
"""
from __future__ import annotations

import argparse
import ast
import collections
import io
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from pathlib import Path

HERE = Path(__file__).resolve().parent
FETCH = HERE.parent.parent / "shared" / "corpus" / "fetch.sh"

# Legacy idioms, counted by regex before and after (the first four are the columns of
# shared/corpus/pypi.tsv).
IDIOMS = [
    ("Variable(", r"\bVariable\("),
    ("volatile", r"\bvolatile\b"),
    (".data[0]", r"\.data\[0\]"),
    ("async=", r"[(,]\s*async\s*=(?!=)"),
    ("size_average=/reduce=", r"[(,]\s*(?:size_average|reduce)\s*=(?!=)"),
    ("F.sigmoid/F.tanh(", r"\b(?:F|functional)\.(?:sigmoid|tanh)\("),
    ("upsample(", r"\bupsample(?:_bilinear|_nearest)?\("),
    ("init.X( without _", r"\binit\.(?:uniform|normal|constant|xavier_uniform|xavier_normal|kaiming_uniform|kaiming_normal|orthogonal|sparse|eye|dirac)\("),
    ("clip_grad_norm(", r"\bclip_grad_norm\("),
    ("NLLLoss2d", r"\bNLLLoss2d\b"),
    ("add_/sub_(scalar, t)", r"\.(?:add|sub)_\(\s*[^,()=]+,\s*[^,()=]+\)"),
    ("addcmul_/addcdiv_(v, a, b)", r"\.(?:addcmul|addcdiv)_?\((?:\s*[^,()=]+,){2}\s*[^,()=]+\)"),
    ("softmax(x) without dim", r"\b(?:softmax|log_softmax|softmin)\([^(),=]*\)"),
    ("removed linalg", r"\b(?:gels|potrf|potrs|potri|gesv|trtrs|btrifact|btrisolve|btriunpack|symeig)\("),
    ("retain_variables=/device_id=", r"[(,]\s*(?:retain_variables|device_id)\s*=(?!=)"),
    ("saved_variables", r"\.saved_variables\b"),
    ("torch.XTensor(...) constructors", r"\btorch\.(?:cuda\.)?(?:Float|Double|Half|Byte|Char|Short|Int|Long)?Tensor\("),
    (".type(torch.XTensor)", r"\.type\(\s*['\"]?torch\.(?:cuda\.)?\w+Tensor"),
    ("torch.range(", r"\btorch\.range\("),
    ("torch._six / _backend.", r"\btorch\._six\b|\._backend\.\w+\.apply\("),
    ("old-style Function (self.save_for_backward)", r"\bself\.save_for_backward\("),
]
_COMPILED = [(name, re.compile(rx)) for name, rx in IDIOMS]


def count_idioms(text: str) -> collections.Counter:
    return collections.Counter({name: len(rx.findall(text)) for name, rx in _COMPILED})


def code_text(text: str):
    """text with every COMMENT and STRING token replaced by spaces (newlines kept), or None if
    it does not tokenize (e.g. inconsistent indentation)."""
    lines = list(io.StringIO(text))
    try:
        toks = list(tokenize.generate_tokens(iter(lines).__next__))
    except (tokenize.TokenError, SyntaxError):
        return None
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln))
    chars = list(text)
    for t in toks:
        if t.type in (tokenize.COMMENT, tokenize.STRING):
            for i in range(offsets[t.start[0] - 1] + t.start[1], offsets[t.end[0] - 1] + t.end[1]):
                if chars[i] not in "\r\n":
                    chars[i] = " "
    return "".join(chars)


def count_code_idioms(text: str):
    """(counts over code tokens, tokenized?): falls back to the whole text when it does not tokenize."""
    code = code_text(text)
    return count_idioms(text if code is None else code), code is not None


def note_reason(rule: str, message: str) -> str:
    """A note's message with what is specific to one place blanked: backticked code, quoted names,
    line numbers; so that notes group by reason."""
    msg = re.sub(r"`[^`]*`", "`…`", message)
    msg = re.sub(r"'[^'\s]*'", "'…'", msg)
    msg = re.sub(r"\bline \d+", "line N", msg)
    msg = re.sub(r"\s+", " ", msg).strip()
    return f"{rule} {msg[:140]}"


def parses(data: bytes) -> bool:
    try:
        ast.parse(data)
        return True
    except (SyntaxError, ValueError):
        return False


# unit (package folder under src/) -> ProjectIndex, set in each worker by _init
INDEXES: dict = {}


def build_indexes(work: Path, files) -> dict:
    """One project index per package of the corpus (module names only make sense inside one)."""
    from torchupgrade.codemods.project import ProjectIndex

    units: dict = {}
    for f in files:
        units.setdefault(Path(f).relative_to(work).parts[0], []).append(f)
    return {unit: ProjectIndex.build(paths) for unit, paths in units.items()}


def _init(indexes) -> None:
    INDEXES.clear()
    INDEXES.update(indexes)


def _project(path: str, root: str):
    return INDEXES.get(Path(path).relative_to(root).parts[0])


def second_run(args):
    """Migrate a migrated file again (indexes rebuilt from the migrated tree): must change nothing."""
    path, root, options = args
    from torchupgrade.codemods import migrate

    again = migrate(Path(path).read_bytes(), path=path, unsafe=options["unsafe"], select=options["select"], project=_project(path, root))
    return not again.changed


def process(args):
    path, root, options = args
    from torchupgrade.codemods import migrate

    data = Path(path).read_bytes()
    rel = os.path.relpath(path, root)
    out = {"path": rel, "failure": None, "edits": collections.Counter(), "notes": collections.Counter(),
           "fix_classes": collections.Counter(), "note_reasons": collections.Counter()}
    text = data.decode("utf-8", "replace")
    out["before"] = count_idioms(text)
    out["before_code"], out["tokenized_before"] = count_code_idioms(text)
    out["parsed_before"] = parses(data)
    t0 = time.perf_counter()
    try:
        result = migrate(data, path=path, unsafe=options["unsafe"], select=options["select"], project=_project(path, root))
    except Exception as exc:  # the engine promises never to raise; report if it does
        out["crash"] = f"{type(exc).__name__}: {exc}"
        out["after"] = out["before"]
        out["after_code"], out["tokenized_after"] = out["before_code"], out["tokenized_before"]
        out["time"] = time.perf_counter() - t0
        return out
    out["time"] = time.perf_counter() - t0
    out["crash"] = None
    out["changed"] = result.changed
    if result.failure:
        f = result.failure
        out["failure"] = (f.kind, f.line, f.message)
    for e in result.edits:
        out["edits"][e.rule] += 1
        out["fix_classes"][(e.rule, getattr(e, "fix_class", None))] += 1
    for n in result.notes:
        out["notes"][n.rule] += 1
        out["note_reasons"][note_reason(n.rule, n.message)] += 1
    new = result.new_source if result.changed else data
    if result.changed:
        Path(path).write_bytes(new)
    new_text = new.decode("utf-8", "replace")
    out["after"] = count_idioms(new_text)
    out["after_code"], out["tokenized_after"] = count_code_idioms(new_text)
    out["parsed_after"] = parses(new)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cache", nargs="?", default=os.path.expanduser("~/.cache/torchupgrade-corpus"))
    ap.add_argument("--unsafe", action="store_true", help="apply unsafe fixes too")
    ap.add_argument("--select", action="append", help="rule code prefixes (default: all rules)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--keep", help="migrate into this directory (kept) instead of a temporary one")
    ap.add_argument("--fetch", default=str(FETCH), help="path to fetch.sh")
    ap.add_argument("--files", action="store_true", help="also list every changed file")
    opts = ap.parse_args(argv)

    subprocess.run(["bash", opts.fetch, opts.cache], check=True, stdout=subprocess.DEVNULL)
    src = Path(opts.cache) / "src"
    scratch = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="torchupgrade-corpus-"))
    work = scratch / "src"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(src, work)
    files = sorted(str(p) for p in work.rglob("*.py") if p.is_file())
    lines = sum(Path(f).read_bytes().count(b"\n") for f in files)
    options = {"unsafe": opts.unsafe, "select": opts.select}
    t0 = time.perf_counter()
    indexes = build_indexes(work, files)
    index_time = time.perf_counter() - t0
    with multiprocessing.Pool(opts.jobs, initializer=_init, initargs=(indexes,)) as pool:
        results = pool.map(process, [(f, str(work), options) for f in files], chunksize=4)
    wall = time.perf_counter() - t0
    with multiprocessing.Pool(opts.jobs, initializer=_init, initargs=(build_indexes(work, files),)) as pool:
        for r, ok in zip(results, pool.map(second_run, [(f, str(work), options) for f in files], chunksize=4)):
            r["idempotent"] = ok

    crashed = [r for r in results if r["crash"]]
    failed = [r for r in results if r["failure"]]
    changed = [r for r in results if not r["crash"] and r.get("changed")]
    lost = [r for r in results if r["parsed_before"] and not r.get("parsed_after", True)]
    repaired = [r for r in results if not r["parsed_before"] and r.get("parsed_after") and r.get("changed")]
    not_idem = [r for r in results if r.get("idempotent") is False]

    print(f"torchupgrade corpus report ({'unsafe' if opts.unsafe else 'default'} fixes; {len(files)} files, {lines} lines, "
          f"{len({r['path'].split(os.sep)[0] for r in results})} packages)")
    print(f"  changed            {len(changed)}")
    print(f"  unchanged          {len(results) - len(changed) - len(failed) - len(crashed)}")
    print(f"  failed (reported)  {len(failed)}")
    print(f"  engine crashes     {len(crashed)}")
    print(f"  parsed before, not after: {len(lost)}   repaired (did not parse, now parses): {len(repaired)}")
    print(f"  second run changes {len(not_idem)} files")
    cpu = sum(r["time"] for r in results)
    print(f"  project index      {index_time:.1f}s ({len(indexes)} packages)")
    print(f"  time               {wall:.1f}s wall, {cpu:.1f}s CPU in migrate() ({opts.jobs} jobs, {1000 * cpu / max(1, len(files)):.1f} ms/file)")

    if failed:
        print("\nfailed, by reason:")
        groups = collections.Counter(_reason_group(r["failure"]) for r in failed)
        for reason, n in groups.most_common():
            print(f"  {n:4d}  {reason}")
        print("\nfailed files (file:line: reason):")
        for r in sorted(failed, key=lambda r: r["path"]):
            kind, line, msg = r["failure"]
            print(f"  {r['path']}:{line}: [{kind}] {msg}")
    for title, rows in (("engine crashes", crashed), ("parseable before, not after", lost), ("not idempotent", not_idem)):
        if rows:
            print(f"\n{title}:")
            for r in rows:
                print(f"  {r['path']}: {r.get('crash') or ''}")

    edits = sum((r["edits"] for r in results), collections.Counter())
    notes = sum((r["notes"] for r in results), collections.Counter())
    from torchupgrade.codemods import all_rules

    names = {r.code: r.name for r in all_rules()}
    print("\nper rule:            edits  notes  files")
    for code in sorted(set(edits) | set(notes)):
        nfiles = sum(1 for r in results if r["edits"][code] or r["notes"][code])
        print(f"  {code} {names.get(code, '?'):22s} {edits[code]:5d}  {notes[code]:5d}  {nfiles:5d}")
    print(f"  {'total':28s} {sum(edits.values()):5d}  {sum(notes.values()):5d}")

    fix_classes = sum((r["fix_classes"] for r in results), collections.Counter())
    if any(fc is not None for _, fc in fix_classes):
        classes = ["exact", "restoring", "unproven"]
        classes += sorted({fc for _, fc in fix_classes if fc is not None and fc not in classes})
        print("\nedits per fix class:         " + "".join(f"{c:>10s}" for c in classes) + f"{'(none)':>10s}")
        for code in sorted({rule for rule, _ in fix_classes}):
            print(f"  {code} {names.get(code, '?'):22s} " + "".join(f"{fix_classes[(code, c)]:10d}" for c in classes)
                  + f"{fix_classes[(code, None)]:10d}")
        totals = collections.Counter()
        for (_, fc), n in fix_classes.items():
            totals[fc] += n
        print(f"  {'total':28s} " + "".join(f"{totals[c]:10d}" for c in classes) + f"{totals[None]:10d}")
        for c in classes:
            nfiles = sum(1 for r in results if any(fc == c for _, fc in r["fix_classes"]))
            print(f"  {c}: {totals[c]} edits in {nfiles} files")

    note_reasons = sum((r["note_reasons"] for r in results), collections.Counter())
    if note_reasons:
        top = f"top 30 of {len(note_reasons)} reasons" if len(note_reasons) > 30 else f"{len(note_reasons)} reasons"
        print(f"\nnotes by reason ({top}; backticked code, quoted names and line numbers blanked):")
        for reason, n in sorted(note_reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:30]:
            print(f"  {n:5d}  {reason}")

    before = sum((r["before"] for r in results), collections.Counter())
    after = sum((r["after"] for r in results), collections.Counter())
    print("\nlegacy idioms remaining (regex counts, comments included): before -> after")
    for name, _ in IDIOMS:
        print(f"  {name:30s} {before[name]:5d} -> {after[name]:5d}")
    before_code = sum((r["before_code"] for r in results), collections.Counter())
    after_code = sum((r["after_code"] for r in results), collections.Counter())
    untok = sum(1 for r in results if not r["tokenized_before"] or not r["tokenized_after"])
    print("\nlegacy idioms remaining in code tokens (comments and strings excluded): before -> after"
          + (f"\n  ({untok} files do not tokenize and are counted as whole text)" if untok else ""))
    for name, _ in IDIOMS:
        print(f"  {name:30s} {before_code[name]:5d} -> {after_code[name]:5d}")
    if opts.files:
        print("\nchanged files:")
        for r in sorted(changed, key=lambda r: r["path"]):
            print(f"  {r['path']}: " + ", ".join(f"{k}x{v}" for k, v in sorted(r["edits"].items())))
    print(f"\nmigrated copy: {work}" if opts.keep else "")
    if not opts.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if crashed or lost or not_idem else 0


def _reason_group(failure) -> str:
    kind, _, msg = failure
    msg = re.sub(r"line \d+", "line N", msg)
    msg = re.sub(r"\(.*?\)", "(...)", msg) if kind == "internal" else msg
    return f"[{kind}] {msg}"


if __name__ == "__main__":
    sys.exit(main())
