"""The legal clocks of data-subject requests: when an answer is due, why, and whether it may be extended.

Pure functions over dates: no database, no settings, no clock of their own (`now` is passed in). A
date of receipt is a calendar date in the site's time zone; the caller converts. Every deadline is
the last day on which the answer is still on time, and carries a sentence saying how it was counted.

How each law counts (sources in docs/legal-requirements.md, EU-13, CA-10, RU-8, KZ-4):

- The day of receipt is never counted: Regulation 1182/71 Art. 3(1) (EU), Cal. Civ. Code §10 (CA),
  Civil Code of the RF Art. 191 (RU).
- Calendar months (EU, GDPR Art. 12(3)): the period ends on the day of the last month with the same
  date as the day of receipt, or the last day of that month when it has no such date (Reg. 1182/71
  Art. 3(2)(c)); a period ending on a Saturday, Sunday or public holiday of the establishment country
  ends on the next working day (Art. 3(4)).
- Calendar days (CA 45 days, US states, RU 30 days): receipt + n. Civ. Code §10 (CA) and Civil Code
  of the RF Art. 193 (RU) would move an end falling on a holiday to the next day; we do not, so the
  date is never later than the law's.
- Working or business days (CA 10 and 15 business days, RU 10 + 5 working days): the n-th working day
  after the day of receipt on the jurisdiction's calendar (calendars/).
- Extensions run from the day the first period's count ended, before any move to a working day, so
  the extended date is never later than the law's either.
"""

import dataclasses
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

from consent.requests.calendars import WorkingCalendar, weekend_reason
from consent.requests.calendars.eu import EstablishmentCalendar
from consent.requests.calendars.ru import RussianProductionCalendar
from consent.requests.calendars.us_ca import CaliforniaBusinessDays
from consent.rules.jurisdictions import DayType, Period, RuleSet

# A working-day count can never need more calendar days than this (the longest Russian holiday run is
# under two weeks); reaching it means a calendar with no working days, a bug to stop on.
_MAX_SPAN_DAYS = 3660


@dataclass(frozen=True)
class Deadline:
    """The last day on which an answer is on time, and how it was counted."""

    #: The day the clock started (the day of receipt, or of verification where that restarts it).
    start: date
    period: Period
    #: The last day the answer is on time.
    due_on: date
    #: The day the count itself ended, before a move to the next working day (Reg. 1182/71 Art. 3(4)).
    count_ended_on: date
    #: One or two sentences for a person, in the language active when it was computed.
    explanation: str
    #: Whether the count crossed a year whose official calendar is not known yet: the date may move.
    is_provisional: bool = False
    #: Whether this is the one extension of an earlier deadline.
    is_extended: bool = False


def deadline_for(*, start: date, period: Period, calendar: WorkingCalendar) -> Deadline:
    """The deadline of `period` counted from `start` (not itself counted) on `calendar`: working or
    business days are counted on it; a calendar-day or month period whose end it does not count as a
    working day moves to its next one (Reg. 1182/71 Art. 3(4)), so pass the base `WorkingCalendar`
    for a period no rule moves (`calendar_for` picks the right one)."""
    if isinstance(start, datetime):
        raise TypeError("start is the date of receipt in the site's time zone, not a datetime")
    if period.amount < 1:
        raise ValueError(f"A legal period has a positive amount, not {period.amount}")
    if period.unit in (DayType.BUSINESS_DAYS, DayType.RU_WORKING_DAYS):
        return _working_days_deadline(start=start, period=period, calendar=calendar)
    if period.unit == DayType.CALENDAR_MONTHS:
        count_end = _add_months(start, period.amount)
    elif period.unit == DayType.CALENDAR_DAYS:
        count_end = start + timedelta(days=period.amount)
    else:
        raise ValueError(f"Unknown day type {period.unit!r}")
    due_on = count_end
    reason = calendar.non_working_reason(count_end)
    while not calendar.is_working_day(due_on):
        due_on += timedelta(days=1)
        _check_span(start, due_on)
    values = {"period": period_text(period), "start": _day(start), "end": _day(count_end)}
    if due_on == count_end:
        explanation = gettext("%(period)s from %(start)s is %(end)s.") % values
    else:
        explanation = gettext(
            "%(period)s from %(start)s is %(end)s, %(reason)s: moved to the next working day, "
            "%(due)s (%(rule)s)."
        ) % {**values, "reason": reason, "due": _day(due_on), "rule": calendar.source}
    return _deadline(start, period, due_on, count_end, explanation, calendar)


