"""Forms of the jobs pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SubmitField
from wtforms.fields.choices import SelectChoice

from lms.accounts.forms import ROLE_LABELS
from lms.accounts.models import Role


class ImportMembersForm(FlaskForm):
    """Importing members from a CSV file, run as a background job."""

    file = FileField(_l("CSV file"), validators=[FileRequired()],
                     description=_l("First line: the column names. 'email' is required; 'role', "
                                    "'display_name', 'team', 'job_family' and 'locale' are "
                                    "optional. Commas or semicolons."))
    default_role = SelectField(_l("Role when the file gives none"),
                               choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role],
                               default=Role.LEARNER.value)
    submit = SubmitField(_l("Import"))


class CancelForm(FlaskForm):
    """A button to cancel a background job (protected by CSRF)."""

    submit = SubmitField(_l("Cancel the job"))
