"""Calendar dates and months, validated."""

import datetime


class DateError(ValueError):
    pass


def parse_date(text):
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise DateError(f"not a date (YYYY-MM-DD): {text}") from None

