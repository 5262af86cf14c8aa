"""Query-string parameters of the pages, parsed in one place.

A view declares the parameters it reads as a :class:`QueryForm` built from the fields below and reads
them with ``SomeParams.parse(request.GET)``; no view turns request text into a number or a date with
bare ``int()``, ``Decimal()`` or ``date.fromisoformat()``. Every field is bounded, so that a value
parses to something the database and Python's date arithmetic accept:

- :class:`IntParam` / :class:`IdParam`: ASCII digits only (``²`` is a digit for ``str.isdigit`` but not
  for ``int``; ``٣`` and ``６`` are digits for ``int`` but nobody types them on purpose), inside
  ``[min_value, max_value]`` (an id fits a signed 64-bit column).
- :class:`YuanParam`: a finite decimal amount in yuan (``Infinity``, ``NaN``, ``1e309`` are refused),
  cleaned to integer fen.
- :class:`DateParam` (``YYYY-MM-DD``), :class:`MonthParam` (``YYYY-MM``) and :class:`WeekParam` (ISO
  ``YYYY-Www``), between 1900 and 2999 (a day before or after is still a date).
- :class:`TextParam`: at most ``max_length`` characters, no NUL byte (PostgreSQL refuses it).
- :class:`ShareParam` (0 … 1), :class:`ChoiceParam`, :class:`FlagParam` (``1``/``true``/``on``) and
  :class:`IdListParam` (repeated ids, or ``all``).

A bad value raises :class:`InvalidParameters` (an ``ApplicationError``, status 400) whose message names
each parameter and what is wrong with it; ``errors_as_pages`` renders it as the error page.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.errors import ApplicationError, CommonErrorCode

ID_MAX = 2**63 - 1  # a signed 64-bit column (BigAutoField)
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,19}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{1,2})")


class InvalidParameters(ApplicationError):
    """One or more query parameters have a value the page cannot use (400)."""

    status_code = 400


class IntParam(forms.IntegerField):
    """A whole number in ASCII digits, bounded (``min_value``/``max_value`` default to a 64-bit column)."""

    default_error_messages = {"invalid": _("Enter a whole number.")}

    def __init__(self, *, min_value: int = -ID_MAX, max_value: int = ID_MAX, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not _ASCII_INT.fullmatch(text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)


class IdParam(IntParam):
    """The id of a row (1 … 2⁶³ − 1)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=ID_MAX, **kwargs)


def _refuse_long_or_non_ascii(field: forms.Field, value: Any, max_length: int) -> None:
    """Refuse a value longer than ``max_length`` characters or not ASCII before the parent field parses it."""
    if value not in field.empty_values and (len(str(value)) > max_length or not str(value).isascii()):
        raise ValidationError(field.error_messages["invalid"], code="invalid")


class _DecimalParam(forms.DecimalField):
    """A decimal of at most 40 ASCII characters."""

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        _refuse_long_or_non_ascii(self, value, 40)
        return super().to_python(value)  # type: ignore[no-any-return]


class YuanParam(_DecimalParam):
    """An amount in yuan with at most two decimals, cleaned to integer fen."""

    def __init__(self, *, max_yuan: int = 10**12, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(min_value=Decimal(0), max_value=Decimal(max_yuan), max_digits=16, decimal_places=2, **kwargs)

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        amount = super().clean(value)
        return None if amount is None else int(amount * 100)


class ShareParam(_DecimalParam):
    """A share between 0 and 1 (``0.25``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(min_value=Decimal(0), max_value=Decimal(1), max_digits=7, decimal_places=6, **kwargs)


class DateParam(forms.DateField):
    """A day written ``YYYY-MM-DD`` between 1900 and 2999."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(input_formats=["%Y-%m-%d"], validators=[MinValueValidator(FIRST_DAY),
                                                                MaxValueValidator(LAST_DAY)], **kwargs)

    def to_python(self, value: Any) -> date | None:
        _refuse_long_or_non_ascii(self, value, 10)
        return super().to_python(value)


class _PeriodParam(forms.Field):
    """A period written ``YYYY-<number>`` (``pattern`` captures the two), cleaned to its first day."""

    pattern: re.Pattern[str]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def first_day(self, year: int, number: int) -> date | None:
        """The period's first day, or ``None`` when there is no such period (or it is out of range)."""
        raise NotImplementedError

    def to_python(self, value: Any) -> date | None:
        if value in self.empty_values:
            return None
        m = self.pattern.fullmatch(str(value).strip())
        day = None if m is None else self.first_day(int(m.group(1)), int(m.group(2)))
        if day is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return day


class MonthParam(_PeriodParam):
    """A month written ``YYYY-MM``, cleaned to its first day."""

    default_error_messages = {"invalid": _("Enter a month as YYYY-MM.")}
    pattern = _MONTH

    def first_day(self, year: int, number: int) -> date | None:
        if not 1 <= number <= 12 or not FIRST_DAY.year <= year <= LAST_DAY.year:
            return None
        return date(year, number, 1)


class WeekParam(_PeriodParam):
    """An ISO week written ``YYYY-Www`` (``2026-W49``), cleaned to its Monday."""

    default_error_messages = {"invalid": _("Enter a week as YYYY-Www.")}
    pattern = _WEEK

    def first_day(self, year: int, number: int) -> date | None:
        if not FIRST_DAY.year <= year <= LAST_DAY.year - 1:
            return None
        try:
            return date.fromisocalendar(year, number, 1)
        except ValueError:  # week 53 of a year that has 52, week 0
            return None


class TextParam(forms.CharField):
    """Free text (a city, a search) of at most ``max_length`` characters, without NUL bytes."""

    def __init__(self, *, max_length: int = 200, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(max_length=max_length, **kwargs)


class ChoiceParam(forms.ChoiceField):
    """One of ``choices`` (the empty value means "any")."""

    def __init__(self, *, choices: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(choices=choices, **kwargs)


class FlagParam(forms.Field):
    """An on/off switch: ``1``, ``true`` or ``on`` is on; anything else (or nothing) is off."""

    def to_python(self, value: Any) -> bool:
        return str(value).strip().lower() in {"1", "true", "on"}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class IdListParam(forms.Field):
    """Repeated ids (``?agency=3&agency=5``), cleaned to a list; ``all`` among them (or none given)
    gives ``None``: no restriction."""

    widget = forms.SelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[int] | None:
        values = [v for v in (value or []) if v != ""]
        if not values or "all" in values:
            return None
        return [IdParam(required=True).clean(v) for v in values[:1000]]


class QueryForm(forms.Form):
    """The query parameters of one view. ``parse(request.GET)`` gives their cleaned values (absent
    ones as the field's empty value) or raises :class:`InvalidParameters` naming every bad one."""

    @classmethod
    def parse(cls, data: Any) -> dict[str, Any]:
        form = cls(data)
        if form.is_valid():
            return form.cleaned_data
        problems = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        detail = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in problems.items())
        raise InvalidParameters(gettext("Invalid parameter (%(detail)s).") % {"detail": detail},
                                code=CommonErrorCode.PARAMS_INVALID, extra=problems)
