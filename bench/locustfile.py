"""The Locust scenario of the whole service: who uses Relais at once, and what they do.

* learners log in, browse their training, read lessons, take quizzes and look at their
  advocacy page;
* xAPI packages: a learner launches the module's package (short-lived LRS credentials limited
  to them and their enrolment), then the package posts statements with those credentials;
* the advocacy platform posts signed batches of events to the webhook;
* HR opens the dashboards (home, advocacy, impact, skill map);
* trainers open their session's sign-in sheet and save marks.

The data it uses comes from a plan (JSON) written by ``bench/load_test.py``, which seeds the
database, starts ``relais serve`` and ``relais worker`` and runs this file in its own process
(Locust patches the standard library with gevent when imported)::

    .venv/bin/python bench/locustfile.py --plan PLAN.json --host http://127.0.0.1:PORT \\
        --steps 10,20,40 --step-seconds 30

It steps the users up, resets the figures once each step's users are all started (their
logins are not counted), and prints one JSON line per step; it stops at the first step whose
p95 is over the limit or that saw any error. ``locust -f bench/locustfile.py`` also works,
with ``RELAIS_LOAD_PLAN`` naming the plan.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import gevent
from locust import HttpUser, between, events, task
from locust.env import Environment
from locust.exception import StopUser

# WTForms writes name, type, value; the templates' own forms type, name, value.
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
PLAN: dict[str, Any] = {}
# Each simulated person is a different account: a learner is never logged in twice.
_learners = itertools.count()
_trainers = itertools.count()
_hr = itertools.count()
# Users whose on_start (their login, a launch) is over: a step is measured from when all are.
_ready = [0]
# Logins and launches refused before a step's figures are reset: they count against the step.
_start_failures = [0]


def load_plan(path: str) -> None:
    PLAN.clear()
    with open(path) as fh:
        PLAN.update(json.load(fh))


@events.init.add_listener
def _plan_from_environment(**_kwargs: Any) -> None:
    if not PLAN and os.environ.get("RELAIS_LOAD_PLAN"):
        load_plan(os.environ["RELAIS_LOAD_PLAN"])


def org(path: str) -> str:
    return f"/o/{PLAN['slug']}{path}"


def csrf(user: HttpUser, url: str, name: str) -> str | None:
    """GET a page with a form (as a browser does before posting it); its CSRF token."""
    with user.client.get(url, name=name, catch_response=True) as response:
        match = CSRF.search(response.text or "")
        if response.status_code == 200 and match:
            return match.group(1)
        response.failure(f"no form on {url} ({response.status_code})")
        return None


def log_in(user: HttpUser, email: str) -> bool:
    token = csrf(user, "/login", "/login")
    if token is None:
        _start_failures[0] += 1
        return False
    with user.client.post("/login", name="/login (POST)", catch_response=True, data={
            "csrf_token": token, "email": email, "password": PLAN["password"]}) as response:
        # A refused login shows the form again; a good one lands elsewhere.
        if response.status_code != 200 or urlsplit(response.url).path == "/login":
            response.failure(f"login of {email} refused ({response.status_code})")
            _start_failures[0] += 1
            return False
    return True


class Person(HttpUser):
    """Someone who logs in with the next account of a pool of the plan's."""

    abstract = True
    wait_time = between(3, 8)
    pool, counter = "learners", _learners

    def on_start(self) -> None:
        accounts = PLAN[self.pool]
        self.me = accounts[next(self.counter) % len(accounts)]
        signed_in = log_in(self, self.me if isinstance(self.me, str) else self.me["email"])
        _ready[0] += 1
        if not signed_in:  # counted in _start_failures: the step fails
            raise StopUser()


