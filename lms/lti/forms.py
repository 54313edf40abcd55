"""Forms: an organization's LTI platform registration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField, URLField
from wtforms.validators import DataRequired, Length

URL_CHECKS = [DataRequired(), Length(max=500)]


class PlatformForm(FlaskForm):
    """The values the platform's administrator reads from its tool registration."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("For you, e.g. Moodle of the academy."))
    issuer = URLField(_l("Issuer (platform ID)"), validators=URL_CHECKS,
                      description=_l("Moodle: the site's address, e.g. https://moodle.example.com"))
    client_id = StringField(_l("Client ID"), validators=[DataRequired(), Length(max=255)])
    deployment_ids = TextAreaField(_l("Deployment IDs"), validators=[DataRequired(),
                                                                     Length(max=2000)],
                                   description=_l("Separated by commas or lines."))
    auth_login_url = URLField(_l("Authentication request URL"), validators=URL_CHECKS,
                              description=_l("Moodle: …/mod/lti/auth.php"))
    auth_token_url = URLField(_l("Access token URL"), validators=URL_CHECKS,
                              description=_l("Moodle: …/mod/lti/token.php"))
    jwks_url = URLField(_l("Public keyset URL"), validators=URL_CHECKS,
                        description=_l("Moodle: …/mod/lti/certs.php"))
    submit = SubmitField(_l("Save"))
