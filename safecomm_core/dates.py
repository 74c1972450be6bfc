"""Dates as the subdistrict reads them: its time zone, local dates, whole months.

Every deadline, report month and "as of" day is a date in the subdistrict (Asia/Shanghai,
UTC+8 all year), whatever zone a moment was written in. A moment just after midnight
there is still the previous day in UTC:

>>> from datetime import datetime, timezone
>>> local_date(datetime(2014, 2, 28, 16, 30, tzinfo=timezone.utc))
datetime.date(2014, 3, 1)

Months move by whole months, keeping the day where the month has it:

>>> add_months(date(2014, 1, 31), 1)
datetime.date(2014, 2, 28)
>>> month = Month.parse("2014-03")
>>> month.last, str(month.shift(-3))
(datetime.date(2014, 3, 31), '2013-12')
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs

from safecomm_core.errors import FieldError, InvalidCommand

__all__ = ["SUBDISTRICT_TZ", "Month", "add_months", "end_of_day", "local_date", "micros"]

#: The subdistrict's time zone: dates (deadlines, report months) are read in it.
SUBDISTRICT_TZ = ZoneInfo("Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in the subdistrict."""
    return moment.astimezone(SUBDISTRICT_TZ).date()


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` in the subdistrict: "as of" a day means before it."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SUBDISTRICT_TZ)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months; a day the month lacks becomes its last (31 Jan → 28 Feb)."""
    years, index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@attrs.frozen(order=True)
class Month:
    """A calendar month in the subdistrict: ``Month.parse("2014-03")``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``YYYY-MM`` as a month of the programme's days (those a command may name);
        :class:`~safecomm_core.errors.InvalidCommand` (a ``ValueError``) on ``period``
        otherwise. A report reads months around it: one outside those days would run off
        the calendar."""
        from safecomm_core.validation import EARLIEST_DAY, LATEST_DAY

        try:
            year, month = (int(part) for part in text.split("-"))
            if len(text) != 7 or not 1 <= month <= 12:
                raise ValueError
        except ValueError:
            raise InvalidCommand(
                [FieldError("period", "must be a month YYYY-MM, e.g. 2014-03")]
            ) from None
        found = cls(year, month)
        if not Month.of(EARLIEST_DAY) <= found <= Month.of(LATEST_DAY):
            raise InvalidCommand(
                [FieldError("period", f"must fall between {EARLIEST_DAY} and {LATEST_DAY}")]
            )
        return found

    @classmethod
    def of(cls, day: date | datetime) -> Month:
        """The month of a date, or of a moment in the subdistrict's time zone."""
        if isinstance(day, datetime):
            day = local_date(day)
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        """Its first day."""
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        """Its last day."""
        return add_months(self.first, 1) - timedelta(days=1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and (day.year, day.month) == (self.year, self.month)

    def shift(self, months: int) -> Month:
        """The month ``months`` later (earlier when negative)."""
        return Month.of(add_months(self.first, months))

    def since(self, start: Month) -> Iterator[Month]:
        """Every month from ``start`` to this one, both included."""
        month = start
        while month <= self:
            yield month
            month = month.shift(1)


_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def micros(moment: datetime) -> int:
    """``moment`` in whole microseconds since the epoch (exact: no float rounding)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
