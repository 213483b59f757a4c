"""Reading a configuration file's YAML without surprises.

Why a loader of our own (a SafeLoader subclass): PyYAML silently keeps the last of two
equal keys (`admins:` twice drops the first list), expands aliases (a few hundred
bytes can become millions of nodes) and composes nesting recursively (a 10,000-deep
list ends in a RecursionError traceback). Each is refused here with a line and column.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

MAX_DEPTH = 32
"""Far deeper than any configuration (rules nest about five levels)."""


class StrictLoader(yaml.SafeLoader):
    """Safe YAML without anchors, aliases, duplicate keys or deep nesting."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise ComposerError(
                None, None, "anchors and aliases (& and *) are not allowed", event.start_mark
            )
        if self._depth >= MAX_DEPTH:
            raise ComposerError(
                None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:  # an unhashable key: the base class reports it
                break
            if repeated:
                raise ConstructorError(
                    None, None, f"the key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str | bytes) -> Any:
    """The document's data; yaml.YAMLError (with `problem_mark`) when refused."""
    return yaml.load(text, Loader=StrictLoader)  # StrictLoader is a SafeLoader
