"""Skill pages under /o/<slug>/skills: take the questionnaire, see one's profile, the team map,
and manage questionnaires (copy, edit, reorder, delete, import and export as YAML) and the
framework (copy, edit texts and targets, import and export as YAML).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SubmitField

from lms.accounts import authz
from lms.accounts.models import Membership
from lms.assessments import definitions as defs
from lms.assessments import queries, recommendations, scoring, services
from lms.assessments.models import Attempt, Question, Questionnaire, SkillFramework
from lms.core import charts, csvexport
from lms.core.errors import DomainError
from lms.core.replica import reads_from_replica
from lms.core.web import PostForm, commit_or_errors, commit_or_flash, localized, require_submitted
from lms.extensions import db

T = TypeVar("T")

bp = authz.org_blueprint("skills", __name__)
# Learners per page of the heat map: 50 rows keep the page quick to render and to read on a
# phone; the counts and averages, the CSV (streamed) and the API (paged) cover everyone.
MAP_PAGE_SIZE = 50

CAN_DO_LABELS = {
    scoring.CanDo.NEVER: _l("Never done it"),
    scoring.CanDo.WITH_HELP: _l("With help"),
    scoring.CanDo.ALONE: _l("Alone"),
    scoring.CanDo.TEACH: _l("I teach it"),
}
FREQUENCY_LABELS = {
    scoring.Frequency.NEVER: _l("Never"),
    scoring.Frequency.RARELY: _l("Less than once a month"),
    scoring.Frequency.MONTHLY: _l("Monthly"),
    scoring.Frequency.WEEKLY: _l("Weekly"),
    scoring.Frequency.DAILY: _l("Daily"),
}
SIGNAL_MARKS = {"regular": "●", "occasional": "◐", "none": "○"}
SIGNAL_LABELS = {"regular": _l("activity: regular"), "occasional": _l("activity: occasional"),
                 "none": _l("activity: none")}


class ImportForm(FlaskForm):
    """The upload of a skill questionnaire as a YAML file."""

    file = FileField(_l("Questionnaire file (YAML)"))
    submit = SubmitField(_l("Import"))


class FrameworkImportForm(FlaskForm):
    """The upload of a skill framework as a YAML file."""

    file = FileField(_l("Framework file (YAML)"))
    submit = SubmitField(_l("Import"))


def _level_names() -> dict[int, str]:
    fw = queries.default_framework(authz.current_organization().id)
    names = {0: _("Not assessed")}
    for lv in (fw.levels if fw else []):
        names[int(lv["level"])] = localized(lv["name"])
    return names


def _radar(profile: queries.SkillProfile, chart_id: str = "radar") -> Any:
    # Competencies by name: "C4" means nothing to a learner.
    labels = [localized(x.competency.name) for x in profile.lines]
    series = [charts.Series(_("Target"), [x.target for x in profile.lines], "target"),
              charts.Series(_("Your level"), [x.level for x in profile.lines], "level")]
    desc = "; ".join(_("%(code)s: level %(level)d, target %(target)d", code=x.competency.code,
                       level=x.level, target=x.target) for x in profile.lines)
    return charts.radar_svg(labels, series, title=_("Skill profile against the target"),
                            desc=desc, chart_id=chart_id, size=400)


def _own_attempt_or_404(attempt_id: int) -> Attempt:
    attempt = authz.get_in_org_or_404(Attempt, attempt_id)
    if attempt.membership_id != authz.current_membership().id:
        abort(404)
    return attempt


def _viewable_attempt_or_404(attempt_id: int) -> Attempt:
    """An attempt its owner may see, and trainers, HR and admins of the organization."""
    attempt = authz.get_in_org_or_404(Attempt, attempt_id)
    me = authz.current_membership()
    if attempt.membership_id != me.id and me.role not in authz.MANAGER_ROLES:
        abort(404)
    return attempt


# --- learners --------------------------------------------------------------------------------


@bp.route("/skills/")
def mine() -> Any:
    """My skill profile, its history and the questionnaires I can take."""
    me = authz.current_membership()
    profile = queries.profile_for(me)
    history = queries.submitted_attempts(me.id)
    drafts = {a.questionnaire_id: a for a in queries.drafts_of(me.id)}
    return render_template(
        "assessments/mine.html", profile=profile, history=history, drafts=drafts,
        offered=queries.offered_questionnaires(me.organization_id),
        radar=_radar(profile) if profile.attempt else None, level_names=_level_names(),
        family_label=defs.JOB_FAMILY_LABELS.get(me.job_family or "other"), form=PostForm(),
        history_rows=_history_rows(history, profile),
        modules=_modules(profile) if profile.attempt else None,
        activity=_activity(profile) if profile.attempt else None)


def _history_rows(history: list[Attempt], profile: queries.SkillProfile) -> list[dict[str, Any]]:
    return [{"attempt": a, "levels": [(a.levels or {}).get(x.competency.code, 0)
                                      for x in profile.lines]} for a in history]


@bp.route("/skills/start/<int:questionnaire_id>", methods=["POST"])
def start(questionnaire_id: int) -> Any:
    """Start the questionnaire, or resume my draft of it."""
    q = (queries.visible_questionnaire(authz.current_organization().id, questionnaire_id)
         or abort(404))
    try:
        attempt, _created = services.start_attempt(membership=authz.current_membership(),
                                                   questionnaire=q)
    except DomainError:
        abort(404)
    db.session.commit()
    return redirect(url_for("skills.take", attempt_id=attempt.id))


def _screen(attempt: Attempt, state: scoring.Progress) -> dict[str, Any]:
    questions = {x.key: x for x in attempt.questionnaire.questions}
    shown = [questions[k] for k in state.current]
    # The organization's own copy, if any, names the competencies (same codes).
    fw = queries.default_framework(attempt.organization_id) or attempt.questionnaire.framework
    competency = next((c for c in fw.competencies if c.code == state.current_competency), None)
    codes = [o.code for o in state.outcomes]
    return {"questions": shown, "competency": competency,
            "position": codes.index(state.current_competency) + 1
            if state.current_competency in codes else len(codes),
            "count": len(codes)}


@bp.route("/skills/attempts/<int:attempt_id>", methods=["GET", "POST"])
def take(attempt_id: int) -> Any:
    """One screen of the questionnaire: a competency step, then habits, then submit."""
    attempt = _own_attempt_or_404(attempt_id)
    if attempt.submitted:
        return redirect(url_for("skills.results", attempt_id=attempt.id))
    form = PostForm()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        state = services.progress_of(attempt)
        questions = {x.key: x for x in attempt.questionnaire.questions}
        given: dict[str, Any] = {}
        for key in state.current:
            if questions[key].type == defs.MULTIPLE:
                values = request.form.getlist(f"q-{key}")
                if values:
                    given[key] = values
            elif request.form.get(f"q-{key}"):
                given[key] = request.form[f"q-{key}"]
        missing = [k for k in state.current if k not in given]
        if missing:
            errors = {k: _("Choose an answer.") for k in missing}
        else:
            try:
                services.answer(attempt=attempt, answers=given)
            except DomainError as exc:
                db.session.rollback()
                errors = {k: _("This answer is not valid.") for k in exc.fields}
            else:
                db.session.commit()
                return redirect(url_for("skills.take", attempt_id=attempt.id))
        status = 422
    state = services.progress_of(attempt)
    return render_template("assessments/take.html", attempt=attempt, state=state,
                           screen=_screen(attempt, state), form=form, errors=errors,
                           can_do_labels=CAN_DO_LABELS, frequency_labels=FREQUENCY_LABELS,
                           percent=round(state.fraction * 100)), status


@bp.route("/skills/attempts/<int:attempt_id>/submit", methods=["POST"])
def submit(attempt_id: int) -> Any:
    """Submit a finished questionnaire: the levels are computed once and frozen."""
    attempt = _own_attempt_or_404(attempt_id)
    try:
        services.submit_attempt(attempt=attempt)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message if attempt.submitted else _("Answer every question first."), "error")
        return redirect(url_for("skills.results" if attempt.submitted else "skills.take",
                                attempt_id=attempt.id))
    db.session.commit()
    flash(_("Thank you! Here is your skill profile."), "success")
    return redirect(url_for("skills.results", attempt_id=attempt.id))


def _feedback(attempt: Attempt, profile: queries.SkillProfile) -> list[dict[str, Any]]:
    """The judgement items answered on the path: the competency by name, the learner's
    choice, whether it was the best one, and why.
    """
    names = {x.code: localized(x.competency.name) for x in profile.lines}
    questions = {x.key: x for x in attempt.questionnaire.questions}
    out = []
    for key, value in (attempt.answers or {}).items():
        question = questions.get(key)
        if question is None or question.type not in defs.JUDGEMENT_TYPES:
            continue
        chosen = {value} if isinstance(value, str) else set(value)
        out.append({"question": question, "chosen": chosen,
                    "competency_name": names.get(question.competency, question.competency),
                    "right": chosen == {o["key"] for o in question.options if o.get("correct")}})
    return sorted(out, key=lambda f: (f["question"].competency, f["question"].level))


@bp.route("/skills/attempts/<int:attempt_id>/results")
def results(attempt_id: int) -> Any:
    """The results of one submitted attempt: levels, gaps, what to work on, feedback."""
    attempt = _viewable_attempt_or_404(attempt_id)
    if not attempt.submitted:
        if attempt.membership_id == authz.current_membership().id:
            return redirect(url_for("skills.take", attempt_id=attempt.id))
        abort(404)
    profile = queries.profile_for(attempt.membership, attempt)
    history = queries.submitted_attempts(attempt.membership_id)
    return render_template("assessments/results.html", attempt=attempt, profile=profile,
                           radar=_radar(profile), level_names=_level_names(),
                           feedback=_feedback(attempt, profile), history=history,
                           history_rows=_history_rows(history, profile),
                           family_label=defs.JOB_FAMILY_LABELS.get(
                               attempt.membership.job_family or "other"),
                           habits=_habits(attempt), frequency_labels=FREQUENCY_LABELS,
                           modules=_modules(profile), activity=_activity(profile))


def _modules(profile: queries.SkillProfile) -> dict[str, Any] | None:
    """Training modules per gap; None when no module targets any gap (descriptors only)."""
    if not recommendations.has_module_finders() or not profile.gaps:
        return None
    member = profile.membership
    found = recommendations.modules_for(
        member.organization_id, [line.competency.code for line, _size in profile.gaps],
        member.user_id)
    return found or None


def _activity(profile: queries.SkillProfile) -> dict[str, Any]:
    """Observed activity beside the levels: signals by code, the gaps behaviour suggests with
    their modules, and sentences about the person's own shares.
    """
    member = profile.membership
    org_id = member.organization_id
    signals = recommendations.activity_signals(org_id, [member.user_id]).get(member.user_id, {})
    gaps = recommendations.behaviour_gaps(profile.lines, signals)
    modules = recommendations.modules_for(org_id, [x.competency.code for x in gaps],
                                          member.user_id) if gaps else {}
    return {"signals": signals, "gaps": gaps, "modules": modules,
            "remarks": recommendations.activity_remarks(org_id, member.user_id)}


def _habits(attempt: Attempt) -> list[tuple[Question, str]]:
    return [(x, attempt.answers[x.key]) for x in attempt.questionnaire.questions
            if x.type == defs.FREQUENCY and x.key in (attempt.answers or {})]


# --- trainers and HR -------------------------------------------------------------------------


def _map_filters() -> tuple[str | None, str | None]:
    return request.args.get("team") or None, request.args.get("job_family") or None


def _cohort_members() -> tuple[int | None, Any]:
    """The ``cohort`` argument and the select() of its members; 404 if not a cohort here."""
    try:
        cohort, members = recommendations.cohort_members(
            authz.current_organization().id, request.args.get("cohort"))
    except LookupError:
        abort(404)
    return cohort, members


@bp.route("/skills/map")
@authz.role_required(*authz.MANAGER_ROLES)
@reads_from_replica
def team_map() -> Any:
    """The team skill map: a page of learners × competencies, with the selection's averages."""
    org = authz.current_organization()
    team, family = _map_filters()
    cohort, members = _cohort_members()
    fw = queries.default_framework(org.id)
    result = queries.map_page(org.id, team, family, members,
                              page=request.args.get("page", 1, type=int) or 1,
                              size=MAP_PAGE_SIZE)
    return render_template(
        "assessments/team_map.html", result=result, rows=result.rows, framework=fw,
        competencies=fw.competencies if fw else [],
        averages=result.averages, targets=result.average_targets,
        teams=queries.teams(org.id), families=queries.job_families(org.id), team=team,
        job_family=family, family_labels=defs.JOB_FAMILY_LABELS, level_names=_level_names(),
        cohort=cohort, cohorts=recommendations.cohort_options(org.id),
        missing=result.missing, missing_count=result.missing_count,
        # Translated once, not once per cell: a map has thousands of cells.
        target_labels={n: _("(target %(n)d)", n=n) for n in range(6)},
        signals=_map_signals(org.id, result.rows), signal_marks=SIGNAL_MARKS,
        signal_labels={k: str(v) for k, v in SIGNAL_LABELS.items()},
        pending_labels={n: _("level %(n)d awaiting validation", n=n) for n in (4, 5)})


