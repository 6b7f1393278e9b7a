"""Times of day as minutes since midnight, and durations as H:MM."""

import datetime
import re

TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ClockError(ValueError):
    pass


def parse_time(text):
    match = TIME.match(text)
    if not match:
        raise ClockError(f"not a time (HH:MM, 24-hour): {text}")
    return int(match.group(1)) * 60 + int(match.group(2))


def parse_date(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ClockError(f"not a date (YYYY-MM-DD): {text}") from None


def format_time(minutes):
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_duration(minutes):
    return f"{minutes // 60}:{minutes % 60:02d}"
