"""Named signals courses sends, for higher packages to connect to in their ``init_app``.

Courses must not import the packages above it (certificates, coaching…); those connect their
receivers here at app creation — ``connect(receiver, weak=False)``, which blinker does once
however often the app is created — and are called in the same transaction as the event.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with the :class:`~lms.courses.cohorts.models.Enrollment` that has just become completed
#: (status and completed_at set, flushed), e.g. to issue its certificate.
enrollment_completed = _signals.signal("enrollment-completed")

#: Sent with the :class:`~lms.courses.programs.models.Module` about to be deleted, for its
#: confirmation page. A receiver returns a sentence saying what deleting it erases in its own
#: package (the database cascades those rows), or None when nothing.
module_deletion = _signals.signal("module-deletion")
