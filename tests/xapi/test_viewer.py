"""The statement viewer (/o/<slug>/statements) and its JSON export, for trainers and admins."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from lms.accounts.models import Organization, User
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi import viewer
from lms.xapi.builders import agent_for_user
from lms.xapi.record import record
from tests.support import set_stored

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
MODULE = "http://relais.test/activities/module/1"
QUIZ = "http://relais.test/activities/quiz/7"


def statement(user: User, verb: str = COMPLETED, activity: str = MODULE,
              name: str = "Storytelling on LinkedIn") -> dict[str, Any]:
    display = {"en-US": verb.rsplit("/", 1)[-1], "fr-FR": "a " + verb.rsplit("/", 1)[-1]}
    return {"actor": agent_for_user(user), "verb": {"id": verb, "display": display},
            "object": {"id": activity, "definition": {"name": {"en-US": name}}}}


@pytest.fixture()
def org(create_org: Callable[..., Organization]) -> Organization:
    return create_org()


@pytest.fixture()
def trainer(create_user: Callable[..., User], org: Organization) -> User:
    return create_user("trainer", org=org, name="Tess Trainer")


@pytest.fixture()
def ana(create_user: Callable[..., User], org: Organization) -> User:
    return create_user("learner", org=org, name="Ana Learner")


@pytest.fixture()
def bob(create_user: Callable[..., User], org: Organization) -> User:
    return create_user("learner", org=org, name="Bob Learner")


def store(org: Organization, *statements: dict[str, Any]) -> list[str]:
    """Record statements one by one (oldest first), as separate events."""
    ids = []
    for st in statements:
        ids += record([st], organization_id=org.id)
    db.session.commit()
    return ids


def page(org: Organization, **params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/o/{org.slug}/statements" + (f"?{query}" if query else "")


def shown_ids(html: str) -> list[str]:
    """Statement ids in the page's raw JSON blocks, in page order."""
    return re.findall(r"&#34;id&#34;: &#34;([0-9a-f-]{36})&#34;", html)


# --- who may see it ----------------------------------------------------------------------

@pytest.mark.parametrize("role", ["learner", "hr"])
def test_learners_and_hr_get_403(client: FlaskClient, login: Callable[..., Any],
                                 create_user: Callable[..., User], org: Organization,
                                 role: str) -> None:
    login(create_user(role, org=org))
    assert client.get(page(org)).status_code == 403
    assert client.get(page(org) + "/export.json").status_code == 403
    dashboard = client.get(f"/o/{org.slug}/")
    assert dashboard.status_code == 200
    assert f"/o/{org.slug}/statements" not in dashboard.get_data(as_text=True)


def test_anonymous_visitors_log_in_and_outsiders_get_404(
        client: FlaskClient, login: Callable[..., Any], create_user: Callable[..., User],
        org: Organization) -> None:
    response = client.get(page(org))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(create_user("admin"))  # an admin of another organization
    assert client.get(page(org)).status_code == 404
    assert client.get(page(org) + "/export.json").status_code == 404


def test_trainers_and_admins_have_the_nav_link(client: FlaskClient, login: Callable[..., Any],
                                               create_user: Callable[..., User],
                                               org: Organization) -> None:
    login(create_user("admin", org=org))
    html = client.get(page(org)).get_data(as_text=True)
    assert f'href="/o/{org.slug}/statements" aria-current="page"' in html
    client.post("/logout")
    login(create_user("trainer", org=org))
    # The menu's "Imports and records" entry opens the jobs page, whose tabs lead here.
    html = client.get(f"/o/{org.slug}/").get_data(as_text=True)
    assert f'href="/o/{org.slug}/jobs">Imports and records</a>' in html
    html = client.get(f"/o/{org.slug}/jobs").get_data(as_text=True)
    assert f'href="/o/{org.slug}/statements">Learning records (xAPI)</a>' in html


# --- the list ----------------------------------------------------------------------------

def test_rows_say_who_did_what_to_which_activity_when_newest_first(
        client: FlaskClient, login: Callable[..., Any], org: Organization, trainer: User,
        ana: User, bob: User) -> None:
    first, second = store(org, statement(ana), statement(bob, ATTEMPTED, QUIZ, "Quiz 7"))
    login(trainer)
    response = client.get(page(org))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert shown_ids(html) == [second, first]
    rows = html.split("<tbody>")[1].split("</tr>")
    assert "Bob Learner" in rows[0] and "attempted" in rows[0] and "Quiz 7" in rows[0]
    assert "Ana Learner" in rows[1] and "completed" in rows[1]
    assert "Storytelling on LinkedIn" in rows[1] and f'title="{MODULE}"' in rows[1]
    assert "<details>" in rows[1] and "<time datetime=" in rows[1]


