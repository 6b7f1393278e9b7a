"""Expenses as CSV, quoted the CSV way."""

import csv
import io

from ledger.money import format_cents


def to_csv(expenses):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "date", "category", "amount", "note"])
    for expense_id, date, category, cents, note in expenses:
        writer.writerow([expense_id, date, category, format_cents(cents), note])
    return buffer.getvalue()
