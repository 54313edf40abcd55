"""Pages: read and accept the charter (every member); publish a new version and choose the
gates (trainers, HR, admins); acceptance per version, team and cohort with reminders and a CSV
(HR, trainers, admins).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from lms.accounts import authz
from lms.accounts.models import Role
from lms.charter import default, queries, services
from lms.charter.forms import GatesForm, VersionForm
from lms.core import csvexport
from lms.core.mail import mail_configured
from lms.core.markdown import render_markdown
from lms.core.web import PostForm, commit_or_flash, commit_or_mark, current_language

bp = authz.org_blueprint("charter", __name__, template_folder="templates")

# Who writes the charter and chooses what it gates.
EDITORS = (Role.TRAINER, Role.HR, Role.ADMIN)


@bp.route("/charter", methods=["GET", "POST"])
def read() -> Any:
    """The charter in force, in the reader's language, and the button to accept it."""
    me = authz.current_membership()
    version = queries.current_version(me.organization_id)
    form = PostForm()
    if request.method == "POST" and version is not None:
        number = request.form.get("version", type=int)
        done = commit_or_flash(lambda: services.accept(membership=me, number=number),
                               _("Thank you: you accepted the charter."))
        if done is not None:
            return redirect(url_for("reports.dashboard"))
        return redirect(url_for("charter.read"))
    accepted = queries.acceptance(me.id, version.id) if version is not None else None
    earlier = queries.latest_acceptance(me) if accepted is None else None
    return render_template(
        "charter/read.html", version=version, form=form, accepted=accepted, earlier=earlier,
        body=render_markdown(version.body(current_language())) if version else None,
        settings=queries.settings_for(me.organization_id), lang=current_language())


def _preview_or_publish(form: VersionForm) -> Any:
    org = authz.current_organization()
    current = queries.current_version(org.id)
    number = (current.number + 1) if current else 1
    if form.confirmed.data == "yes" and form.validate():
        version = commit_or_mark(form, lambda: services.publish(
            organization=org, body_fr=form.body_fr.data or "", body_en=form.body_en.data,
            summary=form.summary.data, by=current_user), field="body_fr")
        if version is not None:
            flash(_("Version %(number)d is published: every member is asked to accept it.",
                    number=version.number), "success")
            return redirect(url_for("charter.manage"))
    elif form.validate() and (form.body_fr.data or "").strip():
        return render_template(
            "charter/confirm.html", form=form, number=number,
            body_fr=render_markdown(form.body_fr.data or ""),
            body_en=render_markdown(form.body_en.data or "") if form.body_en.data else None)
    elif not (form.body_fr.data or "").strip():
        form.body_fr.errors = [*form.body_fr.errors, _("Write the charter in French.")]
    return None


@bp.route("/charter/manage", methods=["GET", "POST"])
@authz.role_required(*EDITORS)
def manage() -> Any:
    """The versions published, a new version to write (from the current one or Relais'
    default text), and the gates.
    """
    org = authz.current_organization()
    current = queries.current_version(org.id)
    if request.method == "POST":
        form = VersionForm()
        answer = _preview_or_publish(form)
        if answer is not None:
            return answer
    else:
        form = VersionForm(formdata=None, data={
            "body_fr": current.body_fr if current else default.BODY_FR,
            "body_en": current.body_en if current else default.BODY_EN})
    settings = queries.settings_for(org.id)
    gates = GatesForm(formdata=None, obj=settings)
    status = 422 if request.method == "POST" else 200
    return render_template("charter/manage.html", form=form, gates=gates, current=current,
                           versions=queries.versions(org.id)), status


@bp.route("/charter/gates", methods=["POST"])
@authz.role_required(*EDITORS)
def save_gates() -> Any:
    """Save what an accepted charter gates."""
    form = GatesForm()
    if form.validate():
        commit_or_flash(lambda: services.set_gates(
            organization=authz.current_organization(), advocacy=form.gate_advocacy.data,
            exercises=form.gate_exercises.data, certificates=form.gate_certificates.data),
            _("The charter's rules are saved."))
    return redirect(url_for("charter.manage"))


def _chosen_version() -> Any:
    org = authz.current_organization()
    number = request.args.get("version", type=int)
    version = (queries.version_by_number(org.id, number) if number is not None
               else queries.current_version(org.id))
    return version


def _filters() -> dict[str, str | None]:
    return {"team": request.args.get("team") or None,
            "cohort": request.args.get("cohort") or None}


@bp.route("/charter/acceptances")
@authz.role_required(*authz.MANAGER_ROLES)
def acceptances() -> Any:
    """Who accepted a version: in all, per team and per cohort, and the people."""
    org = authz.current_organization()
    version = _chosen_version()
    filters = _filters()
    rows = queries.people(org.id, version, **filters) if version else []
    everyone = queries.people(org.id, version) if version else []
    return render_template(
        "charter/acceptances.html", version=version, versions=queries.versions(org.id),
        rows=rows, tallies=queries.tallies(everyone, org.id) if version else None,
        teams=queries.teams(org.id), cohorts=queries.groups("cohort", org.id), filters=filters,
        form=PostForm(), mail=mail_configured(),
        pending=sum(1 for r in rows if r.accepted_at is None))


@bp.route("/charter/acceptances.csv")
@authz.role_required(*authz.MANAGER_ROLES)
def acceptances_csv() -> Any:
    """The acceptance of a version as CSV (name, e-mail, team, cohorts, accepted at)."""
    org = authz.current_organization()
    version = _chosen_version()
    if version is None:
        flash(_("No charter has been published yet."), "error")
        return redirect(url_for("charter.acceptances"))
    rows = queries.people(org.id, version, **_filters())
    header = [_("Name"), _("E-mail"), _("Role"), _("Team"), _("Cohorts"), _("Version"),
              _("Accepted at (UTC)")]
    return csvexport.download(
        f"charter-v{version.number}-{org.slug}.csv", header,
        ([r.membership.user.display_name, r.membership.user.email, r.membership.role.value,
          r.membership.team or "", "; ".join(r.cohorts), version.number,
          r.accepted_at.isoformat() if r.accepted_at else ""] for r in rows))


@bp.route("/charter/reminders", methods=["POST"])
@authz.role_required(*authz.MANAGER_ROLES)
def send_reminders() -> Any:
    """E-mail a reminder to those (of the filtered list) who have not accepted the version."""
    org = authz.current_organization()
    version = queries.current_version(org.id)
    filters: dict[str, Any] = {k: request.form.get(k) or None for k in ("team", "cohort")}
    if version is None:
        flash(_("No charter has been published yet."), "error")
        return redirect(url_for("charter.acceptances"))
    if not mail_configured():
        flash(_("No mail server is configured: no reminder was sent."), "error")
        return redirect(url_for("charter.acceptances", **filters))
    rows = queries.people(org.id, version, **filters)
    sent = services.remind(organization=org, version=version,
                           members=[r.membership for r in rows if r.accepted_at is None])
    flash(ngettext("%(num)d reminder sent.", "%(num)d reminders sent.", sent), "success")
    return redirect(url_for("charter.acceptances", **filters))
