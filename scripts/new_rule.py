#!/usr/bin/env python3
"""Start a new rule (like ruff's ``add_rule.py``): write its module and register it.

    python scripts/new_rule.py TU039 my-rule-name [--rename OLD NEW] [--after TU031]

Writes ``codemods/rules/<name_with_underscores>.py`` and adds the class to the registry in
``codemods/rules/__init__.py`` (before the advisories). With ``--rename OLD NEW`` (qualified torch
names, e.g. ``torch.nn.functional.old torch.nn.functional.new``) the rule is a complete rename
rule with a working example; otherwise it is a ``TreeRule`` whose example and hook you write.
Until you do, ``tests/rules/test_rule_examples.py`` fails on it: its example says ``TODO``.
Then: ``pytest tests/rules/test_rule_examples.py -k TU039`` and ``torchupgrade explain TU039``.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "codemods" / "rules"

RENAME = '''"""{code} {name}: `{old}` -> `{new}`."""
from __future__ import annotations

from ..model import Example
from ._legacy_util import RenamingRule


class {cls}(RenamingRule):
    code = "{code}"
    name = "{name}"
    owns = ("name:{old}",)
    after = {after}
    summary = "`{old_short}` -> `{new_short}`"
    needles = ("{old_last}",)
    {table} = {{"{old}": "{new}"}}
    messages = {{k: v for k, v in RenamingRule.messages.items() if k == "{message_key}"}}
    description = """
`{old}` is deprecated (or removed) in torch 2.13; `{new}` is its current name. Calls and
references are found through the file's imports (any alias).

TODO: say what the old name did in torch 0.3 and what torch 2.13 does with it (warning? error?).

Fix safety: exact. TODO: say why the new name computes the same (verified under torch 2.13).
"""
    examples = (
        Example(
            title="the deprecated name, through an import",
            before="""
            import {old_module}
            y = {old}(x)
            """,
            after="""
            import {new_module_imports}
            y = {new}(x)
            """,
        ),
        Example(
            title="a local function with the same name is left alone",
            before="""
            def {old_last}(x):
                return x
            y = {old_last}(x)
            """,
        ),
{note_example}
    )
'''

BOUND_EXAMPLE = '''
        Example(
            title="an imported name that is also rebound: a note",
            before="""
            from {old_module} import {old_last}
            {old_last} = wrap({old_last})
            """,
            notes=((1, "{code}", "also bound otherwise"),),
        ),'''

NO_NAME_EXAMPLE = '''
        Example(
            title="no usable name for the new module: a note",
            before="""
            from {old_module} import {old_last}
            {new_root} = None
            y = {old_last}(x)
            """,
            notes=((3, "{code}", "no usable name"),),
        ),'''

TREE = '''"""{code} {name}: TODO one line."""
from __future__ import annotations

import libcst as cst

from ..model import Example, FixClass
from ..rule import TreeRule


class {cls}(TreeRule):
    code = "{code}"
    name = "{name}"
    owns = ("call:TODO",)
    after = {after}
    fix_class = FixClass.EXACT
    summary = "TODO: what it rewrites, in one line"
    needles = ("TODO",)  # strings without which a file is never given to the rule
    uses_analysis = False  # True if the rule queries self.ctx.analysis (the semantic model)
    messages = {{
        # every note the rule can emit, by key; each must be produced by one of the examples
        "unknown": "TODO: why the code was left",
    }}
    description = """
TODO: what the legacy code did on torch 0.3, what it does on torch 2.13, what the rule writes.

Fix safety: exact. TODO: why the rewrite keeps the 0.3 behaviour (restoring / unproven: say
under which assumption).
"""
    examples = (
        Example(
            title="TODO",
            before="""
            import torch
            TODO
            """,
            after="""
            import torch
            TODO
            """,
        ),
        Example(
            title="TODO: a case the rule must leave alone (with the note it produces)",
            before="""
            import torch
            TODO
            """,
            notes=((2, "{code}", "TODO"),),
        ),
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        qualified = self.imports.resolve(original_node.func)  # e.g. "torch.nn.functional.foo"
        if qualified != "TODO":
            return updated_node
        # self.ctx.analysis.tensor_here(expr) tells what the semantic model knows about a value;
        # self.note(original_node, "unknown") leaves the code and says why;
        # self.fix(original_node, message, FixClass.UNPROVEN) returns False without --unsafe
        if not self.fix(original_node, "TODO: what was rewritten"):
            return updated_node
        return updated_node
'''


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("code", help="TUxxx, unused")
    ap.add_argument("name", help="kebab-case name, unused")
    ap.add_argument("--rename", nargs=2, metavar=("OLD", "NEW"), help="qualified old and new torch names")
    ap.add_argument("--after", action="append", default=[], help="codes of rules this one must run after")
    ap.add_argument("--rules-dir", default=str(RULES), help=argparse.SUPPRESS)  # tests write into a copy
    opts = ap.parse_args(argv)
    rules_dir = Path(opts.rules_dir)
    if not re.fullmatch(r"TU\d{3}", opts.code) or not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", opts.name):
        ap.error("CODE is TU followed by three digits; NAME is kebab-case")
    from torchupgrade.codemods import all_rules

    taken = {r.code for r in all_rules()} | {r.name for r in all_rules()}
    if opts.code in taken or opts.name in taken:
        ap.error(f"{opts.code} or {opts.name} is already a rule")
    module = opts.name.replace("-", "_")
    path = rules_dir / f"{module}.py"
    if path.exists():
        ap.error(f"{path} exists")
    cls = "".join(part.capitalize() for part in opts.name.split("-"))
    after = repr(tuple(opts.after))
    if opts.rename:
        old, new = opts.rename
        old_module, old_last = old.rsplit(".", 1)
        new_module = new.rsplit(".", 1)[0]
        same = new_module == old_module
        # `import a.b` binds `a`: the new module needs its own import only under another root
        imports = old_module if same or new_module == old_module.split(".")[0] else ", ".join(sorted({old_module, new_module}))
        text = RENAME.format(
            code=opts.code, name=opts.name, cls=cls, after=after, old=old, new=new,
            old_short=old.replace("torch.nn.functional.", "F."), new_short=new.replace("torch.nn.functional.", "F."),
            old_last=old_last, old_module=old_module, new_module_imports=imports,
            table="in_place" if same else "across",
            message_key="bound-otherwise" if same else "no-module-name",
            note_example=(BOUND_EXAMPLE if same else NO_NAME_EXAMPLE).format(
                code=opts.code, old_module=old_module, old_last=old_last, new_root=new_module.split(".")[0]),
        )
    else:
        text = TREE.format(code=opts.code, name=opts.name, cls=cls, after=after)
    path.write_text(text)
    registry = rules_dir / "__init__.py"
    reg = registry.read_text()
    reg = reg.replace("from ..rule import Rule\n", f"from ..rule import Rule\nfrom .{module} import {cls}\n", 1)
    reg = reg.replace("    # advisories (notes only)", f"    {cls},\n    # advisories (notes only)", 1)
    registry.write_text(reg)
    print(f"wrote {path} and registered {cls} in {registry}")
    print(f"next: pytest tests/rules/test_rule_examples.py -k {opts.code}; torchupgrade explain {opts.code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
