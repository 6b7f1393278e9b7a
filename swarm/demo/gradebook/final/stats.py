"""Averages and letter grades."""


def average(values: list) -> float:
    """The mean of `values` (0.0 for none)."""
    return sum(values) / len(values) if values else 0.0


def letter(avg: float) -> str:
    """A from 90, B from 80, C from 70, D from 60, else F."""
    for bound, grade in ((90, "A"), (80, "B"), (70, "C"), (60, "D")):
        if avg >= bound:
            return grade
    return "F"