def _map_signals(organization_id: int, rows: list[queries.MapRow]
                 ) -> dict[int, dict[str, recommendations.ActivitySignal]]:
    """Activity signals by membership id for the answered learners of a map page."""
    member_ids = [r.member_id for r in rows if r.answered]
    if not member_ids:
        return {}
    users = dict(db.session.execute(db.select(Membership.id, Membership.user_id).where(
        Membership.id.in_(member_ids))).all())
    found = recommendations.activity_signals(organization_id, list(users.values()))
    return {m: found[u] for m, u in users.items() if u in found}


@bp.route("/skills/map.csv")
@authz.role_required(*authz.MANAGER_ROLES)
@reads_from_replica
def team_map_csv() -> Any:
    """The team skill map as CSV (one row per learner, shown levels and targets), streamed."""
    org = authz.current_organization()
    team, family = _map_filters()
    rows = queries.iter_map_rows(org.id, team, family, _cohort_members()[1])
    fw = queries.default_framework(org.id)
    codes = [c.code for c in fw.competencies] if fw else []
    header = (["name", "email", "team", "job_family", "answered_at"]
              + codes + [f"{c}_target" for c in codes])
    blank = [""] * (2 * len(codes))  # not answered: empty cells, not zeros
    # A row's cells are in framework order, one per code: the columns read from them.
    lines = (
        [r.name, r.email, r.team or "", r.job_family or "",
         r.submitted_at.isoformat() if r.submitted_at else ""]
        + ([x.level for x in r.cells] + [x.target for x in r.cells] if r.cells else blank)
        for r in rows)
    return csvexport.stream(f"skill-map-{org.slug}.csv", header, lines)


