"""The one-page ROI summary of a cohort for management: the estimate against colleagues not
yet trained, costs, benefit and ROI with their interval, the program's total, and the method
in three sentences. Rendered with WeasyPrint through :mod:`lms.core.pdf`.
"""

from __future__ import annotations

from flask import current_app

from lms.accounts.models import Organization
from lms.core import pdf
from lms.core.models import utcnow
from lms.core.web import localized
from lms.courses.cohorts.models import Cohort
from lms.extensions import db
from lms.impact import comparison, estimator, roi, wording

CSS = f"""
@page {{ size: A4; margin: 14mm 14mm 16mm;
  @bottom-left {{ content: string(generated); font: 8pt {pdf.SANS}; color: #555; }} }}
body {{ font: 9.5pt {pdf.SANS}; color: #1d2733; }}
h1 {{ font-size: 16pt; margin: 0 0 1mm; }}
h2 {{ font-size: 11pt; margin: 5mm 0 1.5mm; border-bottom: 0.6pt solid #8a94a6; }}
.generated {{ string-set: generated content(); font-size: 0; }}
.lead {{ color: #525c6e; margin: 0 0 3mm; }}
table {{ width: 100%; border-collapse: collapse; }}
th, td {{ border-bottom: 0.4pt solid #c5ccd6; padding: 1.2mm 1.5mm; text-align: left;
  vertical-align: top; }}
th {{ background: #eef1f4; font-size: 8.5pt; }}
td.num {{ text-align: right; white-space: nowrap; }}
.big {{ font-size: 13pt; font-weight: bold; }}
.muted {{ color: #525c6e; font-size: 8pt; }}
"""


def html(cohort: Cohort, *, weeks: int) -> str:
    """The summary as HTML, in the current language."""
    roster = comparison.Roster.of(cohort.organization_id)
    result = comparison.compare_cohort(cohort, weeks=weeks, roster=roster)
    settings = roster.settings
    cohort_roi = roi.cohort_roi(result, roster) if result.held else None
    program_roi, trained_cohorts = roi.program_roi(cohort, weeks=weeks, roster=roster)
    template = current_app.jinja_env.get_template("impact/roi_pdf.html")
    return template.render(
        cohort=cohort, organization=db.session.get(Organization, cohort.organization_id),
        result=result, settings=settings, currency=settings.currency if settings else "EUR",
        cohort_roi=cohort_roi, program_roi=program_roi, trained_cohorts=trained_cohorts,
        wording=wording, level_percent=round(result.level * 100),
        min_group=estimator.MIN_GROUP, generated=utcnow(), t=localized)


def render(cohort: Cohort, *, weeks: int) -> bytes:
    """The summary as PDF bytes."""
    return pdf.html_to_pdf(html(cohort, weeks=weeks), CSS)
