"""python3 -m byteoracle scan PATH... [--recurse]"""
import argparse
import os
import sys

from . import scan


def main(argv=None):
    parser = argparse.ArgumentParser(prog="byteoracle")
    sub = parser.add_subparsers(dest="command", required=True)
    command = sub.add_parser("scan")
    command.add_argument("paths", nargs="+")
    command.add_argument("--recurse", action="store_true")
    args = parser.parse_args(argv)
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        print(f"error: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    count = mismatches = 0
    for path in scan.files(args.paths, args.recurse):
        try:
            kind = scan.file_type(path)
        except OSError as err:
            print(f"error: cannot read {path}: {err}", file=sys.stderr)
            return 2
        count += 1
        expected = scan.mismatch(path, kind)
        if expected:
            mismatches += 1
            print(f"{path} {kind} mismatch: expected {expected}")
        else:
            print(f"{path} {kind}")
    print(f"{count} files, {mismatches} mismatches")
    return 0


if __name__ == "__main__":
    sys.exit(main())