class Learner(Person):
    """A learner going through the program's e-learning."""

    weight = 6
    wait_time = between(2, 6)

    def training(self) -> str:
        return org(f"/training/{self.me['enrollment']}")

    @task(3)
    def browse(self) -> None:
        self.client.get(org("/training"), name=org("/training"))
        self.client.get(self.training(), name=org("/training/[enrollment]"))

    @task(3)
    def read_lesson(self) -> None:
        lesson = random.choice(PLAN["lessons"])
        self.client.get(f"{self.training()}/lessons/{lesson}",
                        name=org("/training/[enrollment]/lessons/[id]"))

    @task(2)
    def take_quiz(self) -> None:
        quiz = random.choice(PLAN["quizzes"])
        url = f"{self.training()}/quizzes/{quiz['id']}"
        name = org("/training/[enrollment]/quizzes/[id]")
        token = csrf(self, url, name)
        if token is None:
            return
        # Right most of the time; a wrong first option otherwise (both are stored attempts).
        answers = quiz["right"] if random.random() < 0.7 else quiz["wrong"]
        data: list[tuple[str, str]] = [("csrf_token", token)]
        data += [(f"q-{key}", option) for key, options in answers.items() for option in options]
        self.client.post(url, data=data, name=name + " (POST)")

    @task(1)
    def my_advocacy(self) -> None:
        self.client.get(org("/advocacy/me"), name=org("/advocacy/me"))


class Package(HttpUser):
    """An xAPI package a learner launched: statements sent with the launch's credentials."""

    weight = 2
    wait_time = between(2, 6)

    def on_start(self) -> None:
        # Learners from the other end of the list: a launch is its own browser session.
        self.me = PLAN["learners"][-1 - next(_learners) % len(PLAN["learners"])]
        self.launch = None
        if log_in(self, self.me["email"]):
            self.relaunch()
        _ready[0] += 1

    def relaunch(self) -> None:
        program = org(f"/training/{self.me['enrollment']}")
        token = csrf(self, program, org("/training/[enrollment]"))
        if token is None:
            return
        url = f"{program}/modules/{PLAN['package_module']}/launch"
        with self.client.post(url, data={"csrf_token": token}, allow_redirects=False,
                              name=org("/training/[enrollment]/modules/[id]/launch"),
                              catch_response=True) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or "auth=" not in location:
                response.failure(f"launch answered {response.status_code}")
                _start_failures[0] += 1
                return
        query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
        self.launch = query

    @task
    def send_statements(self) -> None:
        if self.launch is None:
            return
        launch = self.launch
        now = datetime.now(UTC)
        verbs = ["experienced", "answered", "progressed"]
        statements = [{
            "id": str(uuid.uuid4()),
            "actor": json.loads(launch["actor"]),
            "verb": {"id": f"http://adlnet.gov/expapi/verbs/{random.choice(verbs)}",
                     "display": {"en-US": "did"}},
            "object": {"objectType": "Activity",
                       "id": f"{launch['activity_id']}/slide-{random.randrange(20)}"},
            "context": {"registration": launch["registration"],
                        "contextActivities": {"parent": [{"id": launch["activity_id"]}]}},
            "timestamp": (now - timedelta(seconds=n)).isoformat(),
        } for n in range(random.randint(1, 5))]
        self.client.post("/xapi/statements", json=statements, name="/xapi/statements (POST)",
                         headers={"Authorization": launch["auth"],
                                  "X-Experience-API-Version": "1.0.3"})
        if random.random() < 0.05:
            self.relaunch()


class AdvocacyPlatform(HttpUser):
    """The advocacy platform's connector: signed batches of the learners' activity."""

    weight = 1
    wait_time = between(3, 8)

    def on_start(self) -> None:
        _ready[0] += 1

    @task
    def post_batch(self) -> None:
        now = datetime.now(UTC)
        batch = [{
            "email": random.choice(PLAN["learners"])["email"],
            "network": "linkedin", "kind": random.choice(["post", "share", "comment"]),
            "url": f"https://www.linkedin.com/feed/update/{uuid.uuid4().hex}",
            "occurred_at": (now - timedelta(hours=random.randrange(1, 72))).isoformat(),
            "external_id": f"load-{uuid.uuid4().hex}",
            "impressions": random.randrange(5000), "clicks": random.randrange(100),
            "reactions": random.randrange(50),
        } for _ in range(PLAN["webhook_batch"])]
        body = json.dumps({"events": batch}).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(PLAN["webhook_secret"].encode(), stamp.encode() + b"." + body,
                             hashlib.sha256).hexdigest()
        self.client.post(f"/hooks/advocacy/{PLAN['slug']}", data=body,
                         name="/hooks/advocacy/[slug] (POST)",
                         headers={"Content-Type": "application/json",
                                  "X-Relais-Timestamp": stamp,
                                  "X-Relais-Signature": f"sha256={signature}"})


