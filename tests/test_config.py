"""[tool.torchupgrade] in pyproject.toml, and inline suppressions seen from the command line
(--strict-suppressions, malformed comments), through the real command."""
import json

from _cli import tu

LEGACY = (
    "import torch\n"
    "from torch.autograd import Variable\n"
    "\n"
    "x = Variable(torch.zeros(3))\n"
    "w = torch.nn.init.xavier_uniform(torch.empty(2, 2))\n"
)


def rules_of(r):
    return sorted({d["rule"] for d in json.loads(r.stdout)["diagnostics"]})


def project(tmp_path, table):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.torchupgrade]\n" + table)
    (tmp_path / "src" / "pkg").mkdir(parents=True, exist_ok=True)
    (tmp_path / "src" / "pkg" / "a.py").write_text(LEGACY)
    return tmp_path


def test_config_found_from_the_first_path_upwards(tmp_path):
    root = project(tmp_path, 'select = ["TU031"]\n')
    r = tu("check", "--output-format", "json", "src/pkg", cwd=root)
    assert rules_of(r) == ["TU031"]
    r = tu("check", "--output-format", "json", root / "src" / "pkg" / "a.py", cwd="/")  # from the path, not the cwd
    assert rules_of(r) == ["TU031"]
    r = tu("check", "--output-format", "json", "--select", "TU001", "src", cwd=root)  # the command line wins
    assert rules_of(r) == ["TU001"]


def test_config_keys(tmp_path):
    root = project(tmp_path, 'ignore = ["TU031"]\noutput-format = "concise"\njobs = 1\nextend-exclude = ["src/pkg/skip_*.py"]\n'
                   '[tool.torchupgrade.per-file-ignores]\n"src/pkg/b.py" = ["TU001"]\n')
    (root / "src" / "pkg" / "b.py").write_text(LEGACY)
    (root / "src" / "pkg" / "skip_me.py").write_text(LEGACY)
    r = tu("check", "src", cwd=root)
    assert r.returncode == 1
    assert r.stdout.decode().splitlines() == ["src/pkg/a.py:4:5: TU001 Variable(t) -> t"]  # concise; b.py ignores TU001
    r = tu("check", "--output-format", "full", "src", cwd=root)
    assert b"would change: src/pkg/a.py" in r.stdout and b"skip_me" not in r.stdout + r.stderr


def test_config_exclude_replaced_by_command_line(tmp_path):
    root = project(tmp_path, 'exclude = ["src/pkg/a.py"]\n')
    r = tu("check", "src", cwd=root)
    assert r.returncode == 0 and b"0 files scanned" in r.stderr or b"no Python files" in r.stderr
    r = tu("check", "--exclude", "nothing.py", "src", cwd=root)
    assert r.returncode == 1 and b"would change: src/pkg/a.py" in r.stdout


def test_unsafe_from_config_and_no_unsafe(tmp_path):
    root = project(tmp_path, "unsafe = true\n")
    (root / "src" / "pkg" / "a.py").write_text("import torch\nfrom torch.autograd import Variable\ndef f(t):\n    return model(Variable(t, volatile=True))\n")
    assert b"no_grad" in tu("diff", "src", cwd=root).stdout
    assert b"no_grad" not in tu("diff", "--no-unsafe", "src", cwd=root).stdout


def test_unknown_key_is_a_usage_error_naming_it(tmp_path):
    root = project(tmp_path, 'selct = ["TU001"]\n')
    r = tu("check", "src", cwd=root)
    assert r.returncode == 2
    assert b"unknown key 'selct' in [tool.torchupgrade]" in r.stderr and b"pyproject.toml" in r.stderr
    project(tmp_path, 'per_file_ignores = {}\n')
    r = tu("check", "src", cwd=root)
    assert r.returncode == 2 and b"did you mean 'per-file-ignores'" in r.stderr


