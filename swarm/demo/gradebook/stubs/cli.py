"""The command line: `report FILE` and `best FILE`."""

import sys


def main(argv: list) -> int:
    """Run the command in `argv` (without the program name); return the exit code."""
    ...


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
