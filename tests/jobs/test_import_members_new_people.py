"""The member import writes the people new to Relais with plain INSERTs: what they get is what
provision_member would have given them, a second row for the same new person in one chunk
updates them, and people already known are updated as before.
"""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Role, User
from lms.extensions import db
from tests.support import run_member_import


def test_new_people_known_people_and_a_repeated_row(app, create_user, create_org):
    org = create_org()
    hr = create_user(Role.HR, org=org)
    known = accounts.provision_member(organization=org, email="kim@example.com",
                                      role=Role.LEARNER, display_name="Kim")
    db.session.commit()
    app.config["JOBS_IMPORT_CHUNK"] = 10
    data = ("email;display_name;role;team;job_family;locale;champion\n"
            "Ana@Example.com;Ana Martin;learner;Ventes; vente ;fr;oui\n"
            "bob@example.com;;;;;;\n"
            "kim@example.com;Kim Lee;trainer;RH;;;\n"
            "ana@example.com;Ana Martin-Roy;trainer;Marketing;;;non\n"
            "zoe@example.com;Zoé;learner;;;;oui\n").encode()
    job, members = run_member_import(org, hr, data)

    ana = members["ana@example.com"]
    assert (ana.user.display_name, ana.user.locale) == ("Ana Martin-Roy", "fr")
    assert (ana.role, ana.team, ana.job_family, ana.champion) == (
        Role.TRAINER, "Marketing", "vente", False)
    assert ana.active and ana.user.active and ana.user.password_hash is None
    assert ana.created_at is not None and ana.user.created_at is not None
    bob = members["bob@example.com"]
    assert (bob.user.display_name, bob.role, bob.team, bob.champion) == (
        "bob", Role.LEARNER, None, False)
    kim = members["kim@example.com"]
    assert kim.id == known.membership.id
    assert (kim.user.display_name, kim.role, kim.team) == ("Kim Lee", Role.TRAINER, "RH")
    # A champion needs a team: the row is refused, nothing of it written.
    assert "zoe@example.com" not in members
    assert db.session.scalar(select(User).where(User.email == "zoe@example.com")) is None
    assert job.result == {"created": 2, "updated": 2, "errors": 1}
