"""The README stays true: its rules table lists every rule, and its commands exist."""
import re
from pathlib import Path

from torchupgrade.codemods import all_rules

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_rules_table_matches_registry():
    table = README.split("<!-- rules-table: start -->")[1].split("<!-- rules-table: end -->")[0]
    rows = [r for r in table.strip().splitlines()[2:]]
    documented = [tuple(c.strip() for c in row.strip("|").split("|"))[:3] for row in rows]
    assert documented == [(r.code, r.name, r.label()) for r in all_rules()]


def test_two_setup_commands_at_top():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert len(first_block) == 2
    assert "torchupgrade diff examples/" in first_block[0]
    assert "pytest" in first_block[1]
