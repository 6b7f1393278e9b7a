"""python3 -m logfunnel FILE 'STAGE | STAGE ...'"""
import sys

from . import parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python3 -m logfunnel FILE 'STAGE | STAGE ...'", file=sys.stderr)
        return 2
    path, text = argv
    try:
        pipeline = parser.parse(text)
    except parser.ParseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError as err:
        print(f"error: cannot read {path}: {err}", file=sys.stderr)
        return 2
    for stage in pipeline:
        lines = stage(lines)
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
