"""Text and JSON renderings of summaries."""

import json

ORDER = ("count", "skipped", "mean", "median", "min", "max")


def number(value):
    return f"{value:.2f}"


def summary_lines(summary):
    lines = [f"count {summary['count']}", f"skipped {summary['skipped']}"]
    for key in ORDER[2:]:
        if key in summary:
            lines.append(f"{key} {number(summary[key])}")
    return lines


def group_lines(summaries):
    lines = []
    for group, summary in summaries.items():
        mean = number(summary["mean"]) if "mean" in summary else "-"
        lines.append(f"{group} {summary['count']} {mean}")
    return lines


def to_json(summary_or_groups):
    def rounded(summary):
        return {key: (round(value, 2) if isinstance(value, float) else value) for key, value in summary.items()}

    if "count" in summary_or_groups:
        return json.dumps(rounded(summary_or_groups), sort_keys=True)
    return json.dumps({group: rounded(summary) for group, summary in summary_or_groups.items()}, sort_keys=True)
