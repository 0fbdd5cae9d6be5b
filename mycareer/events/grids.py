"""Month and week grids: days in local time, each holding the events that touch it."""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.dateparse import parse_date

from mycareer.events.models import SENSIBLE_YEARS as YEARS


def midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def parse_day(value: str) -> datetime.date | None:
    """A date from an address ("2026-03-02"), or None if it is not a sensible one."""
    try:
        day = parse_date(value or "")
    except ValueError:
        return None
    return day if day is not None and day.year in YEARS else None


def parse_month(value: str) -> datetime.date | None:
    """A month from an address ("2026-03") as its first day, or None."""
    try:
        year, month = (int(part) for part in value.split("-"))
        first = datetime.date(year, month, 1)
    except ValueError:
        return None
    return first if first.year in YEARS else None


@dataclass
class Day:
    date: datetime.date
    in_range: bool = True
    is_today: bool = False
    events: list = field(default_factory=list)
    # At most this many events are shown in the day's cell (None: all of them).
    limit: int | None = None
    # Events (by pk) that began on an earlier day, and those that go on past this one:
    # an event from 23:30 to 00:30 shows on the second day as going on "until 00:30",
    # not at "23:30", which reads as that evening.
    started_before: set[int] = field(default_factory=set)
    ends_after: set[int] = field(default_factory=set)

    @property
    def shown(self) -> list:
        return self.events if self.limit is None else self.events[: self.limit]

    @property
    def more(self) -> int:
        """How many of the day's events its cell leaves out."""
        return len(self.events) - len(self.shown)


class _Grid:
    days: list[Day]

    @property
    def start(self) -> datetime.datetime:
        return midnight(self.days[0].date)

    @property
    def end(self) -> datetime.datetime:
        return midnight(self.days[-1].date + datetime.timedelta(days=1))

    def place(self, events) -> None:
        """Put each event on every day it touches (a fair over two days shows twice)."""
        by_date = {day.date: day for day in self.days}
        for event in events:
            first = timezone.localtime(event.starts_at).date()
            # An event ending at midnight does not touch the next day.
            last = timezone.localtime(event.ends_at - datetime.timedelta(microseconds=1)).date()
            # On its last day, one that began before and ends at midnight is on all day:
            # "Until 00:00" reads as the start of that day.
            to_midnight = timezone.localtime(event.ends_at).date() > last
            day = max(first, self.days[0].date)
            while day <= min(last, self.days[-1].date):
                by_date[day].events.append(event)
                if day > first:
                    by_date[day].started_before.add(event.pk)
                if day < last or (day > first and to_midnight):
                    by_date[day].ends_after.add(event.pk)
                day += datetime.timedelta(days=1)


class MonthGrid(_Grid):
    """Whole weeks, Monday first, covering one month.

    A day's cell shows its first few events and says how many more there are: in a
    busy month a day holds dozens, which no cell can show legibly (and rendering
    them all made the page slow; see docs/benchmarks.md).
    """

    DAY_LIMIT = 4

    def __init__(self, first: datetime.date, *, today: datetime.date):
        self.first = first.replace(day=1)
        following = (self.first + datetime.timedelta(days=32)).replace(day=1)
        last = following - datetime.timedelta(days=1)
        start = self.first - datetime.timedelta(days=self.first.weekday())
        end = last + datetime.timedelta(days=6 - last.weekday())
        self.days = [
            Day(
                date=start + datetime.timedelta(days=n),
                in_range=(start + datetime.timedelta(days=n)).month == self.first.month,
                is_today=start + datetime.timedelta(days=n) == today,
                limit=self.DAY_LIMIT,
            )
            for n in range((end - start).days + 1)
        ]
        self.previous = (self.first - datetime.timedelta(days=1)).replace(day=1)
        self.next = following
        self.this_month = today.replace(day=1)

    @property
    def weeks(self) -> list[list[Day]]:
        return [self.days[n : n + 7] for n in range(0, len(self.days), 7)]

    @property
    def has_events(self) -> bool:
        return any(day.events for day in self.days if day.in_range)


class WeekGrid(_Grid):
    """Monday to Sunday of the week holding `day`."""

    def __init__(self, day: datetime.date, *, today: datetime.date):
        self.monday = day - datetime.timedelta(days=day.weekday())
        self.days = [
            Day(
                date=self.monday + datetime.timedelta(days=n),
                is_today=self.monday + datetime.timedelta(days=n) == today,
            )
            for n in range(7)
        ]
        self.previous = self.monday - datetime.timedelta(days=7)
        self.next = self.monday + datetime.timedelta(days=7)
        self.this_week = today - datetime.timedelta(days=today.weekday())
        self.number = self.monday.isocalendar().week

    @property
    def sunday(self) -> datetime.date:
        return self.days[-1].date
