"""The rules as a libcst codemod, for ``python -m libcst.tool codemod``::

    python -m libcst.tool codemod -x torchupgrade.libcst_codemod.TorchUpgrade --no-format src/
    python -m libcst.tool codemod -x torchupgrade.libcst_codemod.TorchUpgrade --no-format --select TU001,TU02 src/

libcst's runner hands over one module at a time, so each file is migrated on its own (no project
index: helpers defined in other modules are not understood, unlike ``torchupgrade apply``), notes
are printed as warnings, and only ``*.py`` files are seen (no notebooks). A file the engine
cannot migrate is skipped with its reason. ``--no-format`` keeps libcst from running a formatter
over the result (torchupgrade keeps the file's formatting itself)."""
from __future__ import annotations

import argparse

import libcst as cst
from libcst.codemod import CodemodCommand, CodemodContext, SkipFile

from torchupgrade.codemods import migrate


class TorchUpgrade(CodemodCommand):
    DESCRIPTION = "Migrate legacy PyTorch (0.1-0.3) code to modern PyTorch (torchupgrade's rules)."

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument("--select", default=None, help="Only these rules (comma-separated codes or prefixes).")
        arg_parser.add_argument("--ignore", default=None, help="Skip these rules.")
        arg_parser.add_argument("--unsafe", action="store_true", help="Also apply unproven fixes.")

    def __init__(self, context: CodemodContext, select=None, ignore=None, unsafe: bool = False) -> None:
        super().__init__(context)
        self.select = [c for c in select.split(",") if c] if isinstance(select, str) else select
        self.ignore = [c for c in ignore.split(",") if c] if isinstance(ignore, str) else ignore
        self.unsafe = unsafe

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        result = migrate(tree.code, path=self.context.filename or "<module>", select=self.select, ignore=self.ignore, unsafe=self.unsafe)
        if result.failure:
            raise SkipFile(result.failure.message)
        for note in result.notes:
            self.warn(f"line {note.line}: {note.rule} {note.message}")
        if not result.changed:
            return tree
        return cst.parse_module(result.new_source)