def calendar_for(*, ruleset: RuleSet, period: Period, establishment_country: str | None) -> WorkingCalendar:
    """The calendar `period` of `ruleset` is counted on, for a site established in
    `establishment_country` (ISO 3166-1 alpha-2; None when the site has not said)."""
    if period.unit == DayType.BUSINESS_DAYS:
        # The only business-day periods in the table are California's (CA-6, CA-10).
        return CaliforniaBusinessDays()
    if period.unit == DayType.RU_WORKING_DAYS:
        return RussianProductionCalendar()
    if ruleset.deadline_moves_to_working_day:
        return EstablishmentCalendar(country=establishment_country)
    return WorkingCalendar()


def clock_start(*, ruleset: RuleSet, received_on: date, verified_on: date | None) -> date:
    """The day a request's clock starts: the day of receipt, or, where `ruleset` lets verification
    pause the clock, the day the requester's identity was verified (and not before receipt)."""
    if ruleset.verification_pauses_clock and verified_on is not None:
        return max(received_on, verified_on)
    return received_on


def extension_allowed(
    *,
    now: date | datetime,
    deadline: Deadline,
    notice_sent_at: date | datetime | None,
    reason: str,
    extension: Period | None,
) -> None:
    """Refuse, with a ValidationError a person can read, an extension the law does not allow: none in
    this jurisdiction, a second one, one without a notice giving reasons, or one whose notice was sent
    or that is asked for after the first deadline (GDPR Art. 12(3), 11 CCR §7021(b), 152-FZ Art. 20)."""
    due = _day(deadline.due_on)
    if extension is None:
        raise ValidationError(gettext("The law of this jurisdiction allows no extension."), code="none")
    if deadline.is_extended:
        raise ValidationError(gettext("This request was already extended once."), code="second")
    if not reason.strip():
        raise ValidationError(
            gettext("An extension needs the reasons the requester is told."), code="no_reason"
        )
    if _local_date(now) > deadline.due_on:
        raise ValidationError(
            gettext("The deadline of %(due)s has passed: an extension must be noticed before it.")
            % {"due": due},
            code="too_late",
        )
    if notice_sent_at is None:
        raise ValidationError(
            gettext("Send the requester the notice with the reasons before extending."), code="no_notice"
        )
    if _local_date(notice_sent_at) > deadline.due_on:
        raise ValidationError(
            gettext("The notice was sent after the deadline of %(due)s: too late to extend.") % {"due": due},
            code="too_late",
        )


def deadline_extend(
    *,
    deadline: Deadline,
    extension: Period | None,
    calendar: WorkingCalendar,
    now: date | datetime,
    notice_sent_at: date | datetime | None,
    reason: str,
) -> Deadline:
    """The deadline after the one extension `extension_allowed` allows (it raises otherwise)."""
    extension_allowed(
        now=now, deadline=deadline, notice_sent_at=notice_sent_at, reason=reason, extension=extension
    )
    assert extension is not None
    extended = deadline_for(start=deadline.count_ended_on, period=extension, calendar=calendar)
    explanation = gettext("Extended with notice from the first deadline, %(first)s: %(how)s") % {
        "first": _day(deadline.due_on),
        "how": extended.explanation,
    }
    return dataclasses.replace(
        extended,
        start=deadline.start,
        explanation=explanation,
        is_provisional=deadline.is_provisional or extended.is_provisional,
        is_extended=True,
    )


def days_until(*, today: date, due_on: date, calendar: WorkingCalendar | None) -> int:
    """How many days are left until `due_on`: working days on `calendar` (today not counted, the
    due day counted), calendar days when `calendar` is None. 0 on the due day itself; negative
    (calendar days) once it has passed."""
    if today >= due_on:
        return -(today - due_on).days
    span = (due_on - today).days
    if calendar is None:
        return span
    return sum(calendar.is_working_day(today + timedelta(days=n)) for n in range(1, span + 1))