@bp.route("/skills/learners/<int:membership_id>")
@authz.role_required(*authz.MANAGER_ROLES)
def learner(membership_id: int) -> Any:
    """One learner's profile, history and level validations."""
    member = authz.get_in_org_or_404(Membership, membership_id)
    profile = queries.profile_for(member)
    history = queries.submitted_attempts(member.id)
    return render_template("assessments/learner.html", member=member, profile=profile,
                           radar=_radar(profile) if profile.attempt else None,
                           history=history, history_rows=_history_rows(history, profile),
                           validations=queries.validations_of(member.id),
                           level_names=_level_names(), form=PostForm(),
                           can_validate=authz.current_membership().role in authz.STAFF_ROLES,
                           activity=_activity(profile) if profile.attempt else None,
                           family_label=defs.JOB_FAMILY_LABELS.get(member.job_family or "other"))


@bp.route("/skills/learners/<int:membership_id>/validate", methods=["POST"])
@authz.role_required(*authz.STAFF_ROLES)
def validate(membership_id: int) -> Any:
    """Confirm a learner's level 4 or 5 of a competency."""
    member = authz.get_in_org_or_404(Membership, membership_id)
    try:
        level = int(request.form.get("level", ""))
    except ValueError:
        level = 0
    commit_or_flash(lambda: services.validate_level(
        membership=member, competency=request.form.get("competency", ""), level=level,
        by=authz.current_membership().user, note=request.form.get("note")), _("Level validated."))
    return redirect(url_for("skills.learner", membership_id=member.id))


