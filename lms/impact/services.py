"""Writes: an organization's outcome values and training costs (one path for the page and the
API).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from lms.accounts.models import Organization
from lms.core.errors import ValidationFailed
from lms.extensions import db
from lms.impact.models import OUTCOMES, ImpactSettings

RATES = ("trainer_day_rate", "extra_trainer_days", "learner_hourly_cost",
         "tools_cost_per_learner")
MAX_AMOUNT = Decimal("9999999999")
# Recertification by behaviour: (setting, lowest, highest, value when blank).
RULE: tuple[tuple[str, int, int, int | None], ...] = (
    ("recertify_below_actions", 1, 1000, None), ("recertify_weeks", 1, 104, 12))


def _amount(raw: Any) -> Decimal | None:
    """A non-negative amount from a form or JSON value; None when blank; ValueError if not."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise ValueError(raw)
    try:
        value = Decimal(str(raw).strip().replace(",", ".").replace("\u202f", "").replace(" ", ""))
    except InvalidOperation:
        raise ValueError(raw) from None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise ValueError(raw)
    return value.quantize(Decimal("0.01"))


def save_settings(*, organization: Organization, data: dict[str, Any]) -> ImpactSettings:
    """Set the organization's outcome values and costs from ``data`` (keys: ``currency``,
    ``outcome_values`` {outcome: amount}, each of :data:`RATES`, and the recertification rule
    of :data:`RULE`); a blank amount clears it.

    :raise ValidationFailed: with a message per field, nothing saved.
    """
    errors: dict[str, Any] = {}
    currency = str(data.get("currency") or "EUR").strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        errors["currency"] = _l("Three letters, such as EUR.")
    raw_values = data.get("outcome_values") or {}
    if not isinstance(raw_values, dict):
        errors["outcome_values"] = _l("An object of outcome: amount.")
        raw_values = {}
    values: dict[str, str] = {}
    for key, raw in raw_values.items():
        if key not in OUTCOMES:
            errors[f"value_{key}"] = _l("Not an outcome that can be valued.")
            continue
        try:
            amount = _amount(raw)
        except ValueError:
            errors[f"value_{key}"] = _l("A positive amount, or blank.")
            continue
        if amount is not None:
            values[key] = str(amount)
    rule: dict[str, int | None] = {}
    for name, low, high, default in RULE:
        raw = data.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            rule[name] = default
            continue
        try:
            if isinstance(raw, bool):
                raise ValueError(raw)
            number: int | None = int(str(raw).strip())
        except ValueError:
            number = -1
        if number is None or not low <= number <= high:
            errors[name] = _l("A whole number from %(low)d to %(high)d, or blank.", low=low,
                              high=high)
        rule[name] = number
    rates: dict[str, Decimal | None] = {}
    for name in RATES:
        try:
            rates[name] = _amount(data.get(name))
        except ValueError:
            errors[name] = _l("A positive amount, or blank.")
    if errors:
        raise ValidationFailed(_l("The values and costs were not saved."), fields=errors)
    settings = db.session.get(ImpactSettings, organization.id)
    if settings is None:
        settings = ImpactSettings(organization_id=organization.id)
        db.session.add(settings)
    settings.currency = currency
    settings.outcome_values = values
    for name, value in rates.items():
        setattr(settings, name, value)
    for name, number in rule.items():
        setattr(settings, name, number)
    db.session.flush()
    return settings


def as_dict(settings: ImpactSettings | None) -> dict[str, Any]:
    """The settings as JSON-ready data (amounts as strings; null when not set)."""
    if settings is None:
        return {"currency": "EUR", "outcome_values": {},
                **dict.fromkeys(RATES), **{r[0]: r[3] for r in RULE}}
    return {"currency": settings.currency, "outcome_values": dict(settings.outcome_values or {}),
            **{name: None if (v := getattr(settings, name)) is None else str(v)
               for name in RATES},
            **{r[0]: getattr(settings, r[0]) for r in RULE}}
