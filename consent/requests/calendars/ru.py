"""The Russian production calendar (производственный календарь): the working days that 152-FZ's
time limits count (RU-8: 10 working days, +5).

Non-working days are Saturdays, Sundays, the public holidays of Labour Code Art. 112(1) (1-8
January, 23 February, 8 March, 1 and 9 May, 12 June, 4 November), a holiday falling on a weekend
moved to the next working day (Art. 112(2)), and the days the Government moves by its yearly decree
(Art. 112(5)), which can also make a Saturday a working day. The days come from the `holidays`
package, which has the decrees below; `DECREES` is the table they were checked against
(tests/consent/test_request_clocks.py), and a year without a decree here counts as provisional.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext, gettext_lazy

from consent.requests.calendars import WorkingCalendar, weekend_reason
from consent.requests.calendars._holidays import holiday_name, weekend_workdays


@dataclass(frozen=True)
class TransferDecree:
    """A Government decree «О переносе выходных дней»: each pair moves the day off on the first
    date (a weekend day) to the second, which becomes a day off; the first becomes a working day
    when it was not a holiday itself."""

    title: str
    transfers: tuple[tuple[date, date], ...]


DECREES: dict[int, TransferDecree] = {
    2025: TransferDecree(
        # http://static.government.ru/media/files/QkGT2QIDdzICtlaxOxctIZQONofaJwZO.pdf
        title="Постановление Правительства РФ от 04.10.2024 № 1335 «О переносе выходных дней в 2025 году»",
        transfers=(
            (date(2025, 1, 4), date(2025, 5, 2)),
            (date(2025, 1, 5), date(2025, 12, 31)),
            (date(2025, 2, 23), date(2025, 5, 8)),
            (date(2025, 3, 8), date(2025, 6, 13)),
            (date(2025, 11, 1), date(2025, 11, 3)),
        ),
    ),
    2026: TransferDecree(
        # http://static.government.ru/media/files/4jeB8hNKm69ggOa9yDiYOli6YoAyM21i.pdf
        title="Постановление Правительства РФ от 24.09.2025 № 1466 «О переносе выходных дней в 2026 году»",
        transfers=(
            (date(2026, 1, 3), date(2026, 1, 9)),
            (date(2026, 1, 4), date(2026, 12, 31)),
        ),
    ),
    2027: TransferDecree(
        # https://www.consultant.ru/document/cons_doc_LAW_544706/
        title="Постановление Правительства РФ от 17.09.2026 № 1187 «О переносе выходных дней в 2027 году»",
        transfers=(
            (date(2027, 1, 2), date(2027, 11, 5)),
            (date(2027, 1, 3), date(2027, 12, 31)),
            (date(2027, 2, 20), date(2027, 2, 22)),
        ),
    ),
}


class RussianProductionCalendar(WorkingCalendar):
    """Working days on the Russian production calendar (Labour Code Art. 112 and the decrees)."""

    name = gettext_lazy("the Russian production calendar")
    source = "152-FZ Art. 14(3), 20(1); Labour Code Art. 112"

    def non_working_reason(self, day: date) -> str | None:
        name = holiday_name(country="RU", subdivision=None, day=day)
        if name:
            return gettext("a non-working day: %(name)s") % {"name": name}
        if self.is_weekend_workday(day):
            return None
        return weekend_reason(day)

    def is_weekend_workday(self, day: date) -> bool:
        return day in weekend_workdays(country="RU", year=day.year)

    def covers(self, year: int) -> bool:
        return year in DECREES
