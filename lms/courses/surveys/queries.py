"""Reads for surveys: a person's open invitations, a program's rules, results per group."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import Membership
from lms.assessments.models import FOLLOWUP, Survey
from lms.assessments.surveys import Results, add_up, min_answers
from lms.courses.cohorts.models import Cohort
from lms.courses.programs.models import Program
from lms.courses.surveys.models import SurveyInvitation, SurveyResponse, SurveyRule
from lms.extensions import db


def open_invitations(membership: Membership) -> list[SurveyInvitation]:
    """The surveys waiting for the person's answer, oldest first (with what the dashboard
    card shows of each, loaded in the same query).
    """
    i = SurveyInvitation
    return list(db.session.scalars(select(i).options(
        joinedload(i.survey), joinedload(i.cohort), joinedload(i.module)).where(
        SurveyInvitation.membership_id == membership.id,
        SurveyInvitation.answered_at.is_(None)).order_by(SurveyInvitation.created_at,
                                                         SurveyInvitation.id)))


def rules(program: Program) -> list[SurveyRule]:
    """The program's survey rules, oldest first."""
    return list(db.session.scalars(select(SurveyRule).where(
        SurveyRule.program_id == program.id).order_by(SurveyRule.id)))


def results(survey: Survey, *, organization_id: int, program_id: int | None = None,
            cohort_id: int | None = None, minimum: int | None = None) -> Results:
    """The survey's results in the organization, for one program or cohort if given; nothing
    item by item below the minimum number of answers.
    """
    r = SurveyResponse
    query = select(r.answers).where(r.survey_id == survey.id, r.organization_id == organization_id)
    if program_id is not None:
        query = query.where(r.program_id == program_id)
    if cohort_id is not None:
        query = query.where(r.cohort_id == cohort_id)
    answers = list(db.session.scalars(query.order_by(r.id)))
    return add_up(survey.items, answers, min_answers() if minimum is None else minimum)


@dataclass(frozen=True)
class Group:
    """The answers a survey got in one cohort, and how many were asked."""

    survey: Survey
    cohort: Cohort
    invited: int
    answered: int


def groups(organization_id: int) -> list[Group]:
    """Every survey sent in the organization, per cohort: invited and answered counts."""
    i = SurveyInvitation
    rows = db.session.execute(
        select(i.survey_id, i.cohort_id, func.count(), func.count(i.answered_at))
        .where(i.organization_id == organization_id)
        .group_by(i.survey_id, i.cohort_id)).all()
    surveys = {s.id: s for s in db.session.scalars(
        select(Survey).where(Survey.id.in_({r[0] for r in rows})))}
    cohorts = {c.id: c for c in db.session.scalars(
        select(Cohort).where(Cohort.id.in_({r[1] for r in rows})))}
    found = [Group(surveys[s], cohorts[c], invited, answered) for s, c, invited, answered in rows]
    return sorted(found, key=lambda g: (g.cohort.name, g.survey.kind, g.survey.id))


def followup_results(organization_id: int, *, cohort_id: int | None = None
                     ) -> list[tuple[Survey, Results]]:
    """The results of the follow-up (level 3) surveys answered in the organization (or one
    cohort): what people say they now do differently.
    """
    survey_ids = db.session.scalars(select(SurveyResponse.survey_id).where(
        SurveyResponse.organization_id == organization_id,
        *([SurveyResponse.cohort_id == cohort_id] if cohort_id is not None else []))
        .distinct())
    surveys = db.session.scalars(select(Survey).where(
        Survey.id.in_(list(survey_ids)), Survey.kind == FOLLOWUP).order_by(Survey.id))
    return [(s, results(s, organization_id=organization_id, cohort_id=cohort_id))
            for s in surveys]
