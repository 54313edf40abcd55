"""The record of processing activities (GDPR art. 30), built from the organization's retention
periods and the live configuration: who receives what depends on what is switched on (the
external LRS only while forwarding is on, the mail server when one is set, the company's
identity provider when single sign-on is configured).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from lms.accounts.models import Organization
from lms.extensions import db
from lms.identity.models import OidcSettings
from lms.privacy import retention
from lms.xapi.forwarding_models import ExternalLrs


@dataclass
class Processing:
    """One line of the register: a category of personal data and how it is processed."""

    title: Any
    data: Any
    purpose: Any
    legal_basis: Any
    retention: Any
    recipients: list[Any] = field(default_factory=list)


@dataclass
class Register:
    """The organization's register: who is responsible, the processings, the recipients."""

    organization: Organization
    base_url: str
    processings: list[Processing]
    external_recipients: list[Any]


def period_text(kind: retention.Kind, value: int) -> str:
    """A period in words, in the current language (“24 mois”, “30 jours”)."""
    if kind.unit == "months":
        return ngettext("%(num)d month", "%(num)d months", value)
    return ngettext("%(num)d day", "%(num)d days", value)


def _kept(periods: dict[str, int], key: str, then: Any) -> str:
    kind = retention.BY_KEY[key]
    return str(_l("%(period)s, then %(fate)s", period=period_text(kind, periods[key]),
                  fate=then))


def external_recipients(organization: Organization) -> dict[str, Any]:
    """Who outside Relais receives personal data, from the live configuration, by kind:
    ``lrs`` (while forwarding is on), ``mail`` (a mail server is set), ``sso`` (single
    sign-on is configured and on).
    """
    found: dict[str, Any] = {}
    lrs = db.session.scalar(select(ExternalLrs).where(
        ExternalLrs.organization_id == organization.id, ExternalLrs.enabled.is_(True)))
    if lrs is not None:
        found["lrs"] = _l("External LRS (statements forwarded): %(endpoint)s",
                          endpoint=lrs.endpoint)
    mail = current_app.config.get("MAIL_SERVER")
    if mail:
        found["mail"] = _l("Mail server (invitations, reminders, password resets): %(host)s",
                           host=mail)
    sso = db.session.scalar(select(OidcSettings).where(
        OidcSettings.organization_id == organization.id, OidcSettings.enabled.is_(True)))
    if sso is not None:
        found["sso"] = _l("Single sign-on provider (identity at login): %(issuer)s",
                          issuer=urlsplit(sso.issuer).netloc or sso.issuer)
    return found


def build(organization: Organization) -> Register:
    """The register of ``organization`` as it stands now."""
    periods = retention.periods(organization)
    recipients = external_recipients(organization)
    lrs = [recipients["lrs"]] if "lrs" in recipients else []
    account_recipients = [recipients[k] for k in ("mail", "sso") if k in recipients]
    staff = _l("the organization's trainers, HR and administrators in Relais, by role")
    membership = _l("as long as the person is a member; erased on request (art. 17)")
    processings = [
        Processing(_l("Accounts and memberships"),
                   _l("e-mail address, name, language, password hash; role, team, job family "
                      "and manager"),
                   _l("give access to the training and manage who does what"),
                   _l("performance of the employment contract (art. 6(1)(b)) and legitimate "
                      "interest of the employer (art. 6(1)(f))"),
                   membership, [staff, *account_recipients]),
        Processing(_l("Skill mapping"),
                   _l("questionnaire answers, measured and declared levels, validations"),
                   _l("map skills, recommend modules and show progress"),
                   _l("the employer's duty to train (Code du travail, L.6321-1) and "
                      "legitimate interest (art. 6(1)(f))"),
                   membership, [staff]),
        Processing(_l("Training: enrolments, progress and attendance"),
                   _l("cohorts, module states and scores, quiz answers, half-days attended"),
                   _l("run the training and prove attendance to funders"),
                   _l("legal obligation of the employer and the training provider "
                      "(art. 6(1)(c); Code du travail, L.6353-1)"),
                   membership, [staff]),
        Processing(_l("Exercise hand-ins"),
                   _l("post URL, screenshot, reflection, the trainer's review"),
                   _l("assess on-the-job exercises"),
                   _l("legitimate interest (art. 6(1)(f))"),
                   _kept(periods, "hand_ins", _l("content and files deleted")), [staff]),
        Processing(_l("Coaching follow-ups"),
                   _l("shared notes and agreed action items"),
                   _l("follow up the training with a coach"),
                   _l("legitimate interest (art. 6(1)(f))"),
                   _kept(periods, "coaching_notes", _l("deleted")), [staff]),
        Processing(_l("Advocacy activity"),
                   _l("actions on social networks (network, URL, post text, date, metrics) "
                      "and consent"),
                   _l("measure the effect of the training on real activity"),
                   _l("consent (art. 6(1)(a)), withdrawable at any time"),
                   _kept(periods, "advocacy_events", _l("deleted")), [staff, *lrs]),
        Processing(_l("Learning records (xAPI statements)"),
                   _l("every learning event: who, what, when, result"),
                   _l("record learning and compute progress and figures"),
                   _l("legitimate interest (art. 6(1)(f))"),
                   _kept(periods, "statements",
                         _l("pseudonymised: figures stay, nobody is named")), [staff, *lrs]),
        Processing(_l("Certificates"),
                   _l("name, program, dates, hours, assessed levels; public verification "
                      "page"),
                   _l("attest completed training"),
                   _l("legal obligation (art. 6(1)(c); Code du travail, L.6353-1)"),
                   _l("while valid; after an erasure the register keeps program, dates and "
                      "status without the name for %(period)s",
                      period=period_text(retention.BY_KEY["certificates"],
                                         periods["certificates"])),
                   [staff, _l("anyone holding the verification link")]),
        Processing(_l("Exports and background jobs"),
                   _l("files produced on request (personal-data exports, certificate "
                      "archives, imports)"),
                   _l("deliver what people ask for"),
                   _l("legitimate interest (art. 6(1)(f))"),
                   _kept(periods, "jobs", _l("deleted")),
                   [_l("the person who started the job")]),
        Processing(_l("Audit log and security"),
                   _l("who did a sensitive action, when, from which IP address; failed "
                      "logins"),
                   _l("security and accountability (art. 5(2), 32)"),
                   _l("legal obligation (art. 6(1)(c)) and legitimate interest "
                      "(art. 6(1)(f))"),
                   _kept(periods, "audit", _l("deleted")),
                   [_l("the organization's administrators")]),
    ]
    return Register(organization=organization, base_url=current_app.config["BASE_URL"],
                    processings=processings,
                    external_recipients=list(recipients.values()))