# --- managing questionnaires -----------------------------------------------------------------


def _questionnaire_or_404(questionnaire_id: int, editable: bool = False) -> Questionnaire:
    q = queries.visible_questionnaire(authz.current_organization().id, questionnaire_id)
    if q is None or (editable and q.organization_id is None):
        abort(404)
    return q


def _question_or_404(questionnaire_id: int, question_id: int) -> tuple[Questionnaire, Question]:
    """An editable questionnaire of the organization and one of its questions."""
    q = _questionnaire_or_404(questionnaire_id, editable=True)
    question = next((x for x in q.questions if x.id == question_id), None) or abort(404)
    return q, question


def _editor_page(template: str, save: Callable[[], object], saved: str, back: str, *,
                 fallback: str | None = None, **context: Any) -> Any:
    """An editor (GET) or its save (POST): saved, ``saved`` is flashed and the page goes to
    ``back``; refused, the editor shows again with the errors next to the fields (422).

    :param fallback: the field that shows a refusal naming no field.
    """
    errors: dict[str, str] = {}
    if request.method == "POST":
        refused = commit_or_errors(save, fallback)
        if refused is None:
            flash(saved, "success")
            return redirect(back)
        errors = refused
    return render_template(template, form=PostForm(), errors=errors, **context), \
        422 if errors else 200


