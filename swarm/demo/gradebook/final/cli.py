"""The command line: `report FILE` and `best FILE`."""

import sys

from loader import load_scores
from report import report_lines, student_averages


def main(argv: list) -> int:
    """Run the command in `argv` (without the program name); return the exit code."""
    if len(argv) != 2 or argv[0] not in ("report", "best"):
        print("usage: cli.py report|best FILE", file=sys.stderr)
        return 2
    command, path = argv
    try:
        scores = load_scores(path)
    except OSError:
        print(f"error: cannot read {path}", file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if command == "report":
        for line in report_lines(scores):
            print(line)
    else:
        averages = student_averages(scores)
        if averages:
            name = max(sorted(averages), key=lambda student: averages[student])
            print(f"{name} {averages[name]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
