"""``load_yaml`` and ``read_input``: YAML as users write it, read from a bounded regular file.

Numbers are YAML 1.2's decimal forms only.  PyYAML follows YAML 1.1, where ``1e-3`` is the text
``'1e-3'`` (a float needs a dot there) while ``1:20`` is 80 (base 60), ``017`` is 15 (octal),
``0b101`` is 5, ``0x1F`` is 31 and ``1_000`` is 1000: a careless value silently became another
number.  Here ``1e-3`` is a float, and the YAML 1.1 forms are text, which a field expecting a
number refuses (``number_hint`` says why).  A key given twice is an error; a document nested
more than ``MAX_YAML_DEPTH`` levels (aliases included) is an error rather than a
``RecursionError``, and so is one of more than ``MAX_YAML_NODES`` values.  Everything else is
``yaml.safe_load``: no tags that construct Python objects.

``read_input`` reads a spec or values file of at most ``MAX_YAML_BYTES``, refusing a folder, a
FIFO or a device before reading from it (a FIFO would block, ``/dev/zero`` never ends).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from symbprop.errors import SymbpropError

#: The most bytes of a spec or values file (YAML); big data go in CSV or NPZ files (``--data``).
MAX_YAML_BYTES = 1_000_000
#: The deepest nesting of lists and mappings in a YAML document (a spec needs 4 levels).
MAX_YAML_DEPTH = 50
#: The most values (scalars, lists and mappings) in a YAML document: reading each costs some
#: 20 µs, so a million would take seconds to minutes.
MAX_YAML_NODES = 50_000

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
#: YAML 1.1's number forms, as PyYAML resolves them, and YAML 1.2's octal ``0o17``: the text
#: that ``number_hint`` recognises as meant for a number.
_OTHER_NUMBERS = [regexp for resolvers in yaml.SafeLoader.yaml_implicit_resolvers.values()
                  for tag, regexp in resolvers if tag in (_INT, _FLOAT)]
_OTHER_NUMBERS.append(re.compile(r"^[-+]?0o[0-7_]+$"))


try:  # libyaml's scanner and parser (4 times as fast), under PyYAML's composer
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml
    _SafeBase = yaml.SafeLoader
else:
    class _SafeBase(yaml.composer.Composer, CParser, yaml.constructor.SafeConstructor,
                    yaml.resolver.Resolver):
        """``yaml.SafeLoader`` with libyaml's events; the Python composer (which ``_Loader``
        extends) comes first."""

        def __init__(self, stream) -> None:
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            yaml.composer.Composer.__init__(self)


class _Loader(_SafeBase):
    """SafeLoader with YAML 1.2 decimal numbers only, no duplicate keys, bounded depth and
    size."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = self._nodes = 0
        self._heights: dict[int, int] = {}  # id(collection node) -> levels in it

    def compose_node(self, parent, index):
        event = self.peek_event()
        self._nodes += 1
        if self._nodes > MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"more than {MAX_YAML_NODES:,} values; a spec or values file holds "
                f"at most {MAX_YAML_NODES:,} (big data go in a CSV or NPZ file: --data)",
                event.start_mark)
        if isinstance(event, yaml.ScalarEvent):
            return super().compose_node(parent, index)
        if isinstance(event, yaml.AliasEvent):  # a copy of an anchored node: its depth counts
            node = super().compose_node(parent, index)
            self._check_depth(self._depth + self._heights.get(id(node), 0), event)
            return node
        self._depth += 1
        self._check_depth(self._depth, event)
        node = super().compose_node(parent, index)
        self._depth -= 1
        children = (node.value if isinstance(node, yaml.SequenceNode)
                    else [child for pair in node.value for child in pair])
        self._heights[id(node)] = 1 + max((self._heights.get(id(c), 0) for c in children),
                                          default=0)
        return node

    def _check_depth(self, depth: int, event) -> None:
        if depth > MAX_YAML_DEPTH:
            raise self.nesting_error(event.start_mark)

    @staticmethod
    def nesting_error(mark) -> yaml.YAMLError:
        return yaml.composer.ComposerError(
            None, None, f"nested more than {MAX_YAML_DEPTH} levels deep; at most "
            f"{MAX_YAML_DEPTH} levels are allowed", mark)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # SafeLoader reports it ("found unhashable key")
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# A copy of SafeLoader's table without its number forms (SafeLoader itself is unchanged), then
# YAML 1.2's: an int is 0 or digits not starting with 0; a float has a dot or an exponent.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?[0-9]+[eE][-+]?[0-9]+"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


def load_yaml(text: str) -> Any:
    """The data of one YAML document; raises ``yaml.YAMLError`` like ``yaml.safe_load``."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (_Loader is a SafeLoader)
    except yaml.YAMLError as err:
        # PyYAML 6.0.4 stops a deep flow collection ([[[...]]]) in its scanner, before the
        # composer counts levels: the same limit, said the same way.
        if "maximum nesting depth" not in str(getattr(err, "problem", None)):
            raise
        raise _Loader.nesting_error(getattr(err, "problem_mark", None)) from None


def number_hint(value: Any) -> str:
    """For text that YAML 1.1 reads as a number (``1:20``, ``017``, ``0x1F``, ``1_000``) or
    YAML 1.2 as an octal (``0o17``): why it is not one here, to end a "must be a number"
    message; else ""."""
    if isinstance(value, str) and any(r.match(value) for r in _OTHER_NUMBERS):
        return ("; write numbers in decimal digits (1:20, 017, 0b101, 0x1F and 1_000 are read "
                "as text, not as numbers)")
    return ""


def read_input(path: Path, name: str, what: str, error: type[SymbpropError]) -> str:
    """The text (UTF-8) of the ``what`` file (``"spec"``, ``"values"``) at ``path``, shown as
    ``name``; a missing, unreadable or oversized file, a folder, FIFO or device is ``error``."""
    try:
        kind = _kind(os.stat(path).st_mode)
        if kind is None:
            # O_NONBLOCK: should the file become a FIFO after the stat, the open does not wait
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(descriptor, "rb") as stream:
                info = os.fstat(stream.fileno())
                kind = _kind(info.st_mode)
                if kind is None:
                    return _limited(stream, info.st_size, name, what, error)
    except FileNotFoundError:
        raise error(f"{name}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{name}: cannot read ({err})") from None
    if kind == "a folder":
        raise error(f"{name}: is a folder; give a {what} file (YAML)")
    raise error(f"{name}: is {kind}, not a regular file; give a {what} file (YAML)")


def _kind(mode: int) -> str | None:
    """None for a regular file, else what it is."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket" if stat.S_ISSOCK(mode) else "not a file"


def _limited(stream, size: int, name: str, what: str, error: type[SymbpropError]) -> str:
    limit = f"a {what} file is at most {MAX_YAML_BYTES:,} bytes"
    if size > MAX_YAML_BYTES:
        raise error(f"{name}: the file is {size:,} bytes; {limit}")
    data = stream.read(MAX_YAML_BYTES + 1)  # a file may grow, or not know its size (/proc)
    if len(data) > MAX_YAML_BYTES:
        raise error(f"{name}: the file is more than {MAX_YAML_BYTES:,} bytes; {limit}")
    return data.decode("utf-8")