def days_left(*, today: date, deadline: Deadline, calendar: WorkingCalendar) -> int:
    """How many days are left until `deadline`, in its period's kind of day (days_until)."""
    working = deadline.period.unit in (DayType.BUSINESS_DAYS, DayType.RU_WORKING_DAYS)
    return days_until(today=today, due_on=deadline.due_on, calendar=calendar if working else None)


def days_left_text(days: int, unit: DayType | None) -> str:
    """ "3 working days left", "1 business day left", "12 calendar days left", for a person
    (`unit`: the kind of day counted; None or any other: calendar days)."""
    if unit == DayType.RU_WORKING_DAYS:
        text = ngettext("%(days)s working day left", "%(days)s working days left", days)
    elif unit == DayType.BUSINESS_DAYS:
        text = ngettext("%(days)s business day left", "%(days)s business days left", days)
    else:
        text = ngettext("%(days)s calendar day left", "%(days)s calendar days left", days)
    return text % {"days": days}


def period_text(period: Period) -> str:
    """ "1 calendar month", "10 working days on the Russian production calendar", ... for a person."""
    count = period.amount
    if period.unit == DayType.CALENDAR_MONTHS:
        text = ngettext("%(count)d calendar month", "%(count)d calendar months", count)
    elif period.unit == DayType.CALENDAR_DAYS:
        text = ngettext("%(count)d calendar day", "%(count)d calendar days", count)
    elif period.unit == DayType.BUSINESS_DAYS:
        text = ngettext("%(count)d business day", "%(count)d business days", count)
    else:
        text = ngettext("%(count)d working day", "%(count)d working days", count)
    return text % {"count": count}


def _working_days_deadline(*, start: date, period: Period, calendar: WorkingCalendar) -> Deadline:
    day, counted = start, 0
    skipped: list[str] = []
    weekend_workdays: list[date] = []
    while counted < period.amount:
        day += timedelta(days=1)
        _check_span(start, day)
        reason = calendar.non_working_reason(day)
        if reason is None:
            counted += 1
            if calendar.is_weekend_workday(day):
                weekend_workdays.append(day)
        elif reason != weekend_reason(day):
            skipped.append(f"{_day(day)} ({reason})")
    parts = [
        gettext("%(period)s after %(start)s, on %(calendar)s, end on %(due)s (%(rule)s).")
        % {
            "period": period_text(period),
            "start": _day(start),
            "calendar": calendar.name,
            "due": _day(day),
            "rule": calendar.source,
        }
    ]
    if skipped:
        parts.append(gettext("Holidays not counted: %(days)s.") % {"days": "; ".join(skipped)})
    if weekend_workdays:
        parts.append(
            gettext("Counted although a weekend: %(days)s (working days by decree).")
            % {"days": ", ".join(_day(d) for d in weekend_workdays)}
        )
    return _deadline(start, period, day, day, " ".join(parts), calendar)


def _deadline(
    start: date, period: Period, due_on: date, count_end: date, explanation: str, calendar: WorkingCalendar
) -> Deadline:
    unknown_years = [year for year in range(start.year, due_on.year + 1) if not calendar.covers(year)]
    if unknown_years:
        explanation += " " + gettext(
            "The official calendar for %(years)s is not known yet: the date may still move."
        ) % {"years": ", ".join(str(year) for year in unknown_years)}
    return Deadline(
        start=start,
        period=period,
        due_on=due_on,
        count_ended_on=count_end,
        explanation=explanation,
        is_provisional=bool(unknown_years),
    )


def _add_months(start: date, months: int) -> date:
    """The same date `months` later, or that month's last day when it has no such date
    (Reg. 1182/71 Art. 3(2)(c))."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, monthrange(year, month)[1]))


def _check_span(start: date, day: date) -> None:
    if (day - start).days > _MAX_SPAN_DAYS:
        raise RuntimeError(f"No working day within {_MAX_SPAN_DAYS} days of {start}: the calendar is wrong")


def _local_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _day(day: date) -> str:
    return date_format(day, "j E Y")
