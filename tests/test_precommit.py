"""The hooks of .pre-commit-hooks.yaml, run by the real `pre-commit` tool (try-repo installs this
repository into a fresh virtualenv, with its dependencies from the package index) on a temporary
git repository."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LEGACY = "import torch\nfrom torch.autograd import Variable\n\nx = Variable(torch.zeros(3))\n"
MIGRATED = "import torch\n\nx = torch.zeros(3)\n"


def pre_commit():
    exe = Path(sys.executable).with_name("pre-commit")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pre_commit"]


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("pre-commit-home")  # the hook environments, shared by the tests


def test_hooks_with_the_real_pre_commit(tmp_path, home):
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    # a snapshot of this work tree (its committed state + local changes) as the hook repository
    hooks_repo = tmp_path / "hooks-repo"
    shutil.copytree(REPO, hooks_repo, ignore=shutil.ignore_patterns(".venv", ".git", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "build"))
    git("init", "-q", cwd=hooks_repo)
    git("add", "-A", cwd=hooks_repo)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "hooks", cwd=hooks_repo)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hooks_repo, capture_output=True, text=True, check=True).stdout.strip()

    project = tmp_path / "project"
    project.mkdir()
    git("init", "-q", cwd=project)
    (project / "train.py").write_text(LEGACY)
    (project / "clean.py").write_text(MIGRATED)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks_repo}\n    rev: {rev}\n    hooks:\n      - id: torchupgrade-check\n      - id: torchupgrade\n")
    git("add", "-A", cwd=project)
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    env.pop("VIRTUAL_ENV", None)
    r = subprocess.run([*pre_commit(), "run", "--all-files"], cwd=project, capture_output=True, text=True, env=env, timeout=900)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "torchupgrade check (legacy PyTorch left)" in out and "would change: train.py" in out
    assert "files were modified by this hook" in out
    assert (project / "train.py").read_text() == MIGRATED
    git("add", "-A", cwd=project)
    r = subprocess.run([*pre_commit(), "run", "--all-files"], cwd=project, capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("Passed") == 2