class HumanResources(Person):
    """HR looking at the figures."""

    pool, counter = "hr", _hr

    @task
    def dashboards(self) -> None:
        page = random.choice(["/", "/advocacy", "/advocacy/impact", "/skills/map"])
        self.client.get(org(page), name=org(page))


class Trainer(Person):
    """A trainer taking attendance on their session's sign-in sheet."""

    pool, counter = "trainers", _trainers

    @task
    def take_attendance(self) -> None:
        url = org(f"/sessions/{self.me['session']}/attendance")
        name = org("/sessions/[id]/attendance")
        token = csrf(self, url, name)
        if token is None:
            return
        data = {"csrf_token": token}
        for field in self.me["marks"]:
            data[field] = random.choice(["present", "present", "present", "absent", "excused"])
        self.client.post(url, data=data, name=name + " (POST)")


USERS = [Learner, Package, AdvocacyPlatform, HumanResources, Trainer]


# -- the stepped run ----------------------------------------------------------------------------

def _figures(env: Environment, seconds: float) -> dict[str, Any]:
    total = env.stats.total
    slowest = sorted(((entry.get_response_time_percentile(0.95), f"{entry.method} {entry.name}")
                      for entry in env.stats.entries.values() if entry.num_requests),
                     reverse=True)[:3]
    errors = [f"{error.occurrences}× {error.method} {error.name}: {error.error}"
              for error in env.stats.errors.values()][:5]
    return {"requests": total.num_requests, "failures": total.num_failures,
            "rps": total.num_requests / seconds if seconds else 0.0,
            "p50": total.get_response_time_percentile(0.5) or 0,
            "p95": total.get_response_time_percentile(0.95) or 0,
            "slowest": [f"{name} p95 {p95:.0f} ms" for p95, name in slowest],
            "errors": errors}


def run_steps(host: str, steps: list[int], step_seconds: float, warmup: float,
              spawn_rate: float, limit_ms: float) -> None:
    env = Environment(user_classes=USERS, host=host, events=events)
    runner = env.create_local_runner()
    for users in steps:
        runner.start(users, spawn_rate=spawn_rate)
        deadline = time.monotonic() + users / spawn_rate + 120
        while _ready[0] < users and time.monotonic() < deadline:
            gevent.sleep(0.5)
        gevent.sleep(warmup)
        env.stats.reset_all()
        print(json.dumps({"event": "start", "users": users}), flush=True)
        started = time.monotonic()
        gevent.sleep(step_seconds)
        figures = {"event": "end", "users": users,
                   **_figures(env, time.monotonic() - started)}
        figures["start_failures"] = _start_failures[0]
        figures["held"] = figures["failures"] == 0 and _start_failures[0] == 0 \
            and figures["p95"] <= limit_ms and figures["requests"] > 0
        print(json.dumps(figures), flush=True)
        if not figures["held"]:
            break
    runner.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description="Stepped Locust run of bench/load_test.py.")
    parser.add_argument("--plan", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--steps", required=True, help="users per step, e.g. 10,20,40")
    parser.add_argument("--step-seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5,
                        help="seconds after a step's users are started before measuring")
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--limit-ms", type=float, default=300)
    args = parser.parse_args()
    load_plan(args.plan)
    if not args.host.startswith(("http://127.", "http://localhost", "http://[::1]")):
        sys.exit("the load test targets this machine only (loopback)")
    run_steps(args.host, [int(n) for n in args.steps.split(",")], args.step_seconds,
              args.warmup, args.spawn_rate, args.limit_ms)


if __name__ == "__main__":
    main()
