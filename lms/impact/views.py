"""Pages: a cohort against colleagues not yet trained, formats compared, ROI and its PDF; the
organization's outcome values and costs.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import Length

from lms.accounts.authz import MANAGER_ROLES, current_organization, org_blueprint, role_required
from lms.accounts.models import Role
from lms.advocacy.impact import clamp_weeks
from lms.core import charts
from lms.core.database import collector_paused
from lms.core.replica import reads_from_replica
from lms.core.web import commit_or_mark, get_or_404
from lms.courses.cohorts.models import Cohort
from lms.impact import comparison, parrot, pdf, roi, services, wording
from lms.impact.models import OUTCOMES

bp = org_blueprint("impact", __name__, template_folder="templates")


def _cohort(cohort_id: int) -> Cohort:
    org = current_organization()
    return get_or_404(Cohort, cohort_id, outside=lambda c: c.organization_id != org.id)


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.args.get(name, default)
    return value if value in allowed else default


def event_figure(result: comparison.Comparison) -> Any:
    """The event study as a line chart with its table (weeks relative to the training)."""
    if not result.event_study:
        return None
    labels = [f"{k:+d}" if k else "0" for k, _t, _c in result.event_study]
    series = [charts.Series(_("Trained (this cohort)"), [t for _k, t, _c in result.event_study]),
              charts.Series(_("Not yet trained"), [c for _k, _t, c in result.event_study])]
    what = wording.METRIC_LABELS[result.event_metric]
    title = _("%(metric)s per person, by week relative to the training", metric=what)
    desc = _("Two lines over the weeks before (negative) and after (0 and up) the training "
             "date: the cohort's mean per person and the same calendar weeks for colleagues "
             "not yet trained. The table gives the figures.")
    svg = charts.line_chart(labels, series, title=title, desc=desc, chart_id="event-study")
    table = charts.data_table(labels, series, caption=title,
                              label_header=_("Week from the training"),
                              fmt=wording.amount)
    return charts.figure(svg, table)


@bp.get("/impact/cohorts/<int:cohort_id>")
@role_required(*MANAGER_ROLES)
# Tens of thousands of small objects without cycles (each person's totals, the bootstrap's
# draws): the collections they triggered, each scanning the whole heap, took a third of the
# page's time at 10,000 learners (docs/performance.md).
@collector_paused()
@reads_from_replica
def cohort_page(cohort_id: int) -> Any:
    """A cohort against colleagues not yet trained, formats compared, and its ROI."""
    cohort = _cohort(cohort_id)
    weeks = clamp_weeks(request.args.get("weeks", 4))
    # Read once, shared by the estimate, the formats compared and the ROI.
    roster = comparison.Roster.of(cohort.organization_id)
    result = comparison.compare_cohort(
        cohort, weeks=weeks, event_metric=_choice("metric", comparison.METRICS + (
            comparison.VALUE,), "shares"), roster=roster)
    fmt = _choice("format", comparison.FORMATS, "coached")
    scope = _choice("scope", comparison.SCOPES, "cohort")
    formats = comparison.compare_formats(cohort, fmt, scope=scope, weeks=weeks,
                                         roster=roster) if result.held else None
    settings = roster.settings
    cohort_roi = roi.cohort_roi(result, roster) if result.held else None
    copies = parrot.cohort_parrot(cohort, weeks=weeks, roster=roster)
    return render_template(
        "impact/cohort.html", cohort=cohort, weeks=weeks, result=result, formats=formats,
        fmt=fmt, scope=scope, figure=event_figure(result), cohort_roi=cohort_roi,
        settings=settings, currency=settings.currency if settings else "EUR",
        wording=wording, min_group=comparison.estimator.MIN_GROUP,
        level_percent=round(result.level * 100),
        can_set=g.membership.role in (Role.HR, Role.ADMIN), parrot=copies,
        parrot_rows=parrot.named_rows(copies), parrot_threshold=parrot.THRESHOLD,
        parrot_min_words=parrot.MIN_WORDS)


@bp.get("/impact/cohorts/<int:cohort_id>/roi.pdf")
@role_required(*MANAGER_ROLES)
@reads_from_replica
def roi_pdf(cohort_id: int) -> Response:
    """The cohort's one-page ROI summary for management, as a PDF."""
    cohort = _cohort(cohort_id)
    weeks = clamp_weeks(request.args.get("weeks", 4))
    data = pdf.render(cohort, weeks=weeks)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="roi-cohort-{cohort.id}.pdf"'})


class SettingsForm(FlaskForm):
    """The value of each outcome and the training costs (every amount optional)."""

    currency = StringField(_l("Currency"), validators=[Length(max=3)], default="EUR",
                           description=_l("Three letters, such as EUR."))
    value_clicks = StringField(_l("Value of one click"))
    value_signups = StringField(_l("Value of one sign-up"))
    value_leads = StringField(_l("Value of one lead"))
    value_hires = StringField(_l("Value of one hire"))
    trainer_day_rate = StringField(_l("Trainer day rate"))
    extra_trainer_days = StringField(
        _l("Trainer days of preparation and follow-up, per cohort"),
        description=_l("Added to the days in session (7 hours of sessions make a day)."))
    learner_hourly_cost = StringField(
        _l("Hourly cost of a learner's time"),
        description=_l("Applied to the half-days they attended and to the stated length of "
                       "the e-learning, exercise and coaching modules."))
    tools_cost_per_learner = StringField(_l("Tools, per learner enrolled"))
    recertify_below_actions = StringField(
        _l("Re-enrol certified people with fewer actions than"),
        description=_l("Advocacy actions over the weeks below; blank: no recertification by "
                       "activity. The person is enrolled in the program's refresher and told "
                       "why by e-mail."))
    recertify_weeks = StringField(_l("Over the last weeks"), default="12")
    submit = SubmitField(_l("Save"))


@bp.route("/impact/settings", methods=["GET", "POST"])
@role_required(Role.HR, Role.ADMIN)
def settings_page() -> Any:
    """The organization's outcome values and training costs, the inputs of the ROI."""
    org = current_organization()
    saved = services.as_dict(comparison.settings_of(org.id))
    form = SettingsForm(data={"currency": saved["currency"],
                              **{f"value_{o}": saved["outcome_values"].get(o) for o in OUTCOMES},
                              **{r: saved[r] for r in services.RATES},
                              **{r[0]: saved[r[0]] for r in services.RULE}})
    if form.validate_on_submit():
        data = {"currency": form.currency.data,
                "outcome_values": {o: form[f"value_{o}"].data for o in OUTCOMES},
                **{r: form[r].data for r in services.RATES},
                **{r[0]: form[r[0]].data for r in services.RULE}}
        if commit_or_mark(form, lambda: services.save_settings(organization=org, data=data),
                          _("Values and costs saved.")) is not None:
            back = request.args.get("cohort", type=int)
            if back is not None:
                return redirect(url_for("impact.cohort_page", org_slug=org.slug,
                                        cohort_id=back, _anchor="roi-h"))
            return redirect(url_for("impact.settings_page", org_slug=org.slug))
    return render_template("impact/settings.html", form=form, outcomes=OUTCOMES,
                           rates=services.RATES), 422 if form.errors else 200
