"""The tool's keys: published at /lti/jwks, encrypted at rest, rotated with a grace period."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from lms.core import crypto
from lms.core.models import utcnow
from lms.extensions import db
from lms.lti import keys
from lms.lti.models import LtiKey


def test_the_jwks_publishes_one_public_key_made_on_first_use(client):
    data = client.get("/lti/jwks").get_json()
    [key] = data["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert "d" not in key and "p" not in key  # no private part
    assert client.get("/lti/jwks").get_json() == data  # the same key afterwards


def test_the_private_key_is_encrypted_at_rest():
    row = keys.current_key()
    db.session.commit()
    assert "PRIVATE KEY" not in row.private_key_encrypted
    assert "PRIVATE KEY" in crypto.decrypt_secret(row.private_key_encrypted,
                                                  purpose=keys.PURPOSE)


def test_rotation_keeps_the_old_key_published_until_the_grace_period_ends(client, runner):
    old = client.get("/lti/jwks").get_json()["keys"][0]["kid"]
    result = runner.invoke(args=["lti", "rotate-key", "--grace-days", "3"])
    assert result.exit_code == 0, result.output
    assert "New signing key" in result.output
    kids = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    assert len(kids) == 2 and kids[1] == old
    new = kids[0]
    # The new key signs, and what it signs checks against the published set.
    token = keys.sign({"iss": "relais", "exp": int(utcnow().timestamp()) + 60})
    db.session.commit()
    published = KeySet.import_key_set(client.get("/lti/jwks").get_json())
    decoded = jwt.decode(token, published)
    assert decoded.header["kid"] == new
    with time_machine.travel(utcnow() + timedelta(days=3, minutes=1), tick=False):
        db.session.rollback()
        assert [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]] == [new]
    listed = runner.invoke(args=["lti", "keys"])
    assert listed.exit_code == 0 and new in listed.output


def test_rotating_with_no_grace_drops_the_old_key_at_once(client, runner):
    client.get("/lti/jwks")
    assert runner.invoke(args=["lti", "rotate-key", "--grace-days", "0"]).exit_code == 0
    assert len(client.get("/lti/jwks").get_json()["keys"]) == 1
    assert db.session.scalar(select(LtiKey).where(LtiKey.retired_at.is_(None))) is not None


def test_a_negative_grace_period_is_refused(runner):
    result = runner.invoke(args=["lti", "rotate-key", "--grace-days", "-1"])
    assert result.exit_code != 0
