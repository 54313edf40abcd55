"""Pages: the learner's "My activity" and the trainers'/HR "Advocacy" dashboard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.accounts import authz
from lms.accounts.models import Role
from lms.advocacy import dashboards, jobs, kpis, queries, services, verification
from lms.advocacy.csvimport import PRESETS
from lms.advocacy.models import KINDS, METRICS, NETWORKS
from lms.charter.queries import activity_not_counted
from lms.core import csvexport
from lms.core.errors import DomainError
from lms.core.limits import max_upload
from lms.core.models import utcnow
from lms.core.replica import reads_from_replica
from lms.core.web import chosen_file, commit_or_flash
from lms.extensions import db

bp = authz.org_blueprint("advocacy", __name__, template_folder="templates")

MY_EVENTS_PER_PAGE = 20
MY_WEEKS = 26  # the learner's chart: the last six months
PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}
NETWORK_LABELS = {"linkedin": "LinkedIn", "x": "X", "facebook": "Facebook",
                  "instagram": "Instagram", "tiktok": "TikTok", "youtube": "YouTube",
                  "other": _l("Other")}
KIND_LABELS = {"post": _l("Post"), "share": _l("Share"), "comment": _l("Comment"),
               "reaction": _l("Reaction"), "summary": _l("Summary")}
METRIC_LABELS = {"impressions": _l("Impressions"), "clicks": _l("Clicks"),
                 "reactions": _l("Reactions"), "comments": _l("Comments"),
                 "reshares": _l("Reshares"), "signups": _l("Sign-ups"), "leads": _l("Leads"),
                 "hires": _l("Hires"), "shares": _l("Shares")}


# Import formats by the name people know them by (the id stays the CLI's --preset value).
PRESET_LABELS = {"generic": _l("Relais CSV (one row per action)"),
                 "everyonesocial-shares": _l("EveryoneSocial: shares export"),
                 "everyonesocial-users": _l("EveryoneSocial: users export"),
                 "dynamic-signal": _l("Dynamic Signal export")}


SOURCE_LABELS = {"manual": _l("entered by hand"), "csv": _l("CSV import"),
                 "webhook": _l("advocacy platform"), "api": _l("API"), "demo": _l("demo")}


def _labels() -> dict[str, Any]:
    return {"network_labels": NETWORK_LABELS, "kind_labels": KIND_LABELS,
            "metric_labels": METRIC_LABELS, "source_labels": SOURCE_LABELS}


@bp.app_context_processor
def _verification_windows() -> dict[str, Any]:
    # Lets the exercise page and the learner's dashboard say when automatic verification
    # closed, without courses or reports reaching into advocacy's rules.
    return {"verification_window": verification.window_of}


@bp.get("/advocacy/me")
def my_activity() -> Any:
    """The learner's consent, manual entry form, own events and totals."""
    return _my_activity_page()


