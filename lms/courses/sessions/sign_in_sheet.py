"""The printable sign-in sheet ("feuille d'émargement") of a session, as a PDF.

One row per learner with a seat: for each half-day the status, the sign-in time (and whether it
came from the QR code) and a cell to sign; the trainer signs each half-day at the bottom.
Rendered from our own template with WeasyPrint through :mod:`lms.core.pdf`, which fetches
nothing from the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import Membership, Organization, User
from lms.core import pdf
from lms.core.models import utcnow
from lms.core.web import localized
from lms.courses.cohorts.models import Enrollment
from lms.courses.sessions.models import REGISTERED, Attendance, SessionRegistration, TrainingSession
from lms.courses.sessions.services import half_days, local_zone
from lms.extensions import db


@dataclass(frozen=True)
class Cell:
    """One learner's half-day: status (None: not taken yet), sign-in time, QR or sheet."""

    status: str | None
    signed_at: datetime | None
    source: str | None


@dataclass(frozen=True)
class Row:
    """One learner's row on the sign-in sheet: name, e-mail and a cell per half-day."""

    name: str
    email: str
    cells: list[Cell]


def rows(session: TrainingSession) -> tuple[list[tuple[date, str]], list[Row]]:
    """The session's half-days and one row per learner with a seat, by name."""
    halves = half_days(session)
    seated = db.session.execute(
        select(Enrollment.id, User.display_name, User.email)
        .join(SessionRegistration, SessionRegistration.enrollment_id == Enrollment.id)
        .join(Membership, Enrollment.membership_id == Membership.id).join(User)
        .where(SessionRegistration.session_id == session.id,
               SessionRegistration.status == REGISTERED)
        .order_by(User.name_key, User.email)).all()
    marks = {(a.enrollment_id, a.day, a.half): a for a in db.session.scalars(
        select(Attendance).where(Attendance.session_id == session.id))}
    out = []
    for enrollment_id, name, email in seated:
        cells = []
        for day, half in halves:
            mark = marks.get((enrollment_id, day, half))
            cells.append(Cell(mark.status, mark.signed_at, mark.source) if mark
                         else Cell(None, None, None))
        out.append(Row(name, email, cells))
    return halves, out


CSS = f"""
@page {{ size: A4 landscape; margin: 12mm 10mm 14mm;
  @bottom-right {{ content: counter(page) " / " counter(pages); font: 8pt {pdf.SANS}; }}
  @bottom-left {{ content: string(generated); font: 8pt {pdf.SANS}; color: #555; }} }}
body {{ font: 9pt {pdf.SANS}; color: #1d2733; }}
h1 {{ font-size: 15pt; margin: 0 0 2mm; }}
.generated {{ string-set: generated content(); font-size: 0; }}
dl {{ display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 1mm 4mm;
  margin: 0 0 4mm; }}
dt {{ font-weight: bold; }} dd {{ margin: 0; }}
table {{ width: 100%; border-collapse: collapse; table-layout: fixed; }}
thead {{ display: table-header-group; }}
tr {{ page-break-inside: avoid; }}
th, td {{ border: 0.6pt solid #555; padding: 1.2mm; vertical-align: top; text-align: left; }}
th {{ background: #eef1f4; font-size: 8pt; }}
th.name {{ width: 22%; }}
td.sign {{ height: 11mm; }}
.status {{ font-weight: bold; }}
.muted {{ color: #555; font-size: 7.5pt; }}
.trainer td {{ height: 16mm; }}
.legend {{ margin-top: 3mm; font-size: 7.5pt; color: #555; }}
"""


LABELS = {"present": _l("Present"), "absent": _l("Absent"), "excused": _l("Excused")}


def html(session: TrainingSession) -> str:
    """The sheet as HTML, in the current language."""
    halves, learners = rows(session)
    zone = local_zone()
    org = db.session.get(Organization, session.organization_id)
    # The template alone, without the page context processors: this runs outside requests too.
    template = current_app.jinja_env.get_template("courses/sign_in_sheet_pdf.html")
    return template.render(
        session=session, organization=org,
        program=session.cohort.program, module=session.module, halves=halves, rows=learners,
        zone=zone, t=localized, labels=LABELS, generated=utcnow().astimezone(zone))


def render_pdf(session: TrainingSession) -> bytes:
    """The sign-in sheet as PDF bytes."""
    return pdf.html_to_pdf(html(session), CSS)


def filename(session: TrainingSession) -> str:
    """A download name: ``emargement-<date>-session-<id>.pdf``."""
    day = session.starts_at.astimezone(local_zone()).date().isoformat()
    return f"emargement-{day}-session-{session.id}.pdf"
