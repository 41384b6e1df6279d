"""The pure helpers of scripts/corpus_report.py: code-token idiom counts and note grouping."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import corpus_report as cr  # noqa: E402


def test_code_tokens_exclude_comments_and_strings():
    src = ('x = Variable(y, volatile=True)  # Variable(z)\n'
           's = "Variable(q) volatile"\n'
           '"""doc: loss.data[0] and\nVariable(w)"""\n'
           'total += loss.data[0]\r\n')
    code = cr.code_text(src)
    assert len(code) == len(src) and code.count("\n") == src.count("\n")
    counts, tokenized = cr.count_code_idioms(src)
    assert tokenized
    assert (counts["Variable("], counts["volatile"], counts[".data[0]"]) == (1, 1, 1)
    raw = cr.count_idioms(src)
    assert (raw["Variable("], raw["volatile"], raw[".data[0]"]) == (4, 2, 2)


def test_untokenizable_text_falls_back_to_whole_text():
    src = "if x:\n        y = Variable(a)\n    z = 1\n"  # inconsistent dedent
    counts, tokenized = cr.count_code_idioms(src)
    assert not tokenized and counts["Variable("] == 1


def test_note_reasons_group_across_places():
    a = cr.note_reason("TU010", "unsafe fix not applied (use --unsafe): `to_var` returns a volatile value: line 12")
    b = cr.note_reason("TU010", "unsafe fix not applied (use --unsafe): `get_batch` returns a volatile value: line 40")
    assert a == b == "TU010 unsafe fix not applied (use --unsafe): `…` returns a volatile value: line N"
    assert cr.note_reason("TU021", "x") != cr.note_reason("TU020", "x")


def test_process_counts_fix_classes(tmp_path):
    import collections

    f = tmp_path / "m.py"
    f.write_text("import torch\nfrom torch.autograd import Variable\nx = Variable(torch.ones(2))\n")
    counted = cr.process((str(f), str(tmp_path), {"unsafe": False, "select": None}))
    assert counted["edits"]["TU001"] >= 1
    assert counted["fix_classes"] == collections.Counter({("TU001", "exact"): counted["edits"]["TU001"]})