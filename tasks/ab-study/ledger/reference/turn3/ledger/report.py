"""Totals per category, largest first."""

from collections import defaultdict


def totals(expenses):
    by_category = defaultdict(int)
    for _id, _date, category, cents, _note in expenses:
        by_category[category] += cents
    rows = sorted(by_category.items(), key=lambda item: (-item[1], item[0]))
    return rows, sum(by_category.values())
