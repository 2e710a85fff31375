"""The legal clocks of data-subject requests (consent/requests/clocks.py) against the official
calendars. Each expected date says where it comes from; the Russian days off are those of the
Government's decrees listed in consent/requests/calendars/ru.py."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from consent.requests.calendars import WorkingCalendar
from consent.requests.calendars.eu import EstablishmentCalendar
from consent.requests.calendars.ru import DECREES, RussianProductionCalendar
from consent.requests.calendars.us_ca import CaliforniaBusinessDays, california_holidays
from consent.requests.clocks import (
    Deadline,
    calendar_for,
    clock_start,
    days_left,
    days_left_text,
    days_until,
    deadline_extend,
    deadline_for,
    extension_allowed,
)
from consent.rules.jurisdictions import (
    EU,
    EU_FR,
    KZ,
    RU,
    RULESETS,
    US,
    US_CA,
    US_UOOM,
    DayType,
    Period,
    RuleSet,
    ruleset_as_dict,
)


def _due(ruleset: RuleSet, field: str, start: date, country: str | None = None) -> Deadline:
    period = getattr(ruleset, field)
    calendar = calendar_for(ruleset=ruleset, period=period, establishment_country=country)
    return deadline_for(start=start, period=period, calendar=calendar)


def _extend(
    ruleset: RuleSet, deadline: Deadline, *, now: date, notice: date | None, country: str | None = None
):
    extension = ruleset.request_extension
    calendar = (
        calendar_for(ruleset=ruleset, period=extension, establishment_country=country)
        if extension
        else WorkingCalendar()
    )
    return deadline_extend(
        deadline=deadline,
        extension=extension,
        calendar=calendar,
        now=now,
        notice_sent_at=notice,
        reason="The request covers ten years of records.",
    )


# --- EU: one calendar month, Regulation 1182/71 ------------------------------------------------


def test_an_eu_access_request_filed_on_31_january_2027_runs_to_sunday_28_february_and_is_due_monday_1_march():
    deadline = _due(EU, "request_deadline", date(2027, 1, 31), country="DE")

    assert deadline.count_ended_on == date(2027, 2, 28)
    assert date(2027, 2, 28).weekday() == 6
    assert deadline.due_on == date(2027, 3, 1)
    assert deadline.explanation == (
        "1 calendar month from 31 January 2027 is 28 February 2027, a Sunday: moved to the next "
        "working day, 1 March 2027 (Regulation 1182/71 Art. 3(4))."
    )


def test_an_eu_month_ends_on_the_same_date_of_the_next_month_when_that_is_a_working_day():
    deadline = _due(EU, "request_deadline", date(2027, 3, 15), country="DE")

    assert deadline.due_on == date(2027, 4, 15)
    assert deadline.explanation == "1 calendar month from 15 March 2027 is 15 April 2027."


def test_the_day_of_receipt_is_not_counted_so_a_month_from_the_last_of_a_month_ends_on_the_next_months_last():
    # Art. 3(1): the day of the event does not count; Art. 3(2)(c): no 31 April, so 30 April.
    assert _due(EU, "request_deadline", date(2027, 3, 31), country="DE").due_on == date(2027, 4, 30)
    assert _due(EU, "request_deadline", date(2028, 1, 31), country="DE").count_ended_on == date(2028, 2, 29)


def test_a_deadline_on_a_public_holiday_of_the_establishment_country_moves_to_its_next_working_day():
    # 14 July is France's national day (a Wednesday in 2027) and no German holiday.
    in_france = _due(EU_FR, "request_deadline", date(2027, 6, 14), country="FR")
    in_germany = _due(EU, "request_deadline", date(2027, 6, 14), country="DE")

    assert in_france.due_on == date(2027, 7, 15)
    assert "a public holiday: National Day" in in_france.explanation
    assert in_germany.due_on == date(2027, 7, 14)


def test_a_german_deadline_on_a_sunday_before_easter_monday_skips_both():
    # 28 March 2027 is a Sunday and 29 March 2027 Easter Monday, a German national holiday.
    deadline = _due(EU, "request_deadline", date(2027, 2, 28), country="DE")

    assert deadline.count_ended_on == date(2027, 3, 28)
    assert deadline.due_on == date(2027, 3, 30)


def test_a_labour_day_falling_on_a_friday_moves_the_deadline_past_the_weekend():
    assert _due(EU, "request_deadline", date(2026, 4, 1), country="DE").due_on == date(2026, 5, 4)


def test_without_an_establishment_country_only_saturdays_and_sundays_move_an_eu_deadline():
    # 14 July 2027 stays a working day when no country says otherwise.
    assert _due(EU, "request_deadline", date(2027, 6, 14), country=None).due_on == date(2027, 7, 14)
    assert _due(EU, "request_deadline", date(2027, 1, 31), country=None).due_on == date(2027, 3, 1)


def test_a_regional_holiday_counts_when_the_site_names_its_subdivision():
    # 6 January (Epiphany) is a holiday in Bavaria, not in all of Germany.
    bavaria = EstablishmentCalendar(country="DE", subdivision="BY")

    assert deadline_for(start=date(2026, 12, 6), period=EU.request_deadline, calendar=bavaria).due_on == date(
        2027, 1, 7
    )
    assert _due(EU, "request_deadline", date(2026, 12, 6), country="DE").due_on == date(2027, 1, 6)


def test_an_establishment_country_without_a_holiday_calendar_is_a_clear_error():
    with pytest.raises(ValueError, match="No public-holiday calendar for the establishment country 'XX'"):
        calendar_for(ruleset=EU, period=EU.request_deadline, establishment_country="xx")


def test_an_eu_extension_of_two_months_with_notice_before_the_deadline_runs_from_the_first_months_end():
    first = _due(EU, "request_deadline", date(2027, 1, 31), country="DE")

    extended = _extend(EU, first, now=date(2027, 2, 20), notice=date(2027, 2, 20), country="DE")

    # Two months from 28 February 2027 (where the first count ended): Wednesday 28 April 2027.
    assert extended.due_on == date(2027, 4, 28)
    assert extended.is_extended
    assert extended.start == date(2027, 1, 31)
    assert extended.explanation.startswith("Extended with notice from the first deadline, 1 March 2027:")


def test_an_eu_extension_noticed_on_the_moved_last_day_is_still_in_time():
    first = _due(EU, "request_deadline", date(2027, 1, 31), country="DE")

    assert _extend(EU, first, now=date(2027, 3, 1), notice=date(2027, 3, 1), country="DE").is_extended


def test_an_eu_extension_asked_after_the_first_deadline_is_refused():
    first = _due(EU, "request_deadline", date(2027, 1, 31), country="DE")

    with pytest.raises(ValidationError) as refused:
        _extend(EU, first, now=date(2027, 3, 2), notice=date(2027, 3, 2), country="DE")

    assert refused.value.code == "too_late"
    assert refused.value.messages == [
        "The deadline of 1 March 2027 has passed: an extension must be noticed before it."
    ]


def test_an_extension_whose_notice_went_out_after_the_deadline_is_refused_even_if_asked_in_time():
    first = _due(EU, "request_deadline", date(2027, 1, 31), country="DE")
    too_late = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)

    with pytest.raises(ValidationError) as refused:
        extension_allowed(
            now=date(2027, 2, 27),
            deadline=first,
            notice_sent_at=too_late,
            reason="x",
            extension=EU.request_extension,
        )

    assert refused.value.messages == [
        "The notice was sent after the deadline of 1 March 2027: too late to extend."
    ]


def test_only_one_extension_is_allowed():
    first = _due(EU, "request_deadline", date(2027, 1, 31), country="DE")
    extended = _extend(EU, first, now=date(2027, 2, 20), notice=date(2027, 2, 20), country="DE")

    with pytest.raises(ValidationError) as refused:
        _extend(EU, extended, now=date(2027, 3, 20), notice=date(2027, 3, 20), country="DE")

    assert refused.value.code == "second"


def test_an_extension_needs_a_notice_and_reasons():
    first = _due(EU, "request_deadline", date(2027, 1, 31), country="DE")
    allowed = {"now": date(2027, 2, 1), "deadline": first, "extension": EU.request_extension}

    with pytest.raises(ValidationError) as no_notice:
        extension_allowed(**allowed, notice_sent_at=None, reason="complex")
    with pytest.raises(ValidationError) as no_reason:
        extension_allowed(**allowed, notice_sent_at=date(2027, 2, 1), reason="  ")

    assert (no_notice.value.code, no_reason.value.code) == ("no_notice", "no_reason")
    assert extension_allowed(**allowed, notice_sent_at=date(2027, 2, 1), reason="complex") is None


# --- California: 10 business days, 45 calendar days, +45 ---------------------------------------


def test_a_california_deletion_is_acknowledged_within_10_business_days_and_answered_within_45_days():
    filed = date(2027, 1, 4)  # a Monday

    acknowledge = _due(US_CA, "request_acknowledge", filed)
    answer = _due(US_CA, "request_deadline", filed)

    # Business days under Civ. Code §9: every day but Sundays and state holidays, Saturdays counted.
    # 5-9 January (5), 11-15 January (10): Friday 15 January; 18 January (King Day) is not reached.
    assert acknowledge.due_on == date(2027, 1, 15)
    assert answer.due_on == filed + timedelta(days=45) == date(2027, 2, 18)
    assert answer.explanation == "45 calendar days from 4 January 2027 is 18 February 2027."


def test_a_california_extension_asked_after_the_first_deadline_is_refused():
    answer = _due(US_CA, "request_deadline", date(2027, 1, 4))

    with pytest.raises(ValidationError) as refused:
        _extend(US_CA, answer, now=date(2027, 2, 19), notice=date(2027, 2, 19))

    assert refused.value.code == "too_late"


def test_a_california_extension_noticed_before_the_first_deadline_moves_it_by_45_days():
    answer = _due(US_CA, "request_deadline", date(2027, 1, 4))

    extended = _extend(US_CA, answer, now=date(2027, 2, 10), notice=date(2027, 2, 10))

    # "a maximum total of 90 calendar days from the day the request is received" (11 CCR §7021(b)).
    assert extended.due_on == answer.due_on + timedelta(days=45) == date(2027, 1, 4) + timedelta(days=90)


def test_california_business_days_skip_sundays_and_the_state_holidays_of_the_government_code():
    # Filed Friday 29 January 2027: Lunar New Year (Saturday 6 February), Lincoln Day (12 February)
    # and the third Monday in February (15 February) are state holidays (Gov. Code §6700(a)).
    opt_out = _due(US_CA, "opt_out_deadline", date(2027, 1, 29))

    assert opt_out.due_on == date(2027, 2, 19)
    assert "6 February 2027 (a public holiday: Lunar New Year)" in opt_out.explanation
    assert "12 February 2027 (a public holiday: Lincoln Day)" in opt_out.explanation


def test_california_state_holidays_of_2027_are_the_government_codes():
    assert sorted(california_holidays(2027)) == [
        date(2027, 1, 1),
        date(2027, 1, 18),  # King Day, third Monday in January
        date(2027, 2, 6),  # Lunar New Year
        date(2027, 2, 12),  # Lincoln Day
        date(2027, 2, 15),  # third Monday in February
        date(2027, 3, 31),  # Cesar Chavez Day
        date(2027, 4, 24),  # Genocide Remembrance Day
        date(2027, 5, 31),  # last Monday in May
        date(2027, 6, 19),  # Juneteenth
        date(2027, 7, 4),
        date(2027, 7, 5),  # July 4 on a Sunday: the Monday after (§6701)
        date(2027, 9, 6),  # first Monday in September
        date(2027, 9, 9),  # Admission Day
        date(2027, 9, 24),  # Native American Day, fourth Friday in September
        date(2027, 10, 11),  # Columbus Day, second Monday in October
        date(2027, 11, 11),  # Veterans Day
        date(2027, 11, 25),  # Thanksgiving Day
        date(2027, 12, 25),
    ]


def test_veterans_day_on_a_saturday_is_observed_on_the_friday_before():
    assert california_holidays(2028)[date(2028, 11, 10)] == "Veterans Day (observed)"


def test_a_calendar_day_deadline_outside_the_eu_does_not_move_off_a_weekend():
    # 45 days from 2 January 2027 is Tuesday 16 February; from 3 January, Wednesday 17; from
    # 31 December 2026, Sunday 14 February 2027, which stays (never later than Civ. Code §10's date).
    assert _due(US_CA, "request_deadline", date(2026, 12, 31)).due_on == date(2027, 2, 14)
    assert _due(US_UOOM, "request_deadline", date(2026, 12, 31)).due_on == date(2027, 2, 14)


# --- Russia: 10 working days (+5) on the production calendar -------------------------------------


def test_a_russian_request_filed_on_26_december_2026_is_due_after_10_working_days_on_19_january_2027():
    deadline = _due(RU, "request_deadline", date(2026, 12, 26))

    # Working days: 28, 29, 30 December; 31 December is a day off (transferred from 4 January 2026,
    # Decree No. 1466 of 24.09.2025); 1-8 January 2027 are the New Year holidays (Labour Code
    # Art. 112) and 9-10 January a weekend; then 11-15 and 18-19 January: Tuesday 19 January 2027.
    assert deadline.due_on == date(2027, 1, 19)
    assert not deadline.is_provisional
    assert (
        "31 December 2026 (a non-working day: Day off (substituted from 01/04/2026))" in deadline.explanation
    )
    assert "7 January 2027 (a non-working day: Christmas Day)" in deadline.explanation


def test_holiday_names_come_in_the_active_language_where_the_package_has_it():
    with translation.override("ru"):
        deadline = _due(RU, "request_deadline", date(2026, 12, 26))

    assert "Выходной (перенесено с 04.01.2026)" in deadline.explanation
    assert "декабря 2026" in deadline.explanation


def test_a_russian_extension_adds_5_working_days_with_a_reasoned_notice():
    first = _due(RU, "request_deadline", date(2026, 12, 26))

    extended = _extend(RU, first, now=date(2027, 1, 18), notice=date(2027, 1, 18))

    assert extended.due_on == date(2027, 1, 26)  # 20, 21, 22, 25, 26 January


def test_a_russian_working_saturday_counts_as_a_working_day():
    # Saturday 1 November 2025 was a working day, its day off moved to Monday 3 November (Decree
    # No. 1335 of 04.10.2024); 4 November is Unity Day.
    from_31_october = _due(RU, "request_deadline", date(2025, 10, 31))
    # Saturday 20 February 2027 is a working day, its day off moved to Monday 22 February (Decree
    # No. 1187 of 17.09.2026); 23 February is Defender of the Fatherland Day.
    from_15_february = _due(RU, "request_deadline", date(2027, 2, 15))

    assert from_31_october.due_on == date(2025, 11, 17)
    assert from_15_february.due_on == date(2027, 3, 2)
    assert "Counted although a weekend: 20 February 2027" in from_15_february.explanation


def test_russian_transferred_days_off_are_skipped():
    # 2 May and 8 May 2025 are days off moved from 4 January and 23 February (Decree No. 1335).
    assert _due(RU, "request_deadline", date(2025, 4, 29)).due_on == date(2025, 5, 19)
    # 9 January 2026 is a day off moved from 3 January (Decree No. 1466).
    assert _due(RU, "request_deadline", date(2025, 12, 30)).due_on == date(2026, 1, 23)
    # 5 November 2027 is a day off moved from 2 January (Decree No. 1187).
    assert _due(RU, "request_deadline", date(2027, 11, 3)).due_on == date(2027, 11, 19)


@pytest.mark.parametrize("year", sorted(DECREES))
def test_the_russian_calendar_has_every_transfer_of_the_years_decree(year):
    calendar = RussianProductionCalendar()

    for moved_from, moved_to in DECREES[year].transfers:
        assert not calendar.is_working_day(moved_to), (year, moved_to)
        is_holiday = (
            moved_from.month == 1
            and moved_from.day <= 8
            or (moved_from.month, moved_from.day)
            in {
                (2, 23),
                (3, 8),
                (5, 1),
                (5, 9),
                (6, 12),
                (11, 4),
            }
        )
        assert calendar.is_working_day(moved_from) is not is_holiday, (year, moved_from)


def test_russian_working_saturdays_2025_to_2027_are_exactly_the_decrees():
    calendar = RussianProductionCalendar()
    days = [date(2025, 1, 1) + timedelta(days=n) for n in range(365 * 3)]

    assert [day for day in days if day.weekday() >= 5 and calendar.is_working_day(day)] == [
        date(2025, 11, 1),
        date(2027, 2, 20),
    ]


def test_2026_has_247_working_days_as_the_official_calendar_says():
    # 247 working days and 118 days off (production calendar 2026, as reported on 2026-01-06).
    calendar = RussianProductionCalendar()
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]

    assert sum(calendar.is_working_day(day) for day in days) == 247


def test_a_count_into_a_year_without_a_decree_is_marked_provisional():
    deadline = _due(RU, "request_deadline", date(2027, 12, 24))

    assert deadline.is_provisional
    assert "The official calendar for 2028 is not known yet" in deadline.explanation


# --- Kazakhstan, other rows, rules -------------------------------------------------------------


def test_a_kazakh_request_is_due_within_three_days_and_cannot_be_extended():
    deadline = _due(KZ, "request_deadline", date(2027, 1, 1))

    assert deadline.due_on == date(2027, 1, 4)
    with pytest.raises(ValidationError) as refused:
        _extend(KZ, deadline, now=date(2027, 1, 2), notice=date(2027, 1, 2))
    assert refused.value.code == "none"


def test_the_calendar_follows_the_period_and_the_rows_rule():
    assert isinstance(
        calendar_for(ruleset=US_CA, period=US_CA.request_acknowledge, establishment_country="US"),
        CaliforniaBusinessDays,
    )
    assert isinstance(
        calendar_for(ruleset=RU, period=RU.request_deadline, establishment_country="DE"),
        RussianProductionCalendar,
    )
    assert isinstance(
        calendar_for(ruleset=EU, period=EU.request_deadline, establishment_country="FR"),
        EstablishmentCalendar,
    )
    assert (
        type(calendar_for(ruleset=US, period=US.request_deadline, establishment_country="US"))
        is WorkingCalendar
    )


def test_verification_does_not_pause_the_clock_in_any_row_by_default():
    assert not any(ruleset.verification_pauses_clock for ruleset in RULESETS.values())
    assert clock_start(ruleset=US_CA, received_on=date(2027, 1, 4), verified_on=date(2027, 1, 20)) == date(
        2027, 1, 4
    )


def test_a_row_that_lets_verification_pause_the_clock_starts_it_on_the_day_of_verification():
    import dataclasses

    pausing = dataclasses.replace(EU, verification_pauses_clock=True)

    assert clock_start(ruleset=pausing, received_on=date(2027, 1, 4), verified_on=date(2027, 1, 20)) == date(
        2027, 1, 20
    )
    assert clock_start(ruleset=pausing, received_on=date(2027, 1, 4), verified_on=None) == date(2027, 1, 4)


def test_only_eu_rows_move_a_deadline_to_the_next_working_day():
    assert {code for code, ruleset in RULESETS.items() if ruleset.deadline_moves_to_working_day} == {
        "EU",
        "EU-FR",
    }


def test_the_new_rules_fields_are_in_the_rows_json():
    row = ruleset_as_dict(EU)

    assert (row["deadline_moves_to_working_day"], row["verification_pauses_clock"]) == (True, False)
    assert ruleset_as_dict(KZ)["request_deadline"] == {"amount": 3, "unit": "calendar_days"}


def test_a_datetime_is_refused_as_a_start_because_the_site_decides_the_day():
    with pytest.raises(TypeError):
        deadline_for(
            start=datetime(2027, 1, 4, 23, 30),
            period=Period(1, DayType.CALENDAR_MONTHS),
            calendar=WorkingCalendar(),
        )


def test_days_left_are_counted_in_the_periods_kind_of_day():
    russian = _due(RU, "request_deadline", date(2026, 12, 26))
    californian = _due(US_CA, "request_deadline", date(2027, 1, 4))
    production = RussianProductionCalendar()

    # From 30 December 2026: 31 December and 1-10 January are not working days; 11-15, 18, 19 are.
    assert days_left(today=date(2026, 12, 30), deadline=russian, calendar=production) == 7
    assert days_left(today=date(2027, 1, 19), deadline=russian, calendar=production) == 0
    assert days_left(today=date(2027, 1, 21), deadline=russian, calendar=production) == -2
    assert days_left(today=date(2027, 2, 8), deadline=californian, calendar=WorkingCalendar()) == 10


def test_days_until_a_date_count_its_calendars_working_days_without_a_deadline():
    production = RussianProductionCalendar()

    assert days_until(today=date(2026, 12, 30), due_on=date(2027, 1, 19), calendar=production) == 7
    assert days_until(today=date(2026, 12, 30), due_on=date(2027, 1, 19), calendar=None) == 20
    assert days_until(today=date(2027, 1, 19), due_on=date(2027, 1, 19), calendar=production) == 0
    assert days_until(today=date(2027, 1, 21), due_on=date(2027, 1, 19), calendar=production) == -2


def test_the_days_left_are_one_plural_message_per_kind_of_day():
    with translation.override("en"):
        assert days_left_text(1, DayType.RU_WORKING_DAYS) == "1 working day left"
        assert days_left_text(7, DayType.RU_WORKING_DAYS) == "7 working days left"
        assert days_left_text(1, DayType.BUSINESS_DAYS) == "1 business day left"
        assert days_left_text(3, DayType.BUSINESS_DAYS) == "3 business days left"
        assert days_left_text(1, None) == "1 calendar day left"
        assert days_left_text(12, DayType.CALENDAR_MONTHS) == "12 calendar days left"
