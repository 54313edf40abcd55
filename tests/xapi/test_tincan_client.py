"""Relais' LRS driven by ``tincan``'s RemoteLRS, the xAPI client the project is built on.

The real app is served on 127.0.0.1 in a thread; every call goes through the real client and
must succeed: statements (one, a batch, an attachment by fileUrl, voiding, queries and
``more``), State, Activity Profile and Agent Profile documents, and ``about``. Profiles are
created as tincan creates them, with no If-Match/If-None-Match header (xAPI 1.0.3 asks for 409
only when the document exists).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from tincan import (
    Activity,
    ActivityDefinition,
    Agent,
    AgentAccount,
    Attachment,
    Context,
    LanguageMap,
    RemoteLRS,
    Result,
    Statement,
    StatementRef,
    Verb,
)
from tincan.documents import ActivityProfileDocument, AgentProfileDocument, StateDocument

from lms.extensions import db
from lms.xapi.services import create_lrs_credentials
from tests.support import serving

ADL = "http://adlnet.gov/expapi/verbs/"
ACTIVITY = "https://content.example.com/courses/tincan-course"


@pytest.fixture()
def lrs(app: Flask, create_org: Callable[..., Any]) -> Iterator[RemoteLRS]:
    """A RemoteLRS on the served app, with Basic credentials of a new LRS client."""
    credential, secret = create_lrs_credentials(organization=create_org(), label="tincan")
    db.session.commit()
    with serving(app) as base:
        yield RemoteLRS(endpoint=f"{base}/xapi/", version="1.0.3",
                        username=credential.key, password=secret)


def learner(name: str = "ana") -> Agent:
    return Agent(name=name.title(), account=AgentAccount(home_page="https://hr.example.com",
                                                         name=name))


def statement(verb: str = "completed", *, actor: Agent | None = None,
              registration: str | None = None, **extra: Any) -> Statement:
    return Statement(
        actor=actor or learner(),
        verb=Verb(id=ADL + verb, display=LanguageMap({"en-US": verb})),
        object=Activity(id=ACTIVITY, definition=ActivityDefinition(
            name=LanguageMap({"en-US": "A course", "fr-FR": "Un cours"}),
            type="http://adlnet.gov/expapi/activities/course")),
        context=Context(registration=registration or str(uuid.uuid4())) if registration
        else None, **extra)


def ok(response: Any) -> Any:
    """The response's content, once the client says the call succeeded."""
    assert response.success, (response.response.status, response.data)
    return response.content


def test_about_answers_the_supported_versions(lrs: RemoteLRS) -> None:
    about = ok(lrs.about())
    assert "1.0.3" in about.version


def test_save_retrieve_and_query_statements(lrs: RemoteLRS) -> None:
    registration = str(uuid.uuid4())
    one = statement("completed", registration=registration,
                    result=Result(completion=True, success=True))
    saved = ok(lrs.save_statement(one))  # POST: the LRS assigns the id
    assert saved.id
    given = statement("experienced", id=str(uuid.uuid4()))
    ok(lrs.save_statement(given))  # PUT with statementId
    batch = [statement("answered", actor=learner(f"learner{i}")) for i in range(3)]
    stored = ok(lrs.save_statements(batch))
    assert all(st.id for st in stored)

    back = ok(lrs.retrieve_statement(saved.id))
    assert back.id == saved.id
    assert back.verb.id == ADL + "completed"
    assert str(back.context.registration) == registration
    assert back.result.success is True
    assert back.authority is not None and back.stored is not None

    by_verb = ok(lrs.query_statements({"verb": Verb(id=ADL + "answered"), "limit": 10}))
    assert sorted(st.actor.account.name for st in by_verb.statements) == [
        "learner0", "learner1", "learner2"]
    by_agent = ok(lrs.query_statements({"agent": learner(), "activity": Activity(id=ACTIVITY),
                                        "registration": registration}))
    assert [st.id for st in by_agent.statements] == [saved.id]  # both UUID objects
    # A page of one, then the rest through ``more``.
    first = ok(lrs.query_statements({"activity": Activity(id=ACTIVITY), "limit": 1,
                                     "ascending": "true"}))
    assert len(first.statements) == 1 and first.more
    rest = ok(lrs.more_statements(first))
    assert len(rest.statements) == 1 and rest.more
    canonical = ok(lrs.query_statements({"verb": Verb(id=ADL + "experienced"),
                                         "format": "canonical"}))
    assert [str(st.id) for st in canonical.statements] == [str(given.id)]


def test_a_statement_with_an_attachment_by_file_url(lrs: RemoteLRS) -> None:
    # tincan sends JSON only (no multipart): attachments are referenced by fileUrl.
    st = statement("completed", attachments=[Attachment(
        usage_type="http://id.tincanapi.com/attachment/certificate-of-completion",
        display=LanguageMap({"en-US": "Certificate"}), content_type="application/pdf",
        length=1024, sha2="a" * 64, fileurl="https://files.example.com/cert.pdf")])
    saved = ok(lrs.save_statement(st))
    back = ok(lrs.retrieve_statement(saved.id))
    [attachment] = back.attachments
    assert attachment.fileurl == "https://files.example.com/cert.pdf"
    assert attachment.sha2 == "a" * 64
    assert attachment.usage_type.endswith("certificate-of-completion")


