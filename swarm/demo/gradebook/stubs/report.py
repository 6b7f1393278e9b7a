"""Per-student lines of the report."""

from records import Score


def student_averages(scores: list) -> dict:
    """Map each student's name to the average of their points."""
    ...


def report_lines(scores: list) -> list:
    """`NAME AVERAGE GRADE` per student, sorted by name, average with one decimal."""
    ...
