"""Notebooks: code cells migrated as one script, IPython lines kept, the file's bytes kept outside
the changed cell sources; bad notebooks reported. Also measures nbformat's round trip (which
re-serialises) against the minimal in-place rewrite the CLI uses."""
import json

import nbformat
import pytest
from _cli import tu

from torchupgrade.cli.notebook import migrate_notebook, read_cells


def cell(source, kind="code", **extra):
    c = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        c.update({"execution_count": None, "outputs": []})
    c.update(extra)
    return c


OUTPUT = {"name": "stdout", "output_type": "stream", "text": ["tensor(0.)\n"]}
CELLS = [
    cell(["# A 2017 tutorial"], "markdown", id="md-1"),
    cell(["%matplotlib inline\n", "import torch\n", "from torch.autograd import Variable"], id="c-2"),
    cell(["!pip install tqdm\n", "def helper(t):\n", "    return Variable(t)"], id="c-3"),
    cell(["x = helper(torch.zeros(3))\n", "loss = (x * 2).sum()\n", "print(loss.data[0])"], id="c-4", execution_count=4, outputs=[OUTPUT]),
    cell(["%%bash\n", "echo Variable(x)"], id="c-5"),
    cell(["print(x.mean())  # unchanged"], id="c-6"),
]


def notebook(cells=CELLS, indent=1, ensure_ascii=False, sort_keys=True, **meta):
    doc = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}, **meta},
           "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(doc, indent=indent, ensure_ascii=ensure_ascii, sort_keys=sort_keys) + "\n"


def sources(text):
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in json.loads(text)["cells"]]