def _texts(name: str) -> dict[str, str]:
    """The text typed in each language, in the form's fields ``<name>_<language>``."""
    return {lang: request.form.get(f"{name}_{lang}", "") for lang in defs.LANGUAGES}


def _questionnaires_page(import_form: FlaskForm, errors: list[str]) -> str:
    org_id = authz.current_organization().id
    return render_template("assessments/questionnaires.html",
                           builtin=queries.builtin_questionnaires(),
                           own=queries.org_questionnaires(org_id),
                           offered=queries.offered_questionnaires(org_id),
                           form=PostForm(), import_form=import_form, import_errors=errors)


@bp.route("/skills/questionnaires")
@authz.role_required(*authz.STAFF_ROLES)
def questionnaires() -> Any:
    """Built-in and own questionnaires: copy, edit, import and export."""
    return _questionnaires_page(ImportForm(), [])


@bp.route("/skills/questionnaires/<int:questionnaire_id>/copy", methods=["POST"])
@authz.role_required(*authz.STAFF_ROLES)
def copy(questionnaire_id: int) -> Any:
    """Copy a questionnaire into the organization, to edit it."""
    q = _questionnaire_or_404(questionnaire_id)
    new = services.copy_questionnaire(questionnaire=q, organization=authz.current_organization())
    db.session.commit()
    flash(_("Copied. Edit it, then publish it to offer it to your learners."), "success")
    return redirect(url_for("skills.edit", questionnaire_id=new.id))


@bp.route("/skills/questionnaires/<int:questionnaire_id>/export.yaml")
@authz.role_required(*authz.STAFF_ROLES)
def export(questionnaire_id: int) -> Any:
    """Download a questionnaire in the YAML import format."""
    q = _questionnaire_or_404(questionnaire_id)
    return _yaml_download(defs.questionnaire_to_yaml(services.definition_of(q)), q.key)


def _yaml_download(text: str, key: str) -> Response:
    """A YAML file to save, named after the content's key."""
    return Response(text, mimetype="application/yaml",
                    headers={"Content-Disposition": f'attachment; filename="{key}.yaml"'})


