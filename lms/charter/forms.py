"""Forms: a new version of the charter, and what accepting it gates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from lms.charter.services import MAX_SUMMARY


class VersionForm(FlaskForm):
    """The text of a new version in French and English; publishing takes a confirmation."""

    body_fr = TextAreaField(_l("Charter in French (Markdown)"), render_kw={"rows": 18})
    body_en = TextAreaField(_l("Charter in English (Markdown)"), render_kw={"rows": 18},
                            description=_l("Optional: readers in English see the French text "
                                           "when it is empty."))
    summary = StringField(_l("What changed (shown to those asked again)"),
                          validators=[Length(max=MAX_SUMMARY)])
    # Set by the confirmation page's button: without it the form only previews.
    confirmed = HiddenField()
    preview = SubmitField(_l("Preview before publishing"))
    publish = SubmitField(_l("Publish and ask everyone to accept it"))


class GatesForm(FlaskForm):
    """What waits until a member has accepted the charter."""

    gate_advocacy = BooleanField(_l("Count advocacy activity only of people who accepted "
                                    "the charter"))
    gate_exercises = BooleanField(_l("Exercises on personal accounts: hand-ins only after "
                                     "accepting the version in force"))
    gate_certificates = BooleanField(_l("Certificates: issued only once the version in force "
                                        "is accepted"))
    submit = SubmitField(_l("Save the rules"))
