"""Totals per project."""

from collections import defaultdict


def totals(entries):
    by_project = defaultdict(int)
    for entry in entries:
        by_project[entry["project"]] += entry["end"] - entry["start"]
    rows = sorted(by_project.items(), key=lambda item: (-item[1], item[0]))
    return rows, sum(by_project.values())
