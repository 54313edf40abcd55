"""Skills and behaviour together: what a learner's real activity says about four competencies,
and recertification when a certified person's activity falls below the organization's rule.

Signals, over the last :data:`WEEKS` weeks (consenting people only; evidence, never a level):

- C3 writing posts: their own posts (kind ``post``);
- C5 conversation: their comments and replies (kind ``comment``);
- C4 network: the audience reached (impressions) against the weeks before — the sources give
  no follower counts, so reach is the measure of a growing network;
- C8 measuring: the distinct campaigns (each with its measured target) they took part in.

A count is "regular" from one a month (``WEEKS / 4``), "occasional" from one, else "none";
reach is "regular" when it grew by :data:`GROWTH` or more, "occasional" when there was any.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import case, func, select

from lms.accounts.models import Membership, Organization, Role, User
from lms.advocacy.models import AdvocacyEvent
from lms.assessments.recommendations import ActivitySignal, ActivitySource
from lms.certificates.models import Certificate, CertificateSettings
from lms.certificates.recertification import (
    current_enrollment,
    enrol_in_refresher,
    refresher_cohort,
)
from lms.core.mail import send_mail
from lms.core.models import utcnow
from lms.core.web import localized
from lms.courses.cohorts.models import Enrollment
from lms.courses.programs.models import Program
from lms.extensions import db
from lms.impact import comparison, parrot
from lms.impact.models import ImpactSettings

WEEKS = 12
GROWTH = 0.10
CODES = ("C3", "C4", "C5", "C8")


@dataclass(frozen=True)
class Activity:
    """One person's counts over the signal weeks (``reach_before``: the weeks before them)."""

    posts: int = 0
    comments: int = 0
    campaigns: int = 0
    reach: int = 0
    reach_before: int = 0


def activity_counts(organization_id: int, user_ids: list[int], *, weeks: int = WEEKS,
                    now: datetime | None = None) -> dict[int, Activity]:
    """Per person, the counts behind the signals: one grouped query."""
    now = now or utcnow()
    e = AdvocacyEvent
    split = now - timedelta(weeks=weeks)
    recent = e.occurred_at >= split
    rows = db.session.execute(
        select(e.user_id,
               func.sum(case((recent & (e.kind == "post"), 1), else_=0)),
               func.sum(case((recent & (e.kind == "comment"), 1), else_=0)),
               func.count(func.distinct(case((recent, e.campaign_id), else_=None))),
               func.sum(case((recent, e.impressions), else_=0)),
               func.sum(case((recent, 0), else_=e.impressions)))
        .where(e.organization_id == organization_id, e.user_id.in_(user_ids),
               e.occurred_at >= split - timedelta(weeks=weeks), e.occurred_at < now)
        .group_by(e.user_id))
    return {row[0]: Activity(*(int(v or 0) for v in row[1:])) for row in rows}


