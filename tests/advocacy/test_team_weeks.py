"""A team's dashboard reads its whole weeks from the teams' weeks (lms.advocacy.figures): its
figures — totals, networks, kinds, content items, leaderboard, weekly trend, the period
before, activation — are those of its people's daily figures, after every way a team changes
(the member services, batch provisioning, SCIM, removal, erasure), and when a change no hook
saw puts the weeks out of step (the page then reads the daily figures) until a rebuild.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lms.accounts import services as accounts
from lms.accounts.models import Membership, User
from lms.advocacy import campaigns, dashboards, figures, kpis, services
from lms.advocacy.models import AdvocacyTeamPerson, AdvocacyTeamWeek
from lms.charter.queries import gated_advocacy_users
from lms.core.models import utcnow
from lms.extensions import db
from tests.advocacy.helpers import consent

pytestmark = pytest.mark.slow  # each test compares the two paths over many periods

PEOPLE = {"ada": "Rouge", "ben": "Rouge", "cleo": "Bleu", "dan": "Bleu", "eve": None}
PERIODS = (365, 90, 30, 7, None)
# The pages' clock, the same for both paths.
NOW = utcnow()


def email(name: str) -> str:
    return f"{name}@teams.example"


def member(org, name: str) -> Membership:
    return db.session.scalar(select(Membership).join(User, User.id == Membership.user_id)
                             .where(Membership.organization_id == org.id,
                                    User.email == email(name)))


@pytest.fixture()
def org(create_org, create_user):
    org = create_org(slug="teams")
    users = [create_user(org=org, email=email(name), name=name.title(), team=team)
             for name, team in PEOPLE.items()]
    consent(org, *users)
    return org


def record(org, names, *, count: int = 160, offset: int = 0, campaign_id: int | None = None
           ) -> None:
    """``count`` events of ``names`` spread over the last 800 days, at every hour (so that
    periods cut days and weeks anywhere), some of a campaign.
    """
    now = NOW
    kinds = ("share", "post", "comment", "reaction")
    items = []
    for n in range(offset, offset + count):
        name = names[n % len(names)]
        items.append((email(name), {
            "network": ("linkedin", "x", "facebook")[n % 3], "kind": kinds[n % 4],
            "url": f"https://teams.example/{name}/{n}", "clicks": n % 7, "impressions": n,
            "signups": n % 3, "hires": int(n % 11 == 0), "with_own_comment": n % 5 == 0,
            "occurred_at": (now - timedelta(hours=(n * 121) % (800 * 24) + 1)).isoformat(),
            **({"campaign_id": campaign_id} if campaign_id and n % 3 == 0 else {})}))
    services.record_events(organization=org, items=items, source="api")
    db.session.commit()


def page_figures(org_id: int, team: str, campaign_id: int | None = None) -> list:
    """What the team's dashboard shows for each period: the one pass (overview and weekly
    trend), the two passes it replaces, the period before and activation.
    """
    now = NOW
    today = now.date()
    out = []
    starts = [(days, now - timedelta(days=days) if days else None) for days in PERIODS]
    first = kpis.monday(today) - timedelta(weeks=12)
    # Periods that begin mid-day before, on and after the trend's first Monday.
    starts += [(None, figures._midnight(first) + timedelta(hours=h)) for h in (-7, 0, 7, 75)]
    for days, since in starts:
        scope = kpis.Scope(org_id, since=since, team=team, campaign_id=campaign_id)
        weeks = dashboards.trend_weeks(days) if days else 13
        before = dashboards.previous_scope(scope, days, now)
        out.append((days, since, kpis.dashboard(scope, weeks=weeks, today=today),
                    kpis.overview(scope), kpis.weekly(scope, weeks=weeks, today=today),
                    kpis.scope_sums(before) if before else None))
    out.append(kpis.scope_activation(kpis.Scope(org_id, team=team),
                                     since=now - timedelta(days=30)))
    return out


def person_path(monkeypatch, org_id: int, team: str, campaign_id: int | None = None) -> list:
    """:func:`page_figures` read from the people's daily figures alone (with the charter
    gate's condition on the people, if it is on).
    """
    with monkeypatch.context() as patched:
        patched.setattr(kpis.Scope, "team_weeks", lambda self: None)
        patched.setattr(kpis.Scope, "counted",
                        lambda self: gated_advocacy_users(self.organization_id))
        return page_figures(org_id, team, campaign_id)


def stored_weeks(org_id: int) -> tuple[list[tuple], list[tuple]]:
    w, p = AdvocacyTeamWeek, AdvocacyTeamPerson
    columns = [getattr(w, c) for c in (*figures.TEAM_KEY, *figures.SUMS)]
    weeks = [tuple(r) for r in db.session.execute(
        select(*columns).where(w.organization_id == org_id).order_by(*columns))]
    people = [tuple(r) for r in db.session.execute(
        select(p.user_id, p.team).where(p.organization_id == org_id).order_by(p.user_id))]
    return weeks, people


def assert_teams_right(monkeypatch, org, teams=("Rouge", "Bleu"), *, in_step: bool = True,
                       campaign_id: int | None = None) -> None:
    """Each team's page figures are those of its people's daily figures; the weeks are in
    step (read) or not (then not read); in step, they are what a rebuild writes.
    """
    for team in teams:
        assert figures.team_in_step(org.id, team) is in_step, team
        used = kpis.Scope(org.id, team=team).team_weeks() is not None
        assert used is in_step, team
        got = page_figures(org.id, team, campaign_id)
        expected = person_path(monkeypatch, org.id, team, campaign_id)
        for n, (one, other) in enumerate(zip(got, expected, strict=True)):
            assert one == other, (team, n)
        assert got[0][2][0].totals["events"] > 0 or team == "Vert", team
    if in_step:
        kept = stored_weeks(org.id)
        figures.rebuild(org.id)
        assert stored_weeks(org.id) == kept


def test_the_team_s_weeks_give_its_people_s_figures(org, monkeypatch):
    campaign = services.create_campaign(organization=org, kind="campaign", title="Salon")
    db.session.commit()
    record(org, list(PEOPLE), campaign_id=campaign.id)
    weeks, people = stored_weeks(org.id)
    # A team's weeks hold fewer rows than its people's days; everyone with events is listed.
    assert weeks and {team for _u, team in people} == {"Rouge", "Bleu", None}
    assert_teams_right(monkeypatch, org)
    assert_teams_right(monkeypatch, org, campaign_id=campaign.id)
    # Someone in no team, or a team nobody is in: the daily figures, nothing read by week.
    assert kpis.Scope(org.id, team="Vert").team_weeks() is not None  # nobody: in step
    assert page_figures(org.id, "Vert") == person_path(monkeypatch, org.id, "Vert")


def test_a_team_changed_by_the_member_services_moves_the_person_s_figures(org, monkeypatch):
    record(org, list(PEOPLE))
    # Edited (the members page's service), provisioned (HR system, SSO), both ways.
    accounts.add_member(organization=org, user=member(org, "ada").user, role="learner",
                        team="Bleu")
    db.session.commit()
    assert_teams_right(monkeypatch, org)
    accounts.provision_member(organization=org, email=email("cleo"), role="learner",
                              team="Rouge")
    # Someone without a team, with figures, joins one; someone leaves theirs.
    accounts.provision_member(organization=org, email=email("eve"), role="learner",
                              team="Rouge")
    accounts.provision_member(organization=org, email=email("dan"), role="learner", team="")
    db.session.commit()
    assert member(org, "dan").team is None
    assert_teams_right(monkeypatch, org)
    # Their next events go to their new team.
    record(org, ["ada", "eve", "dan"], count=30, offset=1000)
    assert_teams_right(monkeypatch, org)


def test_batch_provisioning_and_scim_keep_the_teams_in_step(org, monkeypatch):
    from lms.identity import scim

    record(org, list(PEOPLE))
    # A members' import: a new person (a Core insert) and a known one moved.
    known = accounts.KnownPeople([email("fay"), email("ben")])
    accounts.import_member(organization=org, email=email("fay"), role="learner", team="Bleu",
                           known=known)
    accounts.import_member(organization=org, email=email("ben"), role="learner", team="Bleu",
                           known=known)
    known.write(org)
    db.session.flush()
    db.session.commit()
    assert_teams_right(monkeypatch, org)
    consent(org, member(org, "fay").user)
    record(org, ["fay", "ben"], count=40, offset=2000)
    assert_teams_right(monkeypatch, org)
    # SCIM: the department is the team.
    dan = member(org, "dan")
    scim.patch_user(org, str(dan.user_id), {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {scim.ENTERPRISE_SCHEMA: {
            "department": "Rouge"}}}]})
    db.session.commit()
    assert member(org, "dan").team == "Rouge"
    assert_teams_right(monkeypatch, org)


def test_removal_and_erasure_keep_the_teams_in_step(org, create_org, monkeypatch):
    from lms.privacy.services import erase_member

    record(org, list(PEOPLE))
    accounts.remove_member(membership=member(org, "ben"))
    db.session.commit()
    assert_teams_right(monkeypatch, org)
    # Erased while a member elsewhere: her membership, team and figures go to a
    # pseudonymous account, and still count in her team.
    cleo = member(org, "cleo")
    accounts.add_member(organization=create_org(slug="ailleurs"), user=cleo.user,
                        role="learner")
    erase_member(membership=cleo, by=None)
    db.session.commit()
    assert cleo.team == "Bleu"
    assert_teams_right(monkeypatch, org)
    # Erased with no other organization: the account itself is emptied.
    erase_member(membership=member(org, "dan"), by=None)
    db.session.commit()
    assert_teams_right(monkeypatch, org)


def test_a_change_no_hook_sees_costs_speed_never_a_figure(org, monkeypatch, runner):
    record(org, list(PEOPLE))
    # A bulk UPDATE passes the ORM by: both teams are out of step, read from the daily
    # figures, and right.
    db.session.execute(update(Membership).where(
        Membership.organization_id == org.id,
        Membership.user_id == member(org, "ada").user_id).values(team="Bleu"))
    db.session.commit()
    assert_teams_right(monkeypatch, org, in_step=False)
    # Events meanwhile are summed into the team she is listed in, as before.
    record(org, ["ada", "cleo"], count=20, offset=3000)
    assert_teams_right(monkeypatch, org, in_step=False)
    result = runner.invoke(args=["rebuild-advocacy-figures", "--org", "teams"])
    assert result.exit_code == 0, result.output
    assert_teams_right(monkeypatch, org)


def test_events_removed_or_unlinked_leave_the_teams_in_step(org, app, monkeypatch):
    from lms.privacy import retention

    campaign = services.create_campaign(organization=org, kind="campaign", title="Salon")
    db.session.commit()
    record(org, list(PEOPLE), campaign_id=campaign.id)
    campaigns.delete_campaign(campaign=campaign)
    db.session.commit()
    assert_teams_right(monkeypatch, org)
    retention.save_settings(organization=org, values={"advocacy_events": 12}, by=None)
    db.session.commit()
    retention.run(organization=org, commit=db.session.commit)
    assert_teams_right(monkeypatch, org)


def test_a_charter_gated_organization_reads_the_weeks_of_a_team_that_all_counts(
        org, monkeypatch):
    from lms.charter import services as charter

    record(org, list(PEOPLE))
    charter.publish(organization=org, body_fr="Je parle en mon nom.", body_en="", by=None)
    charter.set_gates(organization=org, advocacy=True, exercises=False, certificates=False)
    charter.accept(membership=member(org, "ada"))
    db.session.commit()
    # The gate counts people, not teams: Ben has not accepted, so Rouge's weeks (Ada's and
    # Ben's) are in step but not read.
    assert figures.team_in_step(org.id, "Rouge")
    assert kpis.Scope(org.id, team="Rouge").team_weeks() is None
    got = page_figures(org.id, "Rouge")
    assert got == person_path(monkeypatch, org.id, "Rouge")
    ada_only = kpis.overview(kpis.Scope(org.id, user_id=member(org, "ada").user_id))
    assert got[4][2][0].totals == ada_only.totals  # all time: Ada's events alone

    # Once everyone in Rouge counts, its weeks are read (without the gate's condition on
    # the people) and give the same figures; Bleu (nobody accepted) still counts no one.
    charter.accept(membership=member(org, "ben"))
    db.session.commit()
    rouge, bleu = kpis.Scope(org.id, team="Rouge"), kpis.Scope(org.id, team="Bleu")
    assert rouge.team_weeks() is not None and rouge.counted() is None
    assert bleu.team_weeks() is None and bleu.counted() is not None
    both = page_figures(org.id, "Rouge")
    assert both == person_path(monkeypatch, org.id, "Rouge")
    ben_only = kpis.overview(kpis.Scope(org.id, user_id=member(org, "ben").user_id))
    assert both[4][2][0].totals == {name: ada_only.totals[name] + ben_only.totals[name]
                                    for name in ada_only.totals}
    assert page_figures(org.id, "Bleu")[4][2][0].totals["events"] == 0


def test_the_team_page_shows_the_weeks_figures(org, client, login, create_user):
    record(org, list(PEOPLE))
    login(create_user(role="hr", org=org))
    page = client.get("/o/teams/advocacy?period=365&team=Rouge")
    assert page.status_code == 200
    assert figures.team_in_step(org.id, "Rouge")


def test_a_request_asks_again_whether_a_team_is_in_step_after_a_write(org, app):
    record(org, list(PEOPLE))
    with app.test_request_context():
        assert figures.team_in_step(org.id, "Rouge")
        # A change no hook sees: the request keeps its answer (a page reads two periods)…
        db.session.execute(update(Membership).where(Membership.id == member(org, "ada").id)
                           .values(team="Bleu"))
        assert figures.team_in_step(org.id, "Rouge")
        # …until the request writes figures: then it asks again, and reads the people's.
        record(org, ["ben"], count=3, offset=900)
        assert not figures.team_in_step(org.id, "Rouge")
        assert kpis.Scope(org.id, team="Rouge").team_weeks() is None
