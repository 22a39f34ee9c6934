"""Where the commands print: rich on a terminal, plain lines everywhere else.

On a terminal, ``out()`` is an ordinary ``rich.console.Console`` (colours, the terminal's width).
When the stream is not a terminal (a build log, ``| cat``, a test's ``CliRunner``), rich would
wrap every line at 80 columns and pad table rows with spaces; ``out()`` then prints each line
whole (no wrapping up to ``PLAIN_WIDTH`` columns) and without trailing spaces, so that a log can
be searched for a line as the program wrote it.
"""

from __future__ import annotations

import sys

from rich.console import Console

#: Columns available to plain (not terminal) output: wide enough that nothing wraps.
PLAIN_WIDTH = 1000


class Out:
    """``print(*renderables)`` like ``rich.console.Console.print``; see the module docstring."""

    def __init__(self, stderr: bool = False) -> None:
        self.stderr = stderr
        self.console = Console(stderr=stderr)
        if not self.console.is_terminal:
            self.console = Console(stderr=stderr, width=PLAIN_WIDTH)

    @property
    def is_terminal(self) -> bool:
        return self.console.is_terminal

    def print(self, *objects, **options) -> None:
        if self.is_terminal:
            self.console.print(*objects, **options)
            return
        with self.console.capture() as captured:
            self.console.print(*objects, **options)
        lines = captured.get().split("\n")
        stream = sys.stderr if self.stderr else sys.stdout
        stream.write("\n".join(line.rstrip() for line in lines))
        stream.flush()


def out(stderr: bool = False) -> Out:
    """A printer for stdout (or stderr): see the module docstring."""
    return Out(stderr)