def _count_strength(count: int, weeks: int) -> str:
    if count >= max(1, weeks // 4):
        return "regular"
    return "occasional" if count else "none"


def signals_of(activity: Activity, weeks: int = WEEKS) -> dict[str, ActivitySignal]:
    """The four competencies' signals from one person's counts."""
    a = activity
    if a.reach and a.reach >= a.reach_before * (1 + GROWTH) and a.reach_before:
        reach = "regular"
        reach_words = _("audience reached up %(pct)d %% on the %(n)d weeks before",
                        pct=round(100 * (a.reach - a.reach_before) / a.reach_before), n=weeks)
    elif a.reach:
        reach = "occasional" if a.reach_before else "regular"
        reach_words = ngettext("%(num)d view of their posts", "%(num)d views of their posts",
                               a.reach)
    else:
        reach, reach_words = "none", _("no audience reached")
    return {
        "C3": ActivitySignal("C3", _count_strength(a.posts, weeks), ngettext(
            "%(num)d own post", "%(num)d own posts", a.posts)),
        "C4": ActivitySignal("C4", reach, reach_words),
        "C5": ActivitySignal("C5", _count_strength(a.comments, weeks), ngettext(
            "%(num)d comment or reply", "%(num)d comments or replies", a.comments)),
        "C8": ActivitySignal("C8", "regular" if a.campaigns >= 2 else
                             "occasional" if a.campaigns else "none", ngettext(
            "%(num)d measured campaign", "%(num)d measured campaigns", a.campaigns)),
    }


def signals(organization_id: int, user_ids: list[int]) -> dict[int, dict[str, ActivitySignal]]:
    """Signals per consenting person (others have none: nothing of theirs is counted)."""
    consenting = comparison.consenting_learners(organization_id)  # once, not once per person
    counted = [u for u in user_ids if u in consenting]
    counts = activity_counts(organization_id, counted) if counted else {}
    return {u: signals_of(counts.get(u, Activity())) for u in counted}


def remarks(organization_id: int, user_id: int) -> list[str]:
    """For a learner's own results: own words in their shares and posts near-identical to
    colleagues', before and after the training of their latest cohort.
    """
    cohort = parrot.latest_cohort(organization_id, user_id)
    if cohort is None:
        return []
    mine = parrot.cohort_parrot(cohort).of(user_id)
    out = []
    for window, label in (("before", _("before the training")),
                          ("after", _("since the training"))):
        tally = mine[window]
        if tally.own_words_percent is not None:
            out.append(_("%(pct)d %% of your shares add your own words (%(when)s).",
                         pct=tally.own_words_percent, when=label))
        if tally.texts:
            out.append(ngettext("%(num)d post near-identical to colleagues' (%(when)s).",
                                "%(num)d posts near-identical to colleagues' (%(when)s).",
                                tally.near_identical, when=label))
    return out


SOURCE = ActivitySource(signals=signals, remarks=remarks)


# -- recertification by behaviour --------------------------------------------------------------

def quiet_certified(organization: Organization, *, now: datetime | None = None
                    ) -> list[tuple[Certificate, Membership]]:
    """Valid certificates of learners with fewer advocacy actions than the organization's rule
    over its weeks (certificates issued within those weeks are left alone: too soon to tell),
    not yet sent to a refresher.
    """
    settings = db.session.get(ImpactSettings, organization.id)
    if settings is None or settings.recertify_below_actions is None:
        return []
    now = now or utcnow()
    since = now - timedelta(weeks=settings.recertify_weeks)
    e = AdvocacyEvent
    actions = (select(func.count(e.id)).where(
        e.organization_id == organization.id, e.user_id == Certificate.user_id,
        e.occurred_at >= since, e.kind != "summary").scalar_subquery())
    renewed = select(Certificate.renews_id).where(Certificate.renews_id.is_not(None))
    rows = db.session.execute(
        select(Certificate, Membership)
        .join(Membership, (Membership.user_id == Certificate.user_id)
              & (Membership.organization_id == organization.id))
        .where(Certificate.organization_id == organization.id,
               Certificate.revoked_at.is_(None), Certificate.refresher_enrollment_id.is_(None),
               (Certificate.valid_until.is_(None)) | (Certificate.valid_until > now),
               Certificate.issued_at < since, Certificate.id.not_in(renewed),
               Membership.role == Role.LEARNER, Membership.active.is_(True),
               actions < settings.recertify_below_actions)
        .order_by(Certificate.id)).all()
    return [(c, m) for c, m in rows]


def recertify_quiet(organization: Organization, *, now: datetime | None = None
                    ) -> list[tuple[User, Enrollment]]:
    """Enrol in their program's refresher the certified learners :func:`quiet_certified`
    finds (once per certificate). Returns who was enrolled, to tell them after the commit.

    Flushes, never commits.
    """
    now = now or utcnow()
    enrolled: list[tuple[User, Enrollment]] = []
    for certificate, membership in quiet_certified(organization, now=now):
        program = (db.session.get(Program, certificate.program_id)
                   if certificate.program_id is not None else None)
        if program is None:
            continue
        settings = db.session.scalar(select(CertificateSettings).where(
            CertificateSettings.organization_id == organization.id,
            CertificateSettings.program_id == program.id)) or CertificateSettings(
            organization_id=organization.id, program_id=program.id)
        cohort, _name = refresher_cohort(settings, program, now, create=True,
                                         trainers_of=certificate.cohort_id)
        if cohort is None:
            continue
        existing = current_enrollment(cohort, membership)
        if existing is not None:
            certificate.refresher_enrollment_id = existing.id
            continue
        enrollment = enrol_in_refresher(certificate, cohort, membership)
        if enrollment is not None:
            enrolled.append((membership.user, enrollment))
    db.session.flush()
    return enrolled


def notify_re_enrolled(user: User, enrollment: Enrollment, weeks: int) -> bool:
    """E-mail a person that their activity brought them back to a refresher; False when not
    sent. Call it after the commit.
    """
    lang = user.locale or "fr"
    program = localized(enrollment.cohort.program.title, lang)
    with force_locale(lang):
        body = _("Hello %(name)s,\n\nYour certificate for “%(program)s” is still valid. Your "
                 "organization asks certified people to keep sharing: with little activity on "
                 "social networks over the last %(weeks)d weeks, you are now enrolled in the "
                 "refresher cohort “%(cohort)s”. It is short, and it helps you start again.",
                 name=user.display_name, program=program, weeks=weeks,
                 cohort=enrollment.cohort.name)
        return send_mail(to=user.email, subject=_("Your refresher training"), body=body)


def recertify_quiet_all() -> int:
    """Periodic task: :func:`recertify_quiet` every organization with a rule, commit, then tell
    each person enrolled. Returns how many were enrolled.
    """
    orgs = db.session.scalars(select(Organization).where(Organization.id.in_(
        select(ImpactSettings.organization_id).where(
            ImpactSettings.recertify_below_actions.is_not(None))))).all()
    told: list[tuple[User, Enrollment, int]] = []
    for org in orgs:
        settings = db.session.get(ImpactSettings, org.id)
        weeks = settings.recertify_weeks if settings is not None else WEEKS
        told.extend((u, e, weeks) for u, e in recertify_quiet(org))
    db.session.commit()
    for user, enrollment, weeks in told:
        notify_re_enrolled(user, enrollment, weeks)
    return len(told)
