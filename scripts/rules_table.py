"""Rewrite the rules table in README.md from the registry: python scripts/rules_table.py"""
from pathlib import Path

from torchupgrade.codemods import all_rules

readme = Path(__file__).resolve().parent.parent / "README.md"
text = readme.read_text()
start, end = "<!-- rules-table: start -->\n", "<!-- rules-table: end -->"
rows = ["| code | name | fix class | summary |", "|---|---|---|---|"]
rows += [f"| {r.code} | {r.name} | {r.label()} | {r.summary.replace('|', '/')} |" for r in all_rules()]
head, rest = text.split(start)
_, tail = rest.split(end)
readme.write_text(head + start + "\n".join(rows) + "\n" + end + tail)