def _uploaded_text(form: FlaskForm) -> tuple[str, str]:
    """The uploaded YAML file's text and name.

    :raise defs.ContentError: no file, larger than 2 MB, or not UTF-8.
    """
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        raise defs.ContentError([_("Choose a file.")])
    raw = upload.read(2_000_001)
    if len(raw) > 2_000_000:
        raise defs.ContentError([_("The file is larger than 2 MB.")])
    try:
        return raw.decode("utf-8"), upload.filename
    except UnicodeDecodeError:
        raise defs.ContentError([_("The file is not UTF-8 text.")]) from None


def _imported(form: FlaskForm, importer: Callable[[str, str], T]) -> tuple[T | None, list[str]]:
    """Import the uploaded file with ``importer(source, name)``: committed, or rolled back with
    the reasons the file was refused.
    """
    try:
        source, name = _uploaded_text(form)
        result = importer(source, name)
    except defs.ContentError as exc:
        db.session.rollback()
        return None, list(exc.errors)
    except DomainError as exc:
        db.session.rollback()
        return None, [str(exc.message)]
    db.session.commit()
    return result, []


@bp.route("/skills/questionnaires/import", methods=["POST"])
@authz.role_required(*authz.STAFF_ROLES)
def import_questionnaire() -> Any:
    """Import a questionnaire file (a new one, or replacing ours with the same key)."""
    org = authz.current_organization()
    form = require_submitted(ImportForm())
    imported, errors = _imported(form, lambda source, name: services.import_questionnaire(
        organization=org, source=source, name=name))
    if imported is None:
        return _questionnaires_page(form, errors), 422
    q, created = imported
    flash(_("Imported “%(title)s”.", title=localized(q.title)) if created else
          _("Updated “%(title)s” from the file.", title=localized(q.title)), "success")
    return redirect(url_for("skills.edit", questionnaire_id=q.id))


@bp.route("/skills/questionnaires/<int:questionnaire_id>/edit", methods=["GET", "POST"])
@authz.role_required(*authz.STAFF_ROLES)
def edit(questionnaire_id: int) -> Any:
    """Edit a questionnaire's title, description and publication; list its questions."""
    q = _questionnaire_or_404(questionnaire_id, editable=True)
    return _editor_page(
        "assessments/edit.html", lambda: services.update_questionnaire(
            questionnaire=q, title=_texts("title"), description=_texts("description"),
            published=request.form.get("published") == "on"),
        _("Saved."), url_for("skills.edit", questionnaire_id=q.id), q=q)


@bp.route("/skills/questionnaires/<int:questionnaire_id>/questions/<int:question_id>",
          methods=["GET", "POST"])
@authz.role_required(*authz.STAFF_ROLES)
def edit_question(questionnaire_id: int, question_id: int) -> Any:
    """Edit the texts of a question and of its options."""
    q, question = _question_or_404(questionnaire_id, question_id)
    return _editor_page(
        "assessments/edit_question.html", lambda: services.update_question(
            question=question, text=_texts("text"),
            options={o["key"]: _texts(f"option_{o['key']}") for o in question.options} or None,
            feedback=_texts("feedback") if question.options else None),
        _("Question saved."), url_for("skills.edit", questionnaire_id=q.id),
        fallback="text_en", q=q, question=question)


@bp.route("/skills/questionnaires/<int:questionnaire_id>/questions/<int:question_id>/move",
          methods=["POST"])
@authz.role_required(*authz.STAFF_ROLES)
def move_question(questionnaire_id: int, question_id: int) -> Any:
    """Move a question up or down."""
    q, question = _question_or_404(questionnaire_id, question_id)
    services.move_question(question=question,
                           offset=-1 if request.form.get("direction") == "up" else 1)
    db.session.commit()
    return redirect(url_for("skills.edit", questionnaire_id=q.id) + f"#question-{question.id}")


@bp.route("/skills/questionnaires/<int:questionnaire_id>/questions/<int:question_id>/delete",
          methods=["GET", "POST"])
@authz.role_required(*authz.STAFF_ROLES)
def delete_question(questionnaire_id: int, question_id: int) -> Any:
    """Ask for confirmation, then delete a question."""
    q, question = _question_or_404(questionnaire_id, question_id)
    form = PostForm()
    if request.method == "POST":
        commit_or_flash(lambda: services.delete_question(question=question),
                        _("Question deleted."))
        return redirect(url_for("skills.edit", questionnaire_id=q.id))
    return render_template("assessments/delete_question.html", q=q, question=question,
                           form=form)



