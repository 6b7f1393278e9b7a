"""ISO weeks: YYYY-Www, Monday to Sunday; week 1 holds the year's first Thursday."""

import re

from timesheet.clock import ClockError

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(text):
    match = WEEK.match(text)
    if not match or not 1 <= int(match.group(2)) <= 53:
        raise ClockError(f"not an ISO week (YYYY-Www): {text}")
    return int(match.group(1)), int(match.group(2))


def in_week(date, week):
    year, number, _ = date.isocalendar()
    return (year, number) == week
