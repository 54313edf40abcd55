"""Program pages on the courses blueprint: the programs and the catalogue, a program's
modules, editing a module or a lesson, import and export.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.accounts.authz import STAFF_ROLES, current_organization, role_required
from lms.core.errors import DomainError
from lms.core.markdown import render_markdown
from lms.core.web import chosen_file, commit_or_errors, commit_or_flash, form_int
from lms.courses.cohorts.queries import cohorts
from lms.courses.programs import definitions as defs
from lms.courses.programs import queries, services
from lms.courses.programs.models import KINDS, Program
from lms.courses.web import (
    bp,
    lesson_or_404,
    module_or_404,
    module_url,
    page_context,
    page_language,
    program_or_404,
)
from lms.extensions import db

# --- programs ---------------------------------------------------------------------------------


@bp.get("/programs")
@role_required(*STAFF_ROLES)
def programs() -> Any:
    """The organization's programs and the catalogue to copy from."""
    return _programs_page()


def _programs_page(status: int = 200, **context: Any) -> Any:
    return render_template("courses/programs.html",
                           programs=queries.programs(current_organization().id),
                           catalogue=queries.catalogue(), languages=defs.LANGUAGES,
                           **context, **page_context()), status


def _opened(create: Callable[[], Program], refused_url: str, done: str | None = None) -> Any:
    """Make a program with ``create`` and open it (saying ``done``); when the service refuses,
    go back to ``refused_url`` with its message.
    """
    program = commit_or_flash(create, done)
    return redirect(refused_url if program is None
                    else url_for(".program", program_id=program.id))


@bp.post("/programs/copy")
@role_required(*STAFF_ROLES)
def copy_program() -> Any:
    """Copy a catalogue program into the organization."""
    return _opened(lambda: services.copy_from_catalogue(
        organization=current_organization(), slug=request.form.get("slug", "")),
        url_for(".programs"), _("The program was copied; adapt it to the organization."))


@bp.post("/programs/<int:program_id>/copy")
@role_required(*STAFF_ROLES)
def duplicate_program(program_id: int) -> Any:
    """Copy one of the organization's programs, to adapt a variant of it."""
    source = program_or_404(program_id)
    return _opened(lambda: services.copy_program(source=source),
                   url_for(".program", program_id=source.id),
                   _("The program was copied; adapt it to the organization."))


@bp.post("/programs/new")
@role_required(*STAFF_ROLES)
def new_program() -> Any:
    """Start a program from scratch."""
    return _opened(lambda: services.create_blank_program(
        organization=current_organization(), title=request.form.get("title", ""),
        language=request.form.get("language", "")), url_for(".programs"))


@bp.post("/programs/import")
@role_required(*STAFF_ROLES)
def import_program() -> Any:
    """Import a program exported as a zip (YAML + Markdown)."""
    upload = chosen_file(_("Choose a zip file to import."))
    if upload is None:
        return redirect(url_for(".programs"))
    try:
        program = services.import_program(organization=current_organization(),
                                          data=upload.read(20_000_001))
    except DomainError as exc:
        db.session.rollback()
        return _programs_page(422, import_errors=exc.fields.get("file", exc.message).splitlines())
    db.session.commit()
    flash(_("The program was imported."), "success")
    return redirect(url_for(".program", program_id=program.id))


@bp.get("/programs/<int:program_id>")
@role_required(*STAFF_ROLES)
def program(program_id: int) -> Any:
    """A program's modules in order, with reordering and editing."""
    prog = program_or_404(program_id)
    return render_template("courses/program.html", program=prog,
                           cohorts=cohorts(current_organization().id, prog.id),
                           kinds=KINDS, **page_context())


@bp.get("/programs/<int:program_id>/export.zip")
@role_required(*STAFF_ROLES)
def export_program(program_id: int) -> Any:
    """Download a program as a zip of program.yaml and lessons/*.md."""
    prog = program_or_404(program_id)
    data = defs.to_zip(services.definition_of(prog))
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{prog.slug}.zip"'})


@bp.post("/programs/<int:program_id>/modules")
@role_required(*STAFF_ROLES)
def add_module(program_id: int) -> Any:
    """Append a module."""
    prog = program_or_404(program_id)
    commit_or_flash(lambda: services.add_module(program=prog, kind=request.form.get("kind", ""),
                                                title=request.form.get("title", "")))
    return redirect(url_for(".program", program_id=prog.id))


