"""Totals per project, optionally billing each entry rounded up to a step of minutes."""

from collections import defaultdict


def billed(minutes, step):
    if not step:
        return minutes
    return -(-minutes // step) * step


def totals(entries, step=None):
    by_project = defaultdict(int)
    for entry in entries:
        by_project[entry["project"]] += billed(entry["end"] - entry["start"], step)
    rows = sorted(by_project.items(), key=lambda item: (-item[1], item[0]))
    return rows, sum(by_project.values())
