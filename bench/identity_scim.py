"""Benchmark of SCIM provisioning through the HTTP interface; prints its figures.

    .venv/bin/python bench/identity_scim.py [--users 300] [--database URL]

Creates ``--users`` users one POST at a time (as an identity provider does, each with a team
from the enterprise extension), then times the lookups providers make before every change
(``externalId eq``, ``userName eq``) and a page of 200 users, 30 times each after 3 warm-ups.
Wall time is shown next to CPU time: on SQLite most of a POST's wall time is the commit's
fsync. ``--database`` must name an empty database.
"""

from __future__ import annotations

import time

import common as bench

from lms.accounts.services import create_organization
from lms.extensions import db
from lms.identity.services import issue_scim_token

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def main() -> None:
    args = bench.options(users=300).parse_args()
    app = bench.bench_app(args.database)
    with app.app_context():
        org = create_organization(slug="bench", name="Bench")
        _token, raw = issue_scim_token(organization=org)
        db.session.commit()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {raw}"}
        wall, cpu = time.perf_counter(), time.process_time()
        for n in range(args.users):
            response = client.post("/scim/v2/bench/Users", headers=headers, json={
                "schemas": [USER, ENTERPRISE], "userName": f"u{n}@bench-corp.com",
                "externalId": f"X{n}", "displayName": f"User {n}",
                ENTERPRISE: {"department": f"Team {n % 10}"}})
            assert response.status_code == 201, response.get_data(as_text=True)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"SCIM POST /Users, {args.users} users one by one: {args.users / wall:.0f} users/s "
              f"(wall {wall / args.users * 1000:.1f} ms, CPU {cpu / args.users * 1000:.1f} ms "
              f"per user) on {db.engine.dialect.name}")
        middle = args.users // 2
        for label, query in (("externalId eq", f'externalId eq "X{middle}"'),
                             ("userName eq", f'userName eq "u{middle}@bench-corp.com"')):
            median, p95 = bench.timed(bench.get_ok(
                client, "/scim/v2/bench/Users", query_string={"filter": query},
                headers=headers))
            print(f"SCIM GET /Users?filter={label}: median {median:.1f} ms, p95 {p95:.1f} ms")
        median, p95 = bench.timed(bench.get_ok(client, "/scim/v2/bench/Users?count=200",
                                               headers=headers))
        print(f"SCIM GET /Users?count=200: median {median:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
