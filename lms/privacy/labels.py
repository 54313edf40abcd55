"""Readable names of the kinds of data, shared by the confirmation page and the export index."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ERASURE_LABELS = {
    "questionnaire_answers": _l("Skill questionnaire answers"),
    "quiz_answers": _l("Quiz answers"),
    "hand_ins": _l("Exercise hand-ins and their files"),
    "journal_entries": _l("AFEST journal entries"),
    "coaching_notes": _l("Coaching notes"),
    "action_items": _l("Coaching action items"),
    "consents": _l("Advocacy consents"),
    "api_tokens": _l("API tokens"),
    "enrollments": _l("Enrolments and progress (pseudonymised)"),
    "advocacy_events": _l("Advocacy events: figures kept, links to posts and their texts deleted"),
    "certificates_kept": _l("Certificates: program, dates and status, without the name"),
    "launch_credentials": _l("Package launch credentials"),
    "lrs_documents": _l("xAPI State and Agent Profile documents"),
    "statements_pseudonymised": _l("xAPI statements (pseudonymised)"),
}

EXPORT_LABELS = {
    "account": _l("Your account and memberships"),
    "charter": _l("Social-media charter versions you accepted, and your e-mail digest choice"),
    "skill_attempts": _l("Skill questionnaires: attempts, answers and levels"),
    "enrollments": _l("Enrolments, module progress, lessons viewed and quiz answers"),
    "hand_ins": _l("Exercise hand-ins and reviews (screenshots in the hand_ins folder)"),
    "attendance": _l("Attendance and session registrations"),
    "journal": _l("AFEST journal"),
    "coaching": _l("Coaching follow-ups, notes and action items"),
    "advocacy": _l("Advocacy events and consents"),
    "certificates": _l("Certificates (PDF in the certificates folder)"),
    "statements": _l("Your xAPI statements (JSON Lines)"),
}
