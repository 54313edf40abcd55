"""Production mode: /healthz, reverse-proxy headers, logs, pool settings, SMTP, backups."""

from __future__ import annotations

import gc
import json
import logging
import shutil
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from flask import request
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Organization, Role
from lms.extensions import db
from lms.serving import KeyValueFormatter, _proxy_fix_counts, warm_up
from tests.support import REDIS_HEALTH_URL, need, redis_up, smtp_listener

# -- /healthz ------------------------------------------------------------------------------------


def test_healthz_is_ok_in_embedded_mode(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "embedded"}


def test_healthz_checks_the_real_redis_broker(app, client):
    need(redis_up(REDIS_HEALTH_URL), f"Redis is not running at {REDIS_HEALTH_URL}")
    app.config["BROKER_URL"] = REDIS_HEALTH_URL
    try:
        response = client.get("/healthz")
    finally:
        app.config["BROKER_URL"] = None
    assert response.status_code == 200 and response.get_json()["broker"] == "ok"


def test_healthz_is_503_when_the_broker_is_unreachable(app, client):
    app.config["BROKER_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        app.config["BROKER_URL"] = None
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "ok",
                                   "broker": "unreachable"}


def test_healthz_is_503_when_the_database_is_unreachable(other_app, tmp_path):
    broken = other_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/x.db")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


# -- reverse proxy, logs, pool -----------------------------------------------------------------


def test_proxy_fix_trusts_forwarded_headers_only_when_configured(other_app, tmp_path):
    url = f"sqlite:///{tmp_path}/p.db"
    behind = other_app(SQLALCHEMY_DATABASE_URI=url, PROXY_FIX="1,1,1,1,0")
    direct = other_app(SQLALCHEMY_DATABASE_URI=url)
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "relais.example.com",
               "X-Forwarded-For": "203.0.113.9"}
    for app in (behind, direct):
        app.add_url_rule("/_probe", "probe", lambda: f"{request.url} {request.remote_addr}")
    assert behind.test_client().get("/_probe", headers=headers).get_data(as_text=True) == \
        "https://relais.example.com/_probe 203.0.113.9"
    assert direct.test_client().get("/_probe", headers=headers).get_data(as_text=True) == \
        "http://localhost/_probe 127.0.0.1"


def test_warm_up_compiles_every_template_and_freezes_what_is_alive(app, client, login,
                                                                  create_user):
    # What `relais serve` does before its first request: no request compiles a template or
    # loads a locale's data, and the collector no longer scans the app's objects.
    frozen = gc.get_freeze_count()
    try:
        warm_up(app)
        names = app.jinja_env.list_templates()
        assert names and app.jinja_env.cache is not None
        assert len(app.jinja_env.cache) == len(names)
        assert gc.get_freeze_count() > frozen
        # The app serves as before.
        user = create_user(Role.ADMIN, email="warm@example.com")
        login(user)
        assert client.get("/").status_code in (200, 302)
    finally:
        gc.unfreeze()


def test_proxy_fix_setting_is_parsed():
    assert _proxy_fix_counts("1,1,1,1,0") == {"x_for": 1, "x_proto": 1, "x_host": 1,
                                              "x_port": 1, "x_prefix": 0}
    assert _proxy_fix_counts(2)["x_for"] == 2
    assert _proxy_fix_counts(None) == {}
    with pytest.raises(ValueError):
        _proxy_fix_counts("yes")


def test_access_log_is_key_value_and_hides_invitation_tokens(client, caplog):
    with caplog.at_level(logging.INFO, logger="relais.access"):
        client.get("/invitations/s3cr3t-token-value")
        client.get("/healthz")
    records = [r for r in caplog.records if r.name == "relais.access"]
    assert len(records) == 2
    lines = [KeyValueFormatter().format(r) for r in records]
    assert "s3cr3t" not in " ".join(lines)
    assert "path=/invitations/[redacted]" in lines[0] and "status=404" in lines[0]
    assert "method=GET" in lines[1] and "path=/healthz" in lines[1] and "status=200" in lines[1]


def test_json_logs_are_one_object_per_line():
    from lms.serving import JsonFormatter

    record = logging.LogRecord("relais.jobs", logging.INFO, __file__, 1, "job %s done", (3,),
                               None)
    record.job = 3
    data = json.loads(JsonFormatter().format(record))
    assert data["msg"] == "job 3 done" and data["job"] == 3 and data["level"] == "info"


