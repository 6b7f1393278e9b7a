"""count, mean, median, min, max of a list of numbers."""


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def summarise(values, skipped):
    summary = {"count": len(values), "skipped": skipped}
    if values:
        summary.update(
            mean=sum(values) / len(values),
            median=median(values),
            min=min(values),
            max=max(values),
        )
    return summary
