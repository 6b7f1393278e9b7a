"""Entries in timesheet.csv: id, project, date, start, end, note (times as HH:MM)."""

import csv
import os

from timesheet.clock import format_time, parse_date, parse_time

PATH = "timesheet.csv"
FIELDS = ["id", "project", "date", "start", "end", "note"]


def load():
    if not os.path.exists(PATH):
        return []
    with open(PATH, newline="", encoding="utf-8") as handle:
        return [
            {
                "id": int(row["id"]),
                "project": row["project"],
                "date": parse_date(row["date"]),
                "start": parse_time(row["start"]),
                "end": parse_time(row["end"]),
                "note": row["note"],
            }
            for row in csv.DictReader(handle)
        ]


def append(entry):
    new_file = not os.path.exists(PATH)
    with open(PATH, "a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        writer.writerow(
            {
                **entry,
                "date": entry["date"].isoformat(),
                "start": format_time(entry["start"]),
                "end": format_time(entry["end"]),
            }
        )
