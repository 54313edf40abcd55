"""Learners and HR see when a certificate ends and in how many days; admins are warned while
certificates' QR codes point at this computer (RELAIS_BASE_URL left at its default)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from lms.core.models import utcnow
from lms.extensions import db
from tests.certificates.test_validity import age, certificates, relogin, set_validity


def test_learner_and_hr_see_the_end_date_and_the_days_left(cert_world, client, login):
    w = cert_world
    set_validity(w)
    w.complete(w.enrollments[0])
    (certificate,) = certificates()
    # Noon of the 20th day from today (UTC): 20 calendar days left at any hour of the run.
    certificate.valid_until = datetime.combine(utcnow().date() + timedelta(days=20), time(12),
                                               UTC)
    db.session.commit()
    assert certificate.days_left(utcnow()) == 20
    login(w.learners[0])
    mine = client.get(f"/o/{w.org.slug}/certificates/mine").get_data(as_text=True)
    assert "Valid until" in mine and "expires in 20 days" in mine
    assert 'class="expires-soon"' in mine  # within 30 days: in the warning colour
    relogin(client, login, w.hr)
    for url in ("certificates", "certificates/expiring", f"certificates/{certificate.id}"):
        html = client.get(f"/o/{w.org.slug}/{url}").get_data(as_text=True)
        assert "expires in 20 days" in html, url


def test_days_left_counts_calendar_days_and_expired_reads_as_such(cert_world, client, login):
    w = cert_world
    set_validity(w)
    w.complete(w.enrollments[0])
    (certificate,) = certificates()
    noon = datetime.combine(date.today(), time(12), UTC)
    certificate.valid_until = noon.replace(hour=23)
    assert certificate.days_left(noon) == 0  # its last day: "expires today"
    certificate.valid_until = noon.replace(hour=1) + timedelta(days=1)
    assert certificate.days_left(noon) == 1
    age(certificate, expires_in_days=-3)
    login(w.learners[0])
    html = client.get(f"/o/{w.org.slug}/certificates/mine").get_data(as_text=True)
    assert "Expired" in html and "since" in html and "expires in" not in html


def test_admin_pages_warn_while_the_base_url_is_this_computer(cert_world, client, login, app):
    w = cert_world
    login(w.hr)
    warning = "point at http://127.0.0.1:5000, this computer"
    configured = app.config["BASE_URL"]
    assert warning not in client.get(f"/o/{w.org.slug}/certificates").get_data(as_text=True)
    app.config["BASE_URL"] = "http://127.0.0.1:5000"  # the default
    try:
        assert warning in client.get(f"/o/{w.org.slug}/certificates").get_data(as_text=True)
        relogin(client, login, w.trainer)
        assert warning in client.get(f"/o/{w.org.slug}/certificates/programs").get_data(
            as_text=True)
    finally:
        app.config["BASE_URL"] = configured
