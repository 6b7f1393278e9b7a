"""Reading a scores file."""

from records import Score


def load_scores(path: str) -> list:
    """Return the Scores of the file at `path` (header and blank lines skipped).

    Raises OSError when the file cannot be read and ValueError for a malformed line.
    """
    ...
