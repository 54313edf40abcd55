"""Forms: an organization's LTI platform registration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField, URLField


class PlatformForm(FlaskForm):
    """The values the platform's administrator reads from its tool registration.

    No field validators: the service checks every field at once, so each error shows next to
    its field in one round.
    """

    name = StringField(_l("Name"),
                       description=_l("For you, e.g. Moodle of the academy."))
    issuer = URLField(_l("Issuer (platform ID)"),
                      description=_l("Moodle: the site's address, e.g. https://moodle.example.com"))
    client_id = StringField(_l("Client ID"))
    deployment_ids = TextAreaField(_l("Deployment IDs"),
                                   description=_l("Separated by commas or lines."))
    auth_login_url = URLField(_l("Authentication request URL"),
                              description=_l("Moodle: …/mod/lti/auth.php"))
    auth_token_url = URLField(_l("Access token URL"),
                              description=_l("Moodle: …/mod/lti/token.php"))
    jwks_url = URLField(_l("Public keyset URL"),
                        description=_l("Moodle: …/mod/lti/certs.php"))
    submit = SubmitField(_l("Save"))
