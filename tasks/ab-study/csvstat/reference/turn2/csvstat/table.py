"""Reads a CSV file with a header row (quoted fields, commas inside quotes)."""

import csv


class TableError(Exception):
    pass


def read_table(path):
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except OSError as error:
        raise TableError(f"cannot read {path}: {error.strerror}") from None
    if not rows:
        raise TableError(f"{path} is empty: it needs a header row")
    header, body = rows[0], rows[1:]
    return header, [dict(zip(header, row)) for row in body]


def column_index(header, name):
    if name not in header:
        raise TableError(f"no column {name}; the columns are {', '.join(header)}")
    return name
