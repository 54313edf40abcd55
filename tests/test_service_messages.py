"""Errors raised by services reach people (flashes, the API's JSON envelope, job pages), so their
messages are marked for translation: never a plain string literal."""

from __future__ import annotations

import ast
from pathlib import Path

from flask_babel import lazy_gettext as _l

from lms.accounts.models import Role
from lms.core.errors import ValidationFailed
from lms.extensions import db
from lms.jobs import messages, services
from lms.jobs.models import Job
from lms.jobs.runner import run_job
from tests.support import registered_job, sqlite_run_only

LMS = Path(__file__).resolve().parent.parent / "lms"
# The LRS answers xAPI clients with the protocol's English error bodies.
EXCLUDED = (LMS / "xapi",)
BASES = {"DomainError", "ValidationFailed", "BadRequest", "NotFound", "Forbidden", "Conflict"}
READS_THE_CODE = sqlite_run_only("it reads the code, not the database")


def _sources() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for path in sorted(LMS.rglob("*.py"))
            if not any(path.is_relative_to(excluded) for excluded in EXCLUDED)}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _domain_errors(trees: dict[Path, ast.Module]) -> set[str]:
    """The names of lms.core.errors' errors and of their subclasses defined in lms."""
    names = set(BASES)
    classes = [node for tree in trees.values() for node in ast.walk(tree)
               if isinstance(node, ast.ClassDef)]
    grown = True
    while grown:
        grown = False
        for cls in classes:
            if cls.name not in names and any(_name(base) in names for base in cls.bases):
                names.add(cls.name)
                grown = True
    return names


def _plain(node: ast.expr | None) -> bool:
    """A string that will reach people untranslated: a literal or an f-string."""
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) \
        or isinstance(node, ast.JoinedStr)


def _dict_values(node: ast.expr) -> list[ast.expr | None]:
    if isinstance(node, ast.Dict):
        return list(node.values)
    if isinstance(node, ast.DictComp):
        return [node.value]
    return []


def _field_texts(scope: ast.AST, names: set[str]) -> list[ast.expr | None]:
    """What a function puts in the dicts it passes as ``fields=``: ``fields["x"] = ...``,
    ``fields = {...}``."""
    texts: list[ast.expr | None] = []
    for node in ast.walk(scope):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Subscript) and _name(target.value) in names:
                    texts.append(node.value)
                elif isinstance(target, ast.Name) and target.id in names:
                    texts.extend(_dict_values(node.value))
    return texts


def _untranslated(trees: dict[Path, ast.Module]) -> list[str]:
    errors = _domain_errors(trees)
    found = []
    for path, tree in trees.items():
        scopes = [node for node in ast.walk(tree)
                  if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name(node.func) in errors):
                continue
            texts: list[ast.expr | None] = [node.args[0] if node.args else None]
            variables = set()
            for keyword in node.keywords:
                if keyword.arg == "message":
                    texts.append(keyword.value)
                elif keyword.arg == "fields":
                    texts.extend(_dict_values(keyword.value))
                    if isinstance(keyword.value, ast.Name):
                        variables.add(keyword.value.id)
            if variables:
                # The innermost function around the call builds the dict.
                around = [scope for scope in scopes
                          if scope.lineno <= node.lineno <= (scope.end_lineno or 0)]
                if around:
                    texts.extend(_field_texts(max(around, key=lambda s: s.lineno), variables))
            if any(_plain(text) for text in texts):
                found.append(f"{path.relative_to(LMS.parent)}:{node.lineno} {_name(node.func)}")
    return found


@READS_THE_CODE
def test_the_check_knows_the_errors_subclassed_in_services():
    errors = _domain_errors(_sources())
    assert {"ValidationFailed", "SsoFailed", "LtiFailed", "ImportRejected",
            "QuotaExceeded"} <= errors
    assert "ContentError" not in errors and "ScimError" not in errors


@READS_THE_CODE
def test_the_check_catches_a_plain_message_and_a_plain_field_text():
    tree = ast.parse(
        'raise NotFound("No such member.")\n'
        'raise ValidationFailed(_l("Bad."), fields={"file": "empty file"})\n'
        'raise Conflict(f"{name} exists")\n'
        'raise ValidationFailed(_l("Bad."), fields={"file": _l("Empty file.")})\n'
        'def check(title):\n'
        '    fields = {}\n'
        '    if not title:\n'
        '        fields["title"] = "required"\n'
        '    raise ValidationFailed(_l("Bad."), fields=fields)\n'
        'def check_all(names):\n'
        '    missing = {name: "Required." for name in names}\n'
        '    raise BadRequest(_l("Bad."), fields=missing)\n')
    assert [line.split(":")[1] for line in _untranslated({LMS / "example.py": tree})] \
        == ["1 NotFound", "2 ValidationFailed", "3 Conflict", "9 ValidationFailed",
            "12 BadRequest"]


@READS_THE_CODE
def test_every_service_error_message_is_marked_for_translation():
    found = _untranslated(_sources())
    assert not found, "untranslated error messages (wrap them in _l(...)):\n" + "\n".join(found)


# -- what people see -----------------------------------------------------------------------------

def test_the_api_refuses_to_erase_oneself_in_the_caller_s_language(create_org, create_user,
                                                                   client, api_token):
    org = create_org(slug="acme")
    admin = create_user(Role.ADMIN, org=org)
    url = f"/api/v1/orgs/acme/members/{admin.memberships[0].id}/erase"
    headers = api_token(admin)
    french = client.post(url, headers={**headers, "Accept-Language": "fr"})
    assert french.status_code == 409
    assert french.get_json()["error"] == {"code": "conflict", "fields": {},
                                          "message": "Vous ne pouvez pas vous effacer vous-même."}
    english = client.post(url, headers={**headers, "Accept-Language": "en"})
    assert english.get_json()["error"]["message"] == "You cannot erase yourself."


def test_a_job_refused_by_a_service_shows_its_error_in_the_reader_s_language(
        create_org, create_user, client, login):
    org = create_org()
    user = create_user(Role.HR, org=org)

    def refused(job, report_progress):
        raise ValidationFailed(_l("The organization no longer exists."))

    with registered_job("tests.refused", refused):
        job = services.enqueue(kind="tests.refused", organization=org, created_by=user)
        db.session.commit()
        assert run_job(job.id) == "failed"
    # Stored untranslated, as job messages are; translated for each reader.
    stored = db.session.get(Job, job.id)
    db.session.refresh(stored)
    assert stored.error is not None and stored.error.startswith(messages.PREFIX)
    login(user)
    url = f"/o/{org.slug}/jobs/{job.id}"
    status = client.get(f"{url}/status", headers={"Accept-Language": "fr"}).get_json()
    assert (status["state_label"], status["error"]) == ("Échec", "L'organisation n'existe plus.")
    page = client.get(url, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "L&#39;organisation n&#39;existe plus." in page
    english = client.get(f"{url}/status", headers={"Accept-Language": "en"}).get_json()
    assert english["error"] == "The organization no longer exists."