def test_pool_settings_come_from_the_environment(other_app, monkeypatch):
    monkeypatch.setenv("RELAIS_DB_POOL_SIZE", "7")
    monkeypatch.setenv("RELAIS_DB_MAX_OVERFLOW", "3")
    monkeypatch.setenv("RELAIS_DB_POOL_RECYCLE", "1800")
    app = other_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://relais@127.0.0.1:1/relais")
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert (options["pool_size"], options["max_overflow"], options["pool_recycle"]) == \
        (7, 3, 1800)
    with app.app_context():
        assert db.engine.pool.size() == 7  # nothing connects until a query runs


# -- mail ---------------------------------------------------------------------------------------


@pytest.fixture()
def smtp_server() -> Iterator[Any]:
    with smtp_listener() as server:
        yield server


def test_an_invitation_from_the_members_page_arrives_by_smtp(app, client, login, create_user,
                                                             smtp_server):
    trainer = create_user(Role.TRAINER)
    org = trainer.memberships[0].organization
    login(trainer)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.server_address[1])
    try:
        response = client.post(f"/o/{org.slug}/members/invite",
                               data={"email": "newcomer@example.com", "role": "learner"},
                               follow_redirects=True)
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    assert response.status_code == 200
    assert "Invitation sent to newcomer@example.com" in response.get_data(as_text=True)
    assert len(smtp_server.messages) == 1
    mail = message_from_bytes(smtp_server.messages[0])
    assert mail["To"] == "newcomer@example.com"
    body = mail.get_payload(decode=True).decode()
    assert "http://relais.test/invitations/" in body


def test_without_a_mail_server_the_invitation_is_logged_and_shown(client, login, create_user,
                                                                   caplog):
    admin = create_user(Role.ADMIN)
    org = admin.memberships[0].organization
    login(admin)
    with caplog.at_level(logging.INFO, logger="lms.core.mail"):
        response = client.post(f"/o/{org.slug}/members/invite",
                               data={"email": "other@example.com", "role": "learner"},
                               follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "No mail server is configured" in html and "http://relais.test/invitations/" in html
    assert any("mail not sent" in r.getMessage() for r in caplog.records)


# -- backups ------------------------------------------------------------------------------------


def test_backup_and_restore_bring_the_database_back(runner, tmp_path):
    if db.engine.dialect.name == "postgresql":
        need(bool(shutil.which("pg_dump") and shutil.which("pg_restore")),
             "pg_dump/pg_restore are not on the PATH")
    accounts.create_organization(slug="before", name="Before")
    db.session.commit()
    out = tmp_path / "relais.backup"
    result = runner.invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0

    accounts.create_organization(slug="after", name="After")
    db.session.commit()
    refused = runner.invoke(args=["restore", str(out)], input="n\n")
    assert refused.exit_code != 0
    assert db.session.scalar(select(Organization.id).where(Organization.slug == "after"))
    db.session.remove()

    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    slugs = set(db.session.scalars(select(Organization.slug)))
    assert slugs == {"before"}


def test_a_restore_that_fails_changes_nothing(runner, tmp_path):
    if db.engine.dialect.name == "postgresql":
        need(bool(shutil.which("pg_dump") and shutil.which("pg_restore")
                  and shutil.which("psql")), "pg_dump/pg_restore/psql are not on the PATH")
    accounts.create_organization(slug="kept", name="Kept")
    db.session.commit()
    out = tmp_path / "relais.backup"
    assert runner.invoke(args=["backup", "--out", str(out)]).exit_code == 0
    # A backup cut short (a full disk, a copy interrupted): its head is still a backup's.
    out.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    accounts.create_organization(slug="later", name="Later")
    db.session.commit()
    db.session.remove()

    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code != 0
    assert set(db.session.scalars(select(Organization.slug))) == {"kept", "later"}


def test_restore_refuses_a_file_that_is_not_a_backup(runner, tmp_path):
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"hello, not a database")
    result = runner.invoke(args=["restore", str(bogus), "--yes"])
    assert result.exit_code == 1 and "not" in result.output
