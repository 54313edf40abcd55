"""Forms: the organization's retention periods, one whole number per kind of data."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from lms.privacy.retention import KINDS, MAX_DAYS, MAX_MONTHS


class RetentionForm(FlaskForm):
    """A period per kind of data (fields named by kind key, added below)."""

    submit = SubmitField(_l("Save the retention periods"))

    def periods(self) -> dict[str, Any]:
        """The typed values, by kind key."""
        return {kind.key: self[kind.key].data for kind in KINDS}


for _kind in KINDS:
    _top = MAX_MONTHS if _kind.unit == "months" else MAX_DAYS
    setattr(RetentionForm, _kind.key, IntegerField(
        _kind.label,
        validators=[InputRequired(_l("Give a period.")),
                    NumberRange(1, _top, _l("From 1 to %(max)s.", max=_top))],
        description=_l("In months.") if _kind.unit == "months" else _l("In days.")))
