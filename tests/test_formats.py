"""`check`/`diff --output-format` (json, github, sarif, concise) and `--report` (Markdown, JSON),
through the real command."""
import json
from pathlib import Path

import jsonschema
import pytest
from _cli import tu

LEGACY = (
    "import torch\n"
    "from torch.autograd import Variable\n"
    "\n"
    "x = Variable(torch.zeros(3))\n"
    "loss = (x * 2).sum()\n"
    "print(loss.data[0])\n"
    "w = torch.nn.init.xavier_uniform(torch.empty(2, 2))\n"
)
NOTE_ONLY = "import torch\n\ndef f(m, t):\n    return m(t).data\n"
PY2 = "from torch.autograd import Variable\nprint 'hello', Variable(x)\n"
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json"


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "legacy.py").write_text(LEGACY)
    (tmp_path / "clean.py").write_text("import torch\n")
    return tmp_path


def test_json_one_object_per_diagnostic(tree):
    r = tu("check", "--output-format", "json", ".", cwd=tree)
    assert r.returncode == 1, r.stderr  # exit codes unchanged
    doc = json.loads(r.stdout)
    assert doc["schema"] == "torchupgrade.diagnostics/1"
    diags = doc["diagnostics"]
    assert [(d["rule"], d["line"]) for d in diags] == [("TU001", 4), ("TU021", 6), ("TU031", 7)]
    d = diags[0]
    assert d["path"] == "legacy.py" and d["column"] == 5 and d["end_line"] == 4 and d["end_column"] > d["column"]
    assert d["fix_class"] == "exact" and d["fix_available"] is True and d["kind"] == "edit"
    assert d["fix"] == {"start": {"line": 4, "column": 1}, "end": {"line": 5, "column": 1}, "replacement": "x = torch.zeros(3)\n"}
    assert diags[1]["fix_class"] == "restoring" and diags[1]["fix"]["replacement"] == "print(loss.item())\n"
    assert doc["failures"] == []
    assert "would change" not in r.stdout.decode()  # the diagnostics replace the "would change" lines


def test_json_clean_tree_exit_0_and_failures(tree):
    (tree / "legacy.py").unlink()
    r = tu("diff", "--output-format", "json", ".", cwd=tree)
    assert r.returncode == 0 and json.loads(r.stdout)["diagnostics"] == []
    (tree / "old.py").write_text(PY2)
    r = tu("check", "--output-format", "json", ".", cwd=tree)
    assert r.returncode == 1
    failures = json.loads(r.stdout)["failures"]
    assert failures[0]["path"] == "old.py" and failures[0]["kind"] == "syntax" and "Python 2" in failures[0]["message"]


def test_notes_are_diagnostics_without_fix(tmp_path):
    # a volatile value that reaches backward(): TU010 leaves a note (regions are applied by default)
    (tmp_path / "n.py").write_text("import torch\nfrom torch.autograd import Variable\nx = Variable(torch.zeros(2), volatile=True)\ny = model(x)\ny.sum().backward()\n")
    r = tu("check", "--output-format", "json", "n.py", cwd=tmp_path)
    notes = [d for d in json.loads(r.stdout)["diagnostics"] if d["kind"] == "note"]
    assert notes and all(d["fix"] is None for d in notes)
    assert b"note:" not in r.stderr  # notes are in the output, not printed again


def test_github_annotations(tree):
    r = tu("check", "--output-format", "github", ".", cwd=tree)
    assert r.returncode == 1
    lines = r.stdout.decode().splitlines()
    assert lines[0].startswith("::warning file=legacy.py,line=4,col=5,endLine=4,endColumn=")
    assert lines[0].endswith("title=TU001 variable-wrapper::Variable(t) -> t")
    (tree / "old.py").write_text(PY2)
    r = tu("check", "--output-format", "github", ".", cwd=tree)
    assert any(line.startswith("::error file=old.py,line=2,") for line in r.stdout.decode().splitlines())


def test_concise(tree):
    r = tu("diff", "--output-format", "concise", ".", cwd=tree)
    assert r.returncode == 0
    assert r.stdout.decode().splitlines() == [
        "legacy.py:4:5: TU001 Variable(t) -> t",
        "legacy.py:6:7: TU021 x.data[0] on a 0-dim tensor -> x.item()",
        "legacy.py:7:5: TU031 xavier_uniform -> xavier_uniform_",
    ]