@bp.post("/programs/<int:program_id>/modules/<int:module_id>/lessons")
@role_required(*STAFF_ROLES)
def add_lesson(program_id: int, module_id: int) -> Any:
    """Append a lesson to an e-learning module, then edit it."""
    module = module_or_404(program_id, module_id)
    lesson = commit_or_flash(lambda: services.add_lesson(module=module,
                                                         title=request.form.get("title", "")))
    if lesson is None:
        return redirect(module_url(program_id, module.id))
    return redirect(url_for(".edit_lesson", program_id=program_id, lesson_id=lesson.id))


@bp.post("/programs/<int:program_id>/modules/<int:module_id>/move")
@role_required(*STAFF_ROLES)
def move_module(program_id: int, module_id: int) -> Any:
    """Move a module up or down."""
    module = module_or_404(program_id, module_id)
    services.move_module(module=module, direction=request.form.get("direction", ""))
    db.session.commit()
    return redirect(module_url(program_id, module.id))


def _rule_from_form() -> dict[str, Any] | None:
    """The completion rule posted with a module (its number only where the kind uses one)."""
    kind = request.form.get("completion")
    if kind is None:
        return None
    rule: dict[str, Any] = {"type": kind}
    if kind == "quiz_passed":
        rule["pass_mark"] = form_int(request.form.get("pass_mark"))
        if request.form.get("pass_mark", "").strip() and rule["pass_mark"] is None:
            rule["pass_mark"] = -1  # not a number: let the service refuse it
    elif kind == "followups_held":
        # A coaching plan's number of follow-ups, when posted, is the rule's count.
        rule["count"] = form_int(request.form.get("followups") or request.form.get("count")) or 1
    return rule


def _plan_from_form() -> dict[str, Any] | None:
    """The coaching plan posted with a coaching module (None when the form has none)."""
    if "followups" not in request.form:
        return None
    return {name: form_int(request.form.get(field)) for name, field in (
        ("followups", "followups"), ("spacing_days", "spacing_days"),
        ("duration_minutes", "followup_minutes"))}


@bp.route("/programs/<int:program_id>/modules/<int:module_id>", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def edit_module(program_id: int, module_id: int) -> Any:
    """Edit a module's title, description, requirement, duration and competencies."""
    module = module_or_404(program_id, module_id)
    prog = module.program
    lang = page_language()
    errors: dict[str, str] = {}
    if request.method == "POST":
        duration = request.form.get("duration_minutes", "").strip()
        refused = commit_or_errors(lambda: services.update_module(
            module=module, language=lang, title=request.form.get("title", ""),
            description=request.form.get("description", ""),
            required=request.form.get("required") == "on",
            duration_minutes=form_int(duration) if duration else None,
            competencies=request.form.getlist("competencies"),
            completion=_rule_from_form(), coaching=_plan_from_form(),
            prerequisites=request.form.getlist("prerequisites")))
        if refused is None:
            flash(_("The module was saved."), "success")
            return redirect(url_for(".program", program_id=prog.id))
        errors = refused
    return render_template("courses/edit_module.html", program=prog, module=module, lang=lang,
                           errors=errors, codes=defs.COMPETENCY_CODES, rules=defs.RULES,
                           earlier=[m for m in prog.modules if m.position < module.position],
                           **page_context()), \
        422 if errors else 200


@bp.route("/programs/<int:program_id>/lessons/<int:lesson_id>", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def edit_lesson(program_id: int, lesson_id: int) -> Any:
    """Edit a lesson's Markdown, with a preview rendered on the server."""
    lesson = lesson_or_404(program_id, lesson_id)
    prog = lesson.module.program
    lang = page_language()
    title = lesson.title.get(lang, "")
    body = lesson.body.get(lang, "")
    video = lesson.video_url or ""
    preview, errors = None, {}
    if request.method == "POST":
        title, body = request.form.get("title", ""), request.form.get("body", "")
        video = request.form.get("video_url", "")
        if request.form.get("action") == "preview":
            preview = render_markdown(body)
        else:
            refused = commit_or_errors(lambda: services.update_lesson(
                lesson=lesson, language=lang, title=title, body=body, video_url=video))
            if refused is None:
                flash(_("The lesson was saved."), "success")
                return redirect(url_for(".program", program_id=prog.id))
            errors = refused
    return render_template("courses/edit_lesson.html", program=prog, lesson=lesson, lang=lang,
                           title=title, body=body, video=video, preview=preview, errors=errors,
                           **page_context()), 422 if errors else 200
