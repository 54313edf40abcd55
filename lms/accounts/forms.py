"""Forms for logging in, accepting invitations, inviting people and managing tokens."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from lms.accounts.models import Role


class LoginForm(FlaskForm):
    """The sign-in form: e-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Log in"))


class ForgotPasswordForm(FlaskForm):
    """Asking for a reset link: the e-mail address only."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    submit = SubmitField(_l("Send me a link"))


class _NewPasswordForm(FlaskForm):
    """A form with a new ``password``: its hint gives the minimum length from the settings.

    The policy itself (length, guessability) is checked by ``services.check_password``,
    whose refusal is shown next to the field.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.password.description = _l(  # type: ignore[attr-defined]
            "At least %(n)d characters.", n=current_app.config["PASSWORD_MIN_LENGTH"])


def _repeated_password(label: Any) -> PasswordField:
    """The new password typed a second time; it must match ``password``."""
    return PasswordField(label, validators=[
        DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class AcceptInvitationForm(_NewPasswordForm):
    """Accepting an invitation: the newcomer's name and chosen password."""

    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Choose a password"), validators=[DataRequired()])
    confirm = _repeated_password(_l("Repeat the password"))
    submit = SubmitField(_l("Join"))


class ResetPasswordForm(_NewPasswordForm):
    """Choosing a new password through a reset link."""

    password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = _repeated_password(_l("Repeat the new password"))
    submit = SubmitField(_l("Change the password"))


class ChangePasswordForm(ResetPasswordForm):
    """A password change on the account page: the current password, then the new one twice
    as on a reset.
    """

    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])


ROLE_LABELS = {
    Role.LEARNER: _l("Learner"),
    Role.TRAINER: _l("Trainer"),
    Role.HR: _l("HR / manager"),
    Role.ADMIN: _l("Administrator"),
}


class InviteForm(FlaskForm):
    """Inviting someone to the organization by e-mail, with their role."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    # SelectChoice rather than tuples: wtforms 3.3 deprecates tuples.
    role = SelectField(_l("Role"), choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role],
                       default=Role.LEARNER.value)
    submit = SubmitField(_l("Send invitation"))


class NewTokenForm(FlaskForm):
    """Creating an API token, named after what it is for."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("What the token is for, e.g. “HR sync”."))
    submit = SubmitField(_l("Create token"))


class ConfirmForm(FlaskForm):
    """An empty form: a POST button protected by CSRF (revoke, remove, …)."""

    submit = SubmitField(_l("Confirm"))


class ProfileForm(FlaskForm):
    """A person's own profile: their name and the language of the pages."""

    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language"), choices=[SelectChoice("", _l("Browser default")),
                                                  SelectChoice("en", "English"),
                                                  SelectChoice("fr", "Français")])
    named_in_results = BooleanField(
        _l("I agree to be named in internal results"),
        description=_l("Your name may then appear among the people thanked in the results "
                       "shared inside the company (newsletter, management meeting). Off by "
                       "default; you can change your mind at any time."))
    submit = SubmitField(_l("Save"))


class SecondFactorForm(FlaskForm):
    """The second step of a login: a code from the authenticator app or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("The 6-digit code your authenticator app shows, or one "
                                      "of your recovery codes."))
    submit = SubmitField(_l("Continue"))


class EnrolSecondFactorForm(FlaskForm):
    """Confirming a new authenticator app with the code it shows."""

    code = StringField(_l("Code shown by the app"), validators=[DataRequired(), Length(max=40)])
    submit = SubmitField(_l("Turn on"))


class ConfirmIdentityForm(FlaskForm):
    """Proving it is really you before a change to your second factor."""

    secret = PasswordField(_l("Your password, or a code from your app"),
                           validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Confirm"))


class SecondFactorRequirementForm(FlaskForm):
    """The organization's choice: require a second factor of admins and HR, or not."""

    required = BooleanField(_l("Require a second factor of administrators and HR"))
    submit = SubmitField(_l("Save"))


class SetUpSecondFactorForm(FlaskForm):
    """Starting to set up an authenticator app: the password first, so a borrowed session
    cannot tie the account to someone else's phone.
    """

    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Set up an authenticator app"))
