"""Results to share: one page per campaign, cohort or period for the internal newsletter or the
management meeting — the headline figures, the content shared most, the people who agreed to
be named, and what changed after the training (before/after activity and the follow-up
survey).

Built from what the other packages already measure (advocacy KPIs and the impact report,
enrolments, survey results): nothing is counted twice a different way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms.accounts.models import Membership, Organization, Role, User
from lms.advocacy import impact, kpis
from lms.advocacy.models import Campaign, ContentItem
from lms.assessments.models import Survey
from lms.assessments.surveys import Results, csv_rows
from lms.core import pdf
from lms.core.errors import ValidationFailed
from lms.core.models import utcnow
from lms.core.web import localized
from lms.courses.cohorts.models import COMPLETED, WITHDRAWN, Cohort, Enrollment
from lms.courses.surveys.queries import followup_results
from lms.extensions import db
from lms.xapi import builders
from lms.xapi.record import record

DEFAULT_DAYS = 90
MAX_NAMED = 12
MAX_CONTENT = 5
MAX_COHORTS = 4
# The figures of the first line, in order; each is (key, label).
HEADLINE = (("people", _l("People active")), ("shares", _l("Posts and shares")),
            ("clicks", _l("Clicks")), ("signups", _l("Sign-ups")), ("hires", _l("Hires")))


@dataclass
class Sheet:
    """What the page and the PDF show for one scope."""

    organization: Organization
    kind: str  # "cohort", "campaign" or "period"
    ident: str  # the cohort's or campaign's id, or the period's first and last days
    title: str
    since: datetime | None
    until: datetime | None
    totals: dict[str, int]
    completion: dict[str, int] | None
    activation: tuple[float, int] | None
    campaign_progress: dict[str, Any] | None
    best_content: list[dict[str, Any]]
    named: list[str]
    impacts: list[impact.CohortImpact]
    followups: list[tuple[Survey, Results]] = field(default_factory=list)
    generated: datetime = field(default_factory=utcnow)

    @property
    def last_day(self) -> date | None:
        """The last day the sheet covers, when it covers a period."""
        return (self.until - timedelta(days=1)).date() if self.until else None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def period(since: date | None, until: date | None, *, today: date) -> tuple[datetime, datetime]:
    """``[since, until]`` as a half-open UTC range; the last 90 days by default.

    :raise ValidationFailed: the period ends before it starts.
    """
    end = until or today
    start = since or end - timedelta(days=DEFAULT_DAYS)
    if start > end:
        raise ValidationFailed(_l("The period ends before it starts."),
                               fields={"until": _l("Choose a day after the start.")})
    return _day_start(start), _day_start(end + timedelta(days=1))


def _best_content(scope: kpis.Scope) -> list[dict[str, Any]]:
    per_item = kpis.scope_shares_per_content_item(scope)
    top = sorted(per_item.items(), key=lambda kv: (-kv[1]["shares"], -kv[1]["clicks"], kv[0]))
    items = {c.id: c for c in db.session.scalars(select(ContentItem).where(
        ContentItem.id.in_([k for k, _v in top[:MAX_CONTENT]])))}
    return [{"title": items[k].title, "url": items[k].url, **v}
            for k, v in top[:MAX_CONTENT] if k in items and v["shares"]]


def _named(scope: kpis.Scope, extra_user_ids: set[int]) -> list[str]:
    """Names of the scope's contributors (by points) and of ``extra_user_ids`` (a cohort's
    graduates) who agreed to be named; nobody else.
    """
    ranked = [row["user_id"] for row in kpis.scope_leaderboard(scope, limit=200)]
    order = {uid: i for i, uid in enumerate(ranked)}
    candidates = set(ranked) | extra_user_ids
    if not candidates:
        return []
    people = list(db.session.execute(select(User.id, User.display_name, User.name_key).join(
        Membership, Membership.user_id == User.id).where(
        User.id.in_(candidates), User.named_in_results.is_(True),
        Membership.organization_id == scope.organization_id)))
    people.sort(key=lambda p: (order.get(p.id, len(order)), p.name_key))
    return [p.display_name for p in people[:MAX_NAMED]]


def _completion(where: list[Any]) -> dict[str, int]:
    e = Enrollment
    row = db.session.execute(select(
        func.count(), func.count(e.completed_at).filter(e.status == COMPLETED))
        .where(e.status != WITHDRAWN, *where)).one()
    return {"enrolled": int(row[0]), "completed": int(row[1])}


def _trained_cohorts(organization_id: int) -> list[Cohort]:
    cohorts = list(db.session.scalars(select(Cohort).where(
        Cohort.organization_id == organization_id).order_by(Cohort.id.desc())))
    dates = impact.training_dates(cohorts)
    trained = [c for c in cohorts if dates[c.id] is not None]
    return trained[:MAX_COHORTS]


def for_cohort(cohort: Cohort, *, now: datetime | None = None) -> Sheet:
    """The sheet of one cohort: its whole activity, completion, impact and follow-up."""
    now = now or utcnow()
    org = db.session.get(Organization, cohort.organization_id)
    assert org is not None
    scope = kpis.Scope(cohort.organization_id, cohort_id=cohort.id)
    graduates = set(db.session.scalars(select(Membership.user_id).join(
        Enrollment, Enrollment.membership_id == Membership.id).where(
        Enrollment.cohort_id == cohort.id, Enrollment.status == COMPLETED)))
    report = impact.cohort_impact(cohort, now=now)
    since = report.training.at - timedelta(weeks=report.weeks) if report.training else None
    return Sheet(
        organization=org, kind="cohort", ident=str(cohort.id), title=cohort.name,
        since=since, until=None,
        totals=kpis.scope_totals(scope),
        completion=_completion([Enrollment.cohort_id == cohort.id]),
        activation=kpis.scope_activation(scope, since=since or now - timedelta(days=90)),
        campaign_progress=None, best_content=_best_content(scope),
        named=_named(scope, graduates), impacts=[report],
        followups=followup_results(cohort.organization_id, cohort_id=cohort.id),
        generated=now)


def for_campaign(campaign: Campaign, *, now: datetime | None = None) -> Sheet:
    """The sheet of one campaign: its activity, progress to target, best content."""
    now = now or utcnow()
    org = db.session.get(Organization, campaign.organization_id)
    assert org is not None
    scope = kpis.Scope(campaign.organization_id, campaign_id=campaign.id)
    progress = kpis.campaigns_progress(campaign.organization_id, [campaign])[campaign.id]
    return Sheet(
        organization=org, kind="campaign", ident=str(campaign.id), title=campaign.title,
        since=None, until=None,
        totals=kpis.scope_totals(scope), completion=None, activation=None,
        campaign_progress={**progress, "metric": campaign.target_metric or "shares",
                           "target": campaign.target_value, "deadline": campaign.deadline},
        best_content=_best_content(scope), named=_named(scope, set()),
        impacts=impact.organization_impact(_trained_cohorts(org.id), now=now),
        followups=followup_results(org.id), generated=now)


def for_period(organization: Organization, since: date | None, until: date | None, *,
               now: datetime | None = None) -> Sheet:
    """The sheet of a period (the last 90 days by default) across the organization.

    :raise ValidationFailed: the period ends before it starts.
    """
    now = now or utcnow()
    start, end = period(since, until, today=now.date())
    scope = kpis.Scope(organization.id, since=start, until=end)
    learners = db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.organization_id == organization.id, Membership.role == Role.LEARNER)) or 0
    completion = _completion([Enrollment.organization_id == organization.id])
    completion["completed_in_period"] = db.session.scalar(select(func.count()).where(
        Enrollment.organization_id == organization.id, Enrollment.status == COMPLETED,
        Enrollment.completed_at >= start, Enrollment.completed_at < end)) or 0
    active, _total = kpis.scope_activation(scope, since=start)
    return Sheet(
        organization=organization, kind="period",
        ident=f"{start.date().isoformat()}_{(end - timedelta(days=1)).date().isoformat()}",
        title=organization.name, since=start,
        until=end, totals=kpis.scope_totals(scope), completion=completion,
        activation=(active, int(learners)), campaign_progress=None,
        best_content=_best_content(scope), named=_named(scope, set()),
        impacts=impact.organization_impact(_trained_cohorts(organization.id), now=now),
        followups=followup_results(organization.id), generated=now)


def as_dict(sheet: Sheet) -> dict[str, Any]:
    """The sheet as JSON-ready data (the API's)."""
    return {
        "kind": sheet.kind, "title": sheet.title,
        "since": sheet.since.isoformat() if sheet.since else None,
        "until": sheet.until.isoformat() if sheet.until else None,
        "totals": sheet.totals, "completion": sheet.completion,
        "activation_rate": round(sheet.activation[0], 3) if sheet.activation else None,
        "campaign_progress": ({k: (v.isoformat() if isinstance(v, date) else v)
                               for k, v in sheet.campaign_progress.items()}
                              if sheet.campaign_progress else None),
        "best_content": sheet.best_content, "named": sheet.named,
        "impact": [impact.as_dict(r) for r in sheet.impacts],
        "followup": [{"survey": s.key, "title": s.title, "answers": r.answers,
                      "shown": r.shown, "minimum": r.minimum,
                      "rows": csv_rows(r, "en") if r.shown else []}
                     for s, r in sheet.followups],
    }


CSS = f"""
@page {{ size: A4; margin: 12mm 14mm;
  @bottom-right {{ content: string(generated); font: 7.5pt {pdf.SANS}; color: #5b6670; }} }}
body {{ font: 9pt {pdf.SANS}; color: #1d2733; margin: 0; }}
header {{ border-bottom: 3px double #2d5b8a; padding-bottom: 2mm; margin-bottom: 3mm; }}
.issuer {{ font-size: 9pt; letter-spacing: 0.08em; text-transform: uppercase; color: #2d5b8a;
  margin: 0; }}
h1 {{ font: bold 18pt {pdf.SERIF}; margin: 1mm 0 0; }}
.subtitle {{ color: #5b6670; margin: 0; }}
.generated {{ string-set: generated content(); font-size: 0; }}
h2 {{ font-size: 10.5pt; color: #2d5b8a; margin: 3mm 0 1mm; }}
.figures {{ display: flex; gap: 2mm; margin: 0 0 2mm; }}
.figure {{ flex: 1; border: 0.6pt solid #c9d3dd; border-radius: 2mm; padding: 2mm;
  text-align: center; }}
.figure .value {{ display: block; font: bold 15pt {pdf.SERIF}; color: #1d2733; }}
.figure .label {{ font-size: 7.5pt; color: #5b6670; }}
.columns {{ display: flex; gap: 6mm; }}
.columns section {{ flex: 1; }}
table {{ width: 100%; border-collapse: collapse; }}
th, td {{ border-bottom: 0.5pt solid #c9d3dd; padding: 0.8mm 1mm; text-align: left;
  vertical-align: top; }}
th {{ font-size: 7.5pt; color: #5b6670; font-weight: normal; }}
td.n, th.n {{ text-align: right; }}
ul {{ margin: 0; padding-left: 4mm; }}
.muted {{ color: #5b6670; font-size: 8pt; }}
.quote {{ font-style: italic; }}
"""


def record_download(sheet: Sheet, user: User) -> None:
    """Record that ``user`` downloaded the sheet's PDF (``downloaded`` on
    ``…/activities/results/<kind>-<ident>``, named by the sheet's title).
    """
    document = builders.activity("results", f"{sheet.kind}-{sheet.ident}", {"und": sheet.title})
    record([builders.statement(builders.agent_for_user(user), "downloaded", document,
                               context=builders.context(organization=sheet.organization.slug))],
           organization_id=sheet.organization.id)


def render_html(sheet: Sheet) -> str:
    """The sheet as a one-page HTML document, in the current language."""
    template = current_app.jinja_env.get_template("reports/results_pdf.html")
    return template.render(sheet=sheet, t=localized, headline=HEADLINE)


def render_pdf(sheet: Sheet) -> bytes:
    """The sheet as a one-page PDF (A4)."""
    return pdf.html_to_pdf(render_html(sheet), CSS)