# --- managing the framework ------------------------------------------------------------------


def _framework_or_404(framework_id: int, editable: bool = False) -> SkillFramework:
    """The built-in framework or this organization's copy (another's copy is 404)."""
    fw = db.session.get(SkillFramework, framework_id)
    org_id = authz.current_organization().id
    if fw is None or fw.organization_id not in (None, org_id) \
            or (editable and fw.organization_id is None):
        abort(404)
    return fw


def _frameworks_page(import_form: FlaskForm, errors: list[str]) -> str:
    org_id = authz.current_organization().id
    return render_template("assessments/frameworks.html", builtin=queries.builtin_framework(),
                           own=queries.org_framework(org_id),
                           in_use=queries.default_framework(org_id), form=PostForm(),
                           import_form=import_form, import_errors=errors)


@bp.route("/skills/frameworks")
@authz.role_required(*authz.STAFF_ROLES)
def frameworks() -> Any:
    """The built-in framework and the organization's copy: copy, edit, import and export."""
    return _frameworks_page(FrameworkImportForm(), [])


@bp.route("/skills/frameworks/<int:framework_id>/copy", methods=["POST"])
@authz.role_required(*authz.STAFF_ROLES)
def copy_framework(framework_id: int) -> Any:
    """Copy the built-in framework into the organization, which then uses its copy."""
    _framework_or_404(framework_id)
    had_copy = queries.org_framework(authz.current_organization().id) is not None
    fw = services.copy_framework(organization=authz.current_organization())
    db.session.commit()
    flash(_("Your organization already has its copy: edit it.") if had_copy else
          _("Copied. Your organization now uses this copy: edit it."), "success")
    return redirect(url_for("skills.edit_framework", framework_id=fw.id))


@bp.route("/skills/frameworks/<int:framework_id>/export.yaml")
@authz.role_required(*authz.STAFF_ROLES)
def export_framework(framework_id: int) -> Any:
    """Download a framework in the YAML import format."""
    fw = _framework_or_404(framework_id)
    return _yaml_download(defs.framework_to_yaml(services.framework_definition_of(fw)), fw.key)


@bp.route("/skills/frameworks/import", methods=["POST"])
@authz.role_required(*authz.STAFF_ROLES)
def import_framework() -> Any:
    """Import a framework file as the organization's copy (replacing its content)."""
    form = require_submitted(FrameworkImportForm())
    fw, errors = _imported(form, lambda source, name: services.import_framework(
        organization=authz.current_organization(), source=source, name=name))
    if fw is None:
        return _frameworks_page(form, errors), 422
    flash(_("Framework imported: your organization now uses it."), "success")
    return redirect(url_for("skills.edit_framework", framework_id=fw.id))


@bp.route("/skills/frameworks/<int:framework_id>/edit", methods=["GET", "POST"])
@authz.role_required(*authz.STAFF_ROLES)
def edit_framework(framework_id: int) -> Any:
    """Edit competency names, descriptions, level descriptors and target levels."""
    fw = _framework_or_404(framework_id, editable=True)

    def save() -> None:
        competencies = {c.code: {
            "name": _texts(f"{c.code}_name"), "description": _texts(f"{c.code}_description"),
            "levels": {lvl: _texts(f"{c.code}_level_{lvl}") for lvl in defs.LEVELS}}
            for c in fw.competencies}
        f = request.form
        targets = {t.job_family: {c.code: f.get(f"target_{t.job_family}_{c.code}", type=int)
                                  for c in fw.competencies} for t in fw.targets}
        services.update_framework(framework=fw, competencies=competencies, targets=targets)

    return _editor_page("assessments/edit_framework.html", save, _("Saved."),
                        url_for("skills.edit_framework", framework_id=fw.id), fallback="form",
                        fw=fw, family_labels=defs.JOB_FAMILY_LABELS, values=request.form)
