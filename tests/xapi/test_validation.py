"""The statement rules of xAPI 1.0.3 (Data section): good statements pass, bad ones name why."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lms.core.errors import BadRequest
from lms.xapi import validation

BASE: dict[str, Any] = {
    "actor": {"objectType": "Agent", "name": "Ana", "mbox": "mailto:ana@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
    "object": {"objectType": "Activity", "id": "http://relais.test/activities/1",
               "definition": {"name": {"en": "Module"},
                              "type": "http://adlnet.gov/expapi/activities/module"}},
}


def variant(**changes: Any) -> dict[str, Any]:
    """BASE with top-level properties replaced (None deletes)."""
    st = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            st.pop(key, None)
        else:
            st[key] = value
    return st


AGENT = {"mbox": "mailto:bob@example.com"}
SUB = {"objectType": "SubStatement", "actor": AGENT,
       "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
       "object": {"id": "http://relais.test/sessions/1"}}

GOOD = {
    "minimal": variant(),
    "with id": variant(id="f1e7a6c2-3d5b-4c8e-9a0f-123456789abc"),
    "mbox_sha1sum": variant(actor={"mbox_sha1sum": "a" * 40}),
    "openid": variant(actor={"openid": "http://openid.example.com/ana"}),
    "account": variant(actor={"account": {"homePage": "http://relais.test", "name": "42"}}),
    "anonymous group": variant(actor={"objectType": "Group", "member": [AGENT]}),
    "identified group": variant(actor={"objectType": "Group", "mbox": "mailto:team@x.org"}),
    "agent object": variant(object={"objectType": "Agent", **AGENT}),
    "statement ref": variant(object={"objectType": "StatementRef",
                                     "id": "f1e7a6c2-3d5b-4c8e-9a0f-123456789abc"}),
    "substatement": variant(object=SUB),
    "result": variant(result={"score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10},
                              "success": True, "completion": True, "response": "x",
                              "duration": "PT1H30M4.5S",
                              "extensions": {"http://relais.test/ext": None}}),
    "context": variant(context={
        "registration": "f1e7a6c2-3d5b-4c8e-9a0f-123456789abc", "instructor": AGENT,
        "team": {"objectType": "Group", "member": [AGENT]},
        "contextActivities": {"parent": {"id": "http://relais.test/p"},
                              "grouping": [{"id": "http://relais.test/g"}]},
        "revision": "2", "platform": "Relais", "language": "fr-FR",
        "statement": {"objectType": "StatementRef",
                      "id": "f1e7a6c2-3d5b-4c8e-9a0f-123456789abc"}}),
    "timestamp with offset": variant(timestamp="2026-11-23T10:00:00+01:00"),
    "timestamp Z fraction": variant(timestamp="2026-11-23T10:00:00.123456Z"),
    "version 1.0": variant(version="1.0"),
    "version 1.0.9": variant(version="1.0.9"),
    "interaction choice": variant(object={"id": "http://relais.test/q/1", "definition": {
        "interactionType": "choice", "correctResponsesPattern": ["a"],
        "choices": [{"id": "a", "description": {"en": "A"}}, {"id": "b"}]}}),
    "duration weeks": variant(result={"duration": "P2W"}),
    "language tag with script": variant(verb={"id": "http://x.org/v",
                                              "display": {"zh-Hant-TW": "x"}}),
    "attachment with fileUrl": variant(attachments=[{
        "usageType": "http://adlnet.gov/expapi/attachments/signature",
        "display": {"en": "x"}, "contentType": "text/plain", "length": 3, "sha2": "a" * 64,
        "fileUrl": "http://relais.test/f"}]),
}

BAD = {
    "unknown property": (variant(foo=1), "unknown property 'foo'"),
    "bad id": (variant(id="not-a-uuid"), "statement.id"),
    "no actor": (variant(actor=None), "statement.actor"),
    "two IFIs": (variant(actor={"mbox": "mailto:a@b.c", "openid": "http://x.org"}),
                 "exactly one"),
    "no IFI": (variant(actor={"name": "Ana"}), "statement.actor"),
    "mbox without mailto": (variant(actor={"mbox": "ana@example.com"}), "actor.mbox"),
    "bad sha1": (variant(actor={"mbox_sha1sum": "xyz"}), "mbox_sha1sum"),
    "account without homePage": (variant(actor={"account": {"name": "x"}}), "account"),
    "account homePage not IRI": (variant(actor={"account": {"homePage": "nope", "name": "x"}}),
                                 "account.homePage"),
    "group member is group": (variant(actor={"objectType": "Group", "member": [
        {"objectType": "Group", "member": [AGENT]}]}), "member[0]"),
    "anonymous group without members": (variant(actor={"objectType": "Group"}), "member"),
    "verb without id": (variant(verb={"display": {"en": "x"}}), "verb.id"),
    "verb id not IRI": (variant(verb={"id": "completed"}), "verb.id"),
    "display bad language tag": (variant(verb={"id": "http://x.org/v",
                                               "display": {"not a tag": "x"}}), "RFC 5646"),
    "display value not string": (variant(verb={"id": "http://x.org/v", "display": {"en": 1}}),
                                 "display.en"),
    "activity without id": (variant(object={"objectType": "Activity"}), "object.id"),
    "activity id not IRI": (variant(object={"id": "module 1"}), "object.id"),
    "agent object without objectType": (variant(object=AGENT), "unknown property 'mbox'"),
    "unknown object type": (variant(object={"objectType": "Thing", "id": "http://x.org"}),
                            "unknown object type"),
    "statement ref bad id": (variant(object={"objectType": "StatementRef", "id": "x"}),
                             "object.id"),
    "nested substatement": (variant(object={**SUB, "object": SUB}), "cannot contain"),
    "substatement with id": (variant(object={**SUB, "id": "f1e7a6c2-3d5b-4c8e-9a0f-"
                                                          "123456789abc"}),
                             "not allowed in a SubStatement"),
    "scaled above 1": (variant(result={"score": {"scaled": 1.5}}), "scaled"),
    "raw below min": (variant(result={"score": {"raw": -1, "min": 0, "max": 5}}), "raw"),
    "min above max": (variant(result={"score": {"min": 5, "max": 1}}), "min"),
    "success not bool": (variant(result={"success": "yes"}), "success"),
    "bad duration": (variant(result={"duration": "1 hour"}), "duration"),
    "extension key not IRI": (variant(result={"extensions": {"score": 1}}), "extensions"),
    "registration not UUID": (variant(context={"registration": "abc"}), "registration"),
    "team not a group": (variant(context={"team": AGENT}), "team"),
    "revision with agent object": (variant(object={"objectType": "Agent", **AGENT},
                                           context={"revision": "1"}), "revision"),
    "platform with statement ref": (variant(object={
        "objectType": "StatementRef", "id": "f1e7a6c2-3d5b-4c8e-9a0f-123456789abc"},
        context={"platform": "x"}), "platform"),
    "bad context activity key": (variant(context={"contextActivities": {"sibling": []}}),
                                 "sibling"),
    "context language bad": (variant(context={"language": "not a tag"}), "language"),
    "timestamp not ISO": (variant(timestamp="yesterday"), "timestamp"),
    "timestamp impossible date": (variant(timestamp="2026-02-30T10:00:00Z"), "timestamp"),
    "timestamp -00:00": (variant(timestamp="2026-11-23T10:00:00-00:00"), "-00:00"),
    "timestamp -0000": (variant(timestamp="2026-11-23T10:00:00-0000"), "-00:00"),
    "timestamp -00": (variant(timestamp="2026-11-23T10:00:00-00"), "-00:00"),
    "version 1.1.0": (variant(version="1.1.0"), "version"),
    "version 0.9.5": (variant(version="0.9.5"), "version"),
    "authority group of three": (variant(authority={"objectType": "Group", "member": [
        AGENT, {"mbox": "mailto:c@x.org"}, {"mbox": "mailto:d@x.org"}]}), "authority"),
    "voiding without statement ref": (variant(verb={"id": validation.VOIDED}), "voiding"),
    "interaction without type": (variant(object={"id": "http://x.org/q", "definition": {
        "choices": [{"id": "a"}]}}), "interactionType"),
    "components not allowed for type": (variant(object={"id": "http://x.org/q", "definition": {
        "interactionType": "true-false", "choices": [{"id": "a"}]}}), "choices"),
    "duplicate component ids": (variant(object={"id": "http://x.org/q", "definition": {
        "interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]}}), "duplicate"),
    "attachment without sha2": (variant(attachments=[{
        "usageType": "http://x.org/u", "display": {"en": "x"}, "contentType": "text/plain",
        "length": 3}]), "sha2"),
    "attachment length not integer": (variant(attachments=[{
        "usageType": "http://x.org/u", "display": {"en": "x"}, "contentType": "text/plain",
        "length": "3", "sha2": "a" * 64}]), "length"),
}


@pytest.mark.parametrize("statement", GOOD.values(), ids=list(GOOD))
def test_valid_statements_pass(statement: dict[str, Any]) -> None:
    validation.statement(statement)


@pytest.mark.parametrize(("statement", "message"), BAD.values(), ids=list(BAD))
def test_invalid_statements_name_the_rule(statement: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as info:
        validation.statement(statement)
    assert message in info.value.message


def test_timestamp_offsets_are_converted_to_utc() -> None:
    parsed = validation.parse_timestamp("2026-11-23T10:00:00+01:00", "t")
    assert parsed.isoformat() == "2026-11-23T09:00:00+00:00"
