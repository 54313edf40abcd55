"""Issuing: automatically on completion (the real progress path), by hand with a reason,
re-issue, revocation; frozen snapshot; xAPI statements."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from lms.certificates import services
from lms.certificates.models import Certificate
from lms.core.errors import Conflict, ValidationFailed
from lms.courses.cohorts.models import COMPLETED
from lms.extensions import db
from lms.xapi.models import Statement


def certificates() -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).order_by(Certificate.id)))


def cert_statements(verb: str) -> list[dict]:
    rows = db.session.scalars(select(Statement.data).where(Statement.verb_id.like(f"%/{verb}")))
    return [json.loads(d) for d in rows
            if "/xapi/activities/certificate/" in json.loads(d)["object"]["id"]]


def test_completing_the_program_issues_one_certificate(cert_world):
    w = cert_world
    e = w.enrollments[0]
    assert certificates() == []
    w.complete(e)
    db.session.refresh(e)
    assert e.status == COMPLETED
    (cert,) = certificates()
    assert (cert.enrollment_id, cert.user_id, cert.program_id, cert.cohort_id) == (
        e.id, w.learners[0].id, w.program.id, w.cohort.id)
    assert cert.issued_by_id is None and cert.reason is None and not cert.revoked
    assert len(cert.code) >= 20
    s = cert.snapshot
    assert s["learner"]["name"] == "Learner 0"
    assert s["program"]["title"]["fr"] == "Parcours ambassadeurs en six semaines (copie)"
    assert s["cohort"]["name"] == "Pilot group"
    assert s["dates"]["start"] == "2026-10-01"
    assert s["issuer"] == {"organization": "Acme Formation", "signatory": "Tess Trainer"}
    required = [m for m in w.program.modules if m.required]
    assert [m["key"] for m in s["modules"]] == [m.key for m in required]
    expected = sum((m.duration_minutes or 0) for m in required) / 60
    assert s["hours"]["total"] == pytest.approx(expected, abs=0.05)
    assert set(s["hours"]["by_kind"]) == {m.kind for m in required}
    assert s["objectives"] and all("code" in o for o in s["objectives"])
    # Statement "earned", with the enrolment as registration.
    (earned,) = cert_statements("earned")
    assert earned["context"]["registration"] == e.id
    # Completing again (another statement) does not issue a second one.
    w.complete(e)
    assert len(certificates()) == 1
    # Others are untouched.
    assert all(c.enrollment_id == e.id for c in certificates())


def test_manual_issue_needs_a_reason_and_no_valid_certificate(cert_world):
    w = cert_world
    e = w.enrollments[1]
    with pytest.raises(ValidationFailed):
        services.issue_manually(enrollment=e, issued_by=w.trainer, reason="  ")
    cert = services.issue_manually(enrollment=e, issued_by=w.trainer,
                                   reason="Completed at the partner's academy")
    db.session.commit()
    assert cert.issued_by_id == w.trainer.id and cert.reason.startswith("Completed")
    assert cert.snapshot["evaluation"]["completed"] is False
    with pytest.raises(Conflict):
        services.issue_manually(enrollment=e, issued_by=w.trainer, reason="again")
    (earned,) = cert_statements("earned")
    assert earned["context"]["instructor"]["account"]["name"] == str(w.trainer.id)


def test_snapshot_is_frozen_when_the_program_changes(cert_world):
    w = cert_world
    w.complete(w.enrollments[0])
    (cert,) = certificates()
    before = json.loads(json.dumps(cert.snapshot))
    w.program.title = {"fr": "Autre titre", "en": "Other title"}
    w.program.modules[0].duration_minutes = 999
    w.cohort.name = "Renamed"
    w.learners[0].display_name = "Someone Else"
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).snapshot == before


def test_reissue_creates_a_new_certificate_and_keeps_history(cert_world):
    w = cert_world
    w.complete(w.enrollments[0])
    (old,) = certificates()
    issued_at = old.issued_at
    w.learners[0].display_name = "Learner Zero-Corrected"
    db.session.commit()
    new = services.reissue(certificate=old, issued_by=w.trainer, reason="Name corrected")
    db.session.commit()
    assert new.id != old.id and new.code != old.code and new.replaces_id == old.id
    assert new.snapshot["learner"]["name"] == "Learner Zero-Corrected"
    db.session.refresh(old)
    assert old.revoked and old.issued_at == issued_at  # never re-dated
    assert old.snapshot["learner"]["name"] == "Learner 0"
    with pytest.raises(Conflict):
        services.reissue(certificate=old, issued_by=w.trainer, reason="twice")


def test_revoke_needs_a_reason_and_is_recorded(cert_world):
    w = cert_world
    w.complete(w.enrollments[0])
    (cert,) = certificates()
    key = cert.pdf_key
    with pytest.raises(ValidationFailed):
        services.revoke(certificate=cert, revoked_by=w.hr, reason="")
    services.revoke(certificate=cert, revoked_by=w.hr, reason="Fraud")
    db.session.commit()
    assert cert.revoked and cert.revocation_reason == "Fraud" and cert.pdf_key != key
    (revoked,) = cert_statements("revoked")
    assert revoked["actor"]["account"]["name"] == str(w.hr.id)
    with pytest.raises(Conflict):
        services.revoke(certificate=cert, revoked_by=w.hr, reason="again")


def test_a_broken_template_does_not_block_completion(cert_world, monkeypatch):
    from lms.certificates import definitions

    def broken(key):
        raise definitions.ContentError([f"{key}: broken"])

    monkeypatch.setattr(definitions, "load", broken)
    w = cert_world
    w.complete(w.enrollments[0])
    db.session.refresh(w.enrollments[0])
    assert w.enrollments[0].status == COMPLETED and certificates() == []


def test_template_folder_errors_name_the_file(tmp_path):
    from lms.certificates import definitions

    folder = tmp_path / "mine"
    folder.mkdir()
    with pytest.raises(definitions.ContentError, match="template.html: missing file"):
        definitions.read_folder(folder)
    for name in definitions.FILES:
        (folder / name).write_text("x: [\n" if name == "metadata.yaml" else "")
    with pytest.raises(definitions.ContentError, match=r"metadata.yaml:\d+: invalid YAML"):
        definitions.read_folder(folder)
    (folder / "metadata.yaml").write_text("format_version: 1\nkey: other\nlanguages: [fr]\n")
    with pytest.raises(definitions.ContentError) as err:
        definitions.read_folder(folder)
    assert any("key must be" in e for e in err.value.errors)
    assert any("labels.fr lacks" in e for e in err.value.errors)
    # The built-in template is valid.
    assert definitions.read_folder(definitions.templates_root() / "default").key == "default"


def test_objectives_use_the_organizations_own_framework(cert_world):
    from lms.assessments import services as skills
    from lms.assessments.models import Competency

    w = cert_world
    skills.load_builtin_content()
    own = skills.copy_framework(organization=w.org)
    for competency in db.session.scalars(select(Competency).where(
            Competency.framework_id == own.id)):
        competency.name = {"fr": f"Maison {competency.code}", "en": f"House {competency.code}"}
    db.session.commit()

    w.complete(w.enrollments[0])

    (cert,) = certificates()
    names = {o["code"]: o["name"]["en"] for o in cert.snapshot["objectives"]}
    assert names and all(name == f"House {code}" for code, name in names.items())
