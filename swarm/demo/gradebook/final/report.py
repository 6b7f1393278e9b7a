"""Per-student lines of the report."""

from records import Score
from stats import average, letter


def student_averages(scores: list) -> dict:
    """Map each student's name to the average of their points."""
    points: dict[str, list[float]] = {}
    for score in scores:
        points.setdefault(score.student, []).append(score.points)
    return {student: average(values) for student, values in points.items()}


def report_lines(scores: list) -> list:
    """`NAME AVERAGE GRADE` per student, sorted by name, average with one decimal."""
    averages = student_averages(scores)
    return [f"{name} {avg:.1f} {letter(avg)}" for name, avg in sorted(averages.items())]
