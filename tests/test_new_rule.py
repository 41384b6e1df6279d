"""scripts/new_rule.py: a newcomer's rename rule works after touching one module and the
registry, and the skeleton of any other rule fails its example tests until it is written."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _copy(tmp_path):
    """A copy of the package importable as ``torchupgrade`` (PYTHONPATH first, before the
    editable install), so the script can write into it."""
    pkg = tmp_path / "pkg" / "torchupgrade"
    shutil.copytree(ROOT / "torchupgrade", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "codemods", pkg / "codemods", ignore=shutil.ignore_patterns("__pycache__"))
    # the editable install's import hook would find the repository's package first: drop it
    (tmp_path / "pkg" / "sitecustomize.py").write_text(
        "import sys\nsys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "pkg")}
    return pkg / "codemods" / "rules", env


def _run(env, *args):
    # not from the repository, whose top-level torchupgrade/ would shadow the copy
    return subprocess.run([sys.executable, *map(str, args)], env=env, capture_output=True, text=True, timeout=300, cwd=env["PYTHONPATH"])


def _examples(env, code):
    tests = ROOT / "tests" / "rules" / "test_rule_examples.py"
    return _run(env, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", ROOT, tests, "-k", code)


def test_a_generated_rename_rule_passes_its_examples_and_explains(tmp_path):
    rules, env = _copy(tmp_path)
    r = _run(env, ROOT / "scripts" / "new_rule.py", "TU039", "old-init", "--rename", "torch.nn.init.old", "torch.nn.init.old_",
             "--rules-dir", rules)
    assert r.returncode == 0, r.stderr
    assert (rules / "old_init.py").exists() and "OldInit," in (rules / "__init__.py").read_text()
    check = _run(env, "-c", "import torchupgrade.codemods as c, sys; print(c.__file__); "
                 "r = c.migrate('import torch.nn.init\\ntorch.nn.init.old(w)\\n', select=['TU039']); print(r.new_source)")
    assert str(tmp_path) in check.stdout and "torch.nn.init.old_(w)" in check.stdout, check.stdout + check.stderr
    result = _examples(env, "TU039")
    assert result.returncode == 0 and " passed" in result.stdout, result.stdout[-2000:]


def test_a_skeleton_fails_until_it_is_written(tmp_path):
    rules, env = _copy(tmp_path)
    assert _run(env, ROOT / "scripts" / "new_rule.py", "TU039", "my-rule", "--rules-dir", rules).returncode == 0
    result = _examples(env, "TU039")
    assert result.returncode == 1 and "TODO" in result.stdout
    # codes and names already taken are refused
    again = _run(env, ROOT / "scripts" / "new_rule.py", "TU001", "other", "--rules-dir", rules)
    assert again.returncode == 2 and "already a rule" in again.stderr
