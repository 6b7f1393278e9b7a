"""Averages and letter grades."""


def average(values: list) -> float:
    """The mean of `values` (0.0 for none)."""
    ...


def letter(avg: float) -> str:
    """A from 90, B from 80, C from 70, D from 60, else F."""
    ...
