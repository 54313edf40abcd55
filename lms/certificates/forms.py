"""Forms of the certificate pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the revocation"),
                           validators=[DataRequired(), Length(max=2000)],
                           description=_l("Kept with the certificate; not shown on the public "
                                          "verification page."))
    confirm = BooleanField(_l("I confirm: this certificate will be shown as revoked to anyone "
                              "who verifies it."), validators=[InputRequired()])
    submit = SubmitField(_l("Revoke the certificate"))


class ReissueForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the re-issue"),
                           validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Re-issue"))


class IssueForm(FlaskForm):
    enrollment = SelectField(_l("Learner and cohort"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason for issuing by hand"),
                           validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Issue the certificate"))


class ExportForm(FlaskForm):
    cohort = HiddenField()
    program = HiddenField()
    since = HiddenField()
    until = HiddenField()
    submit = SubmitField(_l("Export as ZIP (PDFs and register)"))


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    cohort = SelectField(_l("Cohort"), validators=[Optional()], coerce=str)
    program = SelectField(_l("Program"), validators=[Optional()], coerce=str)
    since = DateField(_l("Issued from"), validators=[Optional()])
    until = DateField(_l("Issued until"), validators=[Optional()])
