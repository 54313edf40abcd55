"""Property-based fuzz of the JSON API from its own OpenAPI document (Schemathesis).

Every documented operation gets a bounded number of generated requests (``FUZZ_EXAMPLES``,
default 6; set ``RELAIS_FUZZ_EXAMPLES`` for a longer run), sent as the demo organization's admin
with a bearer token: no answer may be a 5xx, and each must be a documented status with a body
that matches its documented schema. Reads run first, then writes, deletions last, so fewer
requests land on objects a deletion already removed.
"""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.demo import DEMO_SLUG
from lms.extensions import db
from tests.support import load_demo_once

pytestmark = pytest.mark.slow

FUZZ_EXAMPLES = int(os.environ.get("RELAIS_FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
ORDER = {"get": 0, "post": 1, "put": 1, "patch": 1, "delete": 2}


@pytest.fixture()
def admin_token(app):
    load_demo_once()
    admin = db.session.scalar(select(User).where(User.email == "admin@maison-lumiere.example"))
    _token, raw = accounts.issue_api_token(user=admin, name="fuzz")
    db.session.commit()
    return raw


def test_the_api_answers_every_generated_request_as_documented(app, admin_token):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: (ORDER.get(op.method.lower(), 1), op.path))
    headers = {"Authorization": f"Bearer {admin_token}"}
    failures: list[str] = []
    timings: dict[str, float] = {}

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def check(case):  # type: ignore[no-untyped-def]
            if "org_slug" in (case.path_parameters or {}):
                # Requests about the demo organization reach the code behind the membership
                # check; random slugs would all stop at its 404.
                case.path_parameters["org_slug"] = DEMO_SLUG
            case.call_and_validate(headers=headers, checks=CHECKS)

        started = time.monotonic()
        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried, all reported
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:3000])
        timings[f"{operation.method.upper()} {operation.path}"] = time.monotonic() - started
        db.session.rollback()
    slowest = sorted(timings.items(), key=lambda kv: -kv[1])[:8]
    print("slowest operations:", ", ".join(f"{k} {v:.1f}s" for k, v in slowest))
    assert not failures, "\n\n".join(failures)
