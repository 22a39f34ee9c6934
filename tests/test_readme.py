"""The README's Python examples run, in order, and print what the README says they print.

A ```python block followed (with at most a short line such as "prints" in between) by a ```text
block must print exactly that text.  Blocks marked ```python no-run are shown, not run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```([\w-]*)([^\n]*)\n(.*?)^```\s*$", re.S | re.M)


def blocks():
    text = README.read_text(encoding="utf-8")
    found = [
        (m.group(1), m.group(2).strip(), m.group(3), m.start(), m.end())
        for m in FENCE.finditer(text)
    ]
    pairs = []
    for i, (lang, flags, body, _, end) in enumerate(found):
        if lang != "python" or "no-run" in flags:
            continue
        expected = None
        if i + 1 < len(found) and found[i + 1][0] == "text":
            between = text[end : found[i + 1][3]].strip()
            if len(between) <= 30:
                expected = found[i + 1][2]
        pairs.append((body, expected))
    return pairs


def test_readme_examples_run_and_print_what_they_say(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(
        "SYMBPROP_CACHE_DIR", os.environ.get("SYMBPROP_CACHE_DIR", str(tmp_path / "cache"))
    )
    namespace: dict = {}
    examples = blocks()
    assert examples, "the README has Python examples"
    for body, expected in examples:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(body, str(README), "exec"), namespace)  # noqa: S102 - our own README
        if expected is not None:
            assert out.getvalue().rstrip() == expected.rstrip(), body


@pytest.mark.parametrize("command", ["install", "test"])
def test_readme_starts_with_the_setup_commands(command):
    first_block = FENCE.search(README.read_text(encoding="utf-8")).group(3).splitlines()
    wanted = {"install": 'pip install -e ".[dev,plot,bench]"', "test": "python -m pytest"}[command]
    assert any(line.startswith(wanted) for line in first_block[:3])
