"""Atomic output (symbprop.files.atomic): rename over regular files only; links are followed, and
devices and pipes are written to, never replaced by a file."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from symbprop.errors import SymbpropError
from symbprop.files.atomic import write_text


def test_a_new_file_and_a_replaced_file_keep_no_temporary(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    assert write_text(target, "one") == target
    write_text(target, "two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_the_mode_of_a_replaced_file_is_kept(tmp_path):
    target = tmp_path / "script.sh"
    target.write_text("old")
    target.chmod(0o755)
    write_text(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o755


def test_a_symbolic_link_is_followed_and_stays_a_link(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_device_is_written_to_not_replaced():
    before = os.stat(os.devnull)
    write_text(os.devnull, "discarded")
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def _written_through(pipe, target) -> list[str]:
    """What a reader of ``pipe`` receives while ``write_text(target, ...)`` runs."""
    received = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()))
    reader.start()
    write_text(target, "through the pipe")
    reader.join(timeout=10)
    return received


def test_a_named_pipe_is_written_to_not_replaced(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    assert _written_through(pipe, pipe) == ["through the pipe"]
    assert stat.S_ISFIFO(pipe.stat().st_mode)


def test_a_link_to_a_pipe_like_dev_stdout_writes_into_the_pipe(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    link = tmp_path / "stdout"
    link.symlink_to(pipe)
    assert _written_through(pipe, link) == ["through the pipe"] and link.is_symlink()


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(SymbpropError, match="is a directory"):
        write_text(tmp_path, "x")

