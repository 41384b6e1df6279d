"""The whole pipeline over the real legacy corpus (21 releases from 2017-18, 88k lines).

Runs scripts/corpus_report.py, which fetches the corpus with ../shared/corpus/fetch.sh into a
cache (reused across runs), migrates a copy and exits 1 if any file crashed the engine, stopped
parsing, or changed on a second run, and compares the report's per-rule table with the snapshot
committed in tests/data/ (a rule that silently stops firing, or starts firing far more, fails:
after a deliberate change, rerun with TORCHUPGRADE_UPDATE_SNAPSHOTS=1 and review the diff of the
snapshot). Skipped where the corpus cannot be fetched. Marked ``corpus`` (`pytest -m corpus`).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FETCH = ROOT.parent / "shared" / "corpus" / "fetch.sh"
CACHE = os.environ.get("TORCHUPGRADE_CORPUS", os.path.expanduser("~/.cache/torchupgrade-corpus"))


@pytest.fixture(scope="module")
def corpus():
    if not FETCH.exists():
        pytest.skip(f"no corpus fetch script at {FETCH}")
    r = subprocess.run(["bash", str(FETCH), CACHE], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"corpus could not be fetched: {r.stderr.strip()[-300:]}")
    return CACHE


def _per_rule_table(report: str) -> str:
    block = report[report.index("per rule:"):]
    lines = block.splitlines()
    end = next(i for i, line in enumerate(lines) if line.strip().startswith("total"))
    return "\n".join(line.rstrip() for line in lines[: end + 1]) + "\n"


@pytest.mark.corpus
@pytest.mark.parametrize("mode", [[], ["--unsafe"]], ids=["default", "unsafe"])
def test_corpus_migrates_without_damage(corpus, mode):
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "corpus_report.py"), corpus, "--jobs", "2", *mode],
        capture_output=True, text=True,
    )
    print(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    report = r.stdout
    assert re.search(r"engine crashes\s+0\b", report)
    assert "parsed before, not after: 0" in report
    assert re.search(r"second run changes 0 files", report)
    changed = int(re.search(r"changed\s+(\d+)", report).group(1))
    assert changed >= 80  # the corpus is full of legacy idioms: a silent no-op would show here
    # every failure is a reported reason (Python 2, `async` as a name), never an internal error
    assert "[internal]" not in report
    snapshot = ROOT / "tests" / "data" / f"corpus_per_rule_{'unsafe' if mode else 'default'}.txt"
    table = _per_rule_table(report)
    if os.environ.get("TORCHUPGRADE_UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(table)
    assert table == snapshot.read_text(), "the corpus report's per-rule table changed: " + table
