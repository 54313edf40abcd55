"""Loading the built-in content (catalogue, questionnaires, certificate templates).

Each domain module that ships content adds its loader to ``LOADERS`` (from its ``init_app``);
content is data, loaded by ``relais init`` and ``relais demo``, never seeded by migrations.
"""

from __future__ import annotations

from collections.abc import Callable

from lms.core.registry import Registry

# Each loader upserts its content and returns a one-line summary for the CLI.
LOADERS: Registry[Callable[[], str]] = Registry("content loaders")


def load_builtin_content() -> list[str]:
    """Run every content loader; returns their summaries."""
    return [loader() for loader in LOADERS]
