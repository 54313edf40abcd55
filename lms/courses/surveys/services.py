"""Writes for surveys: rules on programs, the invitations the rules create, answers.

Every function flushes and never commits; the caller (a page, the API, the periodic work)
commits once, and e-mails only after that.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import Membership
from lms.assessments.models import Survey
from lms.assessments.surveys import clean_answers
from lms.core.errors import Conflict, NotFound, ValidationFailed
from lms.core.mail import send_mail
from lms.core.models import utcnow
from lms.core.web import absolute_url, localized
from lms.courses.cohorts.models import COMPLETED, WITHDRAWN, Cohort, Enrollment, ModuleProgress
from lms.courses.programs.models import Module, Program
from lms.courses.sessions.models import PRESENT, Attendance, TrainingSession
from lms.courses.surveys import statements
from lms.courses.surveys.models import (
    AFTER_MODULE,
    AFTER_SESSION,
    BEFORE_START,
    TRIGGERS,
    SurveyInvitation,
    SurveyResponse,
    SurveyRule,
)
from lms.extensions import db
from lms.xapi.record import record

# An occasion older than this is not surveyed any more: a rule added today does not ask
# people about last year's sessions.
LATE_LIMIT = timedelta(days=30)
MAX_DAYS = 365


def add_rule(*, program: Program, survey_id: Any, trigger: Any, module_id: Any = None,
             days: Any = 0) -> SurveyRule:
    """Add a rule sending a survey to a program's learners.

    :param survey_id: a built-in template's or one of the organization's surveys.
    :param trigger: one of :data:`TRIGGERS`.
    :param module_id: a module of the program (required after a module; optional after a
        session: its sessions only).
    :param days: how many days after the occasion (0 to 365).
    :raise ValidationFailed: a value is missing or not valid (``fields`` names each).
    """
    fields: dict[str, Any] = {}
    survey = db.session.get(Survey, survey_id) if isinstance(survey_id, int) else None
    if survey is None or survey.organization_id not in (None, program.organization_id):
        fields["survey_id"] = _l("Choose a survey.")
    if trigger not in TRIGGERS:
        fields["trigger"] = _l("Choose when the survey is sent.")
    module = db.session.get(Module, module_id) if isinstance(module_id, int) else None
    if module_id not in (None, "") and (module is None or module.program_id != program.id):
        fields["module_id"] = _l("Choose a module of this program.")
    elif trigger == AFTER_MODULE and module is None:
        fields["module_id"] = _l("Choose the module whose completion sends the survey.")
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_DAYS:
        fields["days"] = _l("A number of days from 0 to %(max)d.", max=MAX_DAYS)
    if fields:
        raise ValidationFailed(_l("The rule cannot be added."), fields=fields)
    assert survey is not None and program.organization_id is not None
    rule = SurveyRule(organization_id=program.organization_id, program_id=program.id,
                      survey=survey, trigger=trigger,
                      module_id=module.id if module is not None and trigger != BEFORE_START
                      else None, days=days)
    db.session.add(rule)
    db.session.flush()
    return rule


def delete_rule(rule: SurveyRule) -> None:
    """Delete a rule; invitations not answered yet go with it, answers stay."""
    db.session.delete(rule)
    db.session.flush()


def _occasions(rule: SurveyRule, now: datetime) -> list[tuple[int, int, str, int | None,
                                                               int | None]]:
    """(membership id, cohort id, occasion, session id, module id) the rule asks about now."""
    e = Enrollment
    live = e.status != WITHDRAWN
    if rule.trigger == AFTER_SESSION:
        s = TrainingSession
        query = (select(e.membership_id, s.cohort_id, s.id, s.module_id)
                 .join(Attendance, Attendance.enrollment_id == e.id)
                 .join(s, s.id == Attendance.session_id)
                 .join(Module, Module.id == s.module_id)
                 .where(Module.program_id == rule.program_id, Attendance.status == PRESENT,
                        s.organization_id == rule.organization_id, live,
                        s.ends_at <= now - timedelta(days=rule.days),
                        s.ends_at >= now - timedelta(days=rule.days) - LATE_LIMIT)
                 .distinct())
        if rule.module_id is not None:
            query = query.where(s.module_id == rule.module_id)
        return [(m, c, f"session:{sid}", sid, mid) for m, c, sid, mid in db.session.execute(query)]
    if rule.trigger == AFTER_MODULE:
        p = ModuleProgress
        due = now - timedelta(days=rule.days)
        rows = db.session.execute(
            select(e.membership_id, e.cohort_id, e.id).join(p, p.enrollment_id == e.id)
            .join(Cohort, Cohort.id == e.cohort_id)
            .where(p.module_id == rule.module_id, p.state == COMPLETED, live,
                   Cohort.program_id == rule.program_id,
                   e.organization_id == rule.organization_id,
                   p.updated_at <= due, p.updated_at >= due - LATE_LIMIT))
        return [(m, c, f"enrollment:{eid}", None, rule.module_id) for m, c, eid in rows]
    starting = db.session.execute(
        select(e.membership_id, e.cohort_id).join(Cohort, Cohort.id == e.cohort_id)
        .where(Cohort.program_id == rule.program_id, live,
               e.organization_id == rule.organization_id,
               (Cohort.starts_on.is_(None)) | (Cohort.starts_on > now.date())))
    return [(m, c, f"cohort:{c}", None, None) for m, c in starting]


def apply_rules(*, now: datetime | None = None,
                organization_id: int | None = None) -> list[SurveyInvitation]:
    """Create the invitations every rule calls for now (each person once per rule and
    occasion; the unique constraint holds it under races too).

    :param organization_id: one organization's rules only; every organization's by default.
    :return: the invitations created.
    """
    now = now or utcnow()
    rules = select(SurveyRule).order_by(SurveyRule.id)
    if organization_id is not None:
        rules = rules.where(SurveyRule.organization_id == organization_id)
    created = []
    for rule in db.session.scalars(rules).all():
        taken = {(m, o) for m, o in db.session.execute(
            select(SurveyInvitation.membership_id, SurveyInvitation.occasion)
            .where(SurveyInvitation.rule_id == rule.id))}
        for membership_id, cohort_id, occasion, session_id, module_id in _occasions(rule, now):
            if (membership_id, occasion) in taken:
                continue
            taken.add((membership_id, occasion))
            invitation = SurveyInvitation(
                organization_id=rule.organization_id, rule_id=rule.id,
                survey_id=rule.survey_id, membership_id=membership_id, cohort_id=cohort_id,
                occasion=occasion, session_id=session_id, module_id=module_id, created_at=now)
            db.session.add(invitation)
            created.append(invitation)
    db.session.flush()
    return created


def answer(*, invitation: SurveyInvitation, raw: dict[str, Any]) -> SurveyResponse:
    """Record a person's answers to the survey they were invited to, and its statement.

    :param raw: item key → value or list of values, as sent.
    :raise Conflict: the invitation is already answered.
    :raise ValidationFailed: an answer is missing or not valid (``fields`` names each item).
    """
    if invitation.answered_at is not None:
        raise Conflict(_l("You have already answered this survey. Thank you!"))
    survey = invitation.survey
    answers = clean_answers(survey.items, raw)
    now = utcnow()
    cohort = invitation.cohort
    response = SurveyResponse(
        organization_id=invitation.organization_id, survey_id=survey.id,
        program_id=cohort.program_id, cohort_id=cohort.id, module_id=invitation.module_id,
        membership_id=None if survey.anonymous else invitation.membership_id,
        answers=answers, answered_on=now.date())
    db.session.add(response)
    invitation.answered_at = now
    record([statements.answered(invitation, answers)],
           organization_id=invitation.organization_id)
    db.session.flush()
    return response


def invitation_for(membership: Membership, invitation_id: Any) -> SurveyInvitation:
    """The person's own invitation ``invitation_id``.

    :raise NotFound: there is none (or it is somebody else's).
    """
    invitation = db.session.get(SurveyInvitation, invitation_id) \
        if isinstance(invitation_id, int) else None
    if invitation is None or invitation.membership_id != membership.id:
        raise NotFound(_l("No such survey."))
    return invitation


def notify(invitation: SurveyInvitation) -> bool:
    """E-mail the person that a survey waits for them; False when not sent. Call it after the
    commit that created the invitation.
    """
    membership = invitation.membership
    user = membership.user
    lang = user.locale or "fr"
    link = absolute_url(f"/o/{membership.organization.slug}/surveys/answer/{invitation.id}")
    with force_locale(lang):
        sent = send_mail(
            to=user.email,
            subject=gettext("A short survey: %(title)s",
                            title=localized(invitation.survey.title, lang)),
            body=gettext("Your opinion helps the training team. The survey “%(title)s” takes "
                         "a few minutes; answer it here: %(link)s",
                         title=localized(invitation.survey.title, lang), link=link))
    invitation.mailed_at = utcnow()
    return sent


def run_rules() -> int:
    """The periodic work: apply every rule, commit, then e-mail each new invitation."""
    created = apply_rules()
    db.session.commit()
    for invitation in created:
        notify(invitation)
    return len(created)
