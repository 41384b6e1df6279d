"""Running the real `torchupgrade` command as a subprocess (shared by the CLI tests)."""
import os
import subprocess
import sys
from pathlib import Path


def command():
    exe = Path(sys.executable).with_name("torchupgrade")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "torchupgrade.cli.main"]


def env(**extra):
    e = {**os.environ, "NO_COLOR": "1"}
    e.pop("FORCE_COLOR", None)
    e.update(extra)
    return {k: v for k, v in e.items() if v is not None}


def tu(*args, cwd=None, input=None, timeout=300, extra_env=None, prefix=(), **kw):
    """Run `torchupgrade ARGS` (``prefix``: a command to run it through, e.g. setpriv)."""
    return subprocess.run([*prefix, *command(), *map(str, args)], cwd=cwd, input=input, capture_output=True, env=env(**(extra_env or {})), timeout=timeout, **kw)