def test_filters_by_learner_verb_activity(client: FlaskClient, login: Callable[..., Any],
                                          org: Organization, trainer: User, ana: User,
                                          bob: User) -> None:
    a1, b1, a2 = store(org, statement(ana), statement(bob), statement(ana, ATTEMPTED, QUIZ))
    login(trainer)
    assert shown_ids(client.get(page(org, learner=ana.id)).get_data(as_text=True)) == [a2, a1]
    assert shown_ids(client.get(page(org, verb=COMPLETED)).get_data(as_text=True)) == [b1, a1]
    assert shown_ids(client.get(page(org, activity=QUIZ)).get_data(as_text=True)) == [a2]
    html = client.get(page(org, learner=ana.id, verb=COMPLETED, activity=MODULE)
                      ).get_data(as_text=True)
    assert shown_ids(html) == [a1]
    html = client.get(page(org, learner=bob.id, activity=QUIZ)).get_data(as_text=True)
    assert shown_ids(html) == [] and "No statement matches" in html


def test_filters_by_recording_dates(client: FlaskClient, login: Callable[..., Any],
                                    org: Organization, trainer: User, ana: User) -> None:
    old, new = store(org, statement(ana), statement(ana, ATTEMPTED))
    ten_days_ago = utcnow() - timedelta(days=10)
    set_stored([old], ten_days_ago)
    db.session.commit()
    login(trainer)
    day = ten_days_ago.date()
    html = client.get(page(org, since=day.isoformat(), until=day.isoformat())
                      ).get_data(as_text=True)
    assert shown_ids(html) == [old]
    html = client.get(page(org, since=(day + timedelta(days=1)).isoformat())
                      ).get_data(as_text=True)
    assert shown_ids(html) == [new]
    html = client.get(page(org, until=(day - timedelta(days=1)).isoformat())
                      ).get_data(as_text=True)
    assert shown_ids(html) == []


@pytest.mark.parametrize("params", [
    {"verb": "completed"}, {"activity": "not an iri"}, {"since": "yesterday"},
    {"since": "2026-05-02", "until": "2026-05-01"}, {"learner": "999999"},
])
def test_invalid_filters_are_explained(client: FlaskClient, login: Callable[..., Any],
                                       org: Organization, trainer: User, ana: User,
                                       params: dict[str, str]) -> None:
    store(org, statement(ana))
    login(trainer)
    response = client.get(page(org, **params))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error"' in html and shown_ids(html) == []
    assert client.get(page(org, **params).replace("/statements", "/statements/export.json")
                      ).status_code == 400


def test_a_learner_of_another_organization_is_not_a_choice(
        client: FlaskClient, login: Callable[..., Any], create_user: Callable[..., User],
        org: Organization, trainer: User) -> None:
    outsider = create_user("learner")
    login(trainer)
    assert client.get(page(org, learner=outsider.id)).status_code == 400


def test_pages_go_back_in_time_without_overlap(client: FlaskClient, login: Callable[..., Any],
                                               org: Organization, trainer: User, ana: User,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(viewer, "PAGE_SIZE", 2)
    ids = store(org, *[statement(ana) for _ in range(5)])
    login(trainer)
    seen: list[str] = []
    url: str | None = page(org, learner=ana.id)
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += shown_ids(html)
        match = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = match.group(1).replace("&amp;", "&") if match else None
        if url:
            assert f"learner={ana.id}" in url  # the filters follow the pages
    assert seen == list(reversed(ids))


def test_other_organizations_statements_are_not_shown(
        client: FlaskClient, login: Callable[..., Any], create_org: Callable[..., Organization],
        create_user: Callable[..., User], org: Organization, trainer: User, ana: User) -> None:
    other = create_org()
    store(other, statement(create_user("learner", org=other)))
    mine = store(org, statement(ana))
    login(trainer)
    assert shown_ids(client.get(page(org)).get_data(as_text=True)) == mine
    export = json.loads(client.get(page(org) + "/export.json").get_data(as_text=True))
    assert [st["id"] for st in export] == mine


# --- the export --------------------------------------------------------------------------

def test_export_streams_the_filtered_statements_as_a_json_download(
        client: FlaskClient, login: Callable[..., Any], org: Organization, trainer: User,
        ana: User, bob: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(viewer, "EXPORT_BATCH", 2)
    ids = store(org, *[statement(ana) for _ in range(5)], statement(bob))
    login(trainer)
    response = client.get(page(org, learner=ana.id).replace("/statements",
                                                            "/statements/export.json"))
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    exported = json.loads(response.get_data(as_text=True))
    assert [st["id"] for st in exported] == list(reversed(ids[:5]))
    assert exported[0]["actor"] == agent_for_user(ana) | {"objectType": "Agent"}
    assert "stored" in exported[0] and "authority" in exported[0]


def test_export_of_nothing_is_an_empty_array(client: FlaskClient, login: Callable[..., Any],
                                             org: Organization, trainer: User) -> None:
    login(trainer)
    response = client.get(page(org) + "/export.json")
    assert json.loads(response.get_data(as_text=True)) == []


def test_the_page_links_the_export_with_its_filters(client: FlaskClient,
                                                    login: Callable[..., Any],
                                                    org: Organization, trainer: User,
                                                    ana: User) -> None:
    login(trainer)
    html = client.get(page(org, verb=COMPLETED)).get_data(as_text=True)
    assert "/statements/export.json?verb=http" in html