def _my_activity_page(errors: dict[str, str] | None = None,
                      form: dict[str, str] | None = None) -> str:
    org, user = authz.current_organization(), current_user
    consent = services.consent_of(org.id, user.id)
    scope = kpis.Scope(org.id, user_id=user.id)
    totals = kpis.scope_totals(scope)
    pages = max(1, -(-totals["events"] // MY_EVENTS_PER_PAGE))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)
    weekly = kpis.weekly(scope, weeks=MY_WEEKS, today=utcnow().date())
    return render_template("advocacy/my_activity.html", consent=consent,
                           totals=totals, page=page, pages=pages,
                           chart=dashboards.my_activity_chart(weekly)
                           if totals["events"] else None,
                           events=queries.my_events(org.id, user.id, MY_EVENTS_PER_PAGE,
                                                    (page - 1) * MY_EVENTS_PER_PAGE),
                           networks=NETWORKS, kinds=KINDS, metrics=METRICS,
                           campaigns=queries.campaigns(org.id), today=utcnow().date(),
                           errors=errors or {}, form=form or {},
                           not_counted=activity_not_counted(authz.current_membership()),
                           **_labels())


@bp.post("/advocacy/me/consent")
def my_consent() -> Any:
    """Opt in, revoke, or hide/show oneself on the leaderboard."""
    org, action = authz.current_organization(), request.form.get("action")
    try:
        if action == "opt_in":
            services.give_consent(organization=org, user=current_user)
            flash(_("Thank you: your advocacy activity will now be counted."), "success")
        elif action == "revoke":
            services.revoke_consent(organization=org, user=current_user)
            flash(_("Done: your activity is no longer collected."), "success")
        elif action in ("hide", "show"):
            services.set_leaderboard_opt_out(organization=org, user=current_user,
                                             opt_out=action == "hide")
        else:
            return Response(status=400)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("advocacy.my_activity"))
    db.session.commit()
    return redirect(url_for("advocacy.my_activity"))


@bp.post("/advocacy/me/events")
def add_my_event() -> Any:
    """Record one action by hand (idempotent: the same post twice updates its metrics)."""
    data = {k: request.form.get(k, "") for k in (
        "url", "network", "kind", "occurred_at", "with_own_comment", "campaign_id",
        *METRICS)}
    try:
        services.record_event(organization=authz.current_organization(), user=current_user,
                              data=data, source="manual")
    except DomainError as exc:
        db.session.rollback()
        # The form again, as typed, with the message next to the field.
        return _my_activity_page(errors=exc.fields, form=data), 422
    db.session.commit()
    flash(_("Activity recorded."), "success")
    return redirect(url_for("advocacy.my_activity"))


def _filters() -> dict[str, Any]:
    period = request.args.get("period", "90")
    days = PERIODS.get(period, 90)
    team = request.args.get("team") or None
    campaign = request.args.get("campaign", type=int)
    cohort = request.args.get("cohort", type=int)
    return {"period": period if period in PERIODS else "90", "days": days,
            "since": utcnow() - timedelta(days=days) if days else None,
            "team": team, "campaign": campaign, "cohort": cohort}


def _csv(name: str, header: list[str], rows: list[list[Any]]) -> Response:
    return csvexport.download(f"advocacy-{name}.csv", header, rows)


@bp.get("/advocacy")
@authz.role_required(*authz.MANAGER_ROLES)
@reads_from_replica
def dashboard() -> Any:
    """KPI tiles, networks, content types, campaigns, content items and leaderboard."""
    org, f = authz.current_organization(), _filters()
    # Every figure is aggregated by the database (a million events stay fast).
    cohorts = queries.cohorts(org.id)
    if f["cohort"] not in {i for i, _n in cohorts}:
        f["cohort"] = None  # another organization's cohort, or none: everyone
    scope = kpis.Scope(org.id, since=f["since"], team=f["team"], campaign_id=f["campaign"],
                       cohort_id=f["cohort"])
    settings = services.settings_for(org.id)
    # Activation is always "active in the last 30 days", whatever the period shown.
    activation, learners = kpis.scope_activation(
        kpis.Scope(org.id, team=f["team"], cohort_id=f["cohort"]),
        since=utcnow() - timedelta(days=30))
    # A campaign's progress counts all its events, whatever the filters.
    all_campaigns = queries.campaigns(org.id)
    progress = kpis.campaigns_progress(org.id, all_campaigns)
    campaigns = [(c, progress[c.id]) for c in all_campaigns]
    items = queries.content_items(org.id)
    now = utcnow()
    weeks = dashboards.trend_weeks(f["days"])
    export = request.args.get("export")
    # The page reads its figures and its weekly trends in one pass; an export, the figures.
    figures, weekly = ((kpis.overview(scope), None) if export
                       else kpis.dashboard(scope, weeks=weeks, today=now.date()))
    per_item = figures.per_item
    board = figures.leaderboard if settings.leaderboard_enabled else []
    names = queries.names({r["user_id"] for r in board})
    networks, kinds = figures.networks, figures.kinds
    if export == "networks":
        return _csv("networks", ["network", "events", "impressions", "clicks", "reshares",
                                 "engagement"],
                    [[r["network"], r["events"], r["impressions"], r["clicks"], r["reshares"],
                      f"{r['engagement']:.4f}"] for r in networks])
    if export == "kinds":
        return _csv("content-types", ["kind", "events", "clicks", "clicks_per_event",
                                      "engagement"],
                    [[r["kind"], r["events"], r["clicks"], f"{r['clicks_per_event']:.2f}",
                      f"{r['engagement']:.4f}"] for r in kinds])
    if export == "campaigns":
        return _csv("campaigns", ["campaign", "kind", "target_metric", "target_value",
                                  "deadline", "value", "percent"],
                    [[c.title, c.kind, c.target_metric or "shares", c.target_value,
                      c.deadline.isoformat() if c.deadline else "", p["value"],
                      "" if p["percent"] is None else f"{p['percent']:.1f}"]
                     for c, p in campaigns])
    if export == "content":
        return _csv("content-items", ["content_item", "url", "shares", "clicks"],
                    [[items[i].title, items[i].url, v["shares"], v["clicks"]]
                     for i, v in per_item.items() if i in items])
    if export == "leaderboard":
        return _csv("leaderboard", ["rank", "name", "points", "events", "with_own_comment",
                                    "clicks"],
                    [[n, names.get(r["user_id"], ""), r["points"], r["events"],
                      r["with_own_comment"], r["clicks"]] for n, r in enumerate(board, 1)])
    before = dashboards.previous_scope(scope, f["days"], now)
    if weekly is None:  # an export of nothing known: the page
        weekly = kpis.weekly(scope, weeks=weeks, today=now.date())
    return render_template(
        "advocacy/dashboard.html", f=f, totals=figures.totals, activation=activation,
        learners=learners, networks=networks, kinds=kinds, campaigns=campaigns,
        items=items, per_item=per_item, board=board, names=names, settings=settings,
        teams=queries.teams(org.id), cohorts=cohorts, all_campaigns=[c for c, _p in campaigns],
        presets=PRESETS, preset_labels=PRESET_LABELS,
        can_manage=authz.current_membership().role in (Role.HR, Role.ADMIN),
        tiles=dashboards.tiles(figures.totals,
                               kpis.scope_sums(before) if before else None, weekly),
        trends=dashboards.trend_charts(weekly, NETWORK_LABELS), today=now.date(),
        days_left=dashboards.days_left, **_labels())


@bp.post("/advocacy/settings")
@authz.role_required(Role.HR, Role.ADMIN)
def settings() -> Any:
    """Switch the leaderboard on or off for the whole organization."""
    services.set_leaderboard_enabled(organization=authz.current_organization(),
                                     enabled=request.form.get("leaderboard") == "on")
    db.session.commit()
    return redirect(url_for("advocacy.dashboard"))


@bp.post("/advocacy/import")
@authz.role_required(*authz.MANAGER_ROLES)
@max_upload("IMPORT_MAX_BYTES")
def upload() -> Any:
    """Start a background import of an uploaded CSV export."""
    file = chosen_file(_("Choose a CSV file."))
    if file is not None:
        data = file.read()
        job = commit_or_flash(lambda: jobs.start_import(
            organization=authz.current_organization(), created_by=current_user, data=data,
            preset_name=request.form.get("preset"),
            skip_invalid=request.form.get("skip_invalid") == "on"))
        if job is not None:
            return redirect(url_for("jobs.job", job_id=job.id))
    return redirect(url_for("advocacy.dashboard"))
