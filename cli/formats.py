"""Machine-readable output of ``check`` and ``diff`` (``--output-format``) and the diagnostics the
reports list: one diagnostic per edit and per note, with its position, rule, fix class and, for an
edit, the replacement text of its hunk.

Formats: ``full`` (the default: diffs / "would change" lines, notes on stderr), ``json``,
``github`` (workflow commands), ``sarif`` (2.1.0) and ``concise`` (``path:line:col: CODE message``).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional
from urllib.parse import quote

from torchupgrade.codemods import FixClass, Result

from .hunks import Hunk, hunks_of, location

FORMATS = ("full", "json", "github", "sarif", "concise")
DIAGNOSTICS_SCHEMA = "torchupgrade.diagnostics/1"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def version() -> str:
    try:
        from importlib.metadata import version as dist_version

        return dist_version("torchupgrade")
    except Exception:  # pragma: no cover - not installed
        return "0"


def _rule_name(code: str) -> str:
    try:
        from torchupgrade.codemods import get_rule

        return get_rule(code).name
    except KeyError:
        return ""


def _fix_class(value: Optional[FixClass]) -> Optional[str]:
    return None if value is None else str(value)


def _position(result: Result, line: int, column: int, end_line: int, end_column: int) -> Dict[str, Any]:
    cell, ln = location(result, line)
    end_line = max(end_line or line, line)
    _, end_ln = location(result, end_line)
    if end_line == line and end_column <= column:
        end_column = column
    return {"cell": cell, "line": ln, "column": column + 1, "end_line": end_ln, "end_column": end_column + 1}


def diagnostics(result: Result, hunks: Optional[List[Hunk]] = None) -> List[Dict[str, Any]]:
    """The file's edits and notes as plain dicts (the ``json`` format's objects), in line order."""
    if result.failure:
        return []
    hunks = hunks_of(result) if hunks is None else hunks
    owner = {}
    for hunk in hunks:
        for e in hunk.edits:
            owner[id(e)] = hunk
    out = []
    for e in result.edits if result.changed else ():
        h = owner.get(id(e))
        fix = None
        if h is not None:
            fix = {
                "start": {"line": h.old_start, "column": 1},
                "end": {"line": h.old_end + 1, "column": 1},
                "replacement": "".join(h.new_lines),
            }
        out.append({
            "path": result.path, **_position(result, e.line, e.column, e.end_line, e.end_column),
            "kind": "edit", "rule": e.rule, "name": _rule_name(e.rule), "message": e.message,
            "fix_class": _fix_class(e.fix_class), "fix_available": True, "fix": fix,
        })
    for n in result.notes:
        out.append({
            "path": result.path, **_position(result, n.line, n.column, n.end_line, n.end_column),
            "kind": "note", "rule": n.rule, "name": _rule_name(n.rule), "message": n.message, "key": n.key,
            "fix_class": _fix_class(n.fix_class), "fix_available": n.fix_class is not None, "fix": None,
        })
    out.sort(key=lambda d: (d["cell"] or 0, d["line"], d["column"], d["kind"]))
    return out


def failure_dict(result: Result, path: Optional[str] = None, message: Optional[str] = None, line: Optional[int] = None) -> Dict[str, Any]:
    f = result.failure
    line = line if line is not None else (f.line if f else 0)
    cell, ln = location(result, line) if line else (None, 0)
    return {"path": path or result.path, "cell": cell, "line": ln, "kind": f.kind if f else "io", "message": message or (f.message if f else "")}


# -- streaming formats ----------------------------------------------------------------------------
def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github_lines(diags: List[Dict[str, Any]], failures: List[Dict[str, Any]]) -> List[str]:
    """GitHub Actions workflow commands: ``::warning file=...,line=...::message``."""
    lines = []
    for d in diags:
        kind = "" if d["kind"] == "edit" else " note"
        title = f"{d['rule']} {d['name']}{kind}"
        if d["cell"] is not None:  # lines of a cell are not lines of the .ipynb file: name them in the text
            props = f"file={_gh_prop(d['path'])},title={_gh_prop(title)}"
            message = f"cell {d['cell']}, line {d['line']}: {d['message']}"
        else:
            props = f"file={_gh_prop(d['path'])},line={d['line']},col={d['column']},endLine={d['end_line']},endColumn={d['end_column']},title={_gh_prop(title)}"
            message = d["message"]
        lines.append(f"::warning {props}::{_gh_data(message)}")
    for f in failures:
        lines.append(f"::error file={_gh_prop(f['path'])},line={max(1, f['line'])},title={_gh_prop('torchupgrade ' + f['kind'])}::{_gh_data(f['message'])}")
    return lines


def concise_lines(diags: List[Dict[str, Any]], failures: List[Dict[str, Any]]) -> List[str]:
    lines = []
    for d in diags:
        where = f"cell {d['cell']}:" if d["cell"] is not None else ""
        note = "note: " if d["kind"] == "note" else ""
        lines.append(f"{d['path']}:{where}{d['line']}:{d['column']}: {d['rule']} {note}{d['message']}")
    for f in failures:
        where = f"cell {f['cell']}:" if f["cell"] is not None else ""
        lines.append(f"{f['path']}:{where}{f['line']}:1: error: {f['message']}")
    return lines


def json_document(diags: List[Dict[str, Any]], failures: List[Dict[str, Any]], summary: Dict[str, Any]) -> str:
    return json.dumps({"schema": DIAGNOSTICS_SCHEMA, "version": version(), "diagnostics": diags, "failures": failures, "summary": summary}, indent=2, ensure_ascii=False) + "\n"


def _uri(path: str) -> str:
    if os.path.isabs(path):
        return "file://" + quote(path.replace(os.sep, "/"))
    return quote(path.replace(os.sep, "/"))


def sarif_document(diags: List[Dict[str, Any]], failures: List[Dict[str, Any]]) -> str:
    """A SARIF 2.1.0 log: one run, the rules that fired, one result per diagnostic (with its fix),
    failures as tool execution notifications."""
    from torchupgrade.codemods import all_rules

    rules = [r for r in all_rules() if any(d["rule"] == r.code for d in diags)]
    index = {r.code: i for i, r in enumerate(rules)}
    results = []
    for d in diags:
        region = {"startLine": d["line"], "startColumn": d["column"], "endLine": d["end_line"], "endColumn": d["end_column"]}
        physical: Dict[str, Any] = {"artifactLocation": {"uri": _uri(d["path"])}}
        if d["cell"] is None:
            physical["region"] = region
            text = d["message"]
        else:  # lines of a cell are not lines of the .ipynb file
            text = f"cell {d['cell']}, line {d['line']}: {d['message']}"
        res: Dict[str, Any] = {
            "ruleId": d["rule"],
            "ruleIndex": index[d["rule"]],
            "level": "warning" if d["kind"] == "edit" else "note",
            "message": {"text": text},
            "locations": [{"physicalLocation": physical}],
            "properties": {"kind": d["kind"], "fixClass": d["fix_class"], "fixAvailable": d["fix_available"]},
        }
        if d["cell"] is not None:
            res["properties"].update(cell=d["cell"], cellLine=d["line"], cellColumn=d["column"])
        if d["fix"] is not None and d["cell"] is None:
            fix = d["fix"]
            res["fixes"] = [{
                "description": {"text": f"{d['rule']}: {d['message']}"},
                "artifactChanges": [{
                    "artifactLocation": {"uri": _uri(d["path"])},
                    "replacements": [{
                        "deletedRegion": {"startLine": fix["start"]["line"], "startColumn": 1, "endLine": fix["end"]["line"], "endColumn": 1},
                        "insertedContent": {"text": fix["replacement"]},
                    }],
                }],
            }]
        results.append(res)
    notifications = []
    for f in failures:
        note: Dict[str, Any] = {"level": "error", "message": {"text": f"{f['kind']}: {f['message']}"}}
        loc: Dict[str, Any] = {"artifactLocation": {"uri": _uri(f["path"])}}
        if f["line"] and f["cell"] is None:
            loc["region"] = {"startLine": f["line"]}
        note["locations"] = [{"physicalLocation": loc}]
        notifications.append(note)
    driver = {
        "name": "torchupgrade",
        "version": version(),
        "informationUri": "https://pypi.org/project/torchupgrade/",
        "rules": [
            {
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": " ".join(r.description.split())},
                "defaultConfiguration": {"level": "note" if str(getattr(r, "kind", "fix")) == "advisory" else "warning"},
                "properties": {"fixClass": r.label()},
            }
            for r in rules
        ],
    }
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [{"executionSuccessful": not failures, "toolExecutionNotifications": notifications}],
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
