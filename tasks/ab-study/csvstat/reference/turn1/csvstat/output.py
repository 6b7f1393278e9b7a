"""Text renderings of summaries."""

ORDER = ("count", "skipped", "mean", "median", "min", "max")


def number(value):
    return f"{value:.2f}"


def summary_lines(summary):
    lines = [f"count {summary['count']}", f"skipped {summary['skipped']}"]
    for key in ORDER[2:]:
        if key in summary:
            lines.append(f"{key} {number(summary[key])}")
    return lines

