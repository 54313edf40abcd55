"""Forms of the certificate pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp


def _reason(label: str, **kwargs: Any) -> TextAreaField:
    """The reason a change to a certificate is made: required, kept with the certificate."""
    return TextAreaField(label, validators=[DataRequired(), Length(max=2000)], **kwargs)


class RevokeForm(FlaskForm):
    """Revoking a certificate: the reason, kept with it, and an explicit confirmation."""

    reason = _reason(_l("Reason for the revocation"),
                     description=_l("Kept with the certificate; not shown on the public "
                                    "verification page."))
    confirm = BooleanField(_l("I confirm: this certificate will be shown as revoked to anyone "
                              "who verifies it."), validators=[InputRequired()])
    submit = SubmitField(_l("Revoke the certificate"))


class ReissueForm(FlaskForm):
    """Re-issuing a certificate, with the reason."""

    reason = _reason(_l("Reason for the re-issue"))
    submit = SubmitField(_l("Re-issue"))


class IssueForm(FlaskForm):
    """Issuing a certificate by hand to a learner of a cohort, with the reason."""

    enrollment = SelectField(_l("Learner and cohort"), validators=[DataRequired()])
    reason = _reason(_l("Reason for issuing by hand"))
    submit = SubmitField(_l("Issue the certificate"))


class ExportForm(FlaskForm):
    """Exporting the filtered register as a ZIP of PDFs; the filters ride along hidden."""

    cohort = HiddenField()
    program = HiddenField()
    since = HiddenField()
    until = HiddenField()
    submit = SubmitField(_l("Export as ZIP (PDFs and register)"))


class FilterForm(FlaskForm):
    """The filters of the certificate register: cohort, program and issue dates."""

    class Meta:
        """Read from the query string (a GET form): no CSRF token."""

        csrf = False

    cohort = SelectField(_l("Cohort"), validators=[Optional()], coerce=str)
    program = SelectField(_l("Program"), validators=[Optional()], coerce=str)
    since = DateField(_l("Issued from"), validators=[Optional()])
    until = DateField(_l("Issued until"), validators=[Optional()])


class SettingsForm(FlaskForm):
    """The organization's certificate settings: template, colour, logo, validity, refresher."""

    template = SelectField(_l("Certificate template"), validators=[DataRequired()])
    apply_to_issued = BooleanField(
        _l("Also use this template for the valid certificates already issued"),
        description=_l("Their content does not change; their PDFs are rendered again."))
    accent_color = StringField(
        _l("Colour"), validators=[Optional(), Regexp(r"^#[0-9a-fA-F]{6}$",
                                                     message=_l("A colour like #2d5b8a."))],
        description=_l("Leave empty for the template's own colour."))
    logo = FileField(_l("Logo (PNG or JPEG, 256 KB at most)"))
    remove_logo = BooleanField(_l("Remove the logo"))
    validity_months = IntegerField(
        _l("Validity (months)"), validators=[Optional(), NumberRange(min=1, max=120)],
        description=_l("Leave empty if the certificates never expire."))
    renewal_lead_days = IntegerField(
        _l("Re-enrol in a refresher this many days before expiry"), default=30,
        validators=[InputRequired(), NumberRange(min=0, max=365)])
    refresher_cohort = SelectField(_l("Refresher cohort"), coerce=str,
                                   validators=[Optional()])
    submit = SubmitField(_l("Save"))


class ExpiringForm(FlaskForm):
    """The filters of the certificates expiring soon: how soon, and the program."""

    class Meta:
        """Read from the query string (a GET form): no CSRF token."""

        csrf = False

    days = SelectField(_l("Expiring within"), coerce=int, default=30,
                       choices=[SelectChoice(30, _l("30 days")), SelectChoice(60, _l("60 days")),
                                SelectChoice(90, _l("90 days"))])
    program = SelectField(_l("Program"), validators=[Optional()], coerce=str)
