"""SCIM 2.0 provisioning driven by a real SCIM client (scim2-client, in-process over WSGI).

scim2-client validates every response against the SCIM models, so these tests also check that
what Relais answers is valid SCIM. Error cases are sent as raw HTTP with the Flask test client.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_models import Email as ScimEmail
from scim2_models import (
    EnterpriseUser,
    Group,
    GroupMember,
    Manager,
    PatchOp,
    PatchOperation,
    ResourceType,
    ScimProvider,
    SearchRequest,
    User,
)
from sqlalchemy import select

from lms.accounts.models import Membership, Role
from lms.core.models import utcnow
from lms.extensions import db
from lms.identity import services
from lms.identity.models import ScimToken
from tests.support import PASSWORD, membership

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
FullUser = User[EnterpriseUser]


@pytest.fixture()
def scim_org(create_org):
    """``scim_org(slug)`` → (organization, raw token)."""

    def make(slug: str = "acme"):
        org = create_org(slug=slug)
        _token, raw = services.issue_scim_token(organization=org)
        db.session.commit()
        return org, raw

    return make


@pytest.fixture()
def scim(app, scim_org):
    org, raw = scim_org()
    provider = ScimProvider(models=[User, EnterpriseUser, Group], resource_types=[
        ResourceType.from_resource(FullUser), ResourceType.from_resource(Group)])
    client = WSGISCIMClient(app, base_url=f"http://localhost/scim/v2/{org.slug}",
                            headers={"Authorization": f"Bearer {raw}"}, provider=provider)
    client.discover()  # the ServiceProviderConfig: the rest is given above
    client.org = org  # type: ignore[attr-defined]
    return client


def _new_user(email: str, external_id: str, **enterprise) -> FullUser:
    user = FullUser(user_name=email, display_name=email.split("@")[0].title(),
                    external_id=external_id, active=True,
                    emails=[ScimEmail(value=email, type="work", primary=True)])
    if enterprise:
        user[EnterpriseUser] = EnterpriseUser(**enterprise)
    return user


def test_a_client_discovers_everything_from_the_server(app, scim_org):
    org, raw = scim_org()
    client = WSGISCIMClient(app, base_url=f"http://localhost/scim/v2/{org.slug}",
                            headers={"Authorization": f"Bearer {raw}"})
    client.discover()  # Schemas, ResourceTypes and ServiceProviderConfig, all validated
    config = client.provider.config
    assert config.patch.supported and config.filter.supported and not config.bulk.supported
    user_type = next(rt for rt in client.provider.resource_types if rt.id == "User")
    assert [e.schema_ for e in user_type.schema_extensions] == [
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
    # The models built from the published schemas create a user.
    model = client.provider.model_for("User")
    created = client.create(model(user_name="disco@acme-corp.com", active=True))
    assert created.id and created.user_name == "disco@acme-corp.com"


def test_create_find_update_deactivate_and_delete_a_user(scim, client):
    org = scim.org
    boss = scim.create(_new_user("boss@acme-corp.com", "E-1"))
    ana = scim.create(_new_user("ana@acme-corp.com", "E-2", department="Sales",
                                employee_number="0042",
                                manager=Manager(value=boss.id)))
    assert ana.id and ana.user_name == "ana@acme-corp.com" and ana.active is True
    assert ana[EnterpriseUser].department == "Sales"
    assert ana[EnterpriseUser].employee_number == "0042"
    assert ana[EnterpriseUser].manager.value == boss.id
    # The same path as the member import: a member with the default role, their team, manager.
    member = db.session.scalar(select(Membership).where(Membership.user_id == int(ana.id)))
    assert member.organization_id == org.id and member.role == Role.LEARNER
    assert member.team == "Sales" and member.manager.user_id == int(boss.id)

    # Filters the identity providers send.
    for flt in ('userName eq "ANA@acme-corp.com"', 'externalId eq "E-2"',
                'emails[type eq "work"].value eq "ana@acme-corp.com"'):
        found = scim.query(FullUser, query_parameters=SearchRequest(filter=flt))
        assert found.total_results == 1 and found.resources[0].id == ana.id, flt
    assert scim.query(FullUser, query_parameters=SearchRequest(
        filter='externalId eq "e-2"')).total_results == 0  # externalId is case-exact

    # PUT replaces, PATCH changes parts.
    ana.display_name = "Ana Lima"
    ana[EnterpriseUser].department = "Marketing"
    replaced = scim.replace(ana)
    assert replaced.display_name == "Ana Lima"
    assert replaced[EnterpriseUser].department == "Marketing"
    patched = scim.modify(FullUser, ana.id, PatchOp[FullUser](operations=[
        PatchOperation[FullUser](op="replace", path="displayName", value="Ana M. Lima"),
        PatchOperation[FullUser](
            op="add", path="urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
                          "employeeNumber", value="0043"),
    ]))
    assert patched.display_name == "Ana M. Lima"
    assert patched[EnterpriseUser].employee_number == "0043"

    # active=false ends access and sessions; the membership (and its learning records) stays.
    from lms.accounts import services as accounts
    accounts.set_password(member.user, PASSWORD)
    db.session.commit()
    assert client.post("/login", data={"email": "ana@acme-corp.com",
                                       "password": PASSWORD}).status_code == 302
    assert client.get(f"/o/{org.slug}/").status_code == 200
    off = scim.modify(FullUser, ana.id, PatchOp[FullUser](operations=[
        PatchOperation[FullUser](op="replace", path="active", value=False)]))
    assert off.active is False
    assert client.get(f"/o/{org.slug}/").status_code in (302, 404)  # the session is over
    assert client.post("/login", data={"email": "ana@acme-corp.com",
                                       "password": PASSWORD}).status_code == 401
    db.session.expire_all()
    assert db.session.get(Membership, member.id) is not None
    # Reactivating brings access back.
    on = scim.modify(FullUser, ana.id, PatchOp[FullUser](operations=[
        PatchOperation[FullUser](op="replace", value={"active": True})]))
    assert on.active is True

    # DELETE: gone for SCIM, the records stay.
    scim.delete(FullUser, ana.id)
    assert scim.query(FullUser, query_parameters=SearchRequest(
        filter='userName eq "ana@acme-corp.com"')).total_results == 0
    db.session.expire_all()
    kept = db.session.get(Membership, member.id)
    assert kept is not None and kept.active is False


def test_paging_with_start_index_and_count(scim):
    for n in range(5):
        scim.create(_new_user(f"p{n}@acme-corp.com", f"P-{n}"))
    page = scim.query(FullUser, query_parameters=SearchRequest(start_index=2, count=2))
    assert page.total_results == 5 and page.start_index == 2 and page.items_per_page == 2
    assert [u.user_name for u in page.resources] == ["p1@acme-corp.com", "p2@acme-corp.com"]


def test_groups_are_teams(scim):
    ana = scim.create(_new_user("ana@acme-corp.com", "E-2"))
    leo = scim.create(_new_user("leo@acme-corp.com", "E-3"))
    group = scim.create(Group(display_name="Sales", members=[GroupMember(value=ana.id)]))
    assert [m.value for m in group.members] == [ana.id]
    member = db.session.scalar(select(Membership).where(Membership.user_id == int(ana.id)))
    assert member.team == "Sales"
    added = scim.modify(Group, group.id, PatchOp[Group](operations=[
        PatchOperation[Group](op="add", path="members", value=[{"value": leo.id}])]))
    assert sorted(m.value for m in added.members) == sorted([ana.id, leo.id])
    removed = scim.modify(Group, group.id, PatchOp[Group](operations=[
        PatchOperation[Group](op="remove", path=f'members[value eq "{ana.id}"]')]))
    assert [m.value for m in removed.members] == [leo.id]
    renamed = scim.modify(Group, group.id, PatchOp[Group](operations=[
        PatchOperation[Group](op="replace", path="displayName", value="Field sales")]))
    assert renamed.display_name == "Field sales"
    db.session.expire_all()
    assert db.session.scalar(select(Membership.team).where(
        Membership.user_id == int(leo.id))) == "Field sales"
    found = scim.query(Group, query_parameters=SearchRequest(filter='displayName eq "Field sales"'))
    assert found.total_results == 1
    scim.delete(Group, group.id)
    db.session.expire_all()
    assert db.session.scalar(select(Membership.team).where(
        Membership.user_id == int(leo.id))) is None


def test_a_duplicate_user_is_a_scim_conflict(scim, client):
    scim.create(_new_user("ana@acme-corp.com", "E-2"))
    raw = scim.headers["Authorization"]
    response = client.post(f"/scim/v2/{scim.org.slug}/Users", headers={"Authorization": raw},
                           json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                 "userName": "ana@acme-corp.com"})
    assert response.status_code == 409
    body = response.get_json(force=True)
    assert body["schemas"] == [ERROR] and body["scimType"] == "uniqueness"
    assert body["status"] == "409"
    assert response.mimetype == "application/scim+json"


def test_bad_input_gets_scim_errors_never_500(scim, client):
    headers = {"Authorization": scim.headers["Authorization"]}
    base = f"/scim/v2/{scim.org.slug}"
    cases = [
        client.post(f"{base}/Users", headers=headers, data="{not json",
                    content_type="application/scim+json"),
        client.post(f"{base}/Users", headers=headers, json={"userName": "not-an-email"}),
        client.get(f"{base}/Users?filter=title%20gt%201", headers=headers),
        client.get(f"{base}/Users/999999", headers=headers),
        client.patch(f"{base}/Users/999999", headers=headers, json={}),
        client.get(f"{base}/Nothing", headers=headers),
    ]
    assert [c.status_code for c in cases] == [400, 400, 400, 404, 404, 404]
    for response in cases:
        assert response.get_json(force=True)["schemas"] == [ERROR]
    assert cases[2].get_json(force=True)["scimType"] == "invalidFilter"


def test_tokens_are_per_organization_and_expire(app, client, scim_org, create_user):
    acme, acme_token = scim_org("acme")
    beta, beta_token = scim_org("beta")
    create_user(Role.LEARNER, org=beta, email="bob@beta-corp.com")
    bob_id = db.session.scalar(select(Membership.user_id).where(
        Membership.organization_id == beta.id))
    # acme's token at beta's address, at acme's address for beta's user, no token, a bad one.
    responses = [
        client.get(f"/scim/v2/{beta.slug}/Users",
                   headers={"Authorization": f"Bearer {acme_token}"}),
        client.get(f"/scim/v2/{beta.slug}/Users"),
        client.get(f"/scim/v2/{beta.slug}/Users", headers={"Authorization": "Bearer scim_nope"}),
    ]
    for response in responses:
        assert response.status_code == 401
        assert response.get_json(force=True)["schemas"] == [ERROR]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    seen_from_acme = client.get(f"/scim/v2/{acme.slug}/Users/{bob_id}",
                                headers={"Authorization": f"Bearer {acme_token}"})
    assert seen_from_acme.status_code == 404
    listed = client.get(f"/scim/v2/{acme.slug}/Users",
                        headers={"Authorization": f"Bearer {acme_token}"}).get_json(force=True)
    assert listed["totalResults"] == 0
    beta_group = client.post(f"/scim/v2/{beta.slug}/Groups",
                             headers={"Authorization": f"Bearer {beta_token}"},
                             json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                   "displayName": "Beta team"}).get_json(force=True)
    for method in ("get", "delete"):
        answer = getattr(client, method)(f"/scim/v2/{acme.slug}/Groups/{beta_group['id']}",
                                         headers={"Authorization": f"Bearer {acme_token}"})
        assert answer.status_code == 404
    # An expired token, then a revoked one.
    token = db.session.scalar(select(ScimToken).where(ScimToken.organization_id == beta.id))
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(f"/scim/v2/{beta.slug}/Users",
                      headers={"Authorization": f"Bearer {beta_token}"}).status_code == 401
    _token, fresh = services.issue_scim_token(organization=beta)
    db.session.commit()
    assert client.get(f"/scim/v2/{beta.slug}/Users",
                      headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    services.issue_scim_token(organization=beta)  # a new token revokes the previous one
    db.session.commit()
    assert client.get(f"/scim/v2/{beta.slug}/Users",
                      headers={"Authorization": f"Bearer {fresh}"}).status_code == 401


def test_the_cli_prints_a_working_token(runner, client, create_org):
    org = create_org(slug="cli-org")
    result = runner.invoke(args=["scim-token", "--org", org.slug])
    assert result.exit_code == 0, result.output
    raw = result.output.split("Bearer token:")[1].strip()
    assert client.get(f"/scim/v2/{org.slug}/ServiceProviderConfig",
                      headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert runner.invoke(args=["scim-token", "--org", "nope"]).exit_code == 1


def test_an_admin_issues_a_token_on_the_settings_page(client, create_user, login):
    admin = create_user(Role.ADMIN)
    org = admin.memberships[0].organization
    login(admin)
    page = client.post(f"/o/{org.slug}/settings/scim-token")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="scim-token"' in html
    raw = html.split('id="scim-token">')[1].split("<")[0]
    assert client.get(f"/scim/v2/{org.slug}/Users",
                      headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert membership(admin, org).role == Role.ADMIN


def test_deactivating_in_one_organization_keeps_the_others(scim, client, create_user,
                                                           create_org):
    other = create_org(slug="other")
    ana_user = create_user(Role.LEARNER, org=other, email="ana@acme-corp.com")
    ana = scim.create(_new_user("ana@acme-corp.com", "E-2", department="Sales"))
    assert ana.id == str(ana_user.id)  # the same person, matched by e-mail
    client.post("/login", data={"email": "ana@acme-corp.com", "password": PASSWORD})
    # Entra ID sends booleans as strings, without a path.
    headers = {"Authorization": scim.headers["Authorization"]}
    response = client.patch(f"/scim/v2/{scim.org.slug}/Users/{ana.id}", headers=headers, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})
    assert response.status_code == 200 and response.get_json(force=True)["active"] is False
    assert client.get(f"/o/{scim.org.slug}/").status_code == 404
    assert client.get("/o/other/").status_code == 200  # still signed in, still a member there
    # A PUT without the enterprise extension leaves the team alone.
    body = response.get_json(force=True)
    body.pop("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", None)
    body["schemas"] = ["urn:ietf:params:scim:schemas:core:2.0:User"]
    again = client.put(f"/scim/v2/{scim.org.slug}/Users/{ana.id}", headers=headers, json=body)
    assert again.status_code == 200
    assert membership(ana_user, scim.org).team == "Sales"
    assert again.get_json(force=True)["active"] is False
