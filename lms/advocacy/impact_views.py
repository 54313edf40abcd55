"""Pages: the before/after impact report per cohort, and a learner's timeline."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.accounts import authz
from lms.accounts.models import Membership, Role
from lms.advocacy import impact, timeline
from lms.advocacy.kpis import monday
from lms.advocacy.views import KIND_LABELS, METRIC_LABELS, NETWORK_LABELS, _csv
from lms.core import charts
from lms.core.formatting import number
from lms.core.models import utcnow
from lms.core.replica import reads_from_replica
from lms.core.web import url_per_id
from lms.courses.cohorts import queries as cohort_queries

bp = authz.org_blueprint("advocacy_impact", __name__, template_folder="templates")

FIGURE_LABELS = {"events": _l("Actions"), **METRIC_LABELS}
BAND_LABELS = {0: _l("Not assessed"), 1: _l("Level 1 — Aware"),
               2: _l("Level 2 — Guided practitioner"), 3: _l("Level 3 — Autonomous"),
               4: _l("Level 4 — Advanced"), 5: _l("Level 5 — Ambassador")}
COHORTS_PER_PAGE = 10
SOURCE_LABELS = {"session": _l("first session"), "start_date": _l("cohort start date")}


def _num(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def impact_csv(reports: list[impact.CohortImpact]) -> Response:
    """One row per cohort and figure."""
    rows = []
    for r in reports:
        for f in impact.FIGURES:
            rows.append([r.cohort.id, r.cohort.name,
                         r.training.at.date().isoformat() if r.training else "",
                         r.training.source if r.training else "", r.weeks,
                         _num(r.days["after"], 1), r.consenting, r.active["before"],
                         r.active["after"], f, r.totals["before"][f], r.totals["after"][f],
                         _num(r.per_learner("before", f)), _num(r.per_learner("after", f)),
                         _num(r.change(f), 1)])
    return _csv("impact", [
        "cohort_id", "cohort", "training_date", "training_date_source", "weeks",
        "after_days", "learners_with_consent", "active_before", "active_after", "figure",
        "before", "after", "before_per_learner", "after_per_learner", "change_percent"], rows)


UNIT_LABELS = {"actions": _l("What the learners did"),
               "audience": _l("How their audience answered"),
               "results": _l("What the business got")}


def _charts(report: impact.CohortImpact) -> list[dict[str, Any]]:
    """Per unit (:data:`impact.UNITS`), the per-learner figures before and after on one shared
    scale, each drawing with its table.
    """
    out = []
    for unit, figures in impact.UNITS:
        labels = [str(FIGURE_LABELS[f]) for f in figures]
        series = [charts.Series(_("Before"), [report.per_learner("before", f) or 0.0
                                              for f in figures], colour="#8a94a6"),
                  charts.Series(_("After"), [report.per_learner("after", f) or 0.0
                                             for f in figures], colour=charts.PALETTE[0])]
        title = _("%(unit)s, per learner, before and after", unit=UNIT_LABELS[unit])
        desc = _("Bars per figure, before training in grey and after in blue, all on one "
                 "scale from 0 to the largest value; the table gives the figures.")
        svg = charts.bar_chart(labels, series, title=title, desc=desc,
                               chart_id=f"impact-{unit}", width=400, label_width=112,
                               fmt=lambda v: number(v, 2))
        table = charts.data_table(labels, series, caption=title, label_header=_("Figure"),
                                  fmt=lambda v: number(v, 2))
        out.append({"unit": unit, "title": UNIT_LABELS[unit],
                    "figure": charts.figure(svg, table)})
    return out


@bp.get("/advocacy/impact")
@authz.role_required(*authz.MANAGER_ROLES)
@reads_from_replica
def impact_report() -> Any:
    """Each cohort's activity in the N weeks before and after its training."""
    org = authz.current_organization()
    weeks = impact.clamp_weeks(request.args.get("weeks", impact.DEFAULT_WEEKS))
    cohorts = cohort_queries.cohorts(org.id)
    selected_id = request.args.get("cohort", type=int)
    if selected_id is not None and selected_id not in {c.id for c in cohorts}:
        abort(404)
    export = request.args.get("export")
    if export == "cohorts":
        return impact_csv(impact.organization_impact(cohorts, weeks=weeks))
    # The overview is paged (each cohort's report reads its events); the cohort shown in
    # detail is the one asked for, else the latest whose weeks after training have begun.
    pages = max(1, -(-len(cohorts) // COHORTS_PER_PAGE))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)
    shown = cohorts[(page - 1) * COHORTS_PER_PAGE:page * COHORTS_PER_PAGE]
    chosen = next((c for c in cohorts if c.id == selected_id), None) or impact.default_cohort(
        cohorts)
    reports = impact.organization_impact(
        shown + ([chosen] if chosen is not None and chosen not in shown else []), weeks=weeks,
        detailed={chosen.id} if chosen is not None else set())
    selected = next((r for r in reports if chosen is not None and r.cohort.id == chosen.id),
                    None)
    reports = [r for r in reports if r.cohort in shown]
    if export in ("learners", "skills"):
        if selected is None:
            abort(404)
        if export == "learners":
            return _csv(f"impact-cohort-{selected.cohort.id}-learners",
                        ["learner", "skill_band"] + [f"{w}_{f}" for w in impact.WINDOWS
                                                     for f in impact.FIGURES],
                        [[r.name, r.band] + [getattr(r, w)[f] for w in impact.WINDOWS
                                             for f in impact.FIGURES] for r in selected.rows])
        keys = [f"{w}_{f}" for w in impact.WINDOWS for f in ("events", "shares", "clicks")]
        return _csv(f"impact-cohort-{selected.cohort.id}-skills",
                    ["skill_band", "learners", "active_after"] + [k + "_per_learner"
                                                                  for k in keys],
                    [[b["band"], b["learners"], b["active_after"]] + [_num(b[k]) for k in keys]
                     for b in selected.bands])
    return render_template(
        "advocacy/impact.html", weeks=weeks, reports=reports, selected=selected,
        charts=_charts(selected) if selected else [], figures=impact.FIGURES,
        figure_labels=FIGURE_LABELS, band_labels=BAND_LABELS, source_labels=SOURCE_LABELS,
        max_weeks=impact.MAX_WEEKS, page=page, pages=pages,
        # The learners' links: one url_for for the 400 rows of the cohort in detail.
        timeline_url=url_per_id("advocacy_impact.learner_timeline", "membership_id"))


# -- the learner's timeline ----------------------------------------------------------------------

def _day(name: str) -> date | None:
    raw = request.args.get(name) or ""
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _timeline_page(membership: Membership, *, own: bool) -> Any:
    org = authz.current_organization()
    since_day, until_day = _day("since"), _day("until")
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 100_000))
    since = datetime.combine(since_day, time(), tzinfo=utcnow().tzinfo) if since_day else None
    until = (datetime.combine(until_day, time(), tzinfo=utcnow().tzinfo) + timedelta(days=1)
             if until_day else None)
    result = timeline.learner_timeline(org.id, membership, since=since, until=until, page=page)
    # Newest week first, as the entries come; each week's entries keep their order.
    weeks: list[tuple[date, list[timeline.Entry]]] = []
    for entry in result.entries:
        week = monday(entry.at.date())
        if not weeks or weeks[-1][0] != week:
            weeks.append((week, []))
        weeks[-1][1].append(entry)
    return render_template(
        "advocacy/timeline.html", member=membership, own=own, result=result, weeks=weeks,
        since=since_day, until=until_day, network_labels=NETWORK_LABELS,
        kind_labels=KIND_LABELS, metric_labels=METRIC_LABELS)


@bp.get("/timeline")
def my_timeline() -> Any:
    """The learner's own progress and advocacy activity on one timeline."""
    from lms.accounts.authz import current_membership

    return _timeline_page(current_membership(), own=True)


@bp.app_context_processor
def _timeline_links() -> dict[str, Any]:
    # Lets the cohort page link each learner's timeline without courses importing advocacy.
    return {"learner_timeline_url": lambda membership: url_for(
        "advocacy_impact.learner_timeline", membership_id=membership.id)}


@bp.get("/learners/<int:membership_id>/timeline")
@authz.role_required(*authz.MANAGER_ROLES)
def learner_timeline(membership_id: int) -> Any:
    """A learner's timeline, for their trainers and HR (activity only with consent)."""
    membership = authz.get_in_org_or_404(Membership, membership_id)
    if membership.role != Role.LEARNER:
        abort(404)
    return _timeline_page(membership, own=membership.user_id == current_user.id)

