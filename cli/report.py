"""The migration report (``--report FILE``): Markdown for people (readable on GitHub) or JSON with a
versioned schema (``torchupgrade.report/1``, documented in the README).

Per file: each edit (rule, line, message, fix class) and each note a person must act on, grouped
by rule; totals per rule and per fix class; the fixes that restore 0.3 behaviour (they change what
the old code does on today's torch) listed apart; files that failed, with the reason.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from torchupgrade.codemods import Result

from .formats import diagnostics, failure_dict, version

REPORT_SCHEMA = "torchupgrade.report/1"
CHANGED, WOULD_CHANGE, UNCHANGED, FAILED, SKIPPED = "changed", "would change", "unchanged", "failed", "skipped"


@dataclass
class FileRecord:
    path: str
    status: str
    diagnostics: List[Dict[str, Any]] = field(default_factory=list)
    failure: Optional[Dict[str, Any]] = None


class Collector:
    """Collects what happened to each file during a run (for the reports and the formats)."""

    def __init__(self, command: str, options: Dict[str, Any]):
        self.command = command
        self.options = options
        self.files: List[FileRecord] = []

    def add(self, result: Result, status: str, failure_message: Optional[str] = None, diags: Optional[List[Dict[str, Any]]] = None) -> FileRecord:
        if status == FAILED:
            rec = FileRecord(result.path, status, [], failure_dict(result, message=failure_message))
        else:
            rec = FileRecord(result.path, status, diagnostics(result) if diags is None else diags)
            if status == UNCHANGED:  # edits of a file that was not written are not counted as done
                rec.diagnostics = [d for d in rec.diagnostics if d["kind"] == "note"]
        self.files.append(rec)
        return rec

    # -- totals --------------------------------------------------------------------------------
    def summary(self) -> Dict[str, Any]:
        status = Counter(f.status for f in self.files)
        edits = [d for f in self.files for d in f.diagnostics if d["kind"] == "edit"]
        notes = [d for f in self.files for d in f.diagnostics if d["kind"] == "note"]
        by_rule: Dict[str, Dict[str, Any]] = {}
        for d in edits + notes:
            entry = by_rule.setdefault(d["rule"], {"name": d["name"], "edits": 0, "restoring": 0, "notes": 0, "files": set()})
            entry["edits" if d["kind"] == "edit" else "notes"] += 1
            if d["kind"] == "edit" and d["fix_class"] == "restoring":
                entry["restoring"] += 1
            entry["files"].add(d["path"])
        return {
            "files": len(self.files),
            "changed": status[CHANGED] + status[WOULD_CHANGE],
            "unchanged": status[UNCHANGED],
            "failed": status[FAILED],
            "skipped": status[SKIPPED],
            "edits": len(edits),
            "edits_by_fix_class": {k: sum(1 for d in edits if d["fix_class"] == k) for k in ("exact", "restoring", "unproven")},
            "notes": len(notes),
            "by_rule": {code: {**v, "files": len(v["files"])} for code, v in sorted(by_rule.items())},
        }

    # -- JSON ----------------------------------------------------------------------------------
    def to_json(self) -> str:
        doc = {
            "schema": REPORT_SCHEMA,
            "tool": {"name": "torchupgrade", "version": version()},
            "command": self.command,
            "options": self.options,
            "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "summary": self.summary(),
            "files": [
                {"path": f.path, "status": f.status, "edits": [d for d in f.diagnostics if d["kind"] == "edit"],
                 "notes": [d for d in f.diagnostics if d["kind"] == "note"], "failure": f.failure}
                for f in self.files if f.diagnostics or f.failure or f.status != UNCHANGED
            ],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

    # -- Markdown ------------------------------------------------------------------------------
    def to_markdown(self) -> str:
        s = self.summary()
        verb = {"apply": "changed", "review": "changed"}.get(self.command, "would change")
        out = ["# torchupgrade migration report", ""]
        flags = " ".join(f"`--{k}`" if v is True else f"`--{k} {','.join(v) if isinstance(v, (list, tuple)) else v}`" for k, v in self.options.items() if v)
        out.append(f"`torchupgrade {self.command}`{' ' + flags if flags else ''}, torchupgrade {version()}, "
                   f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.")
        out += ["", "## Summary", "", "| | |", "|---|---:|"]
        out.append(f"| files scanned | {s['files']} |")
        out.append(f"| {verb} | {s['changed']} |")
        out.append(f"| unchanged | {s['unchanged']} |")
        if s["skipped"]:
            out.append(f"| skipped (`# torchupgrade: skip-file`) | {s['skipped']} |")
        out.append(f"| failed | {s['failed']} |")
        ec = s["edits_by_fix_class"]
        out.append(f"| edits | {s['edits']} |")
        out.append(f"| &nbsp;&nbsp;exact (same behaviour on 0.3 and today) | {ec['exact']} |")
        out.append(f"| &nbsp;&nbsp;**restores 0.3 behaviour** (changes what the old code does on today's torch) | {ec['restoring']} |")
        if ec["unproven"]:
            out.append(f"| &nbsp;&nbsp;unproven (applied with `--unsafe`) | {ec['unproven']} |")
        out.append(f"| notes to act on | {s['notes']} |")
        restoring = [(f, d) for f in self.files for d in f.diagnostics if d["kind"] == "edit" and d["fix_class"] == "restoring"]
        if restoring:
            out += ["", "### Fixes that restore 0.3 behaviour", "",
                    "These change what the legacy code does when run on today's torch, back to what it did on 0.3. "
                    "Review them first: a test that passed on today's torch with the old code may now behave differently.", ""]
            for _f, d in restoring:
                out.append(f"- `{_where(d)}` **{d['rule']}** {_md(d['message'])}")
        unproven = [(f, d) for f in self.files for d in f.diagnostics if d["kind"] == "edit" and d["fix_class"] == "unproven"]
        if unproven:
            out += ["", "### Unproven fixes (applied with `--unsafe`)", ""]
            for _f, d in unproven:
                out.append(f"- `{_where(d)}` **{d['rule']}** {_md(d['message'])}")
        if s["by_rule"]:
            out += ["", "## Per rule", "", "| rule | name | edits | of which restoring | notes | files |", "|---|---|---:|---:|---:|---:|"]
            for code, v in s["by_rule"].items():
                out.append(f"| {code} | {v['name']} | {v['edits']} | {v['restoring']} | {v['notes']} | {v['files']} |")
        listed = [f for f in self.files if f.diagnostics and f.status != FAILED]
        if listed:
            out += ["", "## Files"]
            for f in listed:
                edits = [d for d in f.diagnostics if d["kind"] == "edit"]
                notes = [d for d in f.diagnostics if d["kind"] == "note"]
                out += ["", f"### `{f.path}`", "", f"{f.status}: {_count(len(edits), 'edit')}, {_count(len(notes), 'note')}"]
                if edits:
                    out += ["", "| line | rule | fix class | change |", "|---|---|---|---|"]
                    for d in _by_rule(edits):
                        out.append(f"| {_line(d)} | {d['rule']} {d['name']} | {_label(d['fix_class'])} | {_md(d['message'], table=True)} |")
                if notes:
                    out += ["", "To do (notes):", ""]
                    for d in _by_rule(notes):
                        out.append(f"- [ ] line {_line(d)} **{d['rule']}** {_md(d['message'])}")
        failed = [f for f in self.files if f.status == FAILED]
        if failed:
            out += ["", "## Failed (left unchanged)", ""]
            for f in failed:
                fl = f.failure or {}
                where = f"cell {fl.get('cell')}:" if fl.get("cell") else ""
                out.append(f"- `{f.path}:{where}{fl.get('line', 0)}` ({fl.get('kind', '')}): {_md(fl.get('message', ''))}")
        return "\n".join(out) + "\n"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _by_rule(diags: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    groups: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for d in diags:
        groups[d["rule"]].append(d)
    return [d for code in sorted(groups) for d in groups[code]]


def _line(d: Dict[str, Any]) -> str:
    return f"cell {d['cell']}:{d['line']}" if d["cell"] is not None else str(d["line"])


def _where(d: Dict[str, Any]) -> str:
    return f"{d['path']}:{_line(d)}"


def _label(fix_class: Optional[str]) -> str:
    return {"exact": "exact", "restoring": "**restores 0.3 behaviour**", "unproven": "unproven (`--unsafe`)"}.get(fix_class or "", "")


def _md(text: str, table: bool = False) -> str:
    text = " ".join(text.split()).replace("<", "&lt;")
    if table:
        text = text.replace("|", "\\|")
    return text


def rule_title(code: str) -> str:
    try:
        from torchupgrade.codemods import get_rule

        return get_rule(code).name
    except KeyError:
        return ""
