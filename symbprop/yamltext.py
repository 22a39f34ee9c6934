"""``load_yaml``: YAML as users write it, numbers in scientific notation included.

PyYAML follows YAML 1.1, where a float needs a dot and a signed exponent: ``1e-3`` and ``2e5``
are read as the strings ``'1e-3'`` and ``'2e5'``, while ``1.0e-3`` is a float.  YAML 1.2 (and
every reader of the values a user types, from Python to JSON) reads them as numbers, so the
loader here adds YAML 1.2's float forms, and refuses a key given twice.  Everything else is
``yaml.safe_load``: no tags that construct Python objects.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """SafeLoader plus YAML 1.2 floats (``1e-3``, ``2E5``, ``.5e1``); a key given twice in one
    mapping is an error (PyYAML keeps the last silently, so a typo'd edit goes unnoticed)."""

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


# add_implicit_resolver on a subclass copies the resolver table first: SafeLoader is unchanged.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def load_yaml(text: str) -> Any:
    """The data of one YAML document; raises ``yaml.YAMLError`` like ``yaml.safe_load``."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (_Loader is a SafeLoader)