def test_sarif_validates_against_the_2_1_0_schema(tree):
    (tree / "old.py").write_text(PY2)
    (tree / "n.py").write_text("import torch\nfrom torch.autograd import Variable\nx = Variable(torch.zeros(2), volatile=True)\ny = model(x)\ny.sum().backward()\n")
    r = tu("check", "--output-format", "sarif", ".", cwd=tree)
    assert r.returncode == 1
    log = json.loads(r.stdout)
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    assert log["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "torchupgrade"
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    results = run["results"]
    assert all(res["ruleId"] == ids[res["ruleIndex"]] for res in results)
    first = next(res for res in results if res["ruleId"] == "TU001" and "legacy" in res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert first["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"] == "x = torch.zeros(3)\n"
    assert any(res["level"] == "note" for res in results)
    notifications = run["invocations"][0]["toolExecutionNotifications"]
    assert run["invocations"][0]["executionSuccessful"] is False and "Python 2" in notifications[0]["message"]["text"]


def test_output_format_for_stdin():
    r = tu("check", "--output-format", "concise", "-", input=LEGACY.encode())
    assert r.returncode == 1 and r.stdout.decode().startswith("<stdin>:4:5: TU001 ")


def test_unknown_output_format_is_a_usage_error(tree):
    r = tu("check", "--output-format", "xml", ".", cwd=tree)
    assert r.returncode == 2 and b"xml" in r.stderr


def test_markdown_report(tree):
    (tree / "old.py").write_text(PY2)
    (tree / "n.py").write_text(NOTE_ONLY)
    r = tu("apply", "--report", "migration.md", ".", cwd=tree)
    assert r.returncode == 1  # old.py failed
    md = (tree / "migration.md").read_text()
    assert md.startswith("# torchupgrade migration report\n")
    assert "| files scanned | 4 |" in md and "| changed | 1 |" in md and "| failed | 1 |" in md
    assert "| &nbsp;&nbsp;**restores 0.3 behaviour** (changes what the old code does on today's torch) | 1 |" in md
    assert "### Fixes that restore 0.3 behaviour" in md and "- `legacy.py:6` **TU021**" in md
    assert "| TU001 | variable-wrapper | 1 | 0 | 0 | 1 |" in md
    assert "### `legacy.py`" in md and "| 4 | TU001 variable-wrapper | exact | Variable(t) -> t |" in md
    assert "## Failed (left unchanged)" in md and "- `old.py:2` (syntax): Python 2 syntax" in md


def test_json_report_schema(tree):
    (tree / "old.py").write_text(PY2)
    r = tu("check", "--report", "report.json", ".", cwd=tree)
    assert r.returncode == 1
    doc = json.loads((tree / "report.json").read_text())
    assert doc["schema"] == "torchupgrade.report/1" and doc["command"] == "check"
    s = doc["summary"]
    assert (s["files"], s["changed"], s["unchanged"], s["failed"]) == (3, 1, 1, 1)
    assert s["edits_by_fix_class"] == {"exact": 2, "restoring": 1, "unproven": 0}
    assert s["by_rule"]["TU021"] == {"name": "python-number", "edits": 1, "restoring": 1, "notes": 0, "files": 1}
    files = {f["path"]: f for f in doc["files"]}
    assert files["legacy.py"]["status"] == "would change" and len(files["legacy.py"]["edits"]) == 3
    assert files["old.py"]["status"] == "failed" and files["old.py"]["failure"]["kind"] == "syntax"
    assert "clean.py" not in files
    r = tu("check", "--report", "report.txt", "--report-format", "json", ".", cwd=tree)
    assert json.loads((tree / "report.txt").read_text())["schema"] == "torchupgrade.report/1"


def test_notebook_diagnostics_in_github_and_sarif(tmp_path):
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
              "source": ["import torch\n", "from torch.autograd import Variable\n", "x = Variable(torch.zeros(3))"]}]
    (tmp_path / "nb.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 4}, indent=1))
    r = tu("check", "--output-format", "github", "nb.ipynb", cwd=tmp_path)
    assert r.stdout.decode().splitlines() == ["::warning file=nb.ipynb,title=TU001 variable-wrapper::cell 1, line 3: Variable(t) -> t"]
    r = tu("check", "--output-format", "sarif", "nb.ipynb", cwd=tmp_path)
    log = json.loads(r.stdout)
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    res = log["runs"][0]["results"][0]
    assert "region" not in res["locations"][0]["physicalLocation"] and res["properties"]["cell"] == 1
    assert res["message"]["text"] == "cell 1, line 3: Variable(t) -> t" and "fixes" not in res
