"""Results to share: the page and its one-page PDF, per cohort, campaign or period."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request
from flask_login import current_user
from sqlalchemy import select

from lms.accounts import authz
from lms.advocacy.models import Campaign
from lms.core.errors import ValidationFailed
from lms.core.web import form_date, form_int, localized
from lms.courses.cohorts.models import Cohort
from lms.courses.cohorts.queries import cohorts as cohorts_of
from lms.extensions import db
from lms.reports import sharing
from lms.reports.views import bp


def _sheet() -> sharing.Sheet:
    """The sheet the query string asks for: ``cohort``, ``campaign``, else the period
    ``since``-``until``.

    :raise ValidationFailed: the period ends before it starts.
    """
    args = request.args
    if (cohort_id := form_int(args.get("cohort"))) is not None:
        return sharing.for_cohort(authz.get_in_org_or_404(Cohort, cohort_id))
    if (campaign_id := form_int(args.get("campaign"))) is not None:
        return sharing.for_campaign(authz.get_in_org_or_404(Campaign, campaign_id))
    return sharing.for_period(authz.current_organization(), form_date(args.get("since")),
                              form_date(args.get("until")))


def _campaigns() -> list[Campaign]:
    return list(db.session.scalars(select(Campaign).where(
        Campaign.organization_id == authz.current_organization().id).order_by(Campaign.title)))


@bp.get("/results")
@authz.role_required(*authz.MANAGER_ROLES)
def results_to_share() -> Any:
    """The results of a cohort, campaign or period, ready for the newsletter."""
    error = None
    try:
        sheet = _sheet()
    except ValidationFailed as exc:
        error = exc.fields.get("until") or exc.message
        sheet = sharing.for_period(authz.current_organization(), None, None)
    return render_template("reports/results.html", sheet=sheet, t=localized,
                           headline=sharing.HEADLINE, error=error, args=request.args,
                           cohorts=cohorts_of(authz.current_organization().id),
                           campaigns=_campaigns()), 422 if error else 200


@bp.get("/results.pdf")
@authz.role_required(*authz.MANAGER_ROLES)
def results_to_share_pdf() -> Any:
    """The same results as a one-page PDF."""
    try:
        sheet = _sheet()
    except ValidationFailed as exc:
        return Response(str(exc.message), status=422, mimetype="text/plain")
    name = {"cohort": "cohorte", "campaign": "campagne", "period": "periode"}[sheet.kind]
    data = sharing.render_pdf(sheet)
    sharing.record_download(sheet, current_user)
    db.session.commit()
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="resultats-{name}.pdf"'})

