"""Rows grouped by the value of a column."""

from collections import defaultdict


def group_rows(rows, column):
    groups = defaultdict(list)
    for row in rows:
        groups[(row.get(column) or "").strip() or "(empty)"].append(row)
    return dict(sorted(groups.items()))
