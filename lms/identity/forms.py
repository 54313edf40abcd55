"""Forms: the "company account" step of the login page and the organization's SSO settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from lms.accounts.forms import ROLE_LABELS
from lms.accounts.models import Role


class CompanyLoginForm(FlaskForm):
    """The e-mail that finds the person's company provider."""

    # No Email() validator: it refuses intranet and reserved domains companies do use; an
    # address whose domain no organization claims is answered by the view.
    sso_email = EmailField(_l("Work address"), validators=[DataRequired(), Length(max=254)])
    sso_submit = SubmitField(_l("Continue with your company account"))


class SsoPolicyForm(FlaskForm):
    """The settings every single sign-on protocol shares: domains, roles, require-SSO."""

    allowed_domains = StringField(_l("Allowed e-mail domains"),
                                  validators=[DataRequired(), Length(max=2000)],
                                  description=_l("Separated by commas, e.g. acme.com, acme.fr."))
    default_role = SelectField(_l("Role of new accounts"),
                               choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role],
                               default=Role.LEARNER.value)
    role_mapping = TextAreaField(_l("Roles from groups"), validators=[Optional()],
                                 description=_l("One “group = role” per line; roles: learner, "
                                                "trainer, hr, admin."))
    require_sso = BooleanField(_l("Require single sign-on (passwords off for members)"))
    break_glass_user_id = SelectField(_l("Break-glass administrator"), choices=[],
                                      description=_l("Keeps a password when single sign-on "
                                                     "is required."))
    submit = SubmitField(_l("Save"))


class SsoSettingsForm(SsoPolicyForm):
    """An organization's OpenID Connect settings."""

    enabled = BooleanField(_l("Single sign-on is on"), default=True)
    issuer = StringField(_l("Issuer URL"), validators=[DataRequired(), Length(max=500)],
                         description=_l("The provider's address; Relais reads "
                                        "/.well-known/openid-configuration under it."))
    client_id = StringField(_l("Client ID"), validators=[DataRequired(), Length(max=255)])
    client_secret = PasswordField(_l("Client secret"), validators=[Optional(), Length(max=2000)],
                                  description=_l("Stored encrypted. Leave empty to keep the "
                                                 "current secret."))
    groups_claim = StringField(_l("Groups claim"), default="groups",
                               validators=[Optional(), Length(max=100)])
    team_claim = StringField(_l("Team claim"), validators=[Optional(), Length(max=100)],
                             description=_l("The claim whose value becomes the member's team, "
                                            "e.g. department. Empty: teams are not changed."))


class SamlSettingsForm(SsoPolicyForm):
    """An organization's SAML 2.0 identity provider (shown with the prefix ``saml-``)."""

    enabled = BooleanField(_l("SAML single sign-on is on"), default=True)
    idp_metadata = TextAreaField(_l("Identity provider metadata (XML)"),
                                 validators=[Optional(), Length(max=1_000_000)],
                                 description=_l("Paste the federation metadata XML, or give "
                                                "its URL below. Empty: keep the current "
                                                "metadata."))
    idp_metadata_url = StringField(_l("Metadata URL"), validators=[Optional(), Length(max=500)],
                                   description=_l("Fetched once, when you save."))
    email_attribute = StringField(_l("E-mail attribute"), default="email",
                                  validators=[DataRequired(), Length(max=200)],
                                  description=_l("Without it, the NameID is used when it is an "
                                                 "e-mail address."))
    name_attribute = StringField(_l("Name attribute"), validators=[Optional(), Length(max=200)])
    groups_attribute = StringField(_l("Groups attribute"), default="groups",
                                   validators=[Optional(), Length(max=200)])
    team_attribute = StringField(_l("Team attribute"), validators=[Optional(), Length(max=200)],
                                 description=_l("The attribute whose value becomes the member's "
                                                "team. Empty: teams are not changed."))