def test_code_cells_migrated_as_one_script_outputs_untouched(tmp_path):
    nb = tmp_path / "tutorial.ipynb"
    nb.write_text(notebook())
    before = json.loads(nb.read_text())
    r = tu("apply", nb, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    after = json.loads(nb.read_text())
    src = sources(nb.read_text())
    assert src[1] == "%matplotlib inline\nimport torch"  # the import became unused in a later cell
    assert src[2] == "!pip install tqdm\ndef helper(t):\n    return t"
    assert src[3] == "x = helper(torch.zeros(3))\nloss = (x * 2).sum()\nprint(loss.item())"
    assert src[4] == "%%bash\necho Variable(x)" and src[5] == "print(x.mean())  # unchanged"
    for b, a in zip(before["cells"], after["cells"]):
        assert {k: v for k, v in b.items() if k != "source"} == {k: v for k, v in a.items() if k != "source"}
    assert before["metadata"] == after["metadata"]
    # only lines of the changed source arrays differ in the file
    old_lines, new_lines = notebook().splitlines(), nb.read_text().splitlines()
    import difflib

    changed = [l for l in difflib.ndiff(old_lines, new_lines) if l[:1] in "+-"]
    assert changed and all(l[2:].startswith('    "') for l in changed), changed


def test_diff_and_notes_name_the_cell(tmp_path):
    nb = tmp_path / "nb.ipynb"
    nb.write_text(notebook(CELLS + [cell(["def f(m, t):\n", "    v = Variable(t, volatile=True)\n", "    return m(v)"])]))
    r = tu("diff", "nb.ipynb", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "--- nb.ipynb:cell 4\n+++ nb.ipynb:cell 4\n@@ -1,3 +1,3 @@\n" in out and "-print(loss.data[0])\n+print(loss.item())\n" in out
    assert "nb.ipynb:cell 7:2: TU010 note:" in r.stderr.decode()
    r = tu("check", "--output-format", "concise", "nb.ipynb", cwd=tmp_path)
    # column 7: `loss.data[0]` starts at `loss` (positions are those of the original nodes now that
    # TU010 runs in the batched traversal; its separate pass used to shift them to `.data`)
    assert "nb.ipynb:cell 4:3:7: TU021 " in r.stdout.decode()
    r = tu("check", "--output-format", "json", "nb.ipynb", cwd=tmp_path)
    d = [d for d in json.loads(r.stdout)["diagnostics"] if d["rule"] == "TU021"][0]
    assert (d["cell"], d["line"]) == (4, 3)


def test_notebooks_found_in_directories_checkpoints_skipped(tmp_path):
    (tmp_path / "nbs" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "nbs" / "a.ipynb").write_text(notebook())
    (tmp_path / "nbs" / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text(notebook())
    (tmp_path / "nbs" / "b.py").write_text("import torch\nfrom torch.autograd import Variable\nx = Variable(torch.zeros(1))\n")
    r = tu("check", "nbs", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.decode().splitlines() == ["would change: nbs/a.ipynb (2 edits)", "would change: nbs/b.py (1 edit)"]


@pytest.mark.parametrize("layout", ["nbformat", "indent2", "unsorted", "string-source", "ascii-escapes", "no-final-newline", "crlf", "no-ids"])
def test_bytes_kept_outside_changed_sources_in_every_layout(layout):
    cells = [dict(c) for c in CELLS] + [cell(["s = 'Gr\u00fc\u00dfe'  # \u00e9t\u00e9\n", "y = torch.nn.init.xavier_uniform(w)"])]
    if layout == "string-source":
        for c in cells:
            c["source"] = "".join(c["source"])
    if layout == "no-ids":
        for c in cells:
            c.pop("id", None)
    text = notebook(cells, indent=2 if layout == "indent2" else 1, ensure_ascii=layout == "ascii-escapes", sort_keys=layout != "unsorted")
    if layout == "no-final-newline":
        text = text.rstrip("\n")
    if layout == "crlf":
        text = text.replace("\n", "\r\n")
    data = text.encode()
    result = migrate_notebook(data, path="nb.ipynb")
    assert result.failure is None and result.changed
    new = result.new_source.decode()
    assert sources(new)[3].endswith("print(loss.item())") and sources(new)[-1].endswith("xavier_uniform_(w)")
    # putting the original source values back gives the original bytes: nothing else moved
    _, old_cells = read_cells(text)
    _, new_cells = read_cells(new)
    out, last = [], 0
    for (_, o), (_, n) in zip(old_cells, new_cells):
        if n is not None:
            out += [new[last:n.start], text[o.start:o.end]]
            last = n.end
    assert "".join(out) + new[last:] == text
    if layout == "ascii-escapes":
        assert "\\u00fc" in new and "\u00fc" not in new
    else:
        assert "\u00fc" in new
    assert ("\r\n" in new) == (layout == "crlf")
    assert new.endswith("\n") == (layout != "no-final-newline")
    second = migrate_notebook(result.new_source, path="nb.ipynb")
    assert not second.changed  # idempotent


def test_unchanged_sources_keep_exact_bytes_and_nbformat_does_not():
    """Measure: nbformat.read + nbformat.write against the original bytes, per layout. nbformat
    re-serialises (sorted keys, indent 1, ids added to 4.5 notebooks without them, strings split
    into lists), so it keeps bytes only for files it wrote itself; the minimal rewrite keeps them
    in every layout (test above)."""
    kept = {}
    variants = {
        "nbformat": notebook(),
        "indent2": notebook(indent=2),
        "unsorted": notebook(sort_keys=False),
        "string-source": notebook([{**c, "source": "".join(c["source"])} for c in CELLS]),
        "ascii-escapes": notebook([cell(["s = '\u00e9'"])], ensure_ascii=True),
        "no-ids": notebook([{k: v for k, v in c.items() if k != "id"} for c in CELLS]),
    }
    for name, text in variants.items():
        nb = nbformat.reads(text, as_version=4)
        kept[name] = nbformat.writes(nb) + "\n" == text
    assert kept["nbformat"] is True
    assert [k for k, v in kept.items() if not v] == ["indent2", "unsorted", "string-source", "ascii-escapes", "no-ids"]


def test_invalid_json_is_reported_and_the_run_goes_on(tmp_path):
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    (tmp_path / "ok.ipynb").write_text(notebook())
    r = tu("apply", ".", cwd=tmp_path)
    assert r.returncode == 1
    assert b"broken.ipynb:0: error: not a valid notebook: invalid JSON" in r.stderr
    assert (tmp_path / "broken.ipynb").read_text() == '{"cells": ['
    assert "loss.item()" in (tmp_path / "ok.ipynb").read_text()
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    r = tu("check", "list.ipynb", cwd=tmp_path)
    assert r.returncode == 1 and b"no list of cells" in r.stderr


def test_cell_that_does_not_parse_reports_the_notebook_untouched(tmp_path):
    bad = CELLS[:4] + [cell(["def broken(:\n", "    pass"])]
    text = notebook(bad)
    (tmp_path / "bad.ipynb").write_text(text)
    r = tu("apply", "bad.ipynb", cwd=tmp_path)
    assert r.returncode == 1
    assert b"bad.ipynb:cell 5:1: error: cell 5 does not parse (line 1)" in r.stderr
    assert (tmp_path / "bad.ipynb").read_text() == text  # the other cells are left as they are too


def test_magics_inside_blocks_and_help_syntax(tmp_path):
    cells = [cell(["import torch\n", "from torch.autograd import Variable\n", "for i in range(2):\n", "    %time y = 1\n",
                   "    x = Variable(torch.zeros(i))\n", "torch.zeros?\n", "?torch.ones"])]
    result = migrate_notebook(notebook(cells).encode(), path="m.ipynb")
    assert result.failure is None
    assert sources(result.new_source.decode())[0] == "import torch\nfor i in range(2):\n    %time y = 1\n    x = torch.zeros(i)\ntorch.zeros?\n?torch.ones"
