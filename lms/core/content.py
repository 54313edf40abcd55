"""Reading content files (catalogue, questionnaires, certificate templates) with precise errors.

Each content format keeps its own reader for its value types; the walking of YAML nodes, the
"line N:" messages and the error that carries them all are shared here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# A text in several languages: language code → text.
Text = Mapping[str, str]


@dataclass(frozen=True)
class OptionDef:
    """An answer option of a question (a quiz's or a questionnaire's), with its feedback."""

    key: str
    text: Text
    correct: bool = False
    feedback: Text | None = None


class ContentError(ValueError):
    """A content file breaks its format; ``errors`` lists every problem found, by line."""

    def __init__(self, errors: list[str], source: str = "", *, separator: str = "; ") -> None:
        self.errors = errors
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__(prefix + separator.join(errors))


class YamlReader:
    """Collects errors while reading values out of YAML nodes, naming each error's line.

    :param source: the file name put before each line number ("program.yaml line 4: …").
    """

    def __init__(self, source: str = "") -> None:
        self.source = source
        self.errors: list[str] = []

    def error(self, node: Node, message: str) -> None:
        """Record ``message`` at ``node``'s line."""
        prefix = f"{self.source} " if self.source else ""
        self.errors.append(f"{prefix}line {node.start_mark.line + 1}: {message}")

    def mapping(self, node: Node, what: str, required: Iterable[str],
                optional: Iterable[str] = ()) -> dict[str, Node] | None:
        """Return a mapping's value nodes by key, refusing unknown, repeated and missing keys."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{what} must be a mapping of keys to values")
            return None
        required = tuple(required)
        allowed = set(required) | set(optional)
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key not in allowed:
                self.error(key_node, f"unknown key {key!r} in {what} (allowed: "
                           f"{', '.join(sorted(allowed))})")
            elif key in out:
                self.error(key_node, f"duplicate key {key!r} in {what}")
            else:
                out[key] = value_node
        for key in required:
            if key not in out:
                self.error(node, f"{what} needs {key!r}")
        return out

    def sequence(self, node: Node | None, what: str) -> list[Node]:
        """Return a list's item nodes (none for a missing node)."""
        if node is None:
            return []
        if not isinstance(node, SequenceNode):
            self.error(node, f"{what} must be a list")
            return []
        return list(node.value)
