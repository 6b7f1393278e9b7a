"""One exam score and how a CSV line becomes one."""


class Score:
    """A student's points in one subject."""

    def __init__(self, student: str, subject: str, points: float):
        """Store the three fields."""
        ...


def parse_line(line: str, number: int) -> Score:
    """Parse `student,subject,points`; raise ValueError('line N: why') when malformed."""
    ...
