"""Issue 11, defect 6 and the interrupt test: `apply` over a few hundred files, killed at random
points (SIGINT to the process group as Ctrl-C does, SIGTERM and SIGKILL to the main process).
Every file is then either its original bytes or its fully migrated bytes, the count printed is
the count written, no worker outlives the run and no temporary file is left (after SIGKILL the
next run removes them)."""
import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from _cli import command, env, tu

from torchupgrade.codemods import migrate

TEMPLATE = '''import torch
import torch.nn as nn
from torch.autograd import Variable


class Net{i}(nn.Module):
    def __init__(self):
        super(Net{i}, self).__init__()
        self.fc = nn.Linear({i} + 1, 2)
        nn.init.xavier_uniform(self.fc.weight)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))


def train(model, batches):
    total = 0.0
    for inputs, targets in batches:
        inputs, targets = Variable(inputs), Variable(targets)
        loss = (model(inputs) - targets).pow(2).mean()
        loss.backward()
        total += loss.item()
    return total
'''
FILLER = "\n\ndef helper_{i}_{k}(a, b=({k}, {i})):\n    c = [a * n for n in range({k})]\n    return sum(c) + b[0]  # filler {k}\n"
N_FILES = 200
N_DISTINCT = 12


def make_tree(root: Path, seed: int = 0):
    """N_FILES legacy files (N_DISTINCT different contents, some with CRLF) and their migrations."""
    rnd = random.Random(seed)
    contents = []
    for i in range(N_DISTINCT):
        text = TEMPLATE.format(i=i) + "".join(FILLER.format(i=i, k=k) for k in range(rnd.randint(4, 12)))
        data = text.encode()
        if i % 4 == 3:
            data = data.replace(b"\n", b"\r\n")
        new = migrate(data).new_source
        assert new != data
        contents.append((data, new))
    expected = {}
    for i in range(N_FILES):
        path = root / f"pkg{i % 4}" / f"mod{i:03}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(contents[i % N_DISTINCT][0])
        expected[path] = contents[i % N_DISTINCT]
    return expected


def children(pid: int):
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_gone(pids, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def check_tree(expected):
    """Every file is its original or its migrated bytes; returns how many are migrated."""
    migrated = 0
    for path, (old, new) in expected.items():
        data = path.read_bytes()
        assert data in (old, new), f"{path} is neither the original nor the migrated file"
        migrated += data == new
    return migrated


def temp_files(root: Path):
    return [p for p in root.rglob(".torchupgrade-*")]


pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def interrupt_once(root: Path, expected, signum: int, delay: float, after_first_write: bool = True):
    proc = subprocess.Popen([*command(), "apply", "-q", "-j", "2", str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(), start_new_session=True)
    deadline = time.time() + 60
    workers = []
    while time.time() < deadline and len(workers) < 2 and proc.poll() is None:
        time.sleep(0.02)
        workers = children(proc.pid)
    if after_first_write:  # the random point is counted from the first file written
        first = list(expected.items())[:20]
        while time.time() < deadline and proc.poll() is None and not any(p.read_bytes() == new for p, (_, new) in first):
            time.sleep(0.02)
    time.sleep(delay)
    still_running = proc.poll() is None
    workers = children(proc.pid) or workers
    if still_running:
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        else:
            os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=120)
    err = err.decode()
    assert "Traceback" not in err, err[-3000:]
    assert wait_gone(workers) == [], "workers outlived the main process"
    migrated = check_tree(expected)
    if proc.returncode == 0:  # finished before the signal arrived
        assert migrated == len(expected)
        return migrated, False
    if signum == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 128 + signum, err[-2000:]
        m = re.search(r"interrupted by (SIG\w+): (\d+) files? written", err)
        assert m, err[-2000:]
        assert m.group(1) == signal.Signals(signum).name
        assert int(m.group(2)) == migrated  # the count printed is the count on disk
        assert temp_files(root) == []
    print(f"{signal.Signals(signum).name} after {delay:.2f}s: {migrated} of {len(expected)} files written")
    return migrated, True


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_interrupted_apply_never_leaves_a_half_written_file(tmp_path, signum):
    expected = make_tree(tmp_path, seed=signum)
    delay = random.Random(signum).uniform(0.0, 1.5)
    migrated, interrupted = interrupt_once(tmp_path, expected, signum, delay)
    # a new run finishes the job and removes any temporary file a SIGKILL left
    r = tu("apply", "-q", tmp_path)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert check_tree(expected) == len(expected)
    assert temp_files(tmp_path) == []
    if interrupted:
        assert b"%d changed" % (len(expected) - migrated) in r.stderr


@pytest.mark.fuzz
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_interrupted_apply_many_random_points(tmp_path, signum):
    rnd = random.Random(1000 + signum)
    for round_ in range(5):
        root = tmp_path / f"round{round_}"
        root.mkdir()
        expected = make_tree(root, seed=round_)
        interrupt_once(root, expected, signum, rnd.uniform(0.0, 3.0), after_first_write=rnd.random() < 0.7)
        r = tu("apply", "-q", root)
        assert r.returncode == 0 and check_tree(expected) == len(expected) and temp_files(root) == []


def test_workers_exit_when_the_parent_is_killed(tmp_path):
    """SIGKILL to the main process: the pool's workers go at once (they used to sleep for minutes)."""
    expected = make_tree(tmp_path)
    proc = subprocess.Popen([*command(), "check", "-q", "-j", "2", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
    deadline = time.time() + 60
    workers = []
    while time.time() < deadline and len(workers) < 2:
        time.sleep(0.02)
        workers = children(proc.pid)
    assert len(workers) == 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert wait_gone(workers, timeout=3) == []
    assert check_tree(expected) == 0
