"""Calendar dates and months, validated."""

import datetime


class DateError(ValueError):
    pass


def parse_date(text):
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise DateError(f"not a date (YYYY-MM-DD): {text}") from None


def parse_month(text):
    try:
        datetime.date.fromisoformat(f"{text}-01")
    except ValueError:
        raise DateError(f"not a month (YYYY-MM): {text}") from None
    if len(text) != 7:
        raise DateError(f"not a month (YYYY-MM): {text}")
    return text
