"""The forwarding admin page (/o/<slug>/xapi/forwarding) and ``relais xapi-outbox``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from forwarding_double import LrsDouble
from sqlalchemy import select

from lms.accounts.models import Organization, User
from lms.extensions import db
from lms.xapi import forwarding
from lms.xapi.forwarding_models import ExternalLrs, OutboxEntry, OutboxStatus
from tests.support import csrf_token


@pytest.fixture()
def double() -> Iterator[LrsDouble]:
    lrs = LrsDouble().start()
    yield lrs
    lrs.stop()


@pytest.fixture()
def org(create_org: Callable[..., Organization]) -> Organization:
    return create_org()


@pytest.fixture()
def admin(create_user: Callable[..., User], org: Organization) -> User:
    return create_user("admin", org=org)


def page(org: Organization) -> str:
    return f"/o/{org.slug}/xapi/forwarding"


def record_statements(org: Organization, count: int) -> list[str]:
    from lms.xapi.record import record

    statements = [{"id": str(uuid.uuid4()),
                   "actor": {"mbox": f"mailto:l{n}@example.com"},
                   "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                   "object": {"id": f"https://relais.test/activities/{n}"}}
                  for n in range(count)]
    record(statements, organization_id=org.id)
    db.session.commit()
    return [s["id"] for s in statements]


def configure(org: Organization, double: LrsDouble) -> None:
    forwarding.configure_external_lrs(organization_id=org.id, endpoint=double.url,
                                      key=double.key, secret=double.secret)
    db.session.commit()


def make_dead(org: Organization, count: int) -> list[str]:
    ids = record_statements(org, count)
    db.session.execute(OutboxEntry.__table__.update().where(
        OutboxEntry.organization_id == org.id,
        OutboxEntry.status == OutboxStatus.PENDING).values(
        status=OutboxStatus.DEAD, attempts=10, last_error="HTTP 503: down for maintenance"))
    db.session.commit()
    return ids


def statuses(org: Organization) -> list[OutboxStatus]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEntry.status).where(
        OutboxEntry.organization_id == org.id).order_by(OutboxEntry.statement_pk)))


# -- access --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["learner", "trainer", "hr"])
def test_only_admins_see_the_page(client: FlaskClient, login: Callable[..., Any],
                                  create_user: Callable[..., User], org: Organization,
                                  role: str) -> None:
    login(create_user(role, org=org))
    assert client.get(page(org)).status_code == 403
    assert client.post(page(org), data={"endpoint": "http://x.test", "key": "k",
                                        "secret": "s"}).status_code == 403
    assert client.post(page(org) + "/dead/retry-all", data={"confirm": "y"}).status_code == 403


def test_another_organizations_page_is_not_found(
        client: FlaskClient, login: Callable[..., Any], create_user: Callable[..., User],
        create_org: Callable[..., Organization], org: Organization) -> None:
    other = create_org()
    login(create_user("admin", org=other))
    assert client.get(page(org)).status_code == 404
    assert client.post(page(org) + "/test").status_code == 404


def test_anonymous_visitors_are_sent_to_login(client: FlaskClient, org: Organization) -> None:
    response = client.get(page(org))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- settings form ---------------------------------------------------------------------------


def test_admin_saves_settings_with_csrf_and_the_secret_is_never_shown(
        app: Flask, client: FlaskClient, login: Callable[..., Any], admin: User,
        org: Organization, double: LrsDouble) -> None:
    login(admin)
    app.config["WTF_CSRF_ENABLED"] = True
    form = client.get(page(org))
    assert form.status_code == 200
    token = csrf_token(form.get_data(as_text=True))

    refused = client.post(page(org), data={"endpoint": double.url, "key": double.key,
                                           "secret": double.secret, "enabled": "y"})
    assert refused.status_code in (400, 422)
    assert forwarding.external_lrs_for(org.id) is None

    saved = client.post(page(org), data={"csrf_token": token, "endpoint": double.url + "/",
                                         "key": double.key, "secret": double.secret,
                                         "enabled": "y"})
    assert saved.status_code == 302
    target = forwarding.external_lrs_for(org.id)
    assert target is not None and target.enabled and target.endpoint == double.url
    assert double.secret not in target.secret_encrypted

    html = client.get(page(org)).get_data(as_text=True)
    assert double.url in html and double.key in html
    assert double.secret not in html

    # Saving again without a secret keeps the stored one.
    client.post(page(org), data={"csrf_token": token, "endpoint": double.url,
                                 "key": double.key, "secret": "", "enabled": "y"})
    db.session.expire_all()
    target = forwarding.external_lrs_for(org.id)
    assert target is not None
    assert forwarding.decrypt_secret(target.secret_encrypted) == double.secret


def test_a_bad_endpoint_is_explained(client: FlaskClient, login: Callable[..., Any],
                                     admin: User, org: Organization) -> None:
    login(admin)
    response = client.post(page(org), data={"endpoint": "lrs.example.com", "key": "k",
                                            "secret": "s", "enabled": "y"})
    assert response.status_code == 422
    assert "http:// or https://" in response.get_data(as_text=True)
    assert forwarding.external_lrs_for(org.id) is None


def test_a_first_setup_needs_a_secret(client: FlaskClient, login: Callable[..., Any],
                                      admin: User, org: Organization) -> None:
    login(admin)
    response = client.post(page(org), data={"endpoint": "https://lrs.example.com/xapi",
                                            "key": "k", "secret": "", "enabled": "y"})
    assert response.status_code == 422
    assert forwarding.external_lrs_for(org.id) is None


def test_unticking_enabled_stops_forwarding(client: FlaskClient, login: Callable[..., Any],
                                            admin: User, org: Organization,
                                            double: LrsDouble) -> None:
    configure(org, double)
    login(admin)
    client.post(page(org), data={"endpoint": double.url, "key": double.key, "secret": ""})
    assert not forwarding.forwarding_enabled(org.id)
    record_statements(org, 2)
    assert statuses(org) == []


# -- test connection -------------------------------------------------------------------------


def test_test_connection_reports_success_and_failure(
        client: FlaskClient, login: Callable[..., Any], admin: User, org: Organization,
        double: LrsDouble) -> None:
    configure(org, double)
    login(admin)

    ok = client.post(page(org) + "/test", follow_redirects=True).get_data(as_text=True)
    assert "Connection works" in ok and "1.0.3" in ok
    assert double.requests[-1]["path"] == "/xapi/about"

    double.secret = "changed-on-the-lrs"
    bad = client.post(page(org) + "/test", follow_redirects=True).get_data(as_text=True)
    assert "Connection failed" in bad and "HTTP 401" in bad

    double.stop()
    down = client.post(page(org) + "/test", follow_redirects=True).get_data(as_text=True)
    assert "Connection failed" in down and "refused" in down


# -- queue and dead letters ------------------------------------------------------------------


def test_page_shows_counts_last_error_and_dead_letters(
        client: FlaskClient, login: Callable[..., Any], admin: User, org: Organization,
        double: LrsDouble) -> None:
    configure(org, double)
    record_statements(org, 3)
    forwarding.deliver_pending()
    dead_ids = make_dead(org, 2)
    record_statements(org, 1)
    double.stop()
    forwarding.deliver_pending()
    login(admin)

    html = client.get(page(org)).get_data(as_text=True)

    assert 'data-testid="count-pending">1<' in html
    assert 'data-testid="count-delivered">3<' in html
    assert 'data-testid="count-dead">2<' in html
    assert "Connection refused" in html  # the last error
    assert all(i in html for i in dead_ids) and "HTTP 503: down for maintenance" in html


def test_retry_one_dead_letter(client: FlaskClient, login: Callable[..., Any], admin: User,
                               org: Organization, double: LrsDouble) -> None:
    configure(org, double)
    make_dead(org, 2)
    entry = db.session.scalars(select(OutboxEntry).where(
        OutboxEntry.organization_id == org.id).order_by(OutboxEntry.statement_pk)).first()
    assert entry is not None
    login(admin)

    response = client.post(f"{page(org)}/dead/{entry.id}/retry")

    assert response.status_code == 302
    assert statuses(org) == [OutboxStatus.PENDING, OutboxStatus.DEAD]
    assert client.post(f"{page(org)}/dead/{entry.id}/retry").status_code == 404  # not dead now


def test_retry_one_cannot_reach_another_organizations_rows(
        client: FlaskClient, login: Callable[..., Any], admin: User, org: Organization,
        create_org: Callable[..., Organization], double: LrsDouble) -> None:
    other = create_org()
    configure(other, double)
    make_dead(other, 1)
    entry_id = db.session.scalar(select(OutboxEntry.id).where(
        OutboxEntry.organization_id == other.id))
    login(admin)

    assert client.post(f"{page(org)}/dead/{entry_id}/retry").status_code == 404
    assert statuses(other) == [OutboxStatus.DEAD]


def test_retry_all_needs_confirmation(app: Flask, client: FlaskClient,
                                      login: Callable[..., Any], admin: User,
                                      org: Organization, double: LrsDouble) -> None:
    configure(org, double)
    ids = make_dead(org, 3)
    login(admin)
    app.config["WTF_CSRF_ENABLED"] = True
    token = csrf_token(client.get(page(org)).get_data(as_text=True))

    unconfirmed = client.post(page(org) + "/dead/retry-all", data={"csrf_token": token})
    assert unconfirmed.status_code == 422
    assert "Tick the box to confirm" in unconfirmed.get_data(as_text=True)
    assert statuses(org) == [OutboxStatus.DEAD] * 3

    confirmed = client.post(page(org) + "/dead/retry-all",
                            data={"csrf_token": token, "confirm": "y"})
    assert confirmed.status_code == 302
    assert statuses(org) == [OutboxStatus.PENDING] * 3
    forwarding.deliver_pending()
    assert double.ids == ids


# -- CLI -------------------------------------------------------------------------------------


def test_cli_configure_status_deliver_and_disable(runner: FlaskCliRunner, org: Organization,
                                                  double: LrsDouble) -> None:
    result = runner.invoke(args=["xapi-outbox", "configure", "--org", org.slug, "--endpoint",
                                 double.url, "--key", double.key, "--secret", double.secret])
    assert result.exit_code == 0, result.output
    assert double.secret not in result.output
    ids = record_statements(org, 3)

    status = runner.invoke(args=["xapi-outbox", "status", "--org", org.slug])
    assert status.exit_code == 0
    assert "pending 3, delivered 0, dead 0" in status.output
    assert double.secret not in status.output

    deliver = runner.invoke(args=["xapi-outbox", "deliver", "--org", org.slug])
    assert deliver.exit_code == 0, deliver.output
    assert "delivered 3" in deliver.output
    assert double.ids == ids
    assert "pending 0, delivered 3, dead 0" in runner.invoke(
        args=["xapi-outbox", "status"]).output

    disabled = runner.invoke(args=["xapi-outbox", "configure", "--org", org.slug, "--disable"])
    assert disabled.exit_code == 0
    assert "forwarding off" in runner.invoke(args=["xapi-outbox", "status"]).output
    record_statements(org, 1)
    assert "pending 0" in runner.invoke(args=["xapi-outbox", "status", "--org", org.slug]).output


def test_cli_retry_dead(runner: FlaskCliRunner, org: Organization, double: LrsDouble) -> None:
    configure(org, double)
    ids = make_dead(org, 2)

    result = runner.invoke(args=["xapi-outbox", "retry-dead", "--org", org.slug])

    assert result.exit_code == 0 and "2 statements queued again" in result.output
    runner.invoke(args=["xapi-outbox", "deliver"])
    assert double.ids == ids


def test_cli_reports_errors_with_a_non_zero_exit(runner: FlaskCliRunner,
                                                 org: Organization) -> None:
    unknown = runner.invoke(args=["xapi-outbox", "status", "--org", "no-such-org"])
    assert unknown.exit_code == 1 and "no organization" in unknown.output
    bad = runner.invoke(args=["xapi-outbox", "configure", "--org", org.slug, "--endpoint",
                              "ftp://lrs", "--key", "k", "--secret", "s"])
    assert bad.exit_code == 1 and "http://" in bad.output
    nothing = runner.invoke(args=["xapi-outbox", "configure", "--org", org.slug, "--disable"])
    assert nothing.exit_code == 1
    assert db.session.scalar(select(ExternalLrs)) is None


def test_cli_deliver_reports_an_outage(runner: FlaskCliRunner, org: Organization,
                                       double: LrsDouble) -> None:
    configure(org, double)
    record_statements(org, 2)
    double.stop()

    result = runner.invoke(args=["xapi-outbox", "deliver"])

    assert result.exit_code == 0
    assert "retry later 2" in result.output and "Connection refused" in result.output


def test_cli_backfill(runner: FlaskCliRunner, org: Organization, double: LrsDouble) -> None:
    ids = record_statements(org, 2)
    configure(org, double)

    result = runner.invoke(args=["xapi-outbox", "backfill", "--org", org.slug,
                                 "--since", "2000-01-01"])

    assert result.exit_code == 0 and "2 statements queued" in result.output
    runner.invoke(args=["xapi-outbox", "deliver"])
    assert double.ids == ids


def test_cli_deliver_loop_runs_until_interrupted(runner: FlaskCliRunner, org: Organization,
                                                 double: LrsDouble, monkeypatch: Any) -> None:
    from lms.xapi import forwarding_cli

    configure(org, double)
    ids = record_statements(org, 3)
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 2:
            raise KeyboardInterrupt  # Ctrl+C while waiting for more work
        record_statements(org, 1)

    monkeypatch.setattr(forwarding_cli, "_wait", sleep)
    result = runner.invoke(args=["xapi-outbox", "deliver", "--loop", "--interval", "0.5"])

    assert result.exit_code == 0, result.output
    assert naps == [0.5, 0.5]
    assert result.output.count("delivered") == 2 and "stopped" in result.output
    assert double.ids[:3] == ids and len(double.ids) == 4
