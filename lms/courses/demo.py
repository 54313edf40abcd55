"""The demo's blended program: the six-week path with a pilot cohort of the demo learners, the
kick-off workshop held (attendance taken), the first e-learning modules under way, and the next
group session open for registration. Everything goes through the services, so the xAPI
statements and the progress they project exist as in real use."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from lms.core.models import utcnow
from lms.courses import services
from lms.courses.models import Program
from lms.extensions import db

PATH = "parcours-ambassadeurs-6-semaines"
# Index in DemoPeople.learners → (e-learning modules whose lessons they read, quizzes passed).
PROGRESS: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    0: (("profil", "veille-et-ecriture", "reseau-et-conversation"),
        ("profil", "veille-et-ecriture", "reseau-et-conversation")),  # Camille, ahead
    1: (("profil", "veille-et-ecriture"), ("profil",)),  # Hugo
    2: (("profil", "veille-et-ecriture"), ("profil", "veille-et-ecriture")),  # Léa
    3: (("profil",), ("profil",)),  # Nathan
    4: (("profil",), ()),  # Chloé: failed the quiz once, will retry
    5: (("profil",), ()),  # Lucas: reading
    # 6 Manon and 7 Jules have not started the e-learning yet.
}
# Kick-off attendance: everyone present but Manon (excused) and Jules (absent).
ABSENT = {6: "excused", 7: "absent"}


def _local(day: datetime, hour: int) -> datetime:
    zone = services.local_zone()
    return datetime.combine(day.astimezone(zone).date(), time(hour), tzinfo=zone)


def demo_step(people: Any) -> None:
    """Run the six-week path with the demo learners as a pilot cohort."""
    org = people.organization
    if db.session.scalar(select(Program).where(Program.organization_id.is_(None),
                                               Program.slug == PATH)) is None:
        services.load_catalogue()
    program = services.copy_from_catalogue(organization=org, slug=PATH)
    now = utcnow()
    cohort = services.create_cohort(
        program=program, name="Groupe pilote — automne", pilot=True,
        starts_on=(now - timedelta(days=14)).date(), ends_on=(now + timedelta(days=28)).date(),
        trainers=[people.trainer])
    enrollments = [services.enrol(cohort=cohort, membership=m) for m in people.learners]
    modules = {m.key: m for m in program.modules}

    kickoff = services.schedule_session(
        cohort=cohort, module=modules["lancement"], starts_at=_local(now - timedelta(days=14), 9),
        ends_at=_local(now - timedelta(days=14), 12), place="Lyon — salle Confluence",
        capacity=12, trainer=people.trainer)
    for enrollment in enrollments:
        services.register(session=kickoff, enrollment=enrollment)
    ((day, half),) = services.half_days(kickoff)
    for i, enrollment in enumerate(enrollments):
        services.record_attendance(session=kickoff, enrollment=enrollment, day=day, half=half,
                                   status=ABSENT.get(i, "present"),
                                   recorded_by=people.trainer.user)

    for i, (read, passed) in PROGRESS.items():
        enrollment = enrollments[i]
        for key in read:
            for lesson in modules[key].lessons:
                services.view_lesson(enrollment=enrollment, lesson=lesson)
        for key in read:
            quiz = modules[key].quizzes[0]
            right = {q.key: [o["key"] for o in q.options if o.get("correct")]
                     for q in quiz.questions}
            if key in passed:
                services.submit_quiz(enrollment=enrollment, quiz=quiz, answers=right)
            elif i == 4:
                wrong = {q.key: [q.options[-1]["key"]] for q in quiz.questions}
                services.submit_quiz(enrollment=enrollment, quiz=quiz, answers=wrong)

    # A catch-up session of the kick-off for those who missed it, open for registration.
    catch_up = services.schedule_session(
        cohort=cohort, module=modules["lancement"], starts_at=_local(now + timedelta(days=7), 14),
        ends_at=_local(now + timedelta(days=7), 17),
        virtual_link="https://visio.maison-lumiere.example/relais-rattrapage", capacity=4,
        trainer=people.trainer)
    services.register(session=catch_up, enrollment=enrollments[6])
