"""The demo's blended program: the six-week path with a pilot cohort of the demo learners, the
kick-off workshop held (attendance taken), the first e-learning modules under way, and the next
group session open for registration. Everything goes through the services, so the xAPI
statements and the progress they project exist as in real use.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.core.models import utcnow
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.elearning.services import submit_quiz, view_lesson
from lms.courses.exercises.queries import settings_of
from lms.courses.exercises.services import (
    add_journal_entry,
    review_submission,
    save_analysis,
    set_tutor,
    submit_evidence,
)
from lms.courses.programs.models import Program
from lms.courses.programs.services import copy_from_catalogue, load_catalogue
from lms.courses.sessions import approvals, sign_in
from lms.courses.sessions.services import (
    half_days,
    local_zone,
    record_attendance,
    register,
    schedule_session,
)
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
# Who signed in with the QR code, minutes before the start (Nathan's phone was flat: the
# trainer ticked him on the sheet).
QR_SIGN_INS = {0: 12, 1: 7, 2: 9, 4: 3, 5: 1}
# Lucas (regional management) manages the sales people: Camille, Hugo and Manon.
MANAGER, REPORTS = 5, (0, 1, 6)
APPROVAL_PATH = "formation-ambassadeurs-1-jour"


def _local(day: datetime, hour: int) -> datetime:
    zone = local_zone()
    return datetime.combine(day.astimezone(zone).date(), time(hour), tzinfo=zone)


def demo_step(people: Any) -> None:
    """Run the six-week path with the demo learners as a pilot cohort."""
    org = people.organization
    if db.session.scalar(select(Program).where(Program.organization_id.is_(None),
                                               Program.slug == PATH)) is None:
        load_catalogue()
    program = copy_from_catalogue(organization=org, slug=PATH)
    now = utcnow()
    cohort = create_cohort(
        program=program, name="Groupe pilote — automne", pilot=True,
        starts_on=(now - timedelta(days=14)).date(), ends_on=(now + timedelta(days=28)).date(),
        trainers=[people.trainer])
    enrollments = [enrol(cohort=cohort, membership=m) for m in people.learners]
    modules = {m.key: m for m in program.modules}

    kickoff = schedule_session(
        cohort=cohort, module=modules["lancement"], starts_at=_local(now - timedelta(days=14), 9),
        ends_at=_local(now - timedelta(days=14), 12), place="Lyon — salle Confluence",
        capacity=12, trainer=people.trainer)
    for enrollment in enrollments:
        register(session=kickoff, enrollment=enrollment)
    ((day, half),) = half_days(kickoff)
    for i, enrollment in enumerate(enrollments):
        if i in QR_SIGN_INS:  # scanned the QR code on the screen, a few minutes early
            sign_in.sign_in(session=kickoff, membership=enrollment.membership,
                            when=kickoff.starts_at - timedelta(minutes=QR_SIGN_INS[i]))
            continue
        record_attendance(session=kickoff, enrollment=enrollment, day=day, half=half,
                          status=ABSENT.get(i, "present"),
                          recorded_by=people.trainer.user)

    for i, (read, passed) in PROGRESS.items():
        enrollment = enrollments[i]
        for key in read:
            for lesson in modules[key].lessons:
                view_lesson(enrollment=enrollment, lesson=lesson)
        for key in read:
            quiz = modules[key].quizzes[0]
            right = {q.key: [o["key"] for o in q.options if o.get("correct")]
                     for q in quiz.questions}
            if key in passed:
                submit_quiz(enrollment=enrollment, quiz=quiz, answers=right)
            elif i == 4:
                wrong = {q.key: [q.options[-1]["key"]] for q in quiz.questions}
                submit_quiz(enrollment=enrollment, quiz=quiz, answers=wrong)

    # A catch-up session of the kick-off for those who missed it, open for registration.
    catch_up = schedule_session(
        cohort=cohort, module=modules["lancement"], starts_at=_local(now + timedelta(days=7), 14),
        ends_at=_local(now + timedelta(days=7), 17),
        virtual_link="https://visio.maison-lumiere.example/relais-rattrapage", capacity=4,
        trainer=people.trainer)
    register(session=catch_up, enrollment=enrollments[6])
    _exercises(people, enrollments, modules)
    _approvals(people)


def _exercises(people: Any, enrollments: list[Any], modules: dict[str, Any]) -> None:
    """On-the-job exercises: Camille's profile approved, Léa's awaiting review, Hugo asked for
    changes; Camille's first post run as AFEST with Lucas as tutor and a journal under way.
    """
    trainer = people.trainer
    profile = modules["exercice-profil"]
    rubric = {c["key"]: "met" for c in settings_of(profile)["rubric"]}
    camille, hugo, lea = enrollments[0], enrollments[1], enrollments[2]
    done = submit_evidence(
        enrollment=camille, module=profile,
        post_url="https://www.linkedin.com/in/camille-martin-maison-lumiere",
        reflection="J'ai remplacé « Ingénieure commerciale » par « J'aide les hôtels à réduire "
                   "leur facture d'éclairage ». Le résumé parle maintenant de mes clients et "
                   "donne mon adresse pro. Le plus dur : choisir une photo récente !")
    review_submission(
        submission=done, reviewer=trainer, decision="approved", rubric=rubric,
        comment="Très beau titre, concret et orienté client. Pensez à ajouter un projet récent "
                "dans la rubrique Sélection.")
    sent_back = submit_evidence(
        enrollment=hugo, module=profile,
        post_url="https://www.linkedin.com/in/hugo-bernard-ml",
        reflection="J'ai changé ma photo et ajouté mon poste actuel.")
    review_submission(
        submission=sent_back, reviewer=trainer, decision="changes_requested",
        rubric={**rubric, "titre": "not_met", "resume": "partly"},
        comment="La photo est parfaite. Le titre reprend encore votre intitulé de poste : dites "
                "qui vous aidez et comment, puis adressez le résumé à vos clients grands comptes.")
    submit_evidence(
        enrollment=lea, module=profile,
        post_url="https://www.linkedin.com/in/lea-dubois-recrutement",
        reflection="Titre : « Je recrute les talents de l'éclairage durable à Lyon ». J'ai ajouté "
                   "un lien vers nos offres et retiré une ancienne expérience sans rapport.")

    first_post = modules["exercice-premier-post"]
    lucas = people.learners[5]
    set_tutor(enrollment=camille, module=first_post, email=lucas.user.email)
    save_analysis(
        enrollment=camille, module=first_post,
        analysis="Situation de travail : le retour d'expérience après l'installation chez un "
                 "client hôtelier (réunion de bilan, chiffres d'économie d'énergie validés par le "
                 "client). Ce qu'elle permet d'apprendre : choisir l'angle, obtenir l'accord du "
                 "client, rédiger un post concret et conforme à la charte. Conditions : "
                 "publication sur le temps de travail, relecture par la tutrice avant mise en "
                 "ligne la première fois. Risque : citer un client sans son accord écrit.")
    today = utcnow().date()
    add_journal_entry(
        enrollment=camille, module=first_post, kind="work_situation",
        day=today - timedelta(days=3), duration_minutes=45, recorded_by=lucas.user,
        notes="Camille a choisi le chantier de l'hôtel des Célestins, obtenu l'accord du "
              "directeur par écrit et rédigé son post seule. Accroche efficace ; la mention de "
              "l'entreprise manquait, elle l'a ajoutée.")
    add_journal_entry(
        enrollment=camille, module=first_post, kind="reflective_phase",
        day=today - timedelta(days=2), duration_minutes=20, recorded_by=camille.membership.user,
        notes="Ce qui a marché : commencer par le chiffre d'économie. À refaire autrement : "
              "préparer la photo avant d'écrire, et demander l'accord du client plus tôt.")


def _approvals(people: Any) -> None:
    """The one-day training needs the manager's approval: Lucas approved Hugo, declined Manon
    (with a reason) and has Camille's request waiting on his Approvals page.
    """
    org, learners = people.organization, people.learners
    manager = learners[MANAGER]
    for i in REPORTS:
        accounts.set_manager(membership=learners[i], manager=manager)
    program = copy_from_catalogue(organization=org, slug=APPROVAL_PATH)
    approvals.set_approval_required(program=program, required=True)
    now = utcnow()
    cohort = create_cohort(
        program=program, name="Vague 1 — équipes commerciales",
        starts_on=(now + timedelta(days=10)).date(), trainers=[people.trainer])
    enrollments = {i: enrol(cohort=cohort, membership=learners[i]) for i in REPORTS}
    morning = program.modules[0]
    session = schedule_session(
        cohort=cohort, module=morning, starts_at=_local(now + timedelta(days=10), 9),
        ends_at=_local(now + timedelta(days=10), 12), place="Lyon — salle Bellecour",
        capacity=10, trainer=people.trainer)
    # Camille's request waits for Lucas's decision.
    _camille, hugo, manon = (register(session=session, enrollment=enrollments[i],
                                      requested_by=learners[i].user)
                             for i in REPORTS)
    approvals.approve(registration=hugo, by=manager)
    approvals.decline(registration=manon, by=manager,
                      reason="Salon Lumière Pro à Paris ce jour-là : inscrivez-vous à la "
                             "prochaine date.")
