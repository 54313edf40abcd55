"""The ``relais`` command line: organizations, people, tokens, init, demo and serve."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import lms
from lms.accounts import services
from lms.accounts.models import Membership, Organization, Role, User
from lms.extensions import db
from tests.support import sqlite_run_only


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_create_org(runner):
    result = runner.invoke(args=["create-org", "--slug", "acme", "--name", "ACME Corp"])
    assert result.exit_code == 0, result.output
    assert "Created organization acme (ACME Corp)" in result.output
    org = db.session.scalar(db.select(Organization).where(Organization.slug == "acme"))
    assert org.name == "ACME Corp"


@pytest.mark.parametrize(("args", "message"), [
    (["--slug", "Not A Slug", "--name", "X"], "invalid slug"),
    (["--slug", "-dash-", "--name", "X"], "invalid slug"),
    (["--slug", "ok", "--name", "   "], "name required"),
    (["--slug", "ok", "--name", "x" * 201], "name too long"),
])
def test_create_org_refuses_bad_input(runner, args, message):
    result = runner.invoke(args=["create-org", *args])
    assert result.exit_code == 1
    assert f"error: {message}" in result.stderr
    assert _count(Organization) == 0


def test_create_org_refuses_a_taken_slug(runner, create_org):
    create_org(slug="acme")
    result = runner.invoke(args=["create-org", "--slug", "ACME", "--name", "Other"])
    assert result.exit_code == 1
    assert "already exists" in result.stderr


def test_create_user_with_a_password_can_log_in(runner, create_org, client):
    org = create_org(slug="acme")
    result = runner.invoke(args=["create-user", "--org", "acme", "--email", "Boss@Acme.example",
                                 "--role", "admin", "--name", "The Boss",
                                 "--password", "a long enough secret"])
    assert result.exit_code == 0, result.output
    assert "Added boss@acme.example as admin in acme" in result.output
    assert "Invitation link" not in result.output
    user = services.find_user("boss@acme.example")
    assert user.display_name == "The Boss"
    assert [(m.organization_id, m.role) for m in user.memberships] == [(org.id, Role.ADMIN)]
    response = client.post("/login", data={"email": "boss@acme.example",
                                           "password": "a long enough secret"})
    assert response.status_code == 302


def test_create_user_without_password_prints_a_working_invitation_link(runner, create_org, app):
    create_org(slug="acme")
    result = runner.invoke(args=["create-user", "--org", "acme", "--email", "new@acme.example",
                                 "--role", "learner"])
    assert result.exit_code == 0, result.output
    link = result.output.split("Invitation link (send it to them): ")[1].strip()
    assert link.startswith("http://relais.test/invitations/")
    guest = app.test_client()
    response = guest.post(link.removeprefix("http://relais.test"), data={
        "display_name": "New", "password": "a long enough secret",
        "confirm": "a long enough secret"})
    assert response.status_code == 302
    assert services.find_user("new@acme.example").password_hash is not None


def test_create_user_again_updates_the_role(runner, create_org):
    org = create_org(slug="acme")
    runner.invoke(args=["create-user", "--org", "acme", "--email", "a@acme.example", "--role",
                        "learner", "--password", "a long enough secret"])
    result = runner.invoke(args=["create-user", "--org", "acme", "--email", "A@ACME.example",
                                 "--role", "trainer"])
    assert result.exit_code == 0
    assert "Updated a@acme.example as trainer" in result.output
    assert "Invitation link" not in result.output  # they have a password already
    user = services.find_user("a@acme.example")
    assert [(m.organization_id, m.role) for m in user.memberships] == [(org.id, Role.TRAINER)]


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--org", "nope", "--email", "a@b.example", "--role", "learner"], 1,
     "no organization with slug 'nope'"),
    (["--org", "acme", "--email", "not-an-address", "--role", "learner"], 1,
     "is not a valid e-mail address"),
    (["--org", "acme", "--email", "a@b.example", "--role", "boss"], 2,
     "Invalid value for '--role'"),
    (["--org", "acme", "--email", "a@b.example", "--role", "learner", "--password", "short"], 1,
     "password too short"),
    (["--org", "acme", "--role", "learner"], 2, "Missing option '--email'"),
])
def test_create_user_refuses_bad_input(runner, create_org, args, code, message):
    create_org(slug="acme")
    result = runner.invoke(args=["create-user", *args])
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert _count(User) == 0 and _count(Membership) == 0  # nothing half-written


def test_create_user_refuses_to_demote_the_last_admin(runner, create_org):
    create_org(slug="acme")
    runner.invoke(args=["create-user", "--org", "acme", "--email", "a@acme.example", "--role",
                        "admin", "--password", "a long enough secret"])
    result = runner.invoke(args=["create-user", "--org", "acme", "--email", "a@acme.example",
                                 "--role", "learner"])
    assert result.exit_code == 1
    assert "at least one administrator" in result.stderr


def test_token_prints_a_working_token(runner, create_user, client):
    user = create_user()
    result = runner.invoke(args=["token", "--email", user.email.upper(), "--name", "HR sync"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip()
    assert raw.startswith("rls_")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.get_json()["email"] == user.email


@pytest.mark.parametrize("active", [True, False])
def test_token_refuses_unknown_or_disabled_people(runner, create_user, active):
    email = "nobody@example.com"
    if not active:
        user = create_user(email=email)
        user.active = False
        db.session.commit()
    result = runner.invoke(args=["token", "--email", email])
    assert result.exit_code == 1
    assert "error:" in result.stderr and result.stdout == ""


def test_init_reports_the_database(runner):
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "Database ready:" in result.output


def test_demo_loads_the_demo_organization_and_is_idempotent(runner, app):
    result = runner.invoke(args=["demo", "--no-serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.output
    assert "relais-demo" in result.output
    for email in ("admin@maison-lumiere.example", "formatrice@maison-lumiere.example",
                  "rh@maison-lumiere.example"):
        assert email in result.output
    org = db.session.scalar(db.select(Organization).where(Organization.slug == "demo"))
    counts = (_count(User), _count(Membership))
    from lms.demo import LEARNERS

    assert counts[1] >= 3 + len(LEARNERS)  # admin, trainer, HR and the learners

    again = runner.invoke(args=["demo", "--no-serve", "--port", "8123"])
    assert again.exit_code == 0, again.output
    assert again.output == result.output
    assert (_count(User), _count(Membership)) == counts
    assert db.session.scalar(db.select(Organization.id).where(Organization.slug == "demo")) \
        == org.id

    client = app.test_client()
    response = client.post("/login", data={"email": "formatrice@maison-lumiere.example",
                                           "password": "relais-demo"})
    assert response.status_code == 302
    assert client.get("/o/demo/members").status_code == 200


def test_demo_reset_rebuilds_the_organization(runner):
    runner.invoke(args=["demo", "--no-serve"])
    members = _count(Membership)
    org = db.session.scalar(db.select(Organization).where(Organization.slug == "demo"))
    original_name = org.name
    org.name = "Changed by someone"
    db.session.delete(org.memberships[-1])
    db.session.commit()
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    assert _count(Membership) == members - 1  # without --reset nothing is rebuilt
    result = runner.invoke(args=["demo", "--no-serve", "--reset"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    org = db.session.scalar(db.select(Organization).where(Organization.slug == "demo"))
    assert org.name == original_name
    assert _count(Membership) == members and _count(Organization) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _relais(*args: str, env: dict[str, str], **kwargs):
    """Run the ``relais`` entry point of this checkout in a new process."""
    code = "import sys; from lms.cli import main; sys.argv[0] = 'relais'; main()"
    root = Path(lms.__file__).resolve().parent.parent
    return [sys.executable, "-c", code, *args], {"env": env, "cwd": root, **kwargs}


@pytest.mark.slow
@sqlite_run_only("new processes on a SQLite file of their own")
def test_serve_answers_requests(tmp_path):
    env = {**os.environ, "RELAIS_INSTANCE_PATH": str(tmp_path),
           "RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    env.pop("RELAIS_SECRET_KEY", None)
    argv, kwargs = _relais("init", env=env)
    init = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)
    assert init.returncode == 0, init.stderr
    assert "serve.db" in init.stdout

    port = _free_port()
    argv, kwargs = _relais("serve", "--port", str(port), env=env)
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwargs)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    status, server_header, body = r.status, r.headers["Server"], r.read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert status == 200
        # A production server (gunicorn, or Waitress named after us), not Werkzeug's.
        assert server_header in {"gunicorn", "relais"}, server_header
        assert b"<h1>Log in</h1>" in body
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        if server.stdout:
            server.stdout.close()


@pytest.mark.slow
@sqlite_run_only("new processes on a SQLite file of their own")
def test_demo_prints_its_banner_and_nothing_else(tmp_path):
    """A newcomer sees the banner first and no migration or server log lines under it."""
    env = {**os.environ, "RELAIS_INSTANCE_PATH": str(tmp_path),
           "RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    for name in ("RELAIS_SECRET_KEY", "RELAIS_LOG_LEVEL", "RELAIS_BROKER_URL"):
        env.pop(name, None)
    port = _free_port()
    argv, kwargs = _relais("demo", "--port", str(port), env=env)
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              **kwargs)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    assert r.status == 200
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        try:
            output, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate(timeout=10)
    lines = output.splitlines()
    assert lines[0] == "Relais demo is ready.", output
    assert f"  URL:      http://127.0.0.1:{port}/" in lines
    assert "  Password: relais-demo (for every account below)" in lines
    assert "alembic" not in output.lower() and "Running upgrade" not in output
    # Neither gunicorn's start-up lines nor the request just made are logged.
    assert "gunicorn" not in output and "level=info" not in output and "/login" not in output
    assert "--all-logins" in output and "Votre compte" in output
    assert lines[-1].startswith("Serving until Ctrl+C"), output
    # The 3 staff accounts, 3 learners, then one line saying how to list the other learners
    # (the pilot's, the second wave and the colleagues not trained yet).
    from lms.demo import LEARNERS

    [more] = [line for line in lines if "more learners" in line]
    hidden = int(more.split("and ")[1].split()[0])
    assert hidden >= len(LEARNERS) - 3
    assert more == (f"  …         and {hidden} more learners: `relais demo --no-serve "
                    "--all-logins` lists every account")
    assert sum(" learner " in f" {line} " for line in lines) == 3
    # The three shown are the first of the pilot, whom the demo's story follows.
    assert "  learner   camille.martin@maison-lumiere.example" in lines

    argv, kwargs = _relais("demo", "--no-serve", "--all-logins", "--verbose", env=env)
    again = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)
    assert again.returncode == 0, again.stderr
    assert "[alembic" in again.stderr  # --verbose shows the migration tool's log
    for first, last, _team, _family in LEARNERS:
        email = f"{first.lower().replace('é', 'e').replace('è', 'e')}.{last.lower()}" \
                "@maison-lumiere.example"
        assert f"  learner   {email}" in again.stdout.splitlines()
    assert "more learners" not in again.stdout
