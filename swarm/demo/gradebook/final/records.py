"""One exam score and how a CSV line becomes one."""


class Score:
    """A student's points in one subject."""

    def __init__(self, student: str, subject: str, points: float):
        """Store the three fields."""
        self.student = student
        self.subject = subject
        self.points = points


def parse_line(line: str, number: int) -> Score:
    """Parse `student,subject,points`; raise ValueError('line N: why') when malformed."""
    fields = [field.strip() for field in line.split(",")]
    if len(fields) != 3:
        raise ValueError(f"line {number}: expected 3 fields, got {len(fields)}")
    student, subject, points = fields
    try:
        value = float(points)
    except ValueError:
        raise ValueError(f"line {number}: points must be a number, got {points!r}") from None
    if not 0 <= value <= 100:
        raise ValueError(f"line {number}: points must be between 0 and 100")
    return Score(student, subject, value)