def test_bad_values_are_usage_errors(tmp_path):
    for table, words in [('jobs = 0\n', b"jobs must be a positive integer"), ('output-format = "xml"\n', b"output-format must be one of"),
                         ('select = ["TU999"]\n', b"unknown rule code"), ('unsafe = "yes"\n', b"unsafe must be true or false"),
                         ("select = [\n", b"cannot read")]:
        root = project(tmp_path, table)
        r = tu("check", "src", cwd=root)
        assert r.returncode == 2 and words in r.stderr, (table, r.stderr)


def test_explicit_config_file(tmp_path):
    root = project(tmp_path, 'select = ["TU031"]\n')
    other = tmp_path / "other.toml"
    other.write_text('[tool.torchupgrade]\nselect = ["TU001"]\n')
    r = tu("check", "--output-format", "json", "--config", other, "src", cwd=root)
    assert rules_of(r) == ["TU001"]


# -- suppressions -------------------------------------------------------------------------------------
def test_inline_suppressions_and_strict(tmp_path):
    src = (
        "import torch\n"
        "from torch.autograd import Variable\n"
        "x = Variable(torch.zeros(3))  # torchupgrade: ignore\n"
        "w = torch.nn.init.xavier_uniform(torch.empty(2, 2))  # noqa: TU031\n"
        "y = torch.zeros(3)  # torchupgrade: ignore[TU020]\n"
        "z = Variable(torch.ones(3))  # torchupgrade: ignore[TU031]\n"
    )
    (tmp_path / "a.py").write_text(src)
    r = tu("diff", "a.py", cwd=tmp_path)
    assert r.returncode == 0
    out = r.stdout.decode()
    assert "-z = Variable(torch.ones(3))" in out and "-x = " not in out and "-w = " not in out
    r = tu("check", "a.py", cwd=tmp_path)
    assert r.returncode == 1 and b"unused suppression" not in r.stderr
    r = tu("check", "--strict-suppressions", "a.py", cwd=tmp_path)
    assert r.returncode == 1
    err = r.stderr.decode()
    assert "a.py:5: error: unused suppression `# torchupgrade: ignore[TU020]`" in err
    assert "a.py:6: error: unused suppression `# torchupgrade: ignore[TU031]`" in err
    assert "a.py:3:" not in err and "a.py:4:" not in err
    (tmp_path / "b.py").write_text("import torch\nx = torch.zeros(3)  # torchupgrade: ignore\n")
    r = tu("check", "--strict-suppressions", "--output-format", "json", "b.py", cwd=tmp_path)
    assert r.returncode == 1 and json.loads(r.stdout)["failures"][0]["kind"] == "suppression"


def test_skip_file_and_unused_skip_file(tmp_path):
    (tmp_path / "a.py").write_text("# torchupgrade: skip-file\n" + LEGACY)
    r = tu("check", "a.py", cwd=tmp_path)
    assert r.returncode == 0 and b"1 skipped" in r.stderr
    r = tu("check", "--strict-suppressions", "a.py", cwd=tmp_path)
    assert r.returncode == 0
    (tmp_path / "a.py").write_text("# torchupgrade: skip-file\nimport torch\nx = torch.zeros(3)\n")
    r = tu("check", "--strict-suppressions", "a.py", cwd=tmp_path)
    assert r.returncode == 1 and b"unused suppression `# torchupgrade: skip-file`" in r.stderr


def test_malformed_suppression_is_reported_and_the_run_goes_on(tmp_path):
    (tmp_path / "a.py").write_text("import torch\nx = torch.nn.init.xavier_uniform(w)  # torchupgrade: ignore[TU0x]\n")
    (tmp_path / "b.py").write_text(LEGACY)
    r = tu("apply", ".", cwd=tmp_path)
    assert r.returncode == 1
    assert b"a.py:2: error: malformed suppression comment" in r.stderr
    assert b"TU0x" in r.stderr and "xavier_uniform(w)" in (tmp_path / "a.py").read_text()
    assert "xavier_uniform_" in (tmp_path / "b.py").read_text()
