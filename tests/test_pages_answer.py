"""Every page the accessibility crawl opens in Chromium (tests/browser/crawl.py: each role's
menu pages, their tabs, one detail page of each kind) answers, requested with the test client:
on PostgreSQL, where the browser tests do not run (tests/conftest.py), this is what shows that
each of those pages' queries works there.
"""

from __future__ import annotations

from flask import Flask

from tests.i18n_crawl import DETAILS, ROLES, login, menu_pages
from tests.support import load_demo_once


def test_every_menu_page_and_detail_page_of_every_role_answers(app: Flask):
    load_demo_once()
    failures, visited, kinds = [], 0, set()
    for role in ROLES:
        client = app.test_client()
        login(client, role)
        statuses: dict[str, int] = {}

        def get(path: str, client=client, statuses=statuses) -> str:
            response = client.get(path)
            statuses[path] = response.status_code
            return response.get_data(as_text=True)

        # Finding the pages requests the menu's pages already: only the detail pages remain.
        pages = menu_pages(get)
        for name, path in pages.items():
            if path not in statuses:
                get(path)
            visited += 1
            kinds.add(name)
            if statuses[path] != 200:
                failures.append(f"{role} {path}: {statuses[path]}")
    assert not failures, "\n".join(failures)
    # The demo's four roles reach about 30 menu pages between them, and details add about 15.
    assert visited >= 40, f"only {visited} pages visited"
    assert len(kinds & DETAILS.keys()) >= 10, sorted(kinds & DETAILS.keys())