def test_voiding_a_statement(lrs: RemoteLRS) -> None:
    target = ok(lrs.save_statement(statement("passed")))
    voiding = Statement(actor=learner(), verb=Verb(id=ADL + "voided",
                                                   display=LanguageMap({"en-US": "voided"})),
                        object=StatementRef(id=target.id))
    ok(lrs.save_statement(voiding))
    assert ok(lrs.retrieve_voided_statement(target.id)).id == target.id
    response = lrs.retrieve_statement(target.id)
    assert not response.success and response.response.status == 404
    # The voided statement is gone from queries; the voiding one, which targets it, is found
    # by its filters (Communication 2.1.3).
    found = ok(lrs.query_statements({"verb": Verb(id=ADL + "passed")}))
    assert [st.verb.id for st in found.statements] == [ADL + "voided"]


def test_a_conflicting_statement_is_refused_through_the_client(lrs: RemoteLRS) -> None:
    sid = str(uuid.uuid4())
    ok(lrs.save_statement(statement("completed", id=sid)))
    ok(lrs.save_statement(statement("completed", id=sid)))  # the same again: accepted
    response = lrs.save_statement(statement("failed", id=sid))
    assert not response.success and response.response.status == 409


def test_state_documents(lrs: RemoteLRS) -> None:
    registration = str(uuid.uuid4())
    doc = StateDocument(id="bookmark", activity=Activity(id=ACTIVITY), agent=learner(),
                        content_type="application/json",
                        content=json.dumps({"page": 3}))
    ok(lrs.save_state(doc))
    got = ok(lrs.retrieve_state(Activity(id=ACTIVITY), learner(), "bookmark"))
    assert json.loads(bytes(got.content)) == {"page": 3}
    ok(lrs.save_state(StateDocument(id="bookmark", activity=Activity(id=ACTIVITY),
                                    agent=learner(), content="page 4",
                                    content_type="text/plain")))
    got = ok(lrs.retrieve_state(Activity(id=ACTIVITY), learner(), "bookmark"))
    assert bytes(got.content) == b"page 4"
    ok(lrs.save_state(StateDocument(id="suspend", activity=Activity(id=ACTIVITY),
                                    agent=learner(), content="x")))
    assert sorted(ok(lrs.retrieve_state_ids(Activity(id=ACTIVITY), learner()))) == [
        "bookmark", "suspend"]
    ok(lrs.delete_state(got))
    assert ok(lrs.retrieve_state_ids(Activity(id=ACTIVITY), learner())) == ["suspend"]
    ok(lrs.clear_state(Activity(id=ACTIVITY), learner()))
    assert ok(lrs.retrieve_state_ids(Activity(id=ACTIVITY), learner(),
                                     registration=registration)) == []
    assert ok(lrs.retrieve_state_ids(Activity(id=ACTIVITY), learner())) == []


def test_activity_profile_documents(lrs: RemoteLRS) -> None:
    activity = Activity(id=ACTIVITY)
    doc = ActivityProfileDocument(id="settings", activity=activity,
                                  content_type="application/json",
                                  content=json.dumps({"theme": "dark"}))
    # Created with no precondition header, as tincan sends it.
    ok(lrs.save_activity_profile(doc))
    response = lrs.retrieve_activity_profile(activity, "settings")
    got = ok(response)
    assert json.loads(bytes(got.content)) == {"theme": "dark"}
    # Replacing it without If-Match is a conflict; with the ETag read, it goes through.
    replaced = ActivityProfileDocument(id="settings", activity=activity,
                                       content_type="application/json",
                                       content=json.dumps({"theme": "light"}))
    conflict = lrs.save_activity_profile(replaced)
    assert not conflict.success and conflict.response.status == 409
    # tincan looks the ETag up in a list of header pairs, so never finds it: set it by hand.
    replaced.etag = response.response.getheader("ETag")
    ok(lrs.save_activity_profile(replaced))
    got = ok(lrs.retrieve_activity_profile(activity, "settings"))
    assert json.loads(bytes(got.content)) == {"theme": "light"}
    ok(lrs.save_activity_profile(ActivityProfileDocument(id="other", activity=activity,
                                                         content="x")))
    assert sorted(ok(lrs.retrieve_activity_profile_ids(activity))) == ["other", "settings"]
    ok(lrs.delete_activity_profile(got))
    assert ok(lrs.retrieve_activity_profile_ids(activity)) == ["other"]


def test_agent_profile_documents(lrs: RemoteLRS) -> None:
    doc = AgentProfileDocument(id="preferences", agent=learner(),
                               content_type="application/json",
                               content=json.dumps({"language": "fr"}))
    ok(lrs.save_agent_profile(doc))
    response = lrs.retrieve_agent_profile(learner(), "preferences")
    got = ok(response)
    assert json.loads(bytes(got.content)) == {"language": "fr"}
    again = lrs.save_agent_profile(AgentProfileDocument(
        id="preferences", agent=learner(), content_type="application/json",
        content=json.dumps({"language": "en"})))
    assert not again.success and again.response.status == 409
    assert ok(lrs.retrieve_agent_profile_ids(learner())) == ["preferences"]
    assert ok(lrs.retrieve_agent_profile_ids(learner("bob"))) == []
    got.etag = response.response.getheader("ETag")
    ok(lrs.delete_agent_profile(got))
    assert ok(lrs.retrieve_agent_profile_ids(learner())) == []
