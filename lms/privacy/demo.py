"""Demo: Maison Lumière's retention periods, as its data-protection officer set them.

The instance's defaults follow the CNIL's guidance (a year for logs, three years for training
records); the company keeps hand-ins a year only, so the settings page, the register of
processing activities and the audit log all show a choice of its own.
"""

from __future__ import annotations

from typing import Any

from lms.privacy import retention

# Hand-ins: a year is enough to settle any review; the rest stays at the defaults.
HAND_INS_MONTHS = 12


def demo_step(people: Any) -> None:
    """Set the demo organization's retention periods (recorded in its audit log)."""
    retention.save_settings(organization=people.organization, by=people.admin.user,
                            values={**retention.periods(people.organization),
                                    "hand_ins": HAND_INS_MONTHS})
