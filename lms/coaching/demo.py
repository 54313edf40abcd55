"""Demo coaching follow-ups (being written)."""

from __future__ import annotations

from typing import Any


def demo_step(people: Any) -> None:
    """Follow-ups in the pilot cohort."""
