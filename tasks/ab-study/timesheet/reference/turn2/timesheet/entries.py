"""The rules for a new entry: a real interval, no overlap with another on the same day."""


class EntryError(Exception):
    """An entry that conflicts with the recorded ones (exit status 1)."""


def check_new(entries, date, start, end):
    for entry in entries:
        if entry["date"] == date and start < entry["end"] and entry["start"] < end:
            raise EntryError(f"overlaps #{entry['id']}")


def next_id(entries):
    return max((entry["id"] for entry in entries), default=0) + 1
