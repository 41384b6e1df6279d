"""examples/train_legacy.py migrated with the whole registry runs under `python -W error` and learns."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from torchupgrade.codemods import migrate

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "train_legacy.py"


def test_example_does_not_parse_as_written():
    with pytest.raises(SyntaxError):
        ast.parse(EXAMPLE.read_bytes())


def test_example_migration_is_clean_and_idempotent():
    src = EXAMPLE.read_bytes()
    r = migrate(src, path=str(EXAMPLE), unsafe=True)
    assert r.failure is None
    ast.parse(r.new_source)
    assert not migrate(r.new_source, path=str(EXAMPLE), unsafe=True).changed
    rules = {e.rule for e in r.edits}
    assert {"TU001", "TU010", "TU021", "TU030", "TU031", "TU032", "TU033", "TU034", "TU035", "TU036", "TU037"} <= rules


def test_migrated_example_trains_under_warnings_as_errors(tmp_path):
    pytest.importorskip("torch")
    r = migrate(EXAMPLE.read_bytes(), path=str(EXAMPLE), unsafe=True)
    assert r.failure is None
    script = tmp_path / "train_migrated.py"
    script.write_bytes(r.new_source)
    proc = subprocess.run([sys.executable, "-W", "error", str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = re.search(r"loss ([\d.]+) -> ([\d.]+)", proc.stdout)
    assert m, proc.stdout
    first, last = float(m.group(1)), float(m.group(2))
    assert last < 0.5 * first, proc.stdout
    acc = float(re.search(r"accuracy ([\d.]+)", proc.stdout).group(1))
    assert acc > 0.8, proc.stdout
