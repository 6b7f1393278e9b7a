"""Reading a scores file."""

from records import Score, parse_line


def load_scores(path: str) -> list:
    """Return the Scores of the file at `path` (header and blank lines skipped).

    Raises OSError when the file cannot be read and ValueError for a malformed line.
    """
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    scores: list[Score] = []
    for number, line in enumerate(lines[1:], start=2):
        if line.strip():
            scores.append(parse_line(line, number))
    return scores
